"""Public trades through ccxt.binance: recent, historical and aggregate trades of spot and USD-M, the synthetic
flow and the accounts' own fills on one tape with ids increasing per symbol, and Binance's paging and errors."""
from decimal import Decimal as D

import ccxt
import pytest

from tests.waiting import wait_until

from .helpers import hold_price


@pytest.mark.parametrize("market, symbol, unified", [("spot", "BTCUSDT", "BTC/USDT"),
                                                      ("futures", "BTCUSDT", "BTC/USDT:USDT")])
def test_own_fills_and_the_synthetic_flow_share_one_tape(venue_exchange, venue, market, symbol, unified):
    api = "publicGet" if market == "spot" else "fapiPublicGet"
    # Polls of the trade lists (weight 25 a call) every 0.25 s keep a wait within the venue's weight limit.
    wait_until(lambda: len(getattr(venue_exchange, api + "Trades")({"symbol": symbol})) >= 3, what="the flow", interval=0.25)
    order = venue_exchange.create_order(unified, "market", "buy", 0.05)
    wait_until(lambda: len(getattr(venue_exchange, api + "Trades")({"symbol": symbol})) >= 8, what="more flow", interval=0.25)
    hold_price(venue, symbol, venue_exchange.fetch_ticker(unified)["last"], market=market)
    mine = venue_exchange.fetch_my_trades(unified, params={"orderId": order["id"]})

    recent = getattr(venue_exchange, api + "Trades")({"symbol": symbol, "limit": "1000"})
    ids = [t["id"] for t in recent]
    assert ids == sorted(set(ids)) and len(ids) >= 8
    by_id = {t["id"]: t for t in recent}
    for trade in mine:  # ours, as the buyer and taker: isBuyerMaker false
        public = by_id[int(trade["id"])]
        assert (D(public["price"]), D(public["qty"]), public["isBuyerMaker"]) == \
            (D(trade["info"]["price"]), D(trade["info"]["qty"]), False)
    others = [t for t in recent if t["id"] not in {int(m["id"]) for m in mine}]
    assert others  # the synthetic flow

    first = ids[0]
    pages, from_id = [], first
    while True:  # historicalTrades pages from an id on, oldest first, without gaps
        page = getattr(venue_exchange, api + "HistoricalTrades")({"symbol": symbol, "fromId": str(from_id), "limit": "3"})
        pages += page
        if len(page) < 3:
            break
        from_id = page[-1]["id"] + 1
    assert pages == recent

    aggs = venue_exchange.fetch_trades(unified, limit=1000)  # ccxt's default: aggTrades
    assert [(a["info"]["f"], a["info"]["l"]) for a in aggs] == [(i, i) for i in ids]  # one taker, one price each
    assert [a["price"] for a in aggs] == [float(t["price"]) for t in recent]
    assert [a["side"] for a in aggs] == ["sell" if t["isBuyerMaker"] else "buy" for t in recent]
    agg_ids = [int(a["id"]) for a in aggs]
    assert agg_ids == list(range(agg_ids[0], agg_ids[0] + len(aggs)))
    since = venue_exchange.fetch_trades(unified, since=aggs[2]["timestamp"], limit=1000)
    assert [a["id"] for a in since] == [a["id"] for a in aggs if a["timestamp"] >= aggs[2]["timestamp"]]
    paged = venue_exchange.fetch_trades(unified, limit=2, params={"fromId": agg_ids[1]})
    assert [int(a["id"]) for a in paged] == agg_ids[1:3]


def test_trades_answer_in_binance_shapes(venue_exchange, venue):
    wait_until(lambda: venue_exchange.publicGetTrades({"symbol": "ETHUSDT"}), what="a spot trade", interval=0.25)
    wait_until(lambda: venue_exchange.fapiPublicGetTrades({"symbol": "ETHUSDT"}), what="a futures trade", interval=0.25)
    spot = venue_exchange.publicGetTrades({"symbol": "ETHUSDT", "limit": "1"})[0]
    perp = venue_exchange.fapiPublicGetTrades({"symbol": "ETHUSDT", "limit": "1"})[0]
    spot_agg = venue_exchange.publicGetAggTrades({"symbol": "ETHUSDT", "limit": "1"})[0]
    perp_agg = venue_exchange.fapiPublicGetAggTrades({"symbol": "ETHUSDT", "limit": "1"})[0]

    assert set(spot) == {"id", "price", "qty", "quoteQty", "time", "isBuyerMaker", "isBestMatch"}
    assert set(perp) == {"id", "price", "qty", "quoteQty", "time", "isBuyerMaker"}
    assert set(spot_agg) == {"a", "p", "q", "f", "l", "T", "m", "M"} and set(perp_agg) == {"a", "p", "q", "f", "l", "T", "m"}
    assert D(spot["quoteQty"]) == D(spot["price"]) * D(spot["qty"]) and isinstance(spot["time"], int)


