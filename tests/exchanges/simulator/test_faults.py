"""Every fault knob of the control API, observed through ccxt.binance, with its injection counted."""
import time
from decimal import Decimal

import ccxt
import pytest

from exchanges.simulator.control import VenueControl, VenueControlError
from exchanges.simulator.testing import ccxt_client, start_venue
from tests.waiting import wait_until

from .helpers import hold_price

NEW_ORDER = "POST /api/v3/order"


def place(exchange, cid: str, price: float = 99000):
    return exchange.create_order("BTC/USDT", "limit", "buy", 0.01, price, params={"clientOrderId": cid})


def venue_has(exchange, cid: str) -> bool:
    try:
        exchange.fetch_order(None, "BTC/USDT", params={"clientOrderId": cid})
    except ccxt.OrderNotFound:
        return False
    return True


def new_order_rows(venue, cid: str) -> list[dict]:
    return [r for r in venue.control.audit(cid) if (r["method"], r["path"]) == ("POST", "/api/v3/order")]


def test_latency_and_jitter_delay_answers_and_are_counted(venue_exchange, venue):
    venue.control.set_faults(latency_ms=300, jitter_ms=100)

    started = time.monotonic()
    venue_exchange.fetch_ticker("BTC/USDT")

    assert time.monotonic() - started >= 0.3  # held back at least the latency (jitter only adds)
    assert venue.control.fault_counts()["latency"] == 1
    venue.control.clear_faults()
    venue_exchange.fetch_ticker("BTC/USDT")
    assert venue.control.fault_counts()["latency"] == 1  # cleared: the next answer was not held back


@pytest.mark.parametrize("kind, exc, processed", [
    ("unknown", ccxt.OperationFailed, True),  # 503 "Unknown error ...": execution status unknown
    ("timeout", ccxt.RequestTimeout, True),  # -1007 after a delay: execution status unknown
    ("bus", ccxt.OperationFailed, True),  # -1006: execution status unknown
    ("internal", ccxt.OperationFailed, False),  # -1001 internal error: not processed
    ("unavailable", ccxt.ExchangeNotAvailable, False),  # plain-text 503
])
def test_error_kinds_on_new_orders(venue_exchange, venue, kind, exc, processed):
    hold_price(venue, "BTCUSDT", 100000)
    venue.control.set_faults(error_kind=kind, error_count=1, endpoints=[NEW_ORDER], error_delay_ms=300)

    started = time.monotonic()
    with pytest.raises(exc):
        place(venue_exchange, f"err-{kind}")

    if kind == "timeout":
        assert time.monotonic() - started >= 0.3  # the -1007 comes after error_delay_ms, as Binance's does
    assert venue_has(venue_exchange, f"err-{kind}") is processed
    assert venue.control.fault_counts() == {f"error:{kind}": 1}
    [row] = new_order_rows(venue, f"err-{kind}")
    assert row["outcome"] == f"fault:error:{kind}"
    place(venue_exchange, f"err-{kind}-next")  # the count is spent: the next order goes through
    assert venue_has(venue_exchange, f"err-{kind}-next")


def test_error_rate_applies_only_to_the_chosen_endpoints(venue_exchange, venue):
    venue.control.set_faults(error_rate=1.0, error_kind="internal", endpoints=["/api/v3/ticker/bookTicker"])

    for _ in range(3):
        with pytest.raises(ccxt.OperationFailed):
            venue_exchange.fetch_bids_asks(["BTC/USDT"])
    venue_exchange.fetch_ticker("BTC/USDT")

    assert venue.control.fault_counts() == {"error:internal": 3}


def test_429_burst_then_normal_service(venue_exchange, venue):
    venue.control.set_faults(burst_429=2)

    for _ in range(2):
        with pytest.raises(ccxt.DDoSProtection):
            venue_exchange.fetch_ticker("BTC/USDT")
    assert venue_exchange.fetch_ticker("BTC/USDT")["bid"] > 0

    assert venue.control.fault_counts() == {"burst_429": 2}


def test_a_418_ban_refuses_every_request_of_the_ip_on_that_api_until_it_ends(venue_exchange, venue):
    venue.control.set_faults(ban_418_seconds=1, endpoints=["GET /api/v3/ticker/24hr"])

    with pytest.raises(ccxt.DDoSProtection, match="IP banned until"):
        venue_exchange.fetch_ticker("BTC/USDT")
    assert venue_exchange.last_response_headers["Retry-After"] == "1"
    with pytest.raises(ccxt.DDoSProtection):  # another spot route, not the one named: the IP is banned
        venue_exchange.fetch_order_book("BTC/USDT")
    assert venue_exchange.fetch_ticker("BTC/USDT:USDT")["last"] > 0  # the USD-M API keeps its own bans
    banned = [r for r in venue.control.audit() if r["status"] == 418]
    assert [r["path"] for r in banned] == ["/api/v3/ticker/24hr", "/api/v3/depth"]
    wait_until(lambda: _answers(venue_exchange), timeout=3, what="the ban to end")
    assert venue.control.fault_counts() == {"ban_418": 1}


