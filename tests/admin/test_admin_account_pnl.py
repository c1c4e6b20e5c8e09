"""An account's admin page shows its positions (the ledger's beside the venue's, with realized, unrealized, fees and
funding), its spot holdings at average cost and its daily PnL of the last 30 UTC days, all from
orders.selectors_pnl, at the instrument's step and tick."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from orders import services
from tests.orders.test_pnl_metrics import filled, price


def row(page: str, cls: str, key: str, value: str) -> list[str]:
    match = re.search(rf'<tr class="{cls}" data-{key}="{value}">(.*?)</tr>', page, re.S)
    assert match, f"no {cls} for {value}"
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", match.group(1), re.S)]


def test_the_account_page_shows_positions_holdings_and_daily_pnl(admin_as, viewer, account, btcusdt,
                                                                 btcusdt_futures, no_prices):
    two_days_ago = datetime.now(UTC) - timedelta(days=2)
    filled(account, side="BUY", quantity="0.5", price="20000", trade_id="f-1", fee="4", executed_at=two_days_ago,
           market="futures")
    filled(account, side="SELL", quantity="0.2", price="21000", trade_id="f-2", fee="2.1", market="futures")
    services.funding_record(account="main", payments=[{"venue_id": "1", "symbol": "BTCUSDT", "asset": "USDT",
                                                       "amount": "-1.5", "paid_at": datetime.now(UTC)}])
    services.positions_replace(account="main", positions=[{"symbol": "BTCUSDT", "side": "LONG", "size": "0.25",
                                                            "entry_price": "20010", "mark_price": "21900"}])
    filled(account, side="BUY", quantity="0.05", price="20000", trade_id="s-1", fee="0.02")
    price("futures", "22000")
    price("spot", "21000")

    page = admin_as(viewer).get(f"/admin/accounts/account/{account.pk}/change/").content.decode()

    # symbol, side, size, entry | venue side, size, entry | mark, unrealized, PnL %, realized, fees, funding
    assert row(page, "position-row", "symbol", "BTCUSDT")[:13] == [
        "BTCUSDT", "LONG", "0.300", "20,000.0", "LONG", "0.250", "20,010.0", "22,000.0", "600", "10", "200", "6.1",
        "-1.5"]
    assert 'class="oms-bad" title="the venue reports another position"' in page
    # asset, quantity, average cost, last, unrealized, PnL %, realized, fees
    assert row(page, "holding-row", "asset", "BTC") == ["BTC", "0.05", "20,000 USDT", "21,000", "50", "5", "0",
                                                        "0.02"]
    assert row(page, "holding-row", "asset", "USDT") == ["USDT", "-1,000.02", "-", "-", "-", "-", "0", "0"]  # cash
    today, then = datetime.now(UTC).date().isoformat(), two_days_ago.date().isoformat()
    # day, realized, fees, funding, net, volume, trades
    assert row(page, "day-row", "day", today) == [today, "200", "2.12", "-1.5", "196.38", "5,200", "2"]
    assert row(page, "day-row", "day", then) == [then, "0", "4", "0", "-4", "10,000", "1"]
    assert page.index(f'data-day="{today}"') < page.index(f'data-day="{then}"')  # newest first
