"""Orders on the venue: submit, cancel, look up, sync. The Celery tasks in `execution.tasks` are thin
adapters over these functions; every change to an order goes through `orders.services`.

Exactly once: the OMS order id is the venue's client order id, and `order_submission_claim` lets one
worker send an order one time. Whoever finds an order already claimed (a redelivered task, a crash
after sending) never sends again: it looks the order up by client order id. "Not found" is trusted
only after recvWindow + grace has passed since the send, when the venue would refuse the request
even if it were still on its way; only then is the order REJECTED as never received.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from celery import current_app as app  # the project's app (oms_project.celery sets it as the default in every thread)
from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from accounts.models import Account, Credential, Market
from exchanges import markets, stream_state
from exchanges.errors import Outcome, VenueAuthError, VenueBackoff, VenueError, classify, venue_reason
from exchanges.gateway import Gateway, OrderSpec, gateway_for
from exchanges.results import VenueBalance, VenueOrder, VenuePosition, VenueStatus, VenueTrade
from infra import pubsub
from infra.cpu_stages import stage
from orders import handoff, lifecycle, services
from orders.lifecycle import IllegalTransition
from orders.models import Fill, Order, Status
from orders.statements import ComposedRead

log = logging.getLogger(__name__)

# The venue's order status → ours (NEW becomes PARTIALLY_FILLED by the filled quantity).
VENUE_STATUS = {VenueStatus.OPEN: Status.NEW, VenueStatus.CLOSED: Status.FILLED, VenueStatus.CANCELED: Status.CANCELLED,
                VenueStatus.EXPIRED: Status.EXPIRED, VenueStatus.REJECTED: Status.REJECTED}
ACCOUNT_SYNC_TASK = "orders.tasks.account_sync"
# The poller leaves an unsent PENDING_NEW order to its own submit task this long (a queue may be backed up
# behind the rate limit); after that its hand-off counts as lost and sync_order submits it again.
HANDOFF_LOST_AFTER = timedelta(seconds=30)
NEVER_RECEIVED = "venue never received it: not found by client order id after recvWindow + grace"


class RetryLater(Exception):
    """Nothing is settled yet; run the same step again after `countdown` seconds (the task retries)."""

    def __init__(self, countdown: float, why: str):
        super().__init__(why)
        self.countdown = max(0.05, countdown)


def _now() -> datetime:
    return timezone.now()


def loaded() -> QuerySet[Order]:
    """Orders with their account and, for `_gateway`, their credential's updated_at."""
    stamp = Credential.objects.filter(account_id=OuterRef("account_id")).values("updated_at")[:1]
    return Order.objects.select_related("account").annotate(credential_stamp=Subquery(stamp))


# Read for every order the worker claims or settles, and for every stream report: composed once
# (orders.statements.ComposedRead). The placeholders differ from every constant of the queries.
_ORDER_ID, _ACCOUNT_ID = "\x1forder-id", -1_000_003
_LOAD = ComposedRead(lambda order_id: loaded().filter(pk=order_id), order_id=_ORDER_ID)
_OURS_BY_ID = ComposedRead(lambda account_id, order_id: loaded().filter(account_id=account_id, pk=order_id),
                           account_id=_ACCOUNT_ID, order_id=_ORDER_ID)
_OURS_BY_EXCHANGE_ID = ComposedRead(
    lambda account_id, market, exchange_id: loaded().filter(account_id=account_id, market=market,
                                                            exchange_order_id=exchange_id).order_by("pk")[:1],
    account_id=_ACCOUNT_ID, market="\x1fmarket", exchange_id="\x1fexchange-id")


def load(order_id: str) -> Order:
    """The order as `loaded` reads it: one query. Raises Order.DoesNotExist."""
    found = _LOAD.objects(order_id=order_id)
    if not found:
        raise Order.DoesNotExist(f"order {order_id} does not exist")
    return found[0]


def account_order(account_id: int, *, order_id: str | None, market: str, exchange_id: str | None) -> Order | None:
    """The account's order a venue report names, as `loaded` reads it: by our id (the client order id), else by the
    market's exchange order id; None when it is not ours."""
    found = _OURS_BY_ID.objects(account_id=account_id, order_id=order_id) if order_id else []
    if not found and exchange_id:
        found = _OURS_BY_EXCHANGE_ID.objects(account_id=account_id, market=market, exchange_id=exchange_id)
    return found[0] if found else None


