"""USD-M batch endpoints through ccxt.binance (`create_orders`, `cancel_orders`) as Binance serves them: at most 5
placements or 10 cancels a call, each order's result in the request's order (the order, or the {code, msg} its
single call would answer), a batch placement costing weight 5, 5 on the 10 s order count and 1 on the minute's."""
import ccxt
import pytest

from .helpers import hold_price
from .test_rate_limits import fresh_window

BTC = "BTC/USDT:USDT"


def limit_buy(price, client_id=None, amount=0.01):
    return {"symbol": BTC, "type": "limit", "side": "buy", "amount": amount, "price": price,
            "params": {"clientOrderId": client_id} if client_id else {}}


def raw_limit_buy(price, client_id):
    return {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.010",
            "price": str(price), "newClientOrderId": client_id, "newOrderRespType": "RESULT"}


def test_a_batch_places_each_order_on_its_own_and_answers_in_order(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000, market="futures")
    venue.control.set_limits(reset=True)
    fresh_window(10)

    answers = venue_exchange.fapiPrivatePostBatchOrders({"batchOrders": [
        raw_limit_buy(99000, "b-0"), raw_limit_buy(99100, "b-1"),
        raw_limit_buy(90000, "b-2"),  # under PERCENT_PRICE's 0.95 × mark
        raw_limit_buy(99200, "b-3"), {**raw_limit_buy(99300, "b-4"), "quantity": "0.0101"}]})  # off the step

    headers = venue_exchange.last_response_headers
    assert [a.get("clientOrderId") for a in answers] == ["b-0", "b-1", None, "b-3", None]
    assert answers[2]["code"] == -4024 and answers[4]["code"] == -1111  # what the single New Order answers
    assert {a["status"] for a in answers if "status" in a} == {"NEW"}
    assert int(headers["X-MBX-ORDER-COUNT-10S"]) == 5 and int(headers["X-MBX-ORDER-COUNT-1M"]) == 1
    open_ids = {o["clientOrderId"] for o in venue_exchange.fetch_open_orders(BTC)}
    assert open_ids == {"b-0", "b-1", "b-3"}


def test_ccxt_create_orders_gets_every_answer_but_not_in_the_request_order(venue_exchange, venue):
    """ccxt parses the answers and sorts them by time: a refusal (no time) comes first, so a caller matches the
    answers to its orders by client order id, never by position."""
    hold_price(venue, "BTCUSDT", 100000, market="futures")

    orders = venue_exchange.create_orders([limit_buy(99000, "k-0"), limit_buy(90000, "k-1"), limit_buy(99100, "k-2")])

    assert [o["clientOrderId"] for o in orders] == [None, "k-0", "k-2"]
    assert orders[0]["info"]["code"] == -4024
    assert all(o["status"] == "open" for o in orders[1:])


def test_more_than_five_or_none_is_refused_whole(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000, market="futures")

    with pytest.raises(ccxt.BadRequest, match='"code":-4082'):
        venue_exchange.create_orders([limit_buy(99000 + i) for i in range(6)])
    with pytest.raises(ccxt.ExchangeError, match='"code":-4082'):
        venue_exchange.fapiPrivatePostBatchOrders({"batchOrders": []})

    assert venue_exchange.fetch_open_orders(BTC) == []


def test_a_batch_counts_five_toward_the_10s_order_limit(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000, market="futures")
    venue.control.set_limits(futures_orders_10s=7, reset=True)
    fresh_window(10)

    venue_exchange.create_orders([limit_buy(99000 + i) for i in range(5)])
    with pytest.raises(ccxt.DDoSProtection, match='"code":-1015'):
        venue_exchange.create_orders([limit_buy(98000 + i) for i in range(2)])

    assert len(venue_exchange.fetch_open_orders(BTC)) == 5


def test_cancel_batch_by_ids_answers_each_one_in_order(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000, market="futures")
    placed = venue_exchange.create_orders([limit_buy(99000 + i) for i in range(3)])
    ids = [placed[0]["id"], "123456789", placed[2]["id"]]

    answers = venue_exchange.fapiPrivateDeleteBatchOrders({"symbol": "BTCUSDT", "orderidlist": ids})

    assert [a.get("status") for a in answers] == ["CANCELED", None, "CANCELED"]
    assert answers[1] == {"code": -2011, "msg": "Unknown order sent."}
    assert [o["id"] for o in venue_exchange.fetch_open_orders(BTC)] == [placed[1]["id"]]
    # ccxt's cancel_orders keeps only the orders it could parse: the refusal is dropped, not raised
    assert [o["status"] for o in venue_exchange.cancel_orders([placed[1]["id"], "123456789"], BTC)] == ["canceled"]


def test_cancel_batch_by_client_order_ids_and_its_limit(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000, market="futures")
    venue_exchange.create_orders([limit_buy(99000 + i, f"c-{i}") for i in range(2)])

    answers = venue_exchange.cancel_orders([], BTC, {"clientOrderIds": ["c-1", "c-0"]})

    assert [(a["clientOrderId"], a["status"]) for a in answers] == [("c-1", "canceled"), ("c-0", "canceled")]
    with pytest.raises(ccxt.ExchangeError, match='"code":-1130'):
        venue_exchange.cancel_orders([str(i) for i in range(1, 12)], BTC)
    with pytest.raises(ccxt.ExchangeError, match='"code":-1128'):
        venue_exchange.fapiPrivateDeleteBatchOrders({"symbol": "BTCUSDT", "orderidlist": ["1"],
                                                     "origClientOrderIdList": ["c-0"]})
