"""User orders in the book beside the synthetic depth, through ccxt.binance: orders of two keys trade with each
other (one trade id, the resting side maker, each its own fee, both balances exact, both user-data streams told),
self-trade prevention by the taker's `selfTradePreventionMode` (EXPIRE_MAKER by default, EXPIRE_TAKER,
EXPIRE_BOTH, spot NONE; EXPIRED_IN_MATCH with preventedMatchId/preventedQuantity), and the seeded random
trickle of synthetic takers that partially fills resting orders."""
import asyncio
from decimal import Decimal

import ccxt
import pytest

from exchanges.simulator.testing import ccxt_client, ccxt_pro_client, start_venue
from tests.waiting import wait_until

from .helpers import balance, hold_price, subscribed, watch_until

D = Decimal
KEYS = {"alice-key": "alice-secret", "bob-key": "bob-secret"}
PERP = "BTC/USDT:USDT"


@pytest.fixture
def two_keys():
    handle = start_venue(seed=1, keys=KEYS)
    yield handle
    handle.stop()


def client(venue, key: str):
    exchange = ccxt_client(venue, key, KEYS[key])
    exchange.load_markets()
    return exchange


@pytest.fixture
def alice(two_keys):
    return client(two_keys, "alice-key")


@pytest.fixture
def bob(two_keys):
    return client(two_keys, "bob-key")


def raw_trades(exchange, symbol: str) -> list[dict]:
    return [t["info"] for t in exchange.fetch_my_trades(symbol)]


# ---- two keys trade with each other ---------------------------------------------------------------------------

def test_spot_orders_of_two_keys_trade_at_the_resting_price_with_one_trade_id_and_fees_each(two_keys, alice, bob):
    book = hold_price(two_keys, "BTCUSDT", 100000)
    ask, ask_qty = D(book["ask"]), D(two_keys.server.venue.books[("spot", "BTCUSDT")].asks[0][1])
    # given alice's SELL resting at the best ask
    resting = alice.create_order("BTC/USDT", "limit", "sell", 0.03, float(ask))
    assert resting["status"] == "open"
    # when bob buys 0.01 at that price
    taken = bob.create_order("BTC/USDT", "limit", "buy", 0.01, float(ask))
    # then bob took alice's order (user orders first at one price), not the synthetic depth
    assert taken["status"] == "closed"
    [fill] = taken["info"]["fills"]
    assert (D(fill["price"]), D(fill["qty"]), D(fill["commission"]), fill["commissionAsset"]) == \
        (ask, D("0.01"), D("0.00001"), "BTC")
    assert two_keys.server.venue.books[("spot", "BTCUSDT")].asks[0] == (ask, ask_qty)
    left = alice.fetch_order(resting["id"], "BTC/USDT")
    assert left["status"] == "open" and left["info"]["status"] == "PARTIALLY_FILLED" and left["filled"] == 0.01
    [maker] = raw_trades(alice, "BTC/USDT")
    [taker] = raw_trades(bob, "BTC/USDT")
    assert maker["id"] == taker["id"] == fill["tradeId"]
    assert (maker["isMaker"], maker["isBuyer"], taker["isMaker"], taker["isBuyer"]) == (True, False, False, True)
    assert (D(maker["commission"]), maker["commissionAsset"]) == (ask * D("0.01") * D("0.001"), "USDT")
    # and both balances moved by exactly the trade and each side's fee
    assert balance(alice, "USDT") == (D("100000") + ask * D("0.01") * D("0.999"), D(0))
    assert balance(alice, "BTC") == (D("2") - D("0.03"), D("0.02"))
    assert balance(bob, "USDT") == (D("100000") - ask * D("0.01"), D(0))
    assert balance(bob, "BTC") == (D("2") + D("0.01") - D("0.00001"), D(0))
    # and the public tape holds the trade once, the buyer (bob) the taker (beside the synthetic flow's prints)
    [public] = [t for t in two_keys.server.venue.tape.recent("spot", "BTCUSDT", 1000) if t.trade_id == fill["tradeId"]]
    assert (public.trade_id, public.qty, public.is_buyer_maker) == (fill["tradeId"], D("0.01"), False)


def test_price_priority_the_synthetic_ask_below_a_resting_user_sell_trades_first(two_keys, alice, bob):
    book = hold_price(two_keys, "BTCUSDT", 100000)
    ask = D(book["ask"])
    resting = alice.create_order("BTC/USDT", "limit", "sell", 0.01, float(ask + 5))

    taken = bob.create_order("BTC/USDT", "limit", "buy", 0.01, float(ask + 5))

    assert [D(f["price"]) for f in taken["info"]["fills"]] == [ask]
    assert alice.fetch_order(resting["id"], "BTC/USDT")["filled"] == 0


