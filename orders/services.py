"""The only writers of orders, fills, funding payments, balances and positions.

Each service runs in one transaction, locks the rows it changes (`orders.lock_objects`), appends an
OrderEvent per change, and publishes the update after commit. A fill or a funding payment is folded into the
ledger's computed books (`orders.portfolio`) in the transaction that records it. Concurrency is settled by the
database's unique constraints (client order id, venue trade id), never by check-then-act.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial, update_wrapper

from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from accounts.models import Account, Balance, Market, Position
from accounts.selectors import account_get, account_trade_check, accounts_for_user, market_clean
from infra.cpu_stages import stage
from infra.errors import Conflict, FailedPrecondition, InvalidInput, NotFound, echo
from orders import daily_loss, handoff, lifecycle, portfolio, risk, statements, validation
from orders.lifecycle import EventKind
from orders.lock_objects import (
    account_lock,
    account_lock_only,
    accounts_for_placement,
    order_lock,
    order_qs_for_update,
    placement_account_read,
    visible_order_lock,
)
from orders.models import CONDITIONAL_TYPES, Fill, FundingPayment, Order, OrderEvent, OrderType, Status
from orders.publish import publish_order_update
from orders.validation import num
from venues.symbols import symbol_normalize

log = logging.getLogger(__name__)

QUANT = Decimal(1).scaleb(-18)  # numeric(38, 18)


def _after_commit(func, *args) -> None:
    """func(*args) once the transaction commits; a failure (Redis away) is logged, never raised into the caller,
    whose change is already committed. Wrapped to carry func's name: Django's robust hook logs `__qualname__`,
    and a bare partial, which has none, turns the logged failure into an AttributeError raised after commit."""
    transaction.on_commit(update_wrapper(partial(func, *args), func), robust=True)


def _event_append(order: Order, *, kind: str, from_status: str, source: str, payload: dict | None = None,
                  publish: bool = True) -> OrderEvent:
    """Bump the (locked) order's version, save the given changes, record the event, publish on commit."""
    order.version += 1
    event = OrderEvent(order=order, sequence=order.version, kind=kind, from_status=from_status,
                       to_status=order.status, payload=payload or {}, source=source)
    statements.order_update_with_event(order, event)
    if publish:
        _after_commit(publish_order_update, order, event)
    return event


# ---------------------------------------------------------------- placing


def _same_request(order: Order, req: validation.OrderRequest) -> bool:
    return (order.symbol, order.side, order.order_type, order.quantity, order.price, order.market,
            order.stop_price) == (req.symbol, req.side, req.order_type, req.quantity, req.price, req.market,
                                  req.stop_price)


def _existing_for_client_id(account: Account, req: validation.OrderRequest) -> Order | None:
    """The order already placed under this client_order_id; a different order under the same id is refused."""
    if req.client_order_id is None:
        return None
    order = Order.objects.select_related("account").filter(account=account, client_order_id=req.client_order_id).first()
    if order is not None and not _same_request(order, req):
        raise Conflict(f"client_order_id {echo(req.client_order_id)} was already used for order {order.id} "
                       f"({order.side} {order.quantity} {order.symbol}); use a new id for a new order",
                       field="client_order_id")
    return order


def _instrument_checks(acct: Account, req: validation.OrderRequest):
    """The instrument's rules (step, tick, minimum and maximum value) and the price band, for a new order and for an
    amended one alike: (instrument, last price)."""
    inst = validation.instrument_for(acct, req)
    validation.quantity_check(req, inst)
    validation.price_check(req, inst)
    last = risk.last_price(acct.exchange, req.market, req.symbol)
    validation.notional_check(req, inst, validation.notional_of(req, inst, validation.reference_price(req, last)))
    validation.price_band_check(req, inst, last)
    return inst, last