def _gateway(order: Order) -> Gateway:
    return gateway_for(order.account, credential_stamp=order.credential_stamp)


def _ccxt_symbol(order: Order) -> str:
    return ccxt_symbol_of(order.exchange, order.market, order.symbol)


@lru_cache(maxsize=4096)
def ccxt_symbol_of(exchange: str, market: str, symbol: str) -> str:
    """Read once per process: an instrument's ccxt symbol never changes (a relisting gets a new native one)."""
    return markets.ccxt_symbol(exchange, market, symbol)


def _lookup_gate(order: Order) -> datetime:
    """Before this moment "not found" proves nothing yet (orders.lifecycle.lookup_gate)."""
    return lifecycle.lookup_gate(submitted_at=order.submitted_at, created_at=order.created_at)


def _auth_failed(account: Account, exc: BaseException) -> str:
    from accounts.services import account_set_enabled

    reason = f"venue refused the API key: {venue_reason(exc)}"
    account_set_enabled(account=account.name, enabled=False, reason=reason)
    log.error("account %s disabled for trading: %s", account.name, reason)
    return reason


def _reject(order: Order, reason: str) -> None:
    services.order_apply_venue_update(order_id=order.id, status=Status.REJECTED, reason=reason[:500])


# ------------------------------------------------------------------------------------ venue reports

def shows_trigger(order: Order, vo: VenueOrder, filled: Decimal) -> bool:
    """Whether the report shows a conditional order triggered that the ledger still holds armed: it is working on
    the book (Binance reports the trigger as a second NEW with isWorking/w true), or it has traded."""
    return order.stop_price is not None and order.triggered_at is None and (vo.working is True or filled > 0)


def report_differs(order: Order, vo: VenueOrder) -> bool:
    """Whether a venue report says anything the ledger does not show yet (a sweep applies only those)."""
    filled = vo.filled or Decimal(0)
    if filled != order.filled_quantity or shows_trigger(order, vo, filled):
        return True
    if order.status == Status.PENDING_CANCEL:  # a working report changes nothing until the cancel is answered
        return False
    return _report_status(order, vo, filled) != order.status


def report_is_news(order: Order, vo: VenueOrder) -> bool:
    """Whether applying the report could change anything: it differs (`report_differs`) or names an exchange id the
    ledger lacks. A report that is not news is one `order_apply_venue_update` would find a duplicate."""
    return report_differs(order, vo) or bool(vo.id and vo.id != order.exchange_order_id)


def _report_status(order: Order, vo: VenueOrder, filled: Decimal) -> str:
    status = VENUE_STATUS.get(vo.status) if vo.status is not None else None
    if status is None:
        raise ValueError(f"venue status {vo.status_text!r} of order {order.id} is not understood")
    return lifecycle.working_status(filled) if status == Status.NEW else status


def _trades_of(gateway: Gateway, order: Order, vo: VenueOrder, symbol: str, filled: Decimal,
               recorded: dict[str, Decimal]) -> list[VenueTrade]:
    """The order's trades: from the report itself when those it carries and those recorded account for all
    that is filled (a FULL placement answer, a stream's trade events), else every trade fetched, page by page
    (a stream that joined mid-order, or lost an event)."""
    inline = {t.id: t for t in vo.trades}
    if inline:
        known = sum(recorded.values(), Decimal(0)) + sum((t.amount for i, t in inline.items() if i not in recorded),
                                                          Decimal(0))
        if known >= filled:
            return list(inline.values())
    exchange_id = vo.id or order.exchange_order_id
    return gateway.fetch_order_trades(symbol=symbol, exchange_order_id=exchange_id)


