"""Ledger == venue, by the five invariants of the reliability plan, checked against the venue's own records
(`VenueControl.records`: every order and trade of the key, read without spending its request weight) and its
audit trail of every request:

(I1) each intent has exactly one client order id: one ledger order per intent, the one the placement named;
(I2) at most one venue order per client order id, and each order POSTed once (a POST refused unprocessed with
     429/418 does not count: it is sent again after the ban);
(I3) every ledger status equals the venue's (a REJECTED order has no venue order), and the exchange ids agree;
(I4) ledger fills equal the venue's trades by trade id (quantity, price, fee), and the filled quantity its sum;
(I5) an order REJECTED as never received was looked up by client order id, and not found, no earlier than
     recvWindow + grace after it was sent;
(I6) USD-M: each position the ledger computed from its fills (orders.portfolio) is the venue's: signed size, and
     entry price to the 8 decimals positionRisk shows.
"""
from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Sum

from accounts.models import Account, Balance
from execution.venue_orders import NEVER_RECEIVED
from orders.models import Fill, FundingPayment, Order, Status
from orders.models_portfolio import PortfolioAdjustment, PortfolioHolding, PortfolioPosition
from tests.fixtures.worker import sync_due
from tests.waiting import wait_until

D = Decimal
VENUE_STATUS = {"NEW": Status.NEW, "PARTIALLY_FILLED": Status.PARTIALLY_FILLED, "FILLED": Status.FILLED,
                "CANCELED": Status.CANCELLED, "EXPIRED": Status.EXPIRED, "REJECTED": Status.REJECTED,
                "EXPIRED_IN_MATCH": Status.EXPIRED}  # expired by self-trade prevention
PENDING = (Status.PENDING_NEW, Status.PENDING_CANCEL)
REFUSED_UNPROCESSED = ("fault:burst_429", "error:-1003", "error:-1015")  # 429/418, refused unprocessed: sent again later
NOT_FOUND = "error:-2013"


@dataclass
class Comparison:
    """What one comparison found: `problems` (empty when ledger == venue) and the figures behind it."""

    problems: list[str] = field(default_factory=list)
    orders: int = 0  # in the ledger
    venue_orders: int = 0
    fills: int = 0  # in the ledger
    venue_trades: int = 0
    duplicates: int = 0  # venue orders beyond the first per client order id, plus POSTs sent again
    lost: int = 0  # venue orders or trades the ledger lacks, ledger orders that should be on the venue and are not
    never_received: int = 0  # orders REJECTED after a negative lookup (I5 holds for each)

    @property
    def ok(self) -> bool:
        return not self.problems

    def __bool__(self) -> bool:  # wait_until(compare) waits for agreement
        return self.ok


def _trade_view(price, quantity, fee, fee_asset) -> tuple:
    return D(price).normalize(), D(quantity).normalize(), D(fee).normalize(), fee_asset