def _answers(exchange) -> bool:
    try:
        return exchange.fetch_ticker("BTC/USDT")["bid"] > 0
    except ccxt.DDoSProtection:
        return False


def test_accept_then_drop_response_leaves_the_order_on_the_venue(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000)
    venue.control.set_faults(drop_response_count=1, endpoints=[NEW_ORDER])

    with pytest.raises(ccxt.NetworkError):
        place(venue_exchange, "dropped-1")

    assert venue_has(venue_exchange, "dropped-1")
    [row] = new_order_rows(venue, "dropped-1")
    assert row["outcome"] == "fault:drop_response"
    assert venue.control.fault_counts() == {"drop_response": 1}


def test_dropped_response_held_past_the_client_timeout_is_a_request_timeout(venue, venue_exchange):
    hold_price(venue, "BTCUSDT", 100000)
    impatient = ccxt_client(venue, venue.api_key, venue.secret, timeout=300)
    impatient.markets, impatient.markets_by_id = venue_exchange.markets, venue_exchange.markets_by_id
    venue.control.set_faults(drop_response_count=1, drop_hold_ms=1000, endpoints=[NEW_ORDER])

    with pytest.raises(ccxt.RequestTimeout):
        place(impatient, "held-1")

    assert venue_has(venue_exchange, "held-1")


def test_drop_before_processing_leaves_nothing_on_the_venue(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000)
    venue.control.set_faults(drop_request_count=1, endpoints=[NEW_ORDER])

    with pytest.raises(ccxt.NetworkError):
        place(venue_exchange, "lost-1")

    assert not venue_has(venue_exchange, "lost-1")
    assert venue_exchange.fetch_balance()["USDT"]["used"] == 0
    assert [r["outcome"] for r in new_order_rows(venue, "lost-1")] == ["fault:drop_request"]
    assert venue.control.fault_counts() == {"drop_request": 1}


def test_clock_skew_is_counted_and_cleared(venue_exchange, venue):
    venue.control.set_faults(clock_skew_ms=3_600_000)

    assert venue_exchange.fetch_time() > venue_exchange.milliseconds() + 3_500_000
    with pytest.raises(ccxt.InvalidNonce):
        venue_exchange.fetch_balance()

    assert venue.control.fault_counts()["clock_skew"] == 2
    venue.control.clear_faults()
    assert abs(venue_exchange.fetch_time() - venue_exchange.milliseconds()) < 5_000


def test_rejected_key_gets_2015(venue, venue_exchange):
    venue_exchange.fetch_balance()  # from now on ccxt reads -2015 on this client as a temporary ban
    fresh = ccxt_client(venue, venue.api_key, venue.secret)
    fresh.markets, fresh.markets_by_id = venue_exchange.markets, venue_exchange.markets_by_id
    venue.control.set_faults(reject_keys=[venue.api_key])

    with pytest.raises(ccxt.AuthenticationError, match='"code":-2015'):
        fresh.fetch_balance()
    with pytest.raises(ccxt.DDoSProtection, match='"code":-2015'):
        venue_exchange.fetch_balance()

    assert venue.control.fault_counts() == {"reject_key": 2}
    venue.control.clear_faults()
    assert fresh.fetch_balance()["USDT"]["free"] == 100000


def test_audit_trail_records_every_request_with_its_outcome(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000)
    order = place(venue_exchange, "audited-1")
    with pytest.raises(ccxt.InvalidOrder):
        place(venue_exchange, "audited-1", price=98000)
    venue_exchange.cancel_order(order["id"], "BTC/USDT")

    rows = venue.control.audit("audited-1")

    assert [(r["method"], r["path"], r["outcome"], r["code"]) for r in rows] == [
        ("POST", "/api/v3/order", "ok", None),
        ("POST", "/api/v3/order", "error:-2010", -2010),
    ]
    everything = venue.control.audit()
    assert any(r["method"] == "DELETE" and r["order_id"] == order["id"] and r["outcome"] == "ok" for r in everything)
    assert all({"seq", "ts", "method", "path", "api_key", "status", "outcome"} <= set(r) for r in everything)