def fill_from_trade(order: Order, trade: VenueTrade, vo: VenueOrder, *, source: str = "worker") -> None:
    """Record one venue trade of `order` as a Fill: the one conversion, for the worker and reconciliation. A trade
    without a time is dated by its order report (last trade, else the report's time), else now."""
    stamp = trade.timestamp or vo.last_trade_timestamp or vo.timestamp
    executed_at = datetime.fromtimestamp(stamp / 1000, tz=UTC) if stamp else _now()
    services.fill_record(order_id=order.id, trade_id=trade.id, price=trade.price, quantity=trade.amount, fee=trade.fee,
                         fee_asset=trade.fee_asset, is_maker=trade.is_maker, executed_at=executed_at, source=source)


def _recorded_fills(order: Order) -> dict[str, Decimal]:
    """Trade id -> quantity of the order's recorded fills."""
    return dict(Fill.objects.filter(order_id=order.id).values_list("trade_id", "quantity"))


def apply_venue_order(gateway: Gateway, order: Order, vo: VenueOrder, *, symbol: str, cancel_answer: bool = False,
                      source: str = "worker") -> Order:
    """Bring the ledger to what the venue says about the order: status, exchange id and its trades,
    in one transaction (trades fetched first), so nobody sees a closed order without its fills.

    While a cancel is pending, a "still working" report is not a refusal of the cancel unless it is the
    cancel's own answer (`cancel_answer`): only the trades are taken from it. `source` names who learned
    it (the worker, or reconciliation) on the events and fills."""
    filled = vo.filled or Decimal(0)
    status = _report_status(order, vo, filled)
    if shows_trigger(order, vo, filled):  # recorded before the fills it led to
        services.order_trigger(order_id=order.id, source=source)
    # Nothing filled (a resting order's ack, most cancels): no trades to look for, no query to make.
    recorded = _recorded_fills(order) if filled else {}
    trades = _trades_of(gateway, order, vo, symbol, filled, recorded) if filled > sum(recorded.values(), Decimal(0)) else []
    if not trades:  # the report alone: the service's own transaction, and the order it returns
        return _apply_report(order, vo, status, filled, cancel_answer=cancel_answer, source=source)
    with transaction.atomic():
        _apply_report(order, vo, status, filled, cancel_answer=cancel_answer, source=source)
        for trade in trades:
            fill_from_trade(order, trade, vo, source=source)
    if order.market != Market.SPOT or not stream_state.is_live(order.account_id, Market.SPOT):
        balances_sync_soon(order.account_id)  # else the spot stream's balance event brings the new amounts
    return load(order.id)


def _apply_report(order: Order, vo: VenueOrder, status: str, filled: Decimal, *, cancel_answer: bool,
                  source: str) -> Order:
    try:  # the service's transaction is a savepoint inside the caller's, so a refused report leaves the trades
        return services.order_apply_venue_update(
            order_id=order.id, status=status, exchange_order_id=vo.id or None,
            filled_quantity=filled, average_price=vo.venue_average, cumulative_quote=vo.cost,
            reason=vo.reason if status in (Status.REJECTED, Status.EXPIRED) else "",
            payload={"venue_status": vo.venue_status}, source=source,
            keep_pending_cancel=not cancel_answer)
    except IllegalTransition as exc:  # e.g. a late report about an order we already closed: record nothing
        log.warning("venue report for %s not applied: %s", order.id, exc)
        return load(order.id)


# ------------------------------------------------------------------------------------ submit

def submit(order_id: str) -> None:
    """Send a PENDING_NEW order once and record the answer. Safe to run again for the same order."""
    with stage("claim"):
        order = load(order_id)
    gateway = _claim_send(order)
    if gateway is not None:
        _send_claimed(order, gateway)


def _spec(order: Order) -> OrderSpec:
    return OrderSpec(symbol=_ccxt_symbol(order), side=order.side, order_type=order.order_type, amount=order.quantity,
                     price=order.price, client_order_id=order.id, time_in_force=order.time_in_force,
                     reduce_only=order.reduce_only, post_only=order.post_only, stop_price=order.stop_price)


