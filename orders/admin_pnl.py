"""An account's positions and PnL for its admin page: the ledger's USD-M positions beside what the venue last
reported, spot holdings at their average cost, and the daily PnL of the last 30 UTC days. Every figure comes from
orders.selectors_pnl (no arithmetic here); numbers are shown at the instrument's step and tick."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from accounts.models import Account, Market
from exchanges import increments as catalog
from infra import pubsub
from infra.admin_base import number_html, utc_s
from orders.selectors_pnl import holdings, ledger_positions, pnl_report

DAYS = 30


def _fees(amount, other: dict) -> SafeString:
    """Quote fees, then fees kept in another asset (e.g. BNB) with that asset named."""
    parts = [number_html(amount), *(format_html("{} {}", number_html(value), asset)
                                    for asset, value in sorted(other.items()) if value)]
    return mark_safe(" + ".join(parts))  # each part is built by format_html (the asset escaped)


def _position_rows(account: Account, steps: catalog.Increments, prices: dict) -> list[dict]:
    rows = []
    for p in ledger_positions(account=account, prices=prices):
        step, tick = steps.get((p.exchange, Market.FUTURES, p.symbol), (None, None))
        rows.append({
            "symbol": p.symbol, "side": p.side, "size": number_html(p.size, step),
            "entry": number_html(p.entry_price, tick), "venue_side": p.venue_side or "-",
            "venue_size": number_html(p.venue_size, step), "venue_entry": number_html(p.venue_entry_price, tick),
            "differs": p.venue_size is not None and (p.venue_size, p.venue_side) != (p.size, p.side),
            "mark": number_html(p.mark_price, tick), "unrealized": number_html(p.unrealized_pnl),
            "pct": number_html(p.pnl_percentage), "realized": number_html(p.realized_pnl),
            "fees": _fees(p.fees, p.other_fees), "funding": number_html(p.funding), "updated": utc_s(p.updated_at),
        })
    return rows


def _holding_rows(account: Account, prices: dict) -> list[dict]:
    rows = []
    for h in holdings(account=account, prices=prices):
        cash = h.asset == h.quote_asset  # the quote asset itself: no cost basis, nothing unrealized
        rows.append({
            "asset": h.asset, "quantity": number_html(h.quantity), "cost": "-" if cash else number_html(h.average_cost),
            "quote": "" if cash else h.quote_asset, "last": "-" if cash else number_html(h.last_price),
            "unrealized": "-" if cash else number_html(h.unrealized_pnl),
            "pct": "-" if cash else number_html(h.pnl_percentage), "realized": number_html(h.realized_pnl),
            "fees": _fees(h.fees, h.other_fees),
        })
    return rows


def _day_row(row) -> dict:
    return {"key": row.key, "realized": number_html(row.realized_pnl), "fees": _fees(row.fees, row.other_fees),
            "funding": number_html(row.funding), "net": number_html(row.net_pnl), "net_value": row.net_pnl,
            "unrealized": number_html(row.unrealized_pnl), "volume": number_html(row.volume),
            "trades": f"{row.trade_count:,}"}


def account_pnl_html(account: Account, *, now: datetime | None = None) -> SafeString:
    """The positions, holdings and daily PnL tables of the account's admin page."""
    now = now or datetime.now(UTC)
    since = (now - timedelta(days=DAYS - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    report = pnl_report(accounts=[account], since=since, until=now, group_by="day")
    prices = pubsub.latest_prices()
    return render_to_string("admin/accounts/account/pnl.html", {
        "positions": _position_rows(account, catalog.increments(), prices), "holdings": _holding_rows(account, prices),
        "days": [_day_row(r) for r in sorted(report.rows, key=lambda r: r.key, reverse=True)],
        "total": _day_row(report.total), "since": since.date().isoformat(), "day_count": DAYS,
    })