def test_a_market_order_sweeps_resting_user_orders_oldest_first_at_one_price(two_keys, alice, bob):
    book = hold_price(two_keys, "BTCUSDT", 100000)
    bid = D(book["bid"])
    first = alice.create_order("BTC/USDT", "limit", "buy", 0.01, float(bid))
    second = alice.create_order("BTC/USDT", "limit", "buy", 0.01, float(bid))

    taken = bob.create_order("BTC/USDT", "market", "sell", 0.015)

    assert [(D(f["price"]), D(f["qty"])) for f in taken["info"]["fills"]] == [(bid, D("0.01")), (bid, D("0.005"))]
    assert alice.fetch_order(first["id"], "BTC/USDT")["status"] == "closed"
    assert alice.fetch_order(second["id"], "BTC/USDT")["filled"] == 0.005
    proceeds = bid * D("0.015")
    assert balance(bob, "USDT")[0] == D("100000") + proceeds - proceeds * D("0.001")


def test_usdm_orders_of_two_keys_trade_positions_and_fees_each(two_keys, alice, bob):
    book = hold_price(two_keys, "BTCUSDT", 100000, market="futures")
    ask = D(book["ask"])
    resting = alice.create_order(PERP, "limit", "sell", 0.01, float(ask))

    taken = bob.create_order(PERP, "limit", "buy", 0.01, float(ask))

    assert taken["status"] == "closed" and D(taken["info"]["avgPrice"]) == ask
    assert alice.fetch_order(resting["id"], PERP)["status"] == "closed"
    [maker], [taker] = raw_trades(alice, PERP), raw_trades(bob, PERP)
    assert maker["id"] == taker["id"] and (maker["maker"], taker["maker"]) == (True, False)
    notional = ask * D("0.01")
    assert D(maker["commission"]) == notional * D("0.0002") and D(taker["commission"]) == notional * D("0.0005")
    amounts = {who: D(ex.fetch_positions([PERP])[0]["info"]["positionAmt"]) for who, ex in (("a", alice), ("b", bob))}
    assert amounts == {"a": D("-0.01"), "b": D("0.01")}
    wallets = {k: D(two_keys.control.records(k, "futures")["balances"]["USDT"][0]) for k in KEYS}
    assert wallets == {"alice-key": D("100000") - notional * D("0.0002"), "bob-key": D("100000") - notional * D("0.0005")}


def test_usdm_a_resting_reduce_only_order_trades_at_most_its_position_and_expires_without_one(two_keys, alice, bob):
    book = hold_price(two_keys, "BTCUSDT", 100000, market="futures")
    ask = D(book["ask"])
    alice.create_order(PERP, "market", "buy", 0.01)
    closing = alice.create_order(PERP, "limit", "sell", 0.01, float(ask), {"reduceOnly": True})
    alice.create_order(PERP, "market", "sell", 0.004)  # the position shrinks to 0.006 under the resting order

    taken = bob.create_order(PERP, "limit", "buy", 0.01, float(ask))

    assert [D(t["qty"]) for t in raw_trades(bob, PERP)] == [D("0.006"), D("0.004")]  # alice's 0.006, then the depth
    assert alice.fetch_order(closing["id"], PERP)["filled"] == 0.006
    assert taken["status"] == "closed"
    assert all(not p["contracts"] for p in alice.fetch_positions([PERP]))  # closed by bob's buy
    # a second reduce-only SELL left resting with no position: met by a buyer, it expires and the buyer takes the depth
    again = alice.create_order(PERP, "market", "buy", 0.002)
    stale = alice.create_order(PERP, "limit", "sell", 0.002, float(ask), {"reduceOnly": True})
    alice.create_order(PERP, "market", "sell", 0.002)
    bob.create_order(PERP, "limit", "buy", 0.002, float(ask))
    assert again["status"] == "closed" and alice.fetch_order(stale["id"], PERP)["status"] == "expired"
    assert alice.fetch_order(stale["id"], PERP)["filled"] == 0


