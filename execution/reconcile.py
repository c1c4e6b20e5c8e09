"""Reconciliation: does the ledger agree with the venue? Per account and market it compares

- open orders on both sides: orders the venue has that the ledger lacks (ORDER_UNKNOWN), orders the
  ledger thinks open that the venue closed (ORDER_CLOSED) or does not know (ORDER_NOT_ON_VENUE), and
  status / filled quantity / average price differences (ORDER_MISMATCH);
- trades: venue trades in the look-back window missing from the ledger (FILL_MISSING);
- balances (BALANCE) and futures positions (POSITION);
- USD-M funding payments in the look-back window missing from the ledger (FUNDING_MISSING; the full pass only);
- the positions the ledger computed from its own fills (`orders.portfolio`) against the venue's (LEDGER_POSITION),
  and, once an account's books are opened (`--open-books`), its computed spot holdings against the venue's
  balances (LEDGER_HOLDING) and its computed USD-M wallet against the venue's (LEDGER_WALLET); the full pass only,
  after missing trades and funding are in.

Every difference is recorded (Drift rows of a ReconciliationRun, the admin shows them), logged and
counted. With `fix`, the venue's truth is applied, only through `orders.services` with source
"reconcile": unknown venue orders are adopted, missing trades recorded, statuses moved forward,
balances and positions replaced. History is never deleted, and a terminal order never moves: such a
difference stays reported for a person to judge. The computed books are never rewritten either: a difference left
once every trade and payment is in is booked as an adjustment (`orders.portfolio.adjustment_record`, with both
numbers and the reason), which the fold includes. Orders changed within the settle window are left
alone (a worker is handling them), so reconciliation never races the normal flow.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account, Balance, Market, Position
from accounts.selectors import accounts_to_sync
from exchanges import markets
from exchanges.errors import VenueOrderNotFound, venue_reason
from exchanges.gateway import Gateway, gateway_for, oms_order_type
from exchanges.models import Instrument
from exchanges.results import VenueBalance, VenueOrder, VenueStatus, VenueTrade
from execution import venue_orders
from infra import metrics, pubsub
from infra.jsonlog import log_context
from orders import lifecycle, portfolio, selectors_pnl, services
from orders.models import OPEN_STATUSES, TERMINAL_STATUSES, Fill, FundingPayment, Order, Status
from orders.models_portfolio import PortfolioAdjustment, PortfolioHolding, PortfolioPosition
from orders.models_reconcile import Drift, ReconciliationRun

log = logging.getLogger(__name__)

SOURCE = "reconcile"
TRADES_PAGE = 1000  # Binance's maximum per myTrades request
LOOKUP_CHUNK = 2000  # venue orders matched to the ledger per query (bounded IN lists)
Kind = Drift.Kind
ZERO = Decimal(0)


@dataclass
class Finding:
    kind: str
    symbol: str = ""
    reference: str = ""
    order_id: str | None = None
    ledger: dict = field(default_factory=dict)
    venue: dict = field(default_factory=dict)
    fixed: bool = False
    note: str = ""


def _d(value) -> Decimal:
    return ZERO if value in (None, "") else Decimal(str(value))


def _same_price(ledger: Decimal, venue: Decimal) -> bool:
    """Equal to the venue's precision (Binance sends entry prices to 8 decimals; the ledger's averages keep 28
    significant digits)."""
    exponent = venue.as_tuple().exponent
    places = Decimal(1).scaleb(exponent if isinstance(exponent, int) and exponent < 0 else 0)
    return ledger.quantize(places, ROUND_HALF_UP) == venue or ledger == venue


def _s(value) -> str:
    """A decimal as a short exact string for reports."""
    return format(_d(value).normalize(), "f") if value not in (None, "") else ""


class AccountReconciler:
    """One pass over one account and market. `run()` returns the findings; `fix` repairs as it goes."""

    def __init__(self, account: Account, market: str, *, since: datetime, fix: bool, settle_seconds: float,
                 open_books: bool = False):
        self.account = account
        self.market = market
        self.since = since
        self.fix = fix
        self.open_books = open_books
        self.started_at = timezone.now()
        self.settled_before = self.started_at - timedelta(seconds=settle_seconds)
        self.gateway: Gateway = gateway_for(account)
        self.findings: list[Finding] = []

    # -- helpers ---------------------------------------------------------------------------------
    def _found(self, finding: Finding) -> Finding:
        self.findings.append(finding)
        metrics.DRIFT_FOUND.labels(kind=finding.kind).inc()
        return finding

    def _fixed(self, finding: Finding, note: str) -> None:
        finding.fixed, finding.note = True, note
        metrics.DRIFT_FIXED.labels(kind=finding.kind).inc()

    def _native(self, ccxt_symbol: str) -> str:
        return self.gateway.native_symbol(ccxt_symbol)

    def _ccxt(self, symbol: str) -> str:
        return markets.ccxt_symbol(self.account.exchange, self.market, symbol)

    @staticmethod
    def _venue_keys(vo: VenueOrder) -> tuple[str, str | None]:
        """(exchange order id, client order id) a venue order is matched by."""
        return vo.id or "-", vo.client_order_id or None

    def _ledger_order_for(self, vo: VenueOrder) -> Order | None:
        """Ours if the venue's client order id is our order id, or if we recorded its exchange id."""
        return self._ledger_orders_for([vo])[0]

    def _ledger_orders_for(self, venue_orders: list[VenueOrder]) -> list[Order | None]:
        """`_ledger_order_for` of each venue order, with one query per LOOKUP_CHUNK of them instead of one each.
        Several matches resolve as `.first()` would: newest first (the model's ordering)."""
        keys = [self._venue_keys(vo) for vo in venue_orders]
        candidates: dict[str, Order] = {}
        for start in range(0, len(keys), LOOKUP_CHUNK):
            chunk = keys[start:start + LOOKUP_CHUNK]
            exchange_ids = {eid for eid, _ in chunk}
            client_ids = {cid for _, cid in chunk if cid}
            match = Q(exchange_order_id__in=exchange_ids) | Q(pk__in=client_ids) if client_ids else \
                Q(exchange_order_id__in=exchange_ids)
            candidates.update((o.pk, o) for o in Order.objects.filter(match, account=self.account, market=self.market))
        by_exchange_id: dict[str, list[Order]] = {}
        for order in candidates.values():
            by_exchange_id.setdefault(order.exchange_order_id, []).append(order)

        def newest(orders: list[Order]) -> Order | None:
            return max(orders, key=lambda o: (o.created_at, o.pk), default=None)

        return [newest([*by_exchange_id.get(eid, []), *([candidates[cid]] if cid in candidates else [])])
                for eid, cid in keys]

    def _settled(self, order: Order) -> bool:
        return order.updated_at <= self.settled_before

    @staticmethod
    def _order_view(order: Order) -> dict:
        return {"status": order.status, "filled": _s(order.filled_quantity), "average_price": _s(order.average_price),
                "exchange_order_id": order.exchange_order_id}

    @staticmethod
    def _venue_view(vo: VenueOrder) -> dict:
        return {"status": vo.venue_status, "filled": _s(vo.filled), "average_price": _s(vo.average), "id": vo.id,
                "client_order_id": vo.client_order_id, "side": vo.side, "amount": _s(vo.amount), "price": _s(vo.price)}

    def _apply(self, order: Order, vo: VenueOrder, symbol: str) -> Order:
        return venue_orders.apply_venue_order(self.gateway, order, vo, symbol=symbol, source=SOURCE)

    def _adopt(self, vo: VenueOrder) -> Order:
        """Take a venue order the ledger never had into the ledger (never sent again), then its state and trades."""
        order = services.order_adopt(
            account=self.account.name, market=self.market, symbol=self._native(vo.symbol), side=(vo.side or "").upper(),
            order_type=oms_order_type(vo), quantity=_d(vo.amount), price=vo.price or None, stop_price=vo.stop_price,
            exchange_order_id=vo.id, client_order_id=vo.client_order_id or None, time_in_force=vo.time_in_force,
            source=SOURCE)
        return self._apply(order, vo, vo.symbol)

    # -- orders ----------------------------------------------------------------------------------
    def compare_open_orders(self) -> set[str]:
        """Venue's open orders against the ledger's. Returns the ccxt symbols involved (for the trade scan)."""
        venue_open = self.gateway.fetch_open_orders(self.market)
        seen: set[str] = set()
        symbols = {vo.symbol for vo in venue_open}
        for vo, order in zip(venue_open, self._ledger_orders_for(venue_open), strict=True):
            if order is not None:
                seen.add(order.id)
            if order is None:
                finding = self._found(Finding(Kind.ORDER_UNKNOWN, self._native(vo.symbol), vo.client_order_id or vo.id,
                                              venue=self._venue_view(vo)))
                if self.fix:
                    adopted = self._adopt(vo)
                    finding.order_id = adopted.id
                    self._fixed(finding, f"adopted as order {adopted.id} ({adopted.status})")
            elif order.status in TERMINAL_STATUSES:
                self._found(Finding(Kind.ORDER_MISMATCH, order.symbol, order.id, order.id, self._order_view(order),
                                    self._venue_view(vo), note="closed in the ledger but working on the venue; "
                                    "a closed order never reopens: cancel it on the venue or investigate"))
            elif self._settled(order):
                self._compare_working(order, vo)
        ledger_open = (Order.objects.filter(account=self.account, market=self.market, status__in=OPEN_STATUSES,
                                            updated_at__lte=self.settled_before).exclude(pk__in=seen))
        for order in ledger_open:
            symbols.add(self._ccxt(order.symbol))
            self._closed_on_venue(order)
        return symbols

    def _compare_working(self, order: Order, vo: VenueOrder) -> None:
        venue_filled, venue_avg = _d(vo.filled), vo.average
        status_differs = order.status == Status.PENDING_NEW or (
            order.status in lifecycle.WORKING_STATUSES and order.status != lifecycle.working_status(venue_filled))
        filled_differs = venue_filled != order.filled_quantity
        avg_differs = bool(venue_avg) and venue_filled > 0 and order.average_price is not None and \
            abs(_d(venue_avg) - order.average_price) > _d(venue_avg) * Decimal("1e-8")
        if not (status_differs or filled_differs or avg_differs):
            return
        finding = self._found(Finding(Kind.ORDER_MISMATCH, order.symbol, order.id, order.id, self._order_view(order),
                                      self._venue_view(vo)))
        if self.fix:
            after = self._apply(order, vo, vo.symbol)
            self._fixed(finding, f"now {after.status}, filled {_s(after.filled_quantity)}")

    def _closed_on_venue(self, order: Order) -> None:
        """A ledger-open order missing from the venue's open list: look it up to learn how it ended."""
        symbol = self._ccxt(order.symbol)
        try:
            vo = self.gateway.fetch_order(symbol=symbol, client_order_id=order.id, exchange_order_id=order.exchange_order_id)
        except VenueOrderNotFound:
            finding = self._found(Finding(Kind.ORDER_NOT_ON_VENUE, order.symbol, order.id, order.id, self._order_view(order),
                                          note="the venue does not know this order"))
            if self.fix and order.status == Status.PENDING_NEW:
                from execution.recovery import recover_order

                result = recover_order(order)
                if result.outcome == "resolved":
                    self._fixed(finding, f"recovery: {result.after}")
                else:
                    finding.note += f"; recovery: {result.outcome} {result.detail}".rstrip()
            return
        if vo.status == VenueStatus.OPEN:
            return  # it became working after our list was taken: nothing to report
        finding = self._found(Finding(Kind.ORDER_CLOSED, order.symbol, order.id, order.id, self._order_view(order),
                                      self._venue_view(vo)))
        if self.fix:
            after = self._apply(order, vo, symbol)
            self._fixed(finding, f"now {after.status}, filled {_s(after.filled_quantity)}")

    # -- trades ----------------------------------------------------------------------------------
    def scan_symbols(self, extra: set[str]) -> list[str]:
        """ccxt symbols whose trades are scanned: those the ledger traded in the window, the venue's open ones,
        and the whole catalog of this venue and market when it is small enough to afford."""
        symbols = set(extra)
        traded = (Order.objects.filter(account=self.account, market=self.market)
                  .filter(Q(created_at__gte=self.since) | Q(status__in=OPEN_STATUSES)).values_list("symbol", flat=True).distinct())
        symbols.update(self._ccxt(s) for s in traded)
        catalog = Instrument.objects.filter(exchange=self.account.exchange, market=self.market, active=True)
        if catalog.count() <= settings.OMS_RECONCILE_CATALOG_SCAN_MAX:
            symbols.update(catalog.values_list("ccxt_symbol", flat=True))
        return sorted(symbols)

    def _trades_since(self, symbol: str, since_ms: int) -> list[VenueTrade]:
        """Every venue trade on `symbol` since the time: the first page by time, the next ones from the trade
        id after the last seen (a time cursor would loop on a page of trades sharing one millisecond)."""
        page = self.gateway.fetch_my_trades(symbol=symbol, since_ms=since_ms, limit=TRADES_PAGE)
        by_id = {t.id: t for t in page}
        while len(page) == TRADES_PAGE and all(t.id.isdigit() for t in page):
            page = self.gateway.fetch_my_trades(symbol=symbol, from_id=max(int(t.id) for t in page) + 1,
                                                limit=TRADES_PAGE)
            by_id.update((t.id, t) for t in page)
        return sorted(by_id.values(), key=lambda t: (t.timestamp, t.id))

    def compare_trades(self, symbols: list[str]) -> None:
        since_ms = int(self.since.timestamp() * 1000)
        for symbol in symbols:
            trades = self._trades_since(symbol, since_ms)
            if not trades:
                continue
            known = set(Fill.objects.filter(account=self.account, market=self.market,
                                            trade_id__in=[t.id for t in trades]).values_list("trade_id", flat=True))
            missing = [t for t in trades if t.id not in known]
            by_order: dict[str, list[VenueTrade]] = {}
            for t in missing:
                by_order.setdefault(t.order_id, []).append(t)
            for exchange_order_id, order_trades in by_order.items():
                self._missing_trades(symbol, exchange_order_id, order_trades)

    def _missing_trades(self, symbol: str, exchange_order_id: str, trades: list[VenueTrade]) -> None:
        order = Order.objects.filter(account=self.account, market=self.market, exchange_order_id=exchange_order_id).first()
        if order is not None and not self._settled(order):
            return  # the worker is recording them right now
        findings = [self._found(Finding(Kind.FILL_MISSING, self._native(symbol), t.id, order.id if order else None,
                                        venue={"order": exchange_order_id, "price": _s(t.price), "amount": _s(t.amount),
                                               "side": t.side, "at": t.datetime}))
                    for t in trades]
        if not self.fix:
            return
        vo = self.gateway.fetch_order(symbol=symbol, exchange_order_id=exchange_order_id)
        if order is None:
            order = self._ledger_order_for(vo)
        if order is None:
            order = self._adopt(vo)
        for t in trades:
            venue_orders.fill_from_trade(order, t, vo, source=SOURCE)
        order = self._apply(Order.objects.get(pk=order.id), vo, symbol)
        for finding in findings:
            finding.order_id = order.id
            self._fixed(finding, f"recorded on order {order.id} ({order.status})")

    # -- balances and positions ----------------------------------------------------------------
    def compare_balances(self) -> list[VenueBalance]:
        """The ledger's synced balances against the venue's; returns the venue's."""
        balances = self.gateway.fetch_balance(self.market)
        rows = venue_orders.balance_rows(balances)
        venue = {r["asset"]: r for r in rows}
        ledger = {b.asset: b for b in Balance.objects.filter(account=self.account, market=self.market)}
        drift = []
        for asset in sorted(set(venue) | set(ledger)):
            v, b = venue.get(asset), ledger.get(asset)
            v_free, v_locked = (_d(v["free"]), _d(v["locked"])) if v else (ZERO, ZERO)
            l_free, l_locked = (b.free, b.locked) if b else (ZERO, ZERO)
            if (v_free, v_locked) != (l_free, l_locked):
                drift.append(self._found(Finding(Kind.BALANCE, "", asset, None,
                                                 {"free": _s(l_free), "locked": _s(l_locked)},
                                                 {"free": _s(v_free), "locked": _s(v_locked)})))
        if drift and self.fix:
            services.balances_replace(account=self.account.name, market=self.market, balances=rows)
            for finding in drift:
                self._fixed(finding, "balances replaced with the venue's")
        return balances

    def compare_positions(self, rows: list[dict]) -> None:
        venue = {r["symbol"]: r for r in rows if r["side"] != "FLAT"}
        ledger = {p.symbol: p for p in Position.objects.filter(account=self.account, market=Market.FUTURES)
                  if p.side != Position.Side.FLAT}
        drift = []
        for symbol in sorted(set(venue) | set(ledger)):
            v, p = venue.get(symbol), ledger.get(symbol)
            v_key = (v["side"], _d(v["size"]), _d(v["entry_price"])) if v else ("FLAT", ZERO, ZERO)
            p_key = (p.side, p.size, p.entry_price) if p else ("FLAT", ZERO, ZERO)
            if v_key != p_key:
                drift.append(self._found(Finding(Kind.POSITION, symbol, symbol, None,
                                                 {"side": p_key[0], "size": _s(p_key[1]), "entry_price": _s(p_key[2])},
                                                 {"side": v_key[0], "size": _s(v_key[1]), "entry_price": _s(v_key[2])})))
        if drift and self.fix:
            services.positions_replace(account=self.account.name, positions=rows)
            for finding in drift:
                self._fixed(finding, "positions replaced with the venue's")

    def compare_funding(self) -> None:
        """USD-M funding payments in the look-back window: each one the venue booked must be in the ledger
        (FUNDING_MISSING); with fix it is recorded (source reconcile), as the funding sync would."""
        from execution import funding

        if not funding.supported(self.gateway):
            return
        payments = self.gateway.fetch_funding_history(since_ms=int(self.since.timestamp() * 1000))
        known = set(FundingPayment.objects.filter(account=self.account, venue_id__in=[p.venue_id for p in payments])
                    .values_list("venue_id", flat=True))
        missing = [p for p in payments if p.venue_id not in known]
        findings = [self._found(Finding(Kind.FUNDING_MISSING, p.symbol, p.venue_id,
                                        venue={"amount": _s(p.amount), "asset": p.asset, "at": p.time_ms}))
                    for p in missing]
        if missing and self.fix:
            services.funding_record(account=self.account.name, payments=funding.as_rows(missing),
                                    source=FundingPayment.Source.RECONCILE)
            for finding in findings:
                self._fixed(finding, "funding payment recorded")

    # -- the ledger's computed books ----------------------------------------------------------------
    def _books_quiet(self) -> bool:
        """No order of the account and market changed in the settle window before this run: a trade the worker is
        recording now is not mistaken for a difference (this run's own repairs come after it started)."""
        return not Order.objects.filter(account=self.account, market=self.market, updated_at__gt=self.settled_before,
                                        updated_at__lte=self.started_at).exists()

    def compare_ledger_positions(self, rows: list[dict]) -> None:
        """Each USD-M position the ledger computed from its fills against the venue's (signed size, entry price to
        the venue's precision). With fix, the difference is booked as adjustments: the size (a size added enters
        at the venue's entry price), then the entry price if it still differs."""
        venue = {r["symbol"]: (_d(r["size"]) * (-1 if r["side"] == "SHORT" else 1), _d(r["entry_price"]))
                 for r in rows if r["side"] != "FLAT" and _d(r["size"])}
        ledger = {p.symbol: (p.amount, p.entry_price) for p in PortfolioPosition.objects.filter(account=self.account)
                  if p.amount}
        for symbol in sorted(set(venue) | set(ledger)):
            (l_size, l_entry), (v_size, v_entry) = ledger.get(symbol, (ZERO, ZERO)), venue.get(symbol, (ZERO, ZERO))
            if l_size == v_size and _same_price(l_entry, v_entry):
                continue
            finding = self._found(Finding(Kind.LEDGER_POSITION, symbol, symbol, None,
                                          {"size": _s(l_size), "entry_price": _s(l_entry)},
                                          {"size": _s(v_size), "entry_price": _s(v_entry)}))
            if self.fix:
                notes = self._position_adjust(symbol, l_size, v_size, v_entry)
                self._fixed(finding, "; ".join(notes))

    def _position_adjust(self, symbol: str, l_size: Decimal, v_size: Decimal, v_entry: Decimal) -> list[str]:
        reason = "reconcile: the venue's position differs from the fold of the ledger's fills"
        notes = []
        if l_size != v_size:
            adj = portfolio.adjustment_record(account=self.account, market=Market.FUTURES, key=symbol, field="size",
                                              ledger_value=l_size, venue_value=v_size, price=v_entry or None,
                                              reason=reason)
            notes.append(f"adjustment {adj.pk}: size {_s(adj.delta)}")
        entry = PortfolioPosition.objects.get(account=self.account, symbol=symbol).entry_price
        if not _same_price(entry, v_entry):
            adj = portfolio.adjustment_record(account=self.account, market=Market.FUTURES, key=symbol,
                                              field="entry_price", ledger_value=entry, venue_value=v_entry, reason=reason)
            notes.append(f"adjustment {adj.pk}: entry price {_s(adj.delta)}")
        return notes

    def compare_ledger_holdings(self, balances: list[VenueBalance]) -> None:
        """Each spot holding the ledger computed (opening balances + fills - fees) against the venue's balance (free
        + locked). With fix (or when opening the books), the difference is booked as a quantity adjustment valued at
        the latest price, so the books equal the venue from then on."""
        venue = {b.asset: _d(b.free) + _d(b.locked) for b in balances}
        ledger = {h.asset: h.quantity for h in PortfolioHolding.objects.filter(account=self.account)}
        opening = self.open_books and not self._books_opened_before()
        for asset in sorted(set(venue) | set(ledger)):
            l_qty, v_qty = ledger.get(asset, ZERO), venue.get(asset, ZERO)
            if l_qty == v_qty:
                continue
            if opening:  # not a difference: the balance the books start from
                self._holding_adjust(asset, l_qty, v_qty, "opening balance: what the venue held when the books opened")
                continue
            finding = self._found(Finding(Kind.LEDGER_HOLDING, "", asset, None, {"quantity": _s(l_qty)},
                                          {"quantity": _s(v_qty)}))
            if self.fix:
                adj = self._holding_adjust(asset, l_qty, v_qty, "reconcile: the venue's balance differs from the "
                                           "ledger's opening balance plus its fills and fees")
                self._fixed(finding, f"adjustment {adj.pk}: quantity {_s(adj.delta)}")

    def _holding_adjust(self, asset: str, l_qty: Decimal, v_qty: Decimal, reason: str) -> PortfolioAdjustment:
        quote = portfolio.quote_of_asset(self.account.exchange, asset)
        price = None
        if quote != asset:
            symbol = Instrument.objects.filter(exchange=self.account.exchange, market=Market.SPOT, base=asset,
                                               quote=quote).values_list("symbol", flat=True).first()
            last = (pubsub.latest_price(self.account.exchange, Market.SPOT, symbol) or {}).get("last_price") if symbol else None
            price = _d(last) if last else None
        return portfolio.adjustment_record(account=self.account, market=Market.SPOT, key=asset, field="quantity",
                                           ledger_value=l_qty, venue_value=v_qty, price=price, reason=reason)

    def compare_ledger_wallet(self, balances: list[VenueBalance]) -> None:
        """The USD-M wallet the ledger's books compute (opening balance + realized PnL - fees + funding, per asset)
        against the venue's wallet balance, exact where the venue reports it. With fix (or when opening the books),
        the difference is booked as a wallet adjustment (a transfer, or what the fills cannot explain)."""
        venue = {b.asset: b.wallet for b in balances if b.wallet is not None}
        ledger = selectors_pnl.futures_wallet(account=self.account)
        opening = self.open_books and not self._books_opened_before()
        for asset in sorted(set(venue) | set(ledger)):
            l_wallet, v_wallet = ledger.get(asset, ZERO), venue.get(asset)
            if v_wallet is None or l_wallet == v_wallet:
                continue
            if opening:
                self._wallet_adjust(asset, l_wallet, v_wallet, "opening balance: the venue's wallet when the books opened")
                continue
            finding = self._found(Finding(Kind.LEDGER_WALLET, "", asset, None, {"wallet": _s(l_wallet)},
                                          {"wallet": _s(v_wallet)}))
            if self.fix:
                adj = self._wallet_adjust(asset, l_wallet, v_wallet, "reconcile: the venue's wallet differs from the "
                                          "opening balance plus realized PnL, fees and funding (a transfer?)")
                self._fixed(finding, f"adjustment {adj.pk}: wallet {_s(adj.delta)}")

    def _wallet_adjust(self, asset: str, l_wallet: Decimal, v_wallet: Decimal, reason: str) -> PortfolioAdjustment:
        return portfolio.adjustment_record(account=self.account, market=Market.FUTURES, key=asset, field="wallet",
                                           ledger_value=l_wallet, venue_value=v_wallet, reason=reason)

    def _books_opened_before(self) -> bool:
        """Opening balances were booked for this market (spot: holdings; USD-M: the wallet)."""
        opening = PortfolioAdjustment.objects.filter(account=self.account, market=self.market)
        if self.market == Market.FUTURES:
            opening = opening.filter(field=PortfolioAdjustment.Field.WALLET)
        return opening.exists()

    def _books_opened(self) -> bool:
        return self.open_books or self._books_opened_before()

    def run(self, *, trades: bool = True) -> list[Finding]:
        symbols = self.compare_open_orders()
        if trades:
            self.compare_trades(self.scan_symbols(symbols))
        balances = self.compare_balances()
        if self.market == Market.FUTURES:
            positions = venue_orders.position_rows(self.gateway.fetch_positions())
            self.compare_positions(positions)
            if trades:
                self.compare_funding()
                if self._books_quiet():
                    self.compare_ledger_positions(positions)
                    if self._books_opened():
                        self.compare_ledger_wallet(balances)
        elif trades and self._books_opened() and self._books_quiet():
            self.compare_ledger_holdings(balances)
        return self.findings