def order_place(*, account: str, symbol: str, side: str, quantity: Decimal, order_type: str = "LIMIT",
                price: Decimal | None = None, market: str = "spot", exchange: str | None = None,
                client_order_id: str | None = None, time_in_force: str = "", reduce_only: bool = False,
                post_only: bool = False, leverage: int | None = None, stop_price: Decimal | None = None, user=None,
                source: str = "api", hand_off: bool = True) -> Order:
    """Validate, check risk, persist PENDING_NEW with its PLACED event; submit to the venue after commit.

    Repeating a client_order_id returns the order already placed under it and submits nothing. `hand_off=False`:
    the caller hands the committed order to the workers itself (a batch, which groups its orders' sends)."""
    with stage("validate"):
        req = validation.request_clean(symbol=symbol, side=side, quantity=quantity, order_type=order_type, price=price,
                                       market=market, client_order_id=client_order_id, time_in_force=time_in_force,
                                       reduce_only=reduce_only, post_only=post_only, leverage=leverage,
                                       stop_price=stop_price)
        # With its risk limit and the kill switch (orders.risk), and whether the user may trade it: one query.
        acct = account_get(account, user, trade=True, read=placement_account_read)
        validation.exchange_check(exchange, acct)
        existing = _existing_for_client_id(acct, req)
        if existing is not None:
            return existing

        inst, last = _instrument_checks(acct, req)

    with stage("write"), transaction.atomic():
        if risk.counts_open_exposure(acct):
            # Limits that count open orders or exposure: placements on the account wait for each other, so two
            # cannot both pass a check that only one of them may. Without such limits nothing needs serialising.
            account_lock(acct.pk)
        risk.pre_trade_check(account=acct, req=req, inst=inst, last=last)
        order = Order(account=acct, exchange=acct.exchange, market=req.market, symbol=req.symbol, side=req.side,
                      order_type=req.order_type, quantity=req.quantity, price=req.price, stop_price=req.stop_price,
                      client_order_id=req.client_order_id, time_in_force=req.time_in_force,
                      reduce_only=req.reduce_only, post_only=req.post_only, leverage=req.leverage,
                      status=Status.PENDING_NEW, version=1, created_by=user if user is not None and user.pk else None)
        event = OrderEvent(order=order, sequence=1, kind=EventKind.PLACED, from_status="", to_status=order.status,
                           source=source, payload={"last_price": str(last) if last is not None else None})
        try:
            # Only a client_order_id can collide (the unique constraint below); without one, no savepoint
            # (two round trips to the database) is needed.
            with transaction.atomic(savepoint=req.client_order_id is not None):
                statements.order_insert_with_event(order, event)
        except IntegrityError:
            # Another transaction committed the same client_order_id after our check (the unique constraint won).
            existing = _existing_for_client_id(acct, req)
            if existing is None:
                raise
            return existing
        _after_commit(publish_order_update, order, event)
        if hand_off:
            _after_commit(handoff.enqueue_submit, order)
    return order


# ---------------------------------------------------------------- cancelling


def _cancel_locked(order: Order, *, source: str, reason: str = "", hand_off: bool = True) -> Order:
    if not lifecycle.request_cancel(order.status):
        return order  # already PENDING_CANCEL: the cancel is on its way
    from_status = order.status
    order.status = Status.PENDING_CANCEL
    if reason:
        order.reason = reason
    _event_append(order, kind=EventKind.CANCEL_REQUESTED, from_status=from_status, source=source,
                  payload={"reason": reason} if reason else {})
    if hand_off:
        _after_commit(handoff.enqueue_cancel, order)
    return order


def order_cancel(*, order_id: str, user=None, source: str = "api", reason: str = "") -> Order:
    """Ask the venue to cancel: PENDING_CANCEL now, the worker cancels after commit.
    A terminal order cannot be cancelled (FailedPrecondition); a second request changes nothing."""
    with stage("write"), transaction.atomic():
        # Found among the orders the user may see, and locked, in one query.
        order = visible_order_lock(order_id, user) if order_id else None
        if order is None:
            raise NotFound(f"order {echo(order_id)} not found", field="order_id")
        account_trade_check(order.account, user)
        return _cancel_locked(order, source=source, reason=reason)