def test_both_keys_user_streams_report_their_side_of_the_trade(two_keys):
    book = hold_price(two_keys, "BTCUSDT", 100000)
    ask = D(book["ask"])

    async def scenario():
        a = ccxt_pro_client(two_keys, "alice-key", KEYS["alice-key"])
        b = ccxt_pro_client(two_keys, "bob-key", KEYS["bob-key"])
        try:
            await asyncio.gather(a.load_markets(), b.load_markets())
            resting = await a.create_order("BTC/USDT", "limit", "sell", 0.01, float(ask))
            a_trades = asyncio.create_task(watch_until(a.watch_my_trades, lambda ts: len(ts) >= 1))
            b_trades = asyncio.create_task(watch_until(b.watch_my_trades, lambda ts: len(ts) >= 1))
            await subscribed(two_keys, 2)
            await b.create_order("BTC/USDT", "limit", "buy", 0.01, float(ask))
            return resting, await asyncio.wait_for(a_trades, 15), await asyncio.wait_for(b_trades, 15)
        finally:
            await asyncio.gather(a.close(), b.close())

    resting, [a_trade], [b_trade] = asyncio.run(scenario())

    assert a_trade["info"]["e"] == b_trade["info"]["e"] == "executionReport"
    assert a_trade["id"] == b_trade["id"] and a_trade["order"] == resting["id"]
    assert (a_trade["info"]["m"], a_trade["info"]["X"], b_trade["info"]["m"]) == (True, "FILLED", False)


# ---- self-trade prevention -------------------------------------------------------------------------------------

def test_default_expire_maker_expires_the_own_resting_order_and_the_taker_goes_on(two_keys, alice):
    book = hold_price(two_keys, "BTCUSDT", 100000)
    bid = D(book["bid"])
    resting = alice.create_order("BTC/USDT", "limit", "buy", 0.01, float(bid))

    taker = alice.create_order("BTC/USDT", "limit", "sell", 0.01, float(bid))

    # the taker met its own BUY first: that one expired, then the taker sold to the synthetic bid
    assert taker["status"] == "closed" and taker["info"]["selfTradePreventionMode"] == "EXPIRE_MAKER"
    assert [D(f["price"]) for f in taker["info"]["fills"]] == [bid]
    [prevented] = taker["info"]["preventedMatches"]
    assert prevented["makerOrderId"] == int(resting["id"]) and prevented["makerPreventedQuantity"] == "0.01000000"
    assert "takerPreventedQuantity" not in prevented
    expired = alice.fetch_order(resting["id"], "BTC/USDT")
    assert expired["status"] == "expired" and expired["info"]["status"] == "EXPIRED_IN_MATCH"
    assert expired["info"]["preventedMatchId"] == prevented["preventedMatchId"]
    assert expired["info"]["preventedQuantity"] == "0.01000000" and expired["filled"] == 0
    assert balance(alice, "USDT")[1] == 0  # the expired BUY's funds released
    assert all(t["info"]["isMaker"] is False for t in alice.fetch_my_trades("BTC/USDT"))


def test_expire_taker_keeps_what_the_taker_traded_before_it_met_its_own_order(two_keys, alice, bob):
    book = hold_price(two_keys, "BTCUSDT", 100000)
    bid = D(book["bid"])
    bobs = bob.create_order("BTC/USDT", "limit", "buy", 0.004, float(bid))  # older: met first at this price
    own = alice.create_order("BTC/USDT", "limit", "buy", 0.01, float(bid))

    taker = alice.create_order("BTC/USDT", "limit", "sell", 0.01, float(bid),
                               {"selfTradePreventionMode": "EXPIRE_TAKER"})

    assert taker["info"]["status"] == "EXPIRED_IN_MATCH" and taker["status"] == "expired"
    assert D(taker["info"]["executedQty"]) == D("0.004") and taker["info"]["preventedQuantity"] == "0.00600000"
    assert [(D(f["qty"]), f["tradeId"]) for f in taker["info"]["fills"]] == \
        [(D("0.004"), raw_trades(bob, "BTC/USDT")[0]["id"])]
    assert bob.fetch_order(bobs["id"], "BTC/USDT")["status"] == "closed"
    assert alice.fetch_order(own["id"], "BTC/USDT")["status"] == "open"  # the maker is left alone
    assert balance(alice, "BTC") == (D("2") - D("0.004"), D(0))