def compare(venue, account: Account, *, intents: dict[str, str | None] | None = None, window_ms: float,
            market: str = "spot", api_key: str | None = None) -> Comparison:
    """Compare the account's ledger with the venue's records now. `intents`: client order id → the order id its
    placement answered (None when the answer was lost); `window_ms`: recvWindow + grace of the worker;
    `api_key`: the account's key on the venue (default: the venue's first)."""
    records = venue.control.records(api_key or venue.api_key, market)
    result = Comparison(venue_orders=len(records["orders"]), venue_trades=len(records["trades"]))
    problem = result.problems.append
    by_client_id: dict[str, list[dict]] = defaultdict(list)
    for vo in records["orders"]:
        by_client_id[vo["client_order_id"]].append(vo)
    trades_of: dict[int, dict[str, tuple]] = defaultdict(dict)
    for t in records["trades"]:
        trades_of[t["order_id"]][str(t["trade_id"])] = _trade_view(t["price"], t["qty"], t["commission"],
                                                                  t["commission_asset"])
    audit = venue.control.audit()
    posts = Counter(r["client_order_id"] for r in audit if r["method"] == "POST" and r["path"].endswith("/order")
                    and r["outcome"] not in REFUSED_UNPROCESSED)

    # I2: one venue order per client order id, sent once
    for client_id, rows in by_client_id.items():
        if len(rows) > 1:
            result.duplicates += len(rows) - 1
            problem(f"I2: client order id {client_id} is {len(rows)} venue orders")
    ledger = list(Order.objects.filter(account=account, market=market))
    result.orders = len(ledger)
    for order in ledger:
        if posts[order.id] > 1:
            result.duplicates += posts[order.id] - 1
            problem(f"I2: {order.id} was POSTed {posts[order.id]} times")

    # I3, I4: each ledger order as the venue has it, with its trades
    fills_of: dict[str, dict[str, tuple]] = defaultdict(dict)
    for f in Fill.objects.filter(account=account, market=market):
        fills_of[f.order_id][f.trade_id] = _trade_view(f.price, f.quantity, f.fee, f.fee_asset)
        result.fills += 1
    for order in ledger:
        rows = by_client_id.get(order.id)
        if not rows:
            if order.status != Status.REJECTED:
                result.lost += 1
                problem(f"I3: {order.id} is {order.status} in the ledger and unknown to the venue")
            elif order.reason == NEVER_RECEIVED:
                result.never_received += 1
                _check_lookup(order, audit, window_ms, problem)
            continue
        vo = rows[-1]
        if order.status != VENUE_STATUS[vo["status"]] or order.exchange_order_id != str(vo["order_id"]):
            problem(f"I3: {order.id} is {order.status} #{order.exchange_order_id or '-'} in the ledger, "
                    f"{vo['status']} #{vo['order_id']} on the venue")
        trades = trades_of.get(vo["order_id"], {})
        fills = fills_of.get(order.id, {})
        if fills != trades:
            result.lost += len(set(trades) - set(fills))
            problem(f"I4: {order.id} fills {sorted(fills.items())} != venue trades {sorted(trades.items())}")
        if order.filled_quantity != D(vo["executed_qty"]) or order.filled_quantity != sum(q for _, q, _, _ in fills.values()):
            problem(f"I4: {order.id} filled {order.filled_quantity}, venue executed {vo['executed_qty']}, "
                    f"fills sum to {sum(q for _, q, _, _ in fills.values())}")
    unknown = set(by_client_id) - {o.id for o in ledger}
    if unknown:
        result.lost += len(unknown)
        problem(f"I3: venue orders the ledger lacks: {sorted(unknown)}")

    if market == "futures":
        _check_positions(account, records.get("positions", {}), problem)

    # I1: one ledger order per intent, the one its placement named
    if intents is not None:
        per_client_id = Counter(o.client_order_id for o in ledger if o.client_order_id)
        for client_id, order_id in intents.items():
            if per_client_id[client_id] != 1:
                problem(f"I1: intent {client_id} is {per_client_id[client_id]} ledger orders")
            elif order_id is not None and not any(o.id == order_id and o.client_order_id == client_id for o in ledger):
                problem(f"I1: intent {client_id} was answered with {order_id}, which is not its order")
        if len(ledger) != len(intents):
            problem(f"I1: {len(ledger)} ledger orders for {len(intents)} intents")
    return result


def _entry(price) -> Decimal:
    return D(price).quantize(D("1e-8"), ROUND_HALF_UP)


def _check_positions(account: Account, venue_positions: dict[str, list[str]], problem) -> None:
    """I6: the ledger's computed positions are the venue's (size, entry to 8 decimals)."""
    venue = {s: (D(amt), _entry(entry)) for s, (amt, entry, _) in venue_positions.items() if D(amt)}
    ledger = {p.symbol: (p.amount, _entry(p.entry_price))
              for p in PortfolioPosition.objects.filter(account=account) if p.amount}
    for symbol in sorted(set(venue) | set(ledger)):
        if ledger.get(symbol) != venue.get(symbol):
            problem(f"I6: {symbol} computed position {ledger.get(symbol)} != venue {venue.get(symbol)}")