def order_cancel_all(*, account: str = "", symbol: str = "", exchange: str | None = None, user=None,
                     source: str = "api", reason: str = "") -> list[Order]:
    """Cancel every cancellable order the user may trade (optionally one account / symbol; `exchange`, when given,
    must be the account's). Returns them. The workers get them together (`handoff.enqueue_cancels`), so a venue's
    cancel-all or batch cancel can take them."""
    accounts = accounts_for_user(user, trade=True)
    if account:
        acct = account_get(account, user, trade=True)
        validation.exchange_check(exchange, acct)
        accounts = accounts.filter(pk=acct.pk)
    with transaction.atomic():
        qs = order_qs_for_update().filter(account__in=accounts, status__in=lifecycle.CANCELLABLE_STATUSES)
        if symbol:
            qs = qs.filter(symbol=symbol_normalize(symbol))
        orders = [_cancel_locked(order, source=source, reason=reason, hand_off=False) for order in qs]
        _after_commit(handoff.enqueue_cancels, orders)
        return orders


# ---------------------------------------------------------------- amending


def _new_value(value, field: str) -> Decimal | None:
    # Clients send 0 for "unchanged", as they send price=0 for "no price" (wire contract).
    if value is None or value == "" or (not isinstance(value, str) and value == 0):
        return None
    return validation.decimal_clean(value, field=field)


def _amend_target(order: Order, price: Decimal | None, quantity: Decimal | None) -> tuple[Decimal, Decimal]:
    """The amended (price, quantity), or InvalidInput/FailedPrecondition naming the field and the rule."""
    if order.order_type != OrderType.LIMIT or order.price is None:
        raise FailedPrecondition(f"order is {order.order_type}; only LIMIT orders can be amended", field="order_id")
    if order.status not in lifecycle.WORKING_STATUSES:
        raise FailedPrecondition(f"order is {order.status}; only {', '.join(lifecycle.WORKING_STATUSES)} orders can "
                                 "be amended", field="order_id")
    if order.amend_request:
        raise Conflict("an amend of this order is already on its way to the venue; wait for its answer",
                       field="order_id")
    new_price, new_quantity = price or order.price, quantity or order.quantity
    if (new_price, new_quantity) == (order.price, order.quantity):
        raise InvalidInput("nothing to amend: the order already has this price and quantity", field="price")
    if new_quantity <= order.filled_quantity:
        raise InvalidInput(f"quantity {num(new_quantity)} is not above the {num(order.filled_quantity)} already "
                           "filled", field="quantity")
    if order.market == Market.SPOT:  # Binance spot keeps an order's identity only through a quantity decrease
        if new_price != order.price:
            raise InvalidInput("a spot order's price cannot be amended (the venue keeps the order only through a "
                               "quantity decrease); cancel it and place a new one", field="price")
        if new_quantity > order.quantity:
            raise InvalidInput(f"a spot order's quantity can only decrease (from {num(order.quantity)})",
                               field="quantity")
    return new_price, new_quantity


def order_amend(*, order_id: str, price=None, quantity=None, user=None, source: str = "api") -> Order:
    """Ask the venue for a new price and/or quantity of a working LIMIT order, checked as a placement of the amended
    order would be (tick, step, minimums, price band, risk). The order keeps its status; an AMEND_REQUESTED event
    records the ask and the worker sends it after commit; AMENDED (old and new values) once the venue confirms."""
    new_price, new_quantity = _new_value(price, "price"), _new_value(quantity, "quantity")
    if new_price is None and new_quantity is None:
        raise InvalidInput("give a new price, a new quantity, or both", field="quantity")
    with transaction.atomic():
        order = visible_order_lock(order_id, user) if order_id else None
        if order is None:
            raise NotFound(f"order {echo(order_id)} not found", field="order_id")
        account_trade_check(order.account, user)
        target_price, target_quantity = _amend_target(order, new_price, new_quantity)
        req = validation.request_clean(symbol=order.symbol, side=order.side, quantity=target_quantity,
                                       order_type=order.order_type, price=target_price, market=order.market,
                                       client_order_id=None, time_in_force=order.time_in_force,
                                       reduce_only=order.reduce_only, post_only=order.post_only, leverage=None)
        acct = accounts_for_placement().get(pk=order.account_id)
        inst, last = _instrument_checks(acct, req)  # an amended order is an open LIMIT: valued at its price
        risk.amend_check(account=acct, req=req, inst=inst, last=last)
        order.amend_request = {"price": str(target_price), "quantity": str(target_quantity),
                               "from_price": str(order.price), "from_quantity": str(order.quantity), "sent_at": None}
        _event_append(order, kind=EventKind.AMEND_REQUESTED, from_status=order.status, source=source,
                      payload={k: v for k, v in order.amend_request.items() if k != "sent_at"})
        _after_commit(handoff.enqueue_amend, order)
    return order