def _claim_send(order: Order) -> Gateway | None:
    """Everything before an order's send: the gateway once this worker holds the order's one send, else None (the
    order was settled here: not pending, refused, or looked up because an earlier attempt may have sent it)."""
    if order.status != Status.PENDING_NEW:
        return None
    if order.submitted_at is not None:
        resolve_unknown(order.id)  # an earlier attempt may have reached the venue
        return None
    account = order.account
    if not account.enabled:
        _reject(order, f"account {account.name} is disabled for trading: {account.disabled_reason or 'no reason given'}")
        return None
    with stage("build"):
        gateway = _gateway(order)
    if order.market == Market.FUTURES and order.leverage:
        try:
            gateway.set_leverage(symbol=_ccxt_symbol(order), leverage=order.leverage)
        except VenueBackoff as exc:
            raise RetryLater(exc.retry_after, str(exc)) from exc
        except VenueError as exc:  # nothing was placed: safe to retry or refuse
            outcome = classify(exc)
            if outcome == Outcome.AUTH:
                _reject(order, _auth_failed(account, exc))
                return None
            if outcome in (Outcome.REJECTED, Outcome.NOT_FOUND):
                _reject(order, f"leverage {order.leverage} refused: {venue_reason(exc)}")
                return None
            raise RetryLater(1, f"setting leverage: {exc}") from exc
    with stage("claim"):
        claimed = services.order_submission_claim(order_id=order.id)
    if not claimed:
        resolve_unknown(order.id)
        return None
    return gateway


def submit_group(order_ids: list[str]) -> None:
    """Send a batch's USD-M orders of one account in one venue request (Binance batchOrders, at most 5) with every
    guarantee of a single send: each order is claimed on its own first, each answer is recorded as its single
    placement's would be, and when the request's answer is lost (or the request failed as a whole) each order is
    settled as a lost single placement is: looked up by its client order id, never sent again. An order that has to
    wait (a rate-limit ban, a lookup too early to trust) continues alone as its own submit task."""
    claimed: list[tuple[Order, Gateway]] = []
    for order_id in order_ids:
        _alone(order_id, lambda order_id=order_id: _claimed_into(claimed, order_id))
    if len(claimed) < 2 or len({gateway for _, gateway in claimed}) > 1 or any(
            order.market != Market.FUTURES for order, _ in claimed):
        for order, gateway in claimed:  # nothing to group (or not groupable): each is sent as a single placement
            _alone(order.id, lambda order=order, gateway=gateway: _send_claimed(order, gateway))
        return
    gateway = claimed[0][1]
    try:
        answers = gateway.create_orders([_spec(order) for order, _ in claimed])
    except VenueBackoff as exc:  # our limiter refused before anything was sent
        for order, _ in claimed:
            services.order_submission_release(order_id=order.id)
            handoff.retry(handoff.SUBMIT, order.id, countdown=exc.retry_after)
        return
    except Exception as exc:  # noqa: BLE001 - the request as a whole: each order as if its own send had met it
        for order, _ in claimed:
            _alone(order.id, lambda order=order, exc=exc: _submit_failed(order, gateway, exc))
        return
    for (order, _), answer in zip(claimed, answers, strict=True):
        if isinstance(answer, VenueOrder):
            _alone(order.id, lambda order=order, vo=answer: apply_venue_order(gateway, order, vo, symbol=_ccxt_symbol(order)))
        else:
            _alone(order.id, lambda order=order, exc=answer: _submit_failed(order, gateway, exc))


def _claimed_into(claimed: list, order_id: str) -> None:
    order = load(order_id)
    gateway = _claim_send(order)
    if gateway is not None:
        claimed.append((order, gateway))


def _send_claimed(order: Order, gateway: Gateway) -> None:
    """The one send of an order this worker has claimed, and its answer recorded."""
    try:
        with stage("build"):  # ccxt's own work; its signing, sending and parsing are stages of their own
            vo = gateway.create_order(**dataclasses.asdict(_spec(order)))
    except VenueBackoff as exc:  # our limiter refused before anything was sent
        services.order_submission_release(order_id=order.id)
        raise RetryLater(exc.retry_after, str(exc)) from exc
    except Exception as exc:  # noqa: BLE001 - every failure is classified; unknown ones mean "look it up"
        return _submit_failed(order, gateway, exc)
    with stage("record"):
        apply_venue_order(gateway, order, vo, symbol=_ccxt_symbol(order))


