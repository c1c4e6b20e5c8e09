"""Changing a resting order as Binance does it, three ways:

- USD-M `PUT /fapi/v1/order` (Modify Order): a LIMIT order's price and quantity (both sent), the order keeps its
  id and client id, is reordered at the back of its queue, its self-trade prevention becomes NONE, and the user
  stream says `ORDER_TRADE_UPDATE` with execution type AMENDMENT. A new quantity at or below what already
  filled cancels the order; a GTX order whose new price would take is cancelled too. Same price and quantity:
  -5027. A new price that crosses trades at once, as a new order would.
- spot `PUT /api/v3/order/amend/keepPriority`: quantity decrease only (`newQty`), same order id and queue place,
  a new client order id (sent or generated), `executionReport` with execution type REPLACED.
- spot `POST /api/v3/order/cancelReplace`: cancel, then a new order (a new id); the answer carries both results,
  or a -2021/-2022 error whose `data` says which half failed."""
from __future__ import annotations

from . import matching, price_bands, refusals
from .engine import Order
from .instruments import FUTURES, SPOT
from .refusals import VenueError
from .render import futures_order, s, spot_cancel, spot_new_order


def _open_order(ctx, market: str, params: dict) -> Order:
    if params.get("orderId") and params.get("origClientOrderId"):  # the order id prevails when both are sent
        params = {k: v for k, v in params.items() if k != "origClientOrderId"}
    order = ctx.venue.find_order(market, ctx.account, params, refusals.order_missing())
    if not order.is_open:
        raise refusals.order_missing()
    return order


def _requeue(venue, order: Order) -> None:
    resting = venue.resting.setdefault((order.market, order.symbol), [])
    if order in resting:
        resting.remove(order)
    resting.append(order)


# ---- USD-M modify ---------------------------------------------------------------------------------
def modify_futures(ctx) -> dict:
    venue, params = ctx.venue, ctx.params
    instrument = venue.instrument(FUTURES, params.get("symbol"))
    side = refusals.side_of(params)
    qty = venue.decimal(params, "quantity", required=True)
    price = venue.decimal(params, "price", required=True)
    order = _open_order(ctx, FUTURES, params)
    if order.type != "LIMIT":
        raise VenueError(-1116, "Invalid orderType.")
    if side != order.side:
        raise VenueError(-1117, "Invalid side.")
    if qty == order.orig_qty and price == order.price:
        raise VenueError(-5027, "No need to modify the order.")
    venue._check_filters(FUTURES, instrument, "LIMIT", qty, price)  # refused: the order stays as it was
    book = venue.book(FUTURES, instrument.symbol)
    price_bands.check_futures(price, book.mid, instrument.tick)
    account = ctx.account
    if qty <= order.executed_qty:
        venue._close(order, account, "CANCELED")
        return _futures_answer(order)
    plan = matching.plan(venue, FUTURES, instrument, account.api_key, side, qty - order.executed_qty, price, None,
                         matching.NONE)
    if order.tif == "GTX" and plan.crosses:
        venue._close(order, account, "EXPIRED")
        return _futures_answer(order)
    order.price, order.orig_qty, order.stp_mode = price, qty, matching.NONE
    order.update_time = venue.now()
    venue.dirty = True
    _requeue(venue, order)
    venue.emit(order, "AMENDMENT")
    if plan.steps:  # the new price crosses: it takes what it meets, like a new order would
        position = account.position(order.symbol)
        matching.execute(venue, order, plan, reduce_to=position if order.reduce_only else None)
    return _futures_answer(order)


def _futures_answer(order: Order) -> dict:
    return futures_order(order, "new")