def test_expire_both_expires_the_taker_and_the_maker(two_keys, alice):
    book = hold_price(two_keys, "BTCUSDT", 100000)
    bid = D(book["bid"])
    own = alice.create_order("BTC/USDT", "limit", "buy", 0.01, float(bid))

    taker = alice.create_order("BTC/USDT", "limit", "sell", 0.03, float(bid), {"selfTradePreventionMode": "EXPIRE_BOTH"})

    [prevented] = taker["info"]["preventedMatches"]
    assert (prevented["takerPreventedQuantity"], prevented["makerPreventedQuantity"]) == ("0.03000000", "0.01000000")
    assert taker["info"]["status"] == "EXPIRED_IN_MATCH" and taker["filled"] == 0
    assert alice.fetch_order(own["id"], "BTC/USDT")["info"]["status"] == "EXPIRED_IN_MATCH"
    assert balance(alice, "BTC") == (D("2"), D(0)) and balance(alice, "USDT") == (D("100000"), D(0))


def test_spot_none_lets_one_key_trade_with_itself(two_keys, alice):
    book = hold_price(two_keys, "BTCUSDT", 100000)
    bid = D(book["bid"])
    own = alice.create_order("BTC/USDT", "limit", "buy", 0.01, float(bid))

    taker = alice.create_order("BTC/USDT", "limit", "sell", 0.01, float(bid), {"selfTradePreventionMode": "NONE"})

    assert taker["status"] == "closed" and alice.fetch_order(own["id"], "BTC/USDT")["status"] == "closed"
    trades = raw_trades(alice, "BTC/USDT")
    assert len(trades) == 2 and trades[0]["id"] == trades[1]["id"]
    assert sorted((t["isBuyer"], t["isMaker"]) for t in trades) == [(False, False), (True, True)]
    fee_usdt = bid * D("0.01") * D("0.001")
    assert balance(alice, "BTC") == (D("2") - D("0.00001"), D(0))
    assert balance(alice, "USDT") == (D("100000") - fee_usdt, D(0))


def test_usdm_expire_maker_by_default_and_none_refused(two_keys, alice):
    book = hold_price(two_keys, "BTCUSDT", 100000, market="futures")
    bid = D(book["bid"])
    own = alice.create_order(PERP, "limit", "buy", 0.01, float(bid))

    with pytest.raises(ccxt.ExchangeError, match="compliance regulations"):
        alice.create_order(PERP, "limit", "sell", 0.01, float(bid), {"selfTradePreventionMode": "NONE"})
    taker = alice.create_order(PERP, "limit", "sell", 0.01, float(bid))

    assert taker["status"] == "closed" and taker["info"]["selfTradePreventionMode"] == "EXPIRE_MAKER"
    expired = alice.fetch_order(own["id"], PERP)
    assert expired["status"] == "expired" and expired["info"]["status"] == "EXPIRED_IN_MATCH"
    assert D(alice.fetch_positions([PERP])[0]["info"]["positionAmt"]) == D("-0.01")


def test_refused_modes_and_a_post_only_order_that_would_meet_its_own(two_keys, alice):
    book = hold_price(two_keys, "BTCUSDT", 100000)
    bid = D(book["bid"])
    alice.create_order("BTC/USDT", "limit", "buy", 0.01, float(bid))

    with pytest.raises(ccxt.BadRequest, match="does not allow the specified self-trade prevention mode"):
        alice.create_order("BTC/USDT", "limit", "sell", 0.01, float(bid), {"selfTradePreventionMode": "DECREMENT"})
    with pytest.raises(ccxt.ExchangeError, match="selfTradePreventionMode"):
        alice.create_order("BTC/USDT", "limit", "sell", 0.01, float(bid), {"selfTradePreventionMode": "LATER"})
    with pytest.raises(ccxt.InvalidOrder, match="immediately match"):
        alice.create_order("BTC/USDT", "limit", "sell", 0.01, float(bid), {"postOnly": True})
    assert len(alice.fetch_open_orders("BTC/USDT")) == 1


def test_the_expired_maker_gets_a_trade_prevention_report(two_keys):
    book = hold_price(two_keys, "BTCUSDT", 100000)
    bid = D(book["bid"])

    async def scenario():
        a = ccxt_pro_client(two_keys, "alice-key", KEYS["alice-key"])
        try:
            await a.load_markets()
            own = await a.create_order("BTC/USDT", "limit", "buy", 0.01, float(bid))
            watching = asyncio.create_task(watch_until(a.watch_orders, lambda os: any(
                o["id"] == own["id"] and o["status"] == "expired" for o in os)))
            await subscribed(two_keys)
            await a.create_order("BTC/USDT", "limit", "sell", 0.01, float(bid))
            orders = await asyncio.wait_for(watching, 15)
            return own, next(o for o in orders if o["id"] == own["id"])
        finally:
            await a.close()

    own, expired = asyncio.run(scenario())

    report = expired["info"]
    assert (report["x"], report["X"], report["V"]) == ("TRADE_PREVENTION", "EXPIRED_IN_MATCH", "EXPIRE_MAKER")
    assert report["A"] == report["B"] == "0.01000000" and isinstance(report["v"], int)
    assert report["U"] != int(own["id"]) and D(report["pL"]) == bid