def _alone(order_id: str, step, *, action: str = handoff.SUBMIT) -> None:
    """One order's step within a group; what has to wait, or failed, continues as the order's own task (a submit's
    claim tells that task to look the order up rather than send it again; a cancel is safe to send again)."""
    try:
        step()
    except RetryLater as exc:
        handoff.retry(action, order_id, countdown=exc.countdown)
    except Exception:  # noqa: BLE001 - one order's failure must not leave the group's others unsettled
        log.exception("order %s: its step in a group failed; it continues as its own %s task", order_id, action)
        handoff.retry(action, order_id, countdown=1)


def _submit_failed(order: Order, gateway: Gateway, exc: BaseException) -> None:
    outcome = classify(exc)
    reason = venue_reason(exc)
    log.info("order %s: venue error on submit (%s): %s", order.id, outcome, reason)
    if outcome == Outcome.REJECTED and "duplicate" not in reason.lower():
        return _reject(order, reason)
    if outcome == Outcome.AUTH:
        return _reject(order, _auth_failed(order.account, exc))
    if outcome == Outcome.BACKOFF:  # 429/418: the venue refused the request without processing it
        services.order_submission_release(order_id=order.id)
        raise RetryLater(gateway.banned_for() or 1, reason) from exc
    # UNKNOWN (timeout, network, 5xx) or a duplicate client id: the venue may hold the order. Look, never resend.
    return resolve_unknown(order.id)


def resolve_unknown(order_id: str) -> None:
    """Settle an order whose send was not answered, by looking it up by client order id."""
    order = load(order_id)
    if not lifecycle.is_pending(order.status) or order.exchange_order_id:
        return
    gateway = _gateway(order)
    symbol = _ccxt_symbol(order)
    try:
        vo = gateway.fetch_order(symbol=symbol, client_order_id=order.id)
    except VenueBackoff as exc:
        raise RetryLater(exc.retry_after, str(exc)) from exc
    except Exception as exc:  # noqa: BLE001
        outcome = classify(exc)
        if outcome == Outcome.NOT_FOUND:
            wait = (_lookup_gate(order) - _now()).total_seconds()
            if wait > 0:
                raise RetryLater(wait + 0.05, "not found yet; waiting out recvWindow + grace") from exc
            return _reject(order, NEVER_RECEIVED)
        if outcome == Outcome.AUTH:
            _auth_failed(order.account, exc)
        raise RetryLater(1, f"lookup failed: {venue_reason(exc)}") from exc
    apply_venue_order(gateway, order, vo, symbol=symbol)


# ------------------------------------------------------------------------------------ cancel

def cancel(order_id: str) -> None:
    """Cancel a PENDING_CANCEL order on the venue: CANCELLED, or whatever the venue says won the race."""
    with stage("claim"):
        order = load(order_id)
    if order.status != Status.PENDING_CANCEL:
        return
    if order.submitted_at is None and services.order_submission_claim(order_id=order.id):
        # Never sent, and now it never will be: the submit task finds it claimed and not PENDING_NEW.
        services.order_apply_venue_update(order_id=order.id, status=Status.CANCELLED, reason="cancelled before it was sent")
        return
    with stage("build"):
        gateway = _gateway(order)
        symbol = _ccxt_symbol(order)
    try:
        with stage("build"):
            vo = gateway.cancel_order(symbol=symbol, exchange_order_id=order.exchange_order_id,
                                      client_order_id=order.id)
    except VenueBackoff as exc:
        raise RetryLater(exc.retry_after, str(exc)) from exc
    except Exception as exc:  # noqa: BLE001
        return _cancel_failed(order, exc)
    with stage("record"):
        apply_venue_order(gateway, order, vo, symbol=symbol, cancel_answer=True)


def _cancel_failed(order: Order, exc: BaseException) -> None:
    """The venue's error for this order's cancel, as its single cancel meets it."""
    outcome = classify(exc)
    log.info("order %s: venue error on cancel (%s): %s", order.id, outcome, venue_reason(exc))
    if outcome == Outcome.AUTH:
        _auth_failed(order.account, exc)
        return
    if outcome == Outcome.BACKOFF:
        raise RetryLater(1, venue_reason(exc)) from exc
    _cancel_unsettled(order.id, refused=outcome in (Outcome.REJECTED, Outcome.NOT_FOUND), why=venue_reason(exc))