def _check_lookup(order: Order, audit: list[dict], window_ms: float, problem) -> None:
    """I5: the last lookup by client order id said "not found", and came recvWindow + grace after the send."""
    mine = [r for r in audit if order.id in (r.get("client_order_id"), r.get("orig_client_order_id"))]
    sent = [r["ts"] for r in mine if r["method"] == "POST"]
    sent_at = max(sent) if sent else order.submitted_at.timestamp() * 1000
    lookups = [r for r in mine if r["method"] == "GET"]
    if not lookups or lookups[-1]["outcome"] != NOT_FOUND:
        problem(f"I5: {order.id} REJECTED as never received without a negative lookup: {lookups[-1:]}")
    elif lookups[-1]["ts"] < sent_at + window_ms:
        problem(f"I5: {order.id} looked up {lookups[-1]['ts'] - sent_at} ms after it was sent, before {window_ms} ms")


def at_most_every(seconds: float, step):
    """`step`, skipped when it ran less than `seconds` ago (a beat's pace, not one task per poll)."""
    last = [float("-inf")]

    def tick() -> None:
        if time.monotonic() - last[0] >= seconds:
            last[0] = time.monotonic()
            step()
    return tick


def settle(venue, account: Account, *, window_ms: float, intents: dict[str, str | None] | None = None,
           timeout: float = 30.0, api_key: str | None = None) -> Comparison:
    """Wait (sending the beat's sync twice a second) until no order is pending and the ledger equals the venue;
    the comparison. On timeout it fails with the problems last seen."""
    tick = at_most_every(0.5, sync_due)
    wait_until(lambda: not Order.objects.filter(account=account, status__in=PENDING).exists(), timeout=timeout,
               interval=0.05, tick=tick, what="no order pending")
    return wait_until(lambda: compare(venue, account, intents=intents, window_ms=window_ms, api_key=api_key),
                      timeout=timeout,
                      interval=0.2, tick=tick, what="ledger == venue")


def ledger_balances(account: Account, market: str = "spot") -> dict[str, tuple[Decimal, Decimal]]:
    return {b.asset: (b.free, b.locked) for b in Balance.objects.filter(account=account, market=market)
            if b.free or b.locked}


def venue_balances(venue, market: str = "spot", api_key: str | None = None) -> dict[str, tuple[Decimal, Decimal]]:
    rows = venue.control.records(api_key or venue.api_key, market)["balances"]
    return {asset: (D(free), D(locked)) for asset, (free, locked) in rows.items() if D(free) or D(locked)}


def fill_totals(account: Account) -> Counter:
    """What the account's spot fills did to its assets (bought base for quote or the reverse, less fees), as the
    ledger's own books hold it: the computed holdings less any adjustment booked to them."""
    moved: Counter = Counter({h.asset: h.quantity for h in PortfolioHolding.objects.filter(account=account)})
    for a in PortfolioAdjustment.objects.filter(account=account, market="spot", field="quantity"):
        moved[a.asset] -= a.delta
    return moved


def futures_wallet(venue) -> Decimal:
    """The key's USD-M wallet balance (USDT) as the venue holds it."""
    return D(venue.control.records(venue.api_key, "futures")["balances"].get("USDT", ["0", "0"])[0])


def futures_fill_totals(account: Account) -> tuple[Decimal, Decimal]:
    """(realized PnL, fees) of the account's USD-M fills as the ledger's own books hold them (orders.portfolio folds
    each fill at the average entry, realized booked to 8 decimals as the venue books it)."""
    books = PortfolioPosition.objects.filter(account=account).aggregate(realized=Sum("realized_pnl"), fees=Sum("fees"))
    return books["realized"] or D(0), books["fees"] or D(0)


def ledger_funding(account: Account) -> dict[str, Decimal]:
    """The account's funding payments in the ledger: venue id -> amount."""
    return {p.venue_id: p.amount for p in FundingPayment.objects.filter(account=account)}


def venue_funding(venue) -> dict[str, Decimal]:
    """The key's funding payments as the venue booked them (its income history): tranId -> amount."""
    from exchanges.simulator.testing import ccxt_client

    exchange = ccxt_client(venue, venue.api_key, venue.secret)
    rows = exchange.fapiPrivateGetIncome({"incomeType": "FUNDING_FEE", "limit": 1000})
    return {str(r["tranId"]): D(r["income"]) for r in rows}


def funding_sync(account: Account) -> None:
    """What beat (and the USD-M stream's funding events) ask the worker for: the account's funding sync."""
    from oms_project.celery import app

    app.send_task("orders.tasks.account_funding_sync", args=[account.pk])