def markets_of(account: Account) -> list[str]:
    """Binance accounts have spot and USD-M futures; other venues spot only (as the gateway builds them)."""
    return [Market.SPOT, Market.FUTURES] if account.exchange == "binance" else [Market.SPOT]


def accounts_to_reconcile(account: str = ""):
    # A named account is reconciled even when disabled (an operator asks for it); by default, those the workers sync.
    if account:
        return Account.objects.filter(credential__isnull=False, name=account)
    return accounts_to_sync().order_by("name")


def reconcile_one(account: Account, market: str, *, since: datetime | None = None, fix: bool = False,
                  trigger: str = ReconciliationRun.Trigger.COMMAND, settle_seconds: float | None = None,
                  trades: bool = True, open_books: bool = False) -> ReconciliationRun:
    """Compare one account and market, record the run and its findings; errors end the run as "error".
    `trades=False` is the light pass (open orders, balances, positions), cheap enough to run often."""
    since = since or timezone.now() - timedelta(hours=settings.OMS_RECONCILE_LOOKBACK_HOURS)
    settle = settings.OMS_RECONCILE_SETTLE_SECONDS if settle_seconds is None else settle_seconds
    run = ReconciliationRun.objects.create(account=account, market=market, trigger=trigger, fix=fix)
    reconciler = None
    with log_context(account=account.name, market=market, reconcile_run=run.id):
        try:
            reconciler = AccountReconciler(account, market, since=since, fix=fix, settle_seconds=settle,
                                           open_books=open_books)
            reconciler.run(trades=trades)
        except Exception as exc:  # noqa: BLE001 - recorded on the run and reported; other accounts go on
            run.error = f"{type(exc).__name__}: {venue_reason(exc)}"
            log.exception("reconciliation of %s %s failed", account.name, market)
        findings = reconciler.findings if reconciler else []
        Drift.objects.bulk_create([Drift(run=run, kind=f.kind, symbol=f.symbol, reference=f.reference[:64], order_id=f.order_id,
                                         ledger=f.ledger, venue=f.venue, fixed=f.fixed, note=f.note) for f in findings])
        for f in findings:
            log.warning("drift %s %s %s%s", f.kind, f.symbol, f.reference, " (fixed)" if f.fixed else "",
                        extra={"order_id": f.order_id, "drift": f.kind, "fixed": f.fixed})
        run.drift_count = len(findings)
        run.fixed_count = sum(f.fixed for f in findings)
        run.outcome = (ReconciliationRun.Outcome.ERROR if run.error else
                       ReconciliationRun.Outcome.AGREE if not findings else
                       ReconciliationRun.Outcome.FIXED if run.fixed_count == run.drift_count else
                       ReconciliationRun.Outcome.DRIFT)
        run.finished_at = timezone.now()
        run.save()
        metrics.RECONCILE_RUNS.labels(outcome=run.outcome).inc()
    return run


def reconcile(*, account: str = "", market: str = "", since: datetime | None = None, fix: bool = False,
              trigger: str = ReconciliationRun.Trigger.COMMAND, settle_seconds: float | None = None,
              trades: bool = True, open_books: bool = False, progress=None) -> list[ReconciliationRun]:
    """Every (account, market) to compare, one run each. `progress(done, total, label)` is told as it goes."""
    jobs = [(acct, m) for acct in accounts_to_reconcile(account) for m in ([market] if market else markets_of(acct))]
    runs = []
    for i, (acct, m) in enumerate(jobs):
        if progress:
            progress(i, len(jobs), f"{acct.name} {m}")
        runs.append(reconcile_one(acct, m, since=since, fix=fix, trigger=trigger, settle_seconds=settle_seconds,
                                  trades=trades, open_books=open_books))
    if progress:
        progress(len(jobs), len(jobs), "done")
    return runs
