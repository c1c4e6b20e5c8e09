"""Trade paging as Binance: spot myTrades and USD-M userTrades honour fromId, orderId, startTime/endTime and
limit (default 500, max 1000) in the combinations Binance allows; an order with 600 trades (made by the
control API's trickle) is read whole through ccxt's fetch_my_trades page by page; trade ids count per symbol."""
import ccxt
import pytest

from exchanges.simulator.control import VenueControlError

from .helpers import hold_price

DAY_MS = 86_400_000


def page_through(exchange, symbol: str, order_id: str) -> list[list[dict]]:
    """fromId paging of one order's trades, as a consumer catching up does."""
    pages = [exchange.fetch_my_trades(symbol, params={"orderId": order_id})]
    while pages[-1]:
        pages.append(exchange.fetch_my_trades(symbol, params={"orderId": order_id, "fromId": int(pages[-1][-1]["id"]) + 1}))
    return pages[:-1]


@pytest.mark.parametrize("market, symbol", [("spot", "BTC/USDT"), ("futures", "BTC/USDT:USDT")])
def test_an_order_with_600_trades_is_read_whole_by_from_id_paging(venue_exchange, venue, market, symbol):
    hold_price(venue, "BTCUSDT", 100000, market=market)
    order = venue_exchange.create_order(symbol, "limit", "buy", 0.6, 99000)

    made = venue.control.trickle("BTCUSDT", "SELL", 600, "0.001", market=market)

    assert made["fills"] == 600 and made["orders"] == [int(order["id"])]
    pages = page_through(venue_exchange, symbol, order["id"])
    assert [len(p) for p in pages] == [500, 100]  # default limit 500
    ids = [int(t["id"]) for p in pages for t in p]
    assert ids == list(range(made["first_trade_id"], made["last_trade_id"] + 1))
    assert all(t["order"] == order["id"] and t["takerOrMaker"] == "maker" and t["price"] == 99000 for p in pages for t in p)
    assert sum(t["amount"] for p in pages for t in p) == pytest.approx(0.6)
    assert venue_exchange.fetch_order(order["id"], symbol)["status"] == "closed"
    by_id = venue_exchange.fetch_my_trades(symbol, params={"fromId": made["first_trade_id"] + 10, "limit": 1000})
    assert len(by_id) == 590 and int(by_id[0]["id"]) == made["first_trade_id"] + 10
    recent = venue_exchange.fetch_my_trades(symbol, limit=7)  # no bound: the most recent trades
    assert [int(t["id"]) for t in recent] == ids[-7:]


@pytest.mark.parametrize("market, symbol", [("spot", "BTC/USDT"), ("futures", "BTC/USDT:USDT")])
def test_combinations_binance_refuses(venue_exchange, venue, market, symbol):
    hold_price(venue, "BTCUSDT", 100000, market=market)
    order = venue_exchange.create_order(symbol, "market", "buy", 0.01)
    now = venue_exchange.milliseconds()

    for params in ({"fromId": 1, "startTime": now - 1000}, {"fromId": 1, "endTime": now},
                   {"orderId": order["id"], "startTime": now - 1000}):
        with pytest.raises(ccxt.BadRequest, match="-1128"):
            venue_exchange.fetch_my_trades(symbol, params=params)
    span = DAY_MS if market == "spot" else 7 * DAY_MS
    with pytest.raises(ccxt.BadRequest, match="-1127"):
        venue_exchange.fetch_my_trades(symbol, params={"startTime": now - span - 1, "endTime": now})
    with pytest.raises(ccxt.BadRequest, match="-1100"):
        venue_exchange.fetch_my_trades(symbol, params={"limit": 1001})
    assert len(venue_exchange.fetch_my_trades(symbol, params={"startTime": now - span + 5000, "endTime": now + 5000})) >= 1


def test_usdm_trades_without_bounds_cover_the_last_seven_days(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000, market="futures")
    venue_exchange.create_order("BTC/USDT:USDT", "market", "buy", 0.01)
    made_at = venue_exchange.milliseconds()
    venue.control.set_faults(clock_skew_ms=8 * DAY_MS)  # eight days later on the venue's clock

    later = ccxt_at_skew(venue, 8 * DAY_MS)
    assert later.fetch_my_trades("BTC/USDT:USDT") == []
    old = later.fetch_my_trades("BTC/USDT:USDT", params={"startTime": made_at - 60_000})
    assert len(old) == 1


def ccxt_at_skew(venue, skew_ms: int):
    """A ccxt client whose clock runs with the venue's skewed one (signatures stay inside recvWindow)."""
    from exchanges.simulator.testing import ccxt_client

    exchange = ccxt_client(venue, venue.api_key, venue.secret)
    exchange.load_markets()
    exchange.options["timeDifference"] = -skew_ms  # ccxt signs with milliseconds() - timeDifference
    return exchange


def test_spot_my_trades_weighs_5_with_an_order_id_and_20_without(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000)
    order = venue_exchange.create_order("BTC/USDT", "market", "buy", 0.01)
    venue.control.set_limits(reset=True)

    venue_exchange.fetch_my_trades("BTC/USDT", params={"orderId": order["id"]})
    assert venue_exchange.last_response_headers["X-MBX-USED-WEIGHT-1M"] == "5"
    venue_exchange.fetch_my_trades("BTC/USDT")
    assert venue_exchange.last_response_headers["X-MBX-USED-WEIGHT-1M"] == "25"


@pytest.mark.parametrize("market, suffix", [("spot", ""), ("futures", ":USDT")])
def test_two_symbols_trades_can_share_an_id(venue_exchange, venue, market, suffix):
    hold_price(venue, "BTCUSDT", 100000, market=market)
    hold_price(venue, "ETHUSDT", 4000, market=market)
    aligned = venue.control.align_trade_ids(market=market)
    assert len(set(aligned[market].values())) == 1

    btc = venue_exchange.create_order("BTC/USDT" + suffix, "market", "buy", 0.01)
    eth = venue_exchange.create_order("ETH/USDT" + suffix, "market", "buy", 0.1)

    btc_trades = venue_exchange.fetch_my_trades("BTC/USDT" + suffix, params={"orderId": btc["id"]})
    eth_trades = venue_exchange.fetch_my_trades("ETH/USDT" + suffix, params={"orderId": eth["id"]})
    assert btc_trades[0]["id"] == eth_trades[0]["id"] == str(aligned[market]["BTCUSDT"])
    with pytest.raises(VenueControlError, match="next_id must be greater"):
        venue.control.align_trade_ids(next_id=aligned[market]["BTCUSDT"], market=market)


def test_trickle_needs_resting_orders_and_refuses_bad_input(venue):
    assert venue.control.trickle("BTCUSDT", "SELL", 5, "0.001")["fills"] == 0
    for args in (("BTCUSDT", "SIDEWAYS", 5, "0.001"), ("BTCUSDT", "SELL", 0, "0.001"), ("BTCUSDT", "SELL", 5, "0.0000001"),
                 ("NOPEUSDT", "SELL", 5, "0.001")):
        with pytest.raises(VenueControlError):
            venue.control.trickle(*args)