def order_amend_sent(*, order_id: str, sent: bool = True) -> dict | None:
    """Claim the amend's one send (its time is kept, so a lost answer is looked up, never sent again): the request,
    or None when there is none or it was sent already. `sent=False` gives the claim back (nothing left the worker)."""
    with transaction.atomic():
        order = order_lock(order_id)
        request = order.amend_request
        if not request or bool(request.get("sent_at")) == sent:
            return None
        request["sent_at"] = timezone.now().isoformat() if sent else None
        Order.objects.filter(pk=order.pk).update(amend_request=request)
        return request


def order_amend_settle(*, order_id: str, applied: bool, price: Decimal | None = None,
                       quantity: Decimal | None = None, reason: str = "", source: str = "worker") -> Order:
    """The venue's word on the amend on its way: AMENDED with the values the venue now holds (its answer is the
    truth), or AMEND_REFUSED with its reason and the order as it was."""
    with transaction.atomic():
        order = order_lock(order_id)
        request = order.amend_request
        if not request:
            return order
        order.amend_request = None
        payload = {"from_price": request["from_price"], "from_quantity": request["from_quantity"]}
        if applied:
            order.price = price if price is not None else Decimal(request["price"])
            order.quantity = quantity if quantity is not None else Decimal(request["quantity"])
            payload.update(price=num(order.price), quantity=num(order.quantity))
            from_status = order.status
            if from_status == Status.FILLED and order.filled_quantity < order.quantity:
                # A fill recorded against the old quantity closed it here, while the venue's order, amended up, works on.
                order.status = lifecycle.working_status(order.filled_quantity)
                payload["reopened"] = True
            _event_append(order, kind=EventKind.AMENDED, from_status=from_status, source=source, payload=payload)
        else:
            payload.update(requested_price=request["price"], requested_quantity=request["quantity"], reason=reason[:500])
            _event_append(order, kind=EventKind.AMEND_REFUSED, from_status=order.status, source=source,
                          payload=payload)
        return order


# ---------------------------------------------------------------- venue reports