# ---- spot keep-priority amend ---------------------------------------------------------------------
def amend_keep_priority(ctx) -> dict:
    venue, params = ctx.venue, ctx.params
    instrument = venue.instrument(SPOT, params.get("symbol"))
    new_qty = venue.decimal(params, "newQty", required=True)
    order = _open_order(ctx, SPOT, params)
    if new_qty <= 0 or new_qty % instrument.step or new_qty.as_tuple().exponent < -8:
        raise refusals.filter_failure("LOT_SIZE")
    if new_qty >= order.orig_qty:
        raise VenueError(-2038, "Order amend (quantity increase) is not supported.")
    if new_qty <= order.executed_qty:
        raise VenueError(-2038, "Order amend rejected: the new quantity must exceed the executed quantity.")
    # The order's own client id may be kept (the order stays the one open order under it); another is checked as new.
    own = params.get("newClientOrderId") == order.client_order_id
    new_cid = order.client_order_id if own else venue.client_order_id(params, SPOT, ctx.account, order.symbol)
    freed = order.orig_qty - new_qty
    account = ctx.account
    release = min(order.locked, freed * order.price if order.side == "BUY" else freed)
    row = account.spot_row(instrument.quote if order.side == "BUY" else instrument.base)
    row[1] -= release
    row[0] += release
    order.locked -= release
    orig_cid = order.client_order_id
    order.orig_qty = new_qty
    order.client_order_id = new_cid
    venue.client_ids[(SPOT, account.api_key, order.symbol, new_cid)] = order
    order.update_time = venue.now()
    account.update_time = order.update_time
    venue.dirty = True
    venue.emit(order, "REPLACED")
    return {"transactTime": order.update_time, "executionId": order.update_time, "amendedOrder": {
        "symbol": order.symbol, "orderId": order.order_id, "orderListId": -1, "origClientOrderId": orig_cid,
        "clientOrderId": new_cid, "price": s(order.price), "qty": s(order.orig_qty),
        "executedQty": s(order.executed_qty), "preventedQty": s(order.prevented_qty),
        "quoteOrderQty": s(order.orig_quote_qty), "cumulativeQuoteQty": s(order.cum_quote), "status": order.status,
        "timeInForce": order.tif, "type": order.type, "side": order.side, "workingTime": order.time,
        "selfTradePreventionMode": order.stp_mode}}


# ---- spot cancel-replace --------------------------------------------------------------------------
class CancelReplaceFailed(VenueError):
    """Binance's failed cancel-replace: the error and, in `data`, what happened to each half."""

    def __init__(self, code: int, msg: str, data: dict):
        super().__init__(code, msg)
        self.data = data

    def body(self) -> dict:
        return {"code": self.code, "msg": self.msg, "data": self.data}


CANCEL_PARAMS = ("cancelOrderId", "cancelOrigClientOrderId", "cancelNewClientOrderId", "cancelReplaceMode",
                 "cancelRestrictions", "orderRateLimitExceededMode")


def cancel_replace(ctx) -> dict:
    venue, params = ctx.venue, ctx.params
    mode = params.get("cancelReplaceMode")
    if not mode:
        raise refusals.mandatory("cancelReplaceMode")
    if mode not in ("STOP_ON_FAILURE", "ALLOW_FAILURE"):
        raise refusals.illegal_chars("cancelReplaceMode", "STOP_ON_FAILURE|ALLOW_FAILURE")
    if not params.get("cancelOrderId") and not params.get("cancelOrigClientOrderId"):
        raise VenueError(-1102, "Param 'cancelOrigClientOrderId' or 'cancelOrderId' must be sent, but both were "
                                "empty/null!")
    venue.instrument(SPOT, params.get("symbol"))  # -1121 before anything changes
    target = {"symbol": params["symbol"]}
    if params.get("cancelOrderId"):
        target["orderId"] = params["cancelOrderId"]
    if params.get("cancelOrigClientOrderId"):
        target["origClientOrderId"] = params["cancelOrigClientOrderId"]
    cancel_answer: dict
    try:
        cancelled = venue.cancel(SPOT, ctx.account, target)
        cancel_answer = spot_cancel(cancelled, params.get("cancelNewClientOrderId")
                                    or venue.client_order_id({}, SPOT, ctx.account, cancelled.symbol))
        cancel_ok = True
    except VenueError as exc:
        cancel_answer, cancel_ok = exc.body(), False
        if mode == "STOP_ON_FAILURE":
            raise CancelReplaceFailed(-2022, "Order cancel-replace failed.", {
                "cancelResult": "FAILURE", "newOrderResult": "NOT_ATTEMPTED", "cancelResponse": cancel_answer,
                "newOrderResponse": None}) from None
    new_params = {k: v for k, v in params.items() if k not in CANCEL_PARAMS}
    resp_type = new_params.get("newOrderRespType") or "FULL"
    try:
        order, trades = venue.place_spot(ctx.account, new_params)
        new_answer = spot_new_order(order, trades, resp_type)
    except VenueError as exc:
        raise CancelReplaceFailed(-2021, "Order cancel-replace partially failed.", {
            "cancelResult": "SUCCESS" if cancel_ok else "FAILURE", "newOrderResult": "FAILURE",
            "cancelResponse": cancel_answer, "newOrderResponse": exc.body()}) from None
    if not cancel_ok:
        raise CancelReplaceFailed(-2021, "Order cancel-replace partially failed.", {
            "cancelResult": "FAILURE", "newOrderResult": "SUCCESS", "cancelResponse": cancel_answer,
            "newOrderResponse": new_answer})
    return {"cancelResult": "SUCCESS", "newOrderResult": "SUCCESS", "cancelResponse": cancel_answer,
            "newOrderResponse": new_answer}