def cancel_group(order_ids: list[str]) -> None:
    """Cancel a cancel-all's orders of one account, market and symbol in as few venue requests as the venue allows,
    each order recorded from the venue's answer about it as its single cancel's answer would be:

    - spot: the venue's cancel-all for the symbol (`DELETE /api/v3/openOrders`, whose answer lists every order it
      cancelled), only while the ledger holds no other working order there that the call would take too;
    - USD-M: Binance's batch cancel by client order id (`DELETE /fapi/v1/batchOrders`, up to 10, an answer per
      order). Its cancel-all (`allOpenOrders`) answers no orders, so recording them would cost a lookup each.

    Whatever the grouped request cannot settle (an order not yet acknowledged, one missing from the answer, a request
    that failed) goes through the order's own cancel, which looks the order up when in doubt."""
    pending = [order for order in (load(order_id) for order_id in order_ids) if order.status == Status.PENDING_CANCEL]
    grouped = [order for order in pending if order.exchange_order_id]
    alone = [order for order in pending if not order.exchange_order_id]
    scopes = {(order.account_id, order.market, order.symbol) for order in grouped}
    if len(grouped) < 2 or len(scopes) > 1 or (grouped[0].market == Market.SPOT and _others_working(grouped)):
        alone, grouped = pending, []
    for order in alone:
        _cancel_alone(order.id)
    if not grouped:
        return
    gateway = _gateway(grouped[0])
    symbol = _ccxt_symbol(grouped[0])
    try:
        if grouped[0].market == Market.SPOT:
            by_id = {vo.id: vo for vo in gateway.cancel_all_orders(symbol=symbol)}
            answers: list = [by_id.get(order.exchange_order_id) for order in grouped]
        else:
            answers = gateway.cancel_orders(symbol=symbol, client_order_ids=[order.id for order in grouped])
    except Exception as exc:  # noqa: BLE001 - nothing recorded yet: each order's own cancel settles it
        log.info("cancel-all of %s on %s: %s; cancelling one by one", symbol, grouped[0].account.name, exc)
        answers = [None] * len(grouped)
    for order, answer in zip(grouped, answers, strict=True):
        if isinstance(answer, VenueOrder):
            _alone(order.id, lambda order=order, vo=answer: apply_venue_order(gateway, order, vo, symbol=symbol,
                                                                            cancel_answer=True), action=handoff.CANCEL)
        elif answer is not None:
            _alone(order.id, lambda order=order, exc=answer: _cancel_failed(order, exc), action=handoff.CANCEL)
        else:
            _cancel_alone(order.id)


def _others_working(orders: list[Order]) -> bool:
    """Whether the account has working orders on the symbol besides these (a venue cancel-all would take them too)."""
    first = orders[0]
    return (Order.objects.filter(account_id=first.account_id, market=first.market, symbol=first.symbol,
                                 status__in=lifecycle.CANCELLABLE_STATUSES)
            .exclude(id__in=[order.id for order in orders]).exists())


def _cancel_alone(order_id: str) -> None:
    _alone(order_id, lambda: cancel(order_id), action=handoff.CANCEL)


def _cancel_unsettled(order_id: str, *, refused: bool, why: str) -> None:
    """The cancel was refused or unanswered: the order's real state decides (filled first, gone, still open)."""
    order = load(order_id)
    if not order.exchange_order_id:
        return resolve_unknown(order_id)
    gateway = _gateway(order)
    symbol = _ccxt_symbol(order)
    try:
        vo = gateway.fetch_order(symbol=symbol, exchange_order_id=order.exchange_order_id)
    except Exception as exc:  # noqa: BLE001
        raise RetryLater(1, f"lookup after cancel failed: {venue_reason(exc)}") from exc
    still_open = vo.status == VenueStatus.OPEN
    if still_open and not refused:
        raise RetryLater(0.5, "cancel unanswered and the order is still open: cancel again")
    if still_open:
        vo = dataclasses.replace(vo, message=why)
    apply_venue_order(gateway, order, vo, symbol=symbol, cancel_answer=True)


# ------------------------------------------------------------------------------------ amend