def _finite(value, field: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        raise InvalidInput(f"{field} must be a number, not {echo(value)}", field=field) from None
    if not number.is_finite():
        raise InvalidInput(f"{field} must be a finite number, not {echo(value, quote=False)}", field=field)
    return number


def _decimal_or_none(value, field: str) -> Decimal | None:
    if value is None:
        return None
    number = _finite(value, field)
    if number < 0:
        raise InvalidInput(f"{field} must be >= 0, not {echo(value, quote=False)}", field=field)
    return number


def order_apply_venue_update(*, order_id: str, status: str, exchange_order_id: str | None = None,
                             filled_quantity: Decimal | None = None, average_price: Decimal | None = None,
                             cumulative_quote: Decimal | None = None, reason: str = "", payload: dict | None = None,
                             source: str = "worker", keep_pending_cancel: bool = False) -> Order:
    """Apply what the venue says about an order (ack, reject, fill progress, cancel, expiry).

    Decided by `orders.lifecycle.decide`: illegal moves raise and change nothing; stale reports are
    recorded as STALE_IGNORED and not applied; exact duplicates change nothing. With `keep_pending_cancel`,
    a "still working" report leaves a PENDING_CANCEL order as it is: only the cancel's own answer may say
    the cancel was refused."""
    filled = _decimal_or_none(filled_quantity, "filled_quantity")
    avg = _decimal_or_none(average_price, "average_price")
    quote = _decimal_or_none(cumulative_quote, "cumulative_quote")
    report = {"status": status, "exchange_order_id": exchange_order_id or "", "reason": reason,
              "filled_quantity": None if filled is None else str(filled), **(payload or {})}
    with transaction.atomic():
        try:
            order = order_lock(order_id)
        except Order.DoesNotExist:
            raise NotFound(f"order {echo(order_id)} not found", field="order_id") from None
        if keep_pending_cancel and order.status == Status.PENDING_CANCEL and status in lifecycle.WORKING_STATUSES:
            return order
        new_id = exchange_order_id if exchange_order_id and exchange_order_id != order.exchange_order_id else None
        decision = lifecycle.decide(status=order.status, quantity=order.quantity, filled_quantity=order.filled_quantity,
                                    report_status=(status or "").strip().upper(), report_filled=filled,
                                    new_facts=new_id is not None)
        if decision.outcome == "duplicate":
            return order
        if decision.outcome == "stale":
            _event_append(order, kind=EventKind.STALE_IGNORED, from_status=order.status, source=source,
                          payload={**report, "why": decision.why}, publish=False)
            return order
        from_status = order.status
        if new_id is not None:
            order.exchange_order_id = new_id
        if decision.filled_quantity > order.filled_quantity:
            # The report is ahead of the recorded trades (filled = max(report, trades)): its cumulative
            # figures stand until the trades arrive and `fill_record` re-derives them exactly.
            order.filled_quantity = decision.filled_quantity
            if quote is not None:
                order.cumulative_quote = quote
            if avg is not None:
                order.average_price = avg
            elif quote is not None:
                order.average_price = (quote / order.filled_quantity).quantize(QUANT)
        order.status = decision.to_status
        if reason and decision.to_status in (Status.REJECTED, Status.CANCELLED, Status.EXPIRED):
            order.reason = reason
        _event_append(order, kind=decision.kind, from_status=from_status, source=source, payload=report)
        return order


def order_trigger(*, order_id: str, source: str = "worker") -> Order:
    """Record that the venue triggered a conditional order: one TRIGGERED event, its status unchanged (it was working
    and still is). A second report of the same trigger changes nothing."""
    with transaction.atomic():
        order = order_lock(order_id)
        if order.stop_price is None or order.triggered_at is not None:
            return order
        order.triggered_at = timezone.now()
        _event_append(order, kind=EventKind.TRIGGERED, from_status=order.status, source=source,
                      payload={"stop_price": str(order.stop_price)})
        return order


def fill_record(*, order_id: str, trade_id: str, price: Decimal, quantity: Decimal, fee: Decimal, fee_asset: str,
                is_maker: bool, executed_at: datetime, source: str = "worker") -> Fill | None:
    """Record one venue trade. The same trade id twice (even concurrently) yields one Fill: the second
    insert hits the unique constraint inside a savepoint and returns None, changing nothing."""
    price = validation.decimal_clean(price, field="price")
    quantity = validation.decimal_clean(quantity, field="quantity")
    fee = _finite(fee if fee is not None else 0, "fee")  # negative: a maker rebate
    if not trade_id:
        raise InvalidInput("trade_id is required", field="trade_id")
    if executed_at is None or timezone.is_naive(executed_at):
        raise InvalidInput("executed_at must be a timezone-aware time", field="executed_at")
    with transaction.atomic():
        try:
            order = order_lock(order_id)
        except Order.DoesNotExist:
            raise NotFound(f"order {echo(order_id)} not found", field="order_id") from None
        fill = Fill(order=order, account_id=order.account_id, market=order.market, symbol=order.symbol,
                    trade_id=str(trade_id), price=price,
                    quantity=quantity, fee=fee, fee_asset=fee_asset or "", is_maker=bool(is_maker), executed_at=executed_at)
        try:
            with transaction.atomic():
                fill.save(force_insert=True)
        except IntegrityError:
            if Fill.objects.filter(account_id=order.account_id, market=order.market, symbol=order.symbol,
                                   trade_id=str(trade_id)).exists():
                return None
            raise
        _fill_totals_apply(order, fill, source=source)
        portfolio.fill_fold(fill, side=order.side, exchange=order.exchange)
        _after_commit(daily_loss.daily_loss_check, order.account_id)  # reads the books this fold completed
        return fill


def _fill_totals_apply(order: Order, fill: Fill, *, source: str) -> None:
    """Re-derive the order's totals from its fills. Filled is the larger of what the venue reported and
    the sum of trades, so a trade already counted in a status report is not counted twice."""
    totals = order.fills.aggregate(qty=Sum("quantity"), quote=Sum(F("price") * F("quantity")))
    fills_qty = totals["qty"]
    if fills_qty > order.quantity:
        raise lifecycle.IllegalTransition(f"trades fill {fills_qty} of an order for {order.quantity}", field="quantity")
    from_status = order.status
    order.filled_quantity = max(order.filled_quantity, fills_qty)
    if fills_qty >= order.filled_quantity:
        order.cumulative_quote = totals["quote"].quantize(QUANT)
        order.average_price = (totals["quote"] / fills_qty).quantize(QUANT)
    order.fee_asset = order.fee_asset or fill.fee_asset
    order.cumulative_fee = order.fills.filter(fee_asset=order.fee_asset).aggregate(s=Sum("fee"))["s"] or Decimal(0)
    order.status = lifecycle.fill_status(status=order.status, quantity=order.quantity,
                                         filled_quantity=order.filled_quantity)
    _event_append(order, kind=EventKind.FILL, from_status=from_status, source=source,
                  payload={"trade_id": fill.trade_id, "price": str(fill.price), "quantity": str(fill.quantity),
                           "fee": str(fill.fee), "fee_asset": fill.fee_asset, "is_maker": fill.is_maker})


# ---------------------------------------------------------------- balances and positions


def _amount(row: dict, key: str) -> Decimal:
    value = row.get(key)
    return _finite(value if value is not None else 0, key)


def _balance_rows(balances: list[dict]) -> list[tuple[str, Decimal, Decimal]]:
    rows = []
    for row in balances:
        asset = (row.get("asset") or "").strip().upper()
        if not asset:
            raise InvalidInput("every balance needs an asset", field="asset")
        free, locked = _amount(row, "free"), _amount(row, "locked")
        if free < 0 or locked < 0:
            raise InvalidInput(f"{asset} balance cannot be negative (free {free}, locked {locked})", field="free")
        rows.append((asset, free, locked))
    return rows


def _balances_upsert(account_id: int, market: str, rows: list[tuple[str, Decimal, Decimal]]) -> None:
    Balance.objects.bulk_create(
        [Balance(account_id=account_id, market=market, asset=a, free=f, locked=lk) for a, f, lk in rows],
        update_conflicts=True, unique_fields=["account", "market", "asset"], update_fields=["free", "locked", "updated_at"])


def balances_replace(*, account: str, market: str, balances: list[dict]) -> None:
    """Make the stored balances of one account and market exactly the venue's list (asset, free, locked)."""
    market = market_clean(market)
    rows = _balance_rows(balances)
    with transaction.atomic():
        acct = account_lock(account_get(account).pk)
        Balance.objects.filter(account=acct, market=market).exclude(asset__in=[asset for asset, _, _ in rows]).delete()
        _balances_upsert(acct.pk, market, rows)


def balances_update(*, account: str = "", account_id: int | None = None, market: str, balances: list[dict]) -> None:
    """The venue's current free and locked amounts of some assets (a user-data stream's balance event): those
    rows only; an asset with nothing left is removed (the venue's balance list leaves it out too). The account by
    name, or by id when the caller holds it (a stream consumer: no look-up)."""
    market = market_clean(market)
    rows = _balance_rows(balances)
    empty = [a for a, f, lk in rows if not f and not lk]
    held = [(a, f, lk) for a, f, lk in rows if f or lk]
    with transaction.atomic():
        if account_id is None:
            account_id = account_get(account).pk
        account_lock_only(account_id)
        if empty:
            Balance.objects.filter(account_id=account_id, market=market, asset__in=empty).delete()
        if held:
            _balances_upsert(account_id, market, held)


POSITION_FIELDS = ("side", "size", "entry_price", "mark_price", "unrealized_pnl", "leverage", "margin", "liquidation_price")


def _position_from(acct: Account, row: dict) -> Position:
    symbol = symbol_normalize(row.get("symbol", ""))
    if not symbol:
        raise InvalidInput("every position needs a symbol", field="symbol")
    side = (row.get("side") or Position.Side.FLAT).upper()
    if side not in Position.Side.values:
        raise InvalidInput(f"position side must be one of {', '.join(Position.Side.values)}, not {row.get('side')!r}",
                           field="side")
    amounts = {k: _amount(row, k) for k in ("size", "entry_price", "mark_price", "unrealized_pnl", "margin")}
    if amounts["size"] < 0:
        raise InvalidInput(f"{symbol} position size is unsigned (side says the direction), not {amounts['size']}",
                           field="size")
    liq = row.get("liquidation_price")
    return Position(account=acct, market=market_clean(row.get("market") or Market.FUTURES), symbol=symbol, side=side,
                    leverage=int(row.get("leverage") or 1),
                    liquidation_price=None if liq in (None, "") else _amount(row, "liquidation_price"), **amounts)


def positions_replace(*, account: str, positions: list[dict]) -> None:
    """Make the stored positions of one account exactly the venue's list."""
    with transaction.atomic():
        acct = account_lock(account_get(account).pk)
        objs = [_position_from(acct, row) for row in positions]
        keep = {(p.market, p.symbol) for p in objs}
        for stale in Position.objects.filter(account=acct):
            if (stale.market, stale.symbol) not in keep:
                stale.delete()
        Position.objects.bulk_create(objs, update_conflicts=True, unique_fields=["account", "market", "symbol"],
                                     update_fields=[*POSITION_FIELDS, "updated_at"])


# ---------------------------------------------------------------- funding


def _funding_row(row: dict) -> dict:
    venue_id = str(row.get("venue_id") or "").strip()
    if not venue_id or len(venue_id) > 64:
        raise InvalidInput(f"every funding payment needs the venue's id (at most 64 characters), not {echo(venue_id)}",
                           field="venue_id")
    symbol = symbol_normalize(row.get("symbol") or "")
    asset = (row.get("asset") or "").strip().upper()
    if not symbol or not asset:
        raise InvalidInput(f"funding payment {venue_id} needs a symbol and an asset", field="symbol" if not symbol else "asset")
    paid_at = row.get("paid_at")
    if not isinstance(paid_at, datetime) or timezone.is_naive(paid_at):
        raise InvalidInput(f"funding payment {venue_id} needs paid_at as an aware datetime", field="paid_at")
    return {"venue_id": venue_id, "symbol": symbol, "asset": asset, "amount": _finite(row.get("amount"), "amount"),
            "paid_at": paid_at}


def funding_record(*, account: str, payments: list[dict], source: str = FundingPayment.Source.SYNC) -> int:
    """Record the venue's funding payments of one account (each: venue_id, symbol, asset, amount, paid_at). A payment
    already recorded (same venue id) is left as it is, so a re-sync, a replayed stream event or reconciliation never
    duplicates one, also when two of them run at once. Every row is checked before anything is written. Returns
    how many were new."""
    if source not in FundingPayment.Source.values:
        raise InvalidInput(f"source must be one of {', '.join(FundingPayment.Source.values)}", field="source")
    rows = [_funding_row(row) for row in payments]
    acct = account_get(account)
    created = 0
    with transaction.atomic():
        for row in rows:
            venue_id = row.pop("venue_id")
            payment, new = FundingPayment.objects.get_or_create(account=acct, venue_id=venue_id,
                                                                defaults={**row, "source": source})
            if new:
                portfolio.funding_fold(payment)
            created += new
        if created:
            _after_commit(daily_loss.daily_loss_check, acct.pk)
    return created


# ---------------------------------------------------------------- submission and polling bookkeeping


def order_submission_claim(*, order_id: str) -> bool:
    """Claim the one send of this order to the venue: True for exactly one caller, ever (until released).
    A conditional UPDATE, so two workers racing on the same order cannot both win."""
    return statements.order_submitted_at_claim(order_id, timezone.now())


def order_submission_release(*, order_id: str) -> None:
    """Undo a claim whose request provably never left (our limiter or the venue's 429 refused it first)."""
    Order.objects.filter(pk=order_id, status=Status.PENDING_NEW).update(submitted_at=None)


# Orders the venue has not settled yet (lifecycle.PENDING_STATUSES) each need their own look; acknowledged
# working orders are swept.
UNSETTLED_STATUSES = lifecycle.PENDING_STATUSES


def order_sync_due_claim(*, limit: int, interval, handoff_grace: timedelta) -> list[str]:
    """Unsettled orders whose next look at the venue is due; each gets its next time (`interval(order)`
    from now) in the same transaction, so concurrent pollers never take the same order twice.
    An order never looked at is due one interval after it was placed; one not yet sent, only once its
    submit task has had `handoff_grace` to do that."""
    now = timezone.now()
    with transaction.atomic():
        due = list(Order.objects.select_for_update(skip_locked=True)
                   .filter(Q(status__in=UNSETTLED_STATUSES) | Q(status__in=lifecycle.OPEN_STATUSES, exchange_order_id=""))
                   .filter(Q(next_sync_at__lte=now) | Q(next_sync_at__isnull=True, created_at__lte=now - timedelta(seconds=1)))
                   .exclude(status=Status.PENDING_NEW, submitted_at__isnull=True, created_at__gt=now - handoff_grace)
                   .order_by("next_sync_at", "created_at")[:limit])
        for order in due:
            order.next_sync_at = now + interval(order)
        Order.objects.bulk_update(due, ["next_sync_at"])
    return [order.id for order in due]


# ---------------------------------------------------------------- reconciliation


def _adopted_type(order_type: str, stop_price: Decimal | None) -> str:
    """A conditional type only with its stop price; anything else is taken as MARKET or LIMIT."""
    order_type = (order_type or "").upper()
    if order_type in CONDITIONAL_TYPES and stop_price:
        return order_type
    return OrderType.MARKET if order_type in (OrderType.MARKET, OrderType.STOP_MARKET,
                                              OrderType.TAKE_PROFIT_MARKET) else OrderType.LIMIT


def order_adopt(*, account: str, market: str, symbol: str, side: str, order_type: str, quantity: Decimal,
                price: Decimal | None, exchange_order_id: str, client_order_id: str | None = None,
                time_in_force: str = "", stop_price: Decimal | None = None, source: str = "reconcile") -> Order:
    """Take into the ledger an order the venue has and the ledger does not (placed elsewhere, or lost).

    It is recorded PENDING_NEW as already sent, with its exchange id, so nothing ever submits it; the
    caller then applies the venue's state and trades (`order_apply_venue_update`, `fill_record`).
    Adopting the same venue order again returns the first adoption."""
    market = market_clean(market)
    side = (side or "").strip().upper()
    if side not in ("BUY", "SELL"):
        raise InvalidInput(f"side must be BUY or SELL, not {echo(side)}", field="side")
    if not exchange_order_id:
        raise InvalidInput("exchange_order_id is required to adopt a venue order", field="exchange_order_id")
    quantity = _finite(quantity, "quantity")
    if quantity <= 0:
        raise InvalidInput(f"quantity must be > 0, not {echo(quantity)}", field="quantity")
    with transaction.atomic():
        acct = account_lock(account_get(account).pk)
        existing = Order.objects.filter(account=acct, market=market, exchange_order_id=exchange_order_id).first()
        if existing is not None:
            return existing
        venue_client_id = client_order_id or ""
        if client_order_id and Order.objects.filter(account=acct, client_order_id=client_order_id).exists():
            client_order_id = None  # taken by one of ours: the venue's id stays in the event payload
        order = Order(account=acct, exchange=acct.exchange, market=market, symbol=symbol_normalize(symbol), side=side,
                      order_type=_adopted_type(order_type, stop_price),
                      quantity=quantity, price=price, stop_price=stop_price if stop_price else None, client_order_id=client_order_id or None,
                      exchange_order_id=exchange_order_id,
                      time_in_force=time_in_force if time_in_force in ("GTC", "IOC", "FOK") else "",
                      status=Status.PENDING_NEW, version=1, submitted_at=timezone.now())
        order.save(force_insert=True)
        event = OrderEvent.objects.create(order=order, sequence=1, kind=EventKind.ADOPTED, from_status="",
                                          to_status=order.status, source=source,
                                          payload={"exchange_order_id": exchange_order_id,
                                                   "venue_client_order_id": venue_client_id})
        _after_commit(publish_order_update, order, event)
    return order