def test_records_hold_every_order_trade_and_balance_of_a_key_without_spending_its_weight(venue_exchange, venue):
    hold_price(venue, "BTCUSDT", 100000)
    resting = place(venue_exchange, "rec-resting")
    venue_exchange.create_order("BTC/USDT", "market", "sell", 0.02, params={"clientOrderId": "rec-market"})
    venue_exchange.cancel_order(resting["id"], "BTC/USDT")
    trades = venue_exchange.fetch_my_trades("BTC/USDT")
    balances = {b["asset"]: [Decimal(b["free"]), Decimal(b["locked"])] for b in venue_exchange.fetch_balance()["info"]["balances"]}
    before = venue_exchange.fetch_time()  # the venue's time, and the key's weight used in its minute so far
    weight_before = int(venue_exchange.last_response_headers["x-mbx-used-weight-1m"])

    records = venue.control.records(venue.api_key)

    after = venue_exchange.fetch_time()
    weight_after = int(venue_exchange.last_response_headers["x-mbx-used-weight-1m"])
    assert {o["client_order_id"]: o["status"] for o in records["orders"]} == {"rec-resting": "CANCELED",
                                                                               "rec-market": "FILLED"}
    assert sorted(t["trade_id"] for t in records["trades"]) == sorted(int(t["id"]) for t in trades)
    assert {a: [Decimal(v) for v in row] for a, row in records["balances"].items()} == balances
    # the records spent no weight: only the second /time's 1 counts (the first of a new minute, if one began)
    assert weight_after == (weight_before + 1 if before // 60_000 == after // 60_000 else 1)
    with pytest.raises(VenueControlError, match="api_key"):
        venue.control.records("nobody")


def test_control_api_needs_its_token_and_refuses_bad_knobs(venue):
    for token in ("wrong", venue.api_key, venue.secret):
        with pytest.raises(VenueControlError, match="401"):
            VenueControl(venue.base_url, token).set_faults(latency_ms=5000)
    with pytest.raises(VenueControlError, match="unknown fault knob"):
        venue.control.set_faults(latency=5)
    with pytest.raises(VenueControlError, match="error_kind"):
        venue.control.set_faults(error_kind="gremlins")
    with pytest.raises(VenueControlError, match="between 0 and 1"):
        venue.control.set_faults(latency_ms=100, error_rate=2)

    assert venue.control.faults()["latency_ms"] == 0
    assert venue.control.faults()["error_rate"] == 0


@pytest.mark.parametrize("knob, processed", [("drop_response_rate", True), ("drop_request_rate", False)])
def test_drop_rates(venue_exchange, venue, knob, processed):
    hold_price(venue, "BTCUSDT", 100000)
    venue.control.set_faults(**{knob: 1.0}, endpoints=[NEW_ORDER])

    for n in range(2):
        with pytest.raises(ccxt.NetworkError):
            place(venue_exchange, f"rate-{n}")
    venue.control.set_faults(**{knob: 0.0})
    place(venue_exchange, "rate-after")

    assert [venue_has(venue_exchange, f"rate-{n}") for n in range(2)] == [processed, processed]
    assert venue_has(venue_exchange, "rate-after")
    assert venue.control.fault_counts() == {knob.removesuffix("_rate"): 2}


def test_control_moves_prices_funds_and_adds_keys(venue):
    venue.control.add_key("second-key", "second-secret")
    second = ccxt_client(venue, "second-key", "second-secret")
    assert second.fetch_balance()["USDT"]["free"] == 100000

    venue.control.fund("second-key", "spot", "DOGE", "1234.5")
    venue.control.fund("second-key", "futures", "USDT", -40000)

    assert second.fetch_balance()["DOGE"]["free"] == 1234.5
    assert second.fetch_balance({"type": "future"})["USDT"]["free"] == 60000


def test_control_refuses_bad_input_and_changes_nothing(venue):
    exchange = ccxt_client(venue, venue.api_key, venue.secret)
    before = exchange.fetch_ticker("BTC/USDT")["last"]
    for call, message in (
        (lambda: venue.control.set_price("DOGEUSDT", 1), "symbol must be one of"),
        (lambda: venue.control.set_price("BTCUSDT", -5), "price must be positive"),
        (lambda: venue.control.set_price("BTCUSDT", 5, market="options"), "market must be"),
        (lambda: venue.control.fund("nobody", "spot", "USDT", 5), "api_key is not configured"),
        (lambda: venue.control.fund(venue.api_key, "spot", "USDT", -10**9), "negative"),
        (lambda: venue.control.add_key("", "x"), "non-empty"),
        (lambda: venue.control.set_limits(spot_weight_1m=0), "positive integer"),
    ):
        with pytest.raises(VenueControlError, match=message):
            call()

    assert exchange.fetch_ticker("BTC/USDT")["last"] == pytest.approx(before, rel=0.01)
    assert exchange.fetch_balance()["USDT"]["free"] == 100000
    with pytest.raises(ccxt.AuthenticationError):
        ccxt_client(venue, "nobody", "x").fetch_balance()


def test_without_keys_the_demo_key_works_on_loopback():
    handle = start_venue(seed=9)
    try:
        exchange = ccxt_client(handle, "demo", "demo")
        assert exchange.fetch_balance()["BTC"]["free"] == 2
        with pytest.raises(ccxt.AuthenticationError):
            ccxt_client(handle, "demo", "not-demo").fetch_balance()
    finally:
        handle.stop()