def test_usdm_the_expired_maker_gets_an_order_trade_update_expired_in_match(two_keys):
    book = hold_price(two_keys, "BTCUSDT", 100000, market="futures")
    bid = D(book["bid"])

    async def scenario():
        a = ccxt_pro_client(two_keys, "alice-key", KEYS["alice-key"])
        try:
            await a.load_markets()
            own = await a.create_order(PERP, "limit", "buy", 0.01, float(bid))
            watching = asyncio.create_task(watch_until(lambda: a.watch_orders(PERP), lambda os: any(
                o["id"] == own["id"] and o["status"] == "expired" for o in os)))
            await subscribed(two_keys)
            await a.create_order(PERP, "limit", "sell", 0.01, float(bid))
            orders = await asyncio.wait_for(watching, 15)
            return next(o for o in orders if o["id"] == own["id"])
        finally:
            await a.close()

    expired = asyncio.run(scenario())

    report = expired["info"]
    assert (report["x"], report["X"], report["V"]) == ("EXPIRED", "EXPIRED_IN_MATCH", "EXPIRE_MAKER")
    assert expired["filled"] == 0


# ---- the random trickle of synthetic takers ---------------------------------------------------------------------

def test_random_trickle_is_off_by_default_and_partially_fills_resting_orders_once_on(two_keys, alice):
    book = hold_price(two_keys, "BTCUSDT", 100000)
    price = D(book["bid"]) - 100
    assert two_keys.control.random_trickle()["rate_per_min"] == 0
    resting = alice.create_order("BTC/USDT", "limit", "buy", 0.5, float(price))

    two_keys.control.set_random_trickle(rate_per_min=3000, fraction=0.2, seed=7)
    wait_until(lambda: len(raw_trades(alice, "BTC/USDT")) >= 3, timeout=20, what="three synthetic takers")
    settings = two_keys.control.set_random_trickle(rate_per_min=0)

    trades = raw_trades(alice, "BTC/USDT")
    assert settings["fills"] >= len(trades) >= 3 and settings["seed"] == 7
    assert all(t["isMaker"] and D(t["price"]) == price for t in trades)
    bought = sum(D(t["qty"]) for t in trades)
    order = alice.fetch_order(resting["id"], "BTC/USDT")
    assert D(order["info"]["executedQty"]) == bought and order["status"] == "open" and bought < D("0.5")
    assert all(D(t["qty"]) <= D("0.1") for t in trades)  # at most 20 % of what was left
    assert balance(alice, "BTC") == (D("2") + bought - bought * D("0.001"), D(0))
    assert balance(alice, "USDT") == (D("100000") - price * D("0.5"), price * (D("0.5") - bought))


def test_random_trickle_settings_are_checked(two_keys):
    from exchanges.simulator.control import VenueControlError

    with pytest.raises(VenueControlError, match="fraction"):
        two_keys.control.set_random_trickle(fraction=1.5)
    with pytest.raises(VenueControlError, match="seed"):
        two_keys.control.set_random_trickle(seed=1.5)
    assert two_keys.control.random_trickle()["fraction"] == 0.5


def test_random_trickle_is_seeded_the_same_seed_and_ticks_give_the_same_takers():
    from exchanges.simulator.engine import Venue

    def takers(seed: int) -> list[tuple]:
        venue = Venue(seed=1, keys={"k": "s"})
        venue.set_price("spot", "BTCUSDT", D("100000"), freeze=True)
        venue.place_spot(venue.accounts["k"], {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                                               "quantity": "1", "price": "99000"})
        venue.taker_flow.configure(rate_per_min=60, fraction=0.1, seed=seed)  # 1 in 5 ticks
        for tick in range(200):
            venue.taker_flow.step(venue, 1_000_000 + tick * 200)  # the venue's ticks, five a second
        return [(t.qty, t.price) for t in venue.trades[("spot", "k", "BTCUSDT")]]

    first = takers(seed=3)
    assert len(first) >= 5 and first == takers(seed=3) and first != takers(seed=4)
    assert all(q <= D("0.1") for q, _ in first)