AMEND_NOT_APPLIED = "the venue never applied it: the order still had its old price and quantity after recvWindow + grace"


def amend(order_id: str) -> None:
    """Send an order's amend once and record the venue's answer. An amend already sent (its answer lost, or the
    worker gone before recording it) is looked up, never sent again."""
    order = load(order_id)
    request = order.amend_request
    if not request:
        return
    if request.get("sent_at"):
        return _amend_lookup(order)
    if order.status not in lifecycle.WORKING_STATUSES:  # a cancel (or the venue) came first: nothing left to amend
        services.order_amend_settle(order_id=order.id, applied=False, reason=f"not sent: the order is {order.status}")
        return
    if services.order_amend_sent(order_id=order.id) is None:
        return  # another worker holds the send
    gateway = _gateway(order)
    symbol = _ccxt_symbol(order)
    try:
        vo = gateway.amend_order(symbol=symbol, side=order.side, amount=Decimal(request["quantity"]),
                                 price=Decimal(request["price"]), exchange_order_id=order.exchange_order_id,
                                 client_order_id=order.id)
    except VenueBackoff as exc:  # refused before it left (the shared limiter): the send is ours to try again
        services.order_amend_sent(order_id=order.id, sent=False)
        raise RetryLater(exc.retry_after, str(exc)) from exc
    except Exception as exc:  # noqa: BLE001
        outcome = classify(exc)
        log.info("order %s: venue error on amend (%s): %s", order.id, outcome, venue_reason(exc))
        if outcome in (Outcome.REJECTED, Outcome.NOT_FOUND, Outcome.AUTH):
            if outcome == Outcome.AUTH:
                _auth_failed(order.account, exc)
            services.order_amend_settle(order_id=order.id, applied=False, reason=venue_reason(exc))
            if outcome == Outcome.NOT_FOUND:  # gone from the book (filled or cancelled): the poller's look, now
                sync_order(order.id)
            return
        raise RetryLater(1, f"amend answer lost ({venue_reason(exc)}); looking it up") from exc
    _amend_settled(gateway, order, vo, symbol)


def _amend_settled(gateway: Gateway, order: Order, vo: VenueOrder, symbol: str) -> None:
    """AMENDED with what the venue holds now, then the report's status and trades (a fill that raced the amend)."""
    with transaction.atomic():
        services.order_amend_settle(order_id=order.id, applied=True, price=vo.price, quantity=vo.amount)
        apply_venue_order(gateway, load(order.id), vo, symbol=symbol)


def _amend_lookup(order: Order) -> None:
    """The venue's order says whether the amend took: its price and quantity are the asked ones (AMENDED), or, once
    the request can no longer arrive (recvWindow + grace after its send), it was never applied (AMEND_REFUSED)."""
    request = order.amend_request
    gateway = _gateway(order)
    symbol = _ccxt_symbol(order)
    try:
        vo = gateway.fetch_order(symbol=symbol, exchange_order_id=order.exchange_order_id, client_order_id=order.id)
    except VenueBackoff as exc:
        raise RetryLater(exc.retry_after, str(exc)) from exc
    except Exception as exc:  # noqa: BLE001
        raise RetryLater(1, f"amend lookup failed: {venue_reason(exc)}") from exc
    if (vo.price, vo.amount) == (Decimal(request["price"]), Decimal(request["quantity"])):
        return _amend_settled(gateway, order, vo, symbol)
    sent_at = datetime.fromisoformat(request["sent_at"])
    wait = (lifecycle.lookup_gate(submitted_at=sent_at, created_at=sent_at) - _now()).total_seconds()
    if wait > 0 and vo.status == VenueStatus.OPEN:
        raise RetryLater(wait + 0.05, "amend not seen on the venue yet; waiting out recvWindow + grace")
    with transaction.atomic():
        services.order_amend_settle(order_id=order.id, applied=False, reason=AMEND_NOT_APPLIED)
        apply_venue_order(gateway, load(order.id), vo, symbol=symbol)


# ------------------------------------------------------------------------------------ sync

def sync_interval(order: Order) -> timedelta:
    """Young orders are looked at often, old ones rarely: 1 s up to a minute, a tenth of the age."""
    age = (_now() - order.created_at).total_seconds()
    return timedelta(seconds=min(60.0, max(1.0, age / 10)))


