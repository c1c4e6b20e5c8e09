"""USD-M's batch endpoints as Binance serves them: `POST /fapi/v1/batchOrders` (at most 5 orders, `batchOrders` a
JSON list of New Order parameter sets) and `DELETE /fapi/v1/batchOrders` (`orderIdList` or `origClientOrderIdList`,
at most 10). Each order is placed or cancelled on its own by the same engine calls as the single endpoints, and the
answer lists, in the request's order, either the order or the `{code, msg}` its single call would have answered.

ccxt spells the cancel lists in lower case (`orderidlist`, `origclientorderidlist`), which Binance accepts too."""
from __future__ import annotations

import json

from . import refusals, render
from .instruments import FUTURES
from .refusals import VenueError

MAX_PLACE = 5
MAX_CANCEL = 10
# Binance's published cost of a batch placement: 5 on the 10 s order count, 1 on the minute's, request weight 5.
PLACE_ORDER_COUNTS = {"10S": 5, "1M": 1}


def _not_valid(name: str) -> VenueError:
    return VenueError(-1130, f"Data sent for parameter '{name}' is not valid.")


def _json_list(raw: str | None, name: str) -> list:
    if raw is None or raw == "":
        raise refusals.mandatory(name)
    try:
        items = json.loads(raw)
    except ValueError:
        raise _not_valid(name) from None
    if not isinstance(items, list):
        raise _not_valid(name)
    return items


def _as_form(item: dict) -> dict[str, str]:
    """One order's JSON parameters as the single endpoint reads its form fields (booleans as true/false)."""
    return {str(k): ("true" if v else "false") if isinstance(v, bool) else str(v) for k, v in item.items()}


def place(ctx) -> list[dict]:
    items = _json_list(ctx.params.get("batchOrders"), "batchOrders")
    if not 1 <= len(items) <= MAX_PLACE:
        raise VenueError(-4082, f"Invalid number of batch place orders: {len(items)}")
    answers = []
    for item in items:
        try:
            if not isinstance(item, dict):
                raise _not_valid("batchOrders")
            params = _as_form(item)
            resp_type = params.get("newOrderRespType") or "ACK"
            if resp_type not in ("ACK", "RESULT"):
                raise refusals.illegal_chars("newOrderRespType", "ACK|RESULT")
            accepted, order, _ = ctx.venue.place_futures(ctx.account, params)
            answers.append(render.futures_order(accepted if resp_type == "ACK" else order, "new"))
        except VenueError as exc:
            answers.append(exc.body())
    return answers


def cancel(ctx) -> list[dict]:
    params = ctx.params
    ids_raw = params.get("orderIdList", params.get("orderidlist"))
    cids_raw = params.get("origClientOrderIdList", params.get("origclientorderidlist"))
    if ids_raw and cids_raw:
        raise VenueError(-1128, "Combination of optional parameters invalid.")
    name, key = ("orderIdList", "orderId") if ids_raw else ("origClientOrderIdList", "origClientOrderId")
    wanted = _json_list(ids_raw or cids_raw, name)
    if not 1 <= len(wanted) <= MAX_CANCEL:
        raise _not_valid(name)
    symbol = ctx.venue.instrument(FUTURES, params.get("symbol")).symbol
    answers = []
    for one in wanted:
        try:
            order = ctx.venue.cancel(FUTURES, ctx.account, {"symbol": symbol, key: str(one)})
            answers.append(render.futures_order(order, "cancel"))
        except VenueError as exc:
            answers.append(exc.body())
    return answers