@pytest.mark.parametrize("call, params, error, code", [
    ("publicGetAggTrades", {"symbol": "BTCUSDT", "startTime": "0", "endTime": "3600001"}, ccxt.BadRequest, -1127),
    ("publicGetAggTrades", {"symbol": "BTCUSDT", "startTime": "5", "endTime": "1"}, ccxt.ExchangeError, -1023),
    ("publicGetTrades", {"symbol": "BTCUSDT", "limit": "1001"}, ccxt.BadRequest, -1100),
    ("fapiPublicGetHistoricalTrades", {"symbol": "BTCUSDT", "limit": "501"}, ccxt.BadRequest, -1100),
    ("publicGetHistoricalTrades", {"symbol": "BTCUSDT", "fromId": "x"}, ccxt.BadRequest, -1100),
    ("fapiPublicGetTrades", {"symbol": "NOPEUSDT"}, ccxt.BadSymbol, -1121),
    ("publicGetTrades", {}, ccxt.BadRequest, -1102),
])
def test_bad_trade_requests_get_binance_errors(venue_exchange, call, params, error, code):
    with pytest.raises(error, match=str(code)):
        getattr(venue_exchange, call)(params)


def test_a_held_book_prints_nothing_while_the_others_trade(venue_exchange, venue):
    hold_price(venue, "XRPUSDT", 3)
    held = venue_exchange.publicGetTrades({"symbol": "XRPUSDT", "limit": "1000"})
    walking = len(venue_exchange.publicGetTrades({"symbol": "BNBUSDT", "limit": "1000"}))

    wait_until(lambda: len(venue_exchange.publicGetTrades({"symbol": "BNBUSDT", "limit": "1000"})) >= walking + 5,
               what="five prints on a walking book", interval=0.25)

    assert venue_exchange.publicGetTrades({"symbol": "XRPUSDT", "limit": "1000"}) == held


@pytest.mark.parametrize("market, unified", [("spot", "ETH/USDT"), ("futures", "ETH/USDT:USDT")])
def test_a_trade_between_two_keys_is_one_public_trade_and_in_its_candle(venue_exchange, venue, market, unified):
    from exchanges.simulator.testing import ccxt_client

    venue.control.add_key("other-key", "other-secret")
    other = ccxt_client(venue, "other-key", "other-secret")
    other.load_markets()
    book = hold_price(venue, "ETHUSDT", 4000, market=market)
    ask = float(book["ask"])
    resting = venue_exchange.create_order(unified, "limit", "sell", 0.5, ask)  # ours, at the best ask
    taken = other.create_order(unified, "limit", "buy", 0.2, ask)  # the other key's buy meets it first
    [mine] = venue_exchange.fetch_my_trades(unified, params={"orderId": resting["id"]})
    [theirs] = other.fetch_my_trades(unified, params={"orderId": taken["id"]})
    assert mine["id"] == theirs["id"]

    api = "publicGet" if market == "spot" else "fapiPublicGet"
    public = [t for t in getattr(venue_exchange, api + "Trades")({"symbol": "ETHUSDT", "limit": "1000"})
              if str(t["id"]) == mine["id"]]
    aggs = [a for a in getattr(venue_exchange, api + "AggTrades")({"symbol": "ETHUSDT", "limit": "1000"})
            if a["f"] <= int(mine["id"]) <= a["l"]]
    assert len(public) == 1 and D(public[0]["qty"]) == D("0.2") and public[0]["isBuyerMaker"] is False
    assert len(aggs) == 1 and D(aggs[0]["q"]) == D("0.2")
    call = venue_exchange.publicGetKlines if market == "spot" else venue_exchange.fapiPublicGetKlines
    [candle] = call({"symbol": "ETHUSDT", "interval": "1m", "startTime": str(public[0]["time"] - public[0]["time"] % 60_000),
                     "limit": "1"})
    assert D(candle[5]) >= D("0.2") and D(candle[4]) == D(public[0]["price"])  # the held book prints nothing after it