def sync_order(order_id: str) -> None:
    """Poll one working order: status and trades; a PENDING_NEW order is resolved or re-submitted."""
    order = load(order_id)
    if not order.is_open:
        return
    if order.status == Status.PENDING_NEW or not order.exchange_order_id:
        if order.submitted_at is None:
            if order.status == Status.PENDING_CANCEL:
                cancel(order.id)
            else:
                handoff.enqueue_submit(order)  # its hand-off to the workers was lost; the claim keeps it single
            return
        return resolve_unknown(order_id)
    if order.amend_request:  # an amend whose hand-off or answer was lost: sent once, else looked up
        return amend(order_id)
    gateway = _gateway(order)
    symbol = _ccxt_symbol(order)
    try:
        vo = gateway.fetch_order(symbol=symbol, exchange_order_id=order.exchange_order_id)
    except VenueBackoff as exc:
        raise RetryLater(exc.retry_after, str(exc)) from exc
    apply_venue_order(gateway, order, vo, symbol=symbol)


# ------------------------------------------------------------------------------------ balances, positions

def balances_sync_soon(account_id: int) -> None:
    """After fills and balance events: one balance sync for the account, however many arrive meanwhile, and
    at most one every OMS_BALANCE_SYNC_MIN_SECONDS (a stream of fills must not spend the account's weight on
    balance requests; the sync after the last fill still comes)."""
    redis = pubsub.client()
    if redis.set(_balance_sync_key(account_id), "1", nx=True, ex=30):
        last = redis.get(_balance_sync_key(account_id, "last"))
        wait = float(last) + settings.OMS_BALANCE_SYNC_MIN_SECONDS - time.time() if last else 0
        app.send_task(ACCOUNT_SYNC_TASK, args=[account_id], countdown=max(0.0, wait))


def _balance_sync_key(account_id: int, kind: str = "pending") -> str:
    return f"{settings.OMS_PUBSUB_PREFIX}:balance-sync-{kind}:{account_id}"


def balance_sync_busy(account_id: int) -> bool:
    """Whether a balance sync for the account is queued or asking the venue right now."""
    return bool(pubsub.client().exists(_balance_sync_key(account_id), _balance_sync_key(account_id, "running")))


def balance_rows(balances: list[VenueBalance]) -> list[dict]:
    return [b.row() for b in balances]


def position_rows(positions: list[VenuePosition]) -> list[dict]:
    """Rows keyed like the Position model (positions are kept for futures only)."""
    return [p.row(Market.FUTURES) for p in positions]


def account_sync(account_id: int) -> None:
    """Replace the account's balances (spot, futures) and positions with the venue's."""
    redis = pubsub.client()
    running = _balance_sync_key(account_id, "running")
    redis.set(running, "1", ex=60)
    redis.delete(_balance_sync_key(account_id))  # fills from now on ask for another sync
    redis.set(_balance_sync_key(account_id, "last"), time.time(), ex=3600)
    try:
        _account_sync(account_id)
    finally:
        redis.delete(running)


def _account_sync(account_id: int) -> None:
    account = Account.objects.get(pk=account_id)
    gateway = gateway_for(account)
    try:
        services.balances_replace(account=account.name, market=Market.SPOT,
                                  balances=balance_rows(gateway.fetch_balance(Market.SPOT)))
    except VenueBackoff as exc:
        raise RetryLater(exc.retry_after, str(exc)) from exc
    except VenueAuthError as exc:
        _auth_failed(account, exc)
        return
    if not gateway.trades_futures():
        return
    try:
        services.balances_replace(account=account.name, market=Market.FUTURES,
                                  balances=balance_rows(gateway.fetch_balance(Market.FUTURES)))
        services.positions_replace(account=account.name, positions=position_rows(gateway.fetch_positions()))
    except VenueBackoff as exc:
        raise RetryLater(exc.retry_after, str(exc)) from exc
    except VenueAuthError as exc:
        # The key works for spot (just shown): a key without futures rights is not a reason to stop trading.
        log.warning("futures balances of %s not readable with this key: %s", account.name, venue_reason(exc))

