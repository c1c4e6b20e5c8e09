"""The spine, end to end: real PostgreSQL, Redis, a real Celery worker, ccxt over HTTP to the local venue.

An order placed through the service reaches the venue once, and what the venue does to it comes back."""
from __future__ import annotations

import json
import logging
from decimal import Decimal

import pytest
from django.core.management import call_command

from accounts import services as account_services
from accounts.models import Account, Balance, Position
from exchanges.gateway import gateway_for
from execution import venue_orders
from infra import pubsub
from infra.errors import InvalidInput
from orders import services
from orders.models import Order, Status
from tests.execution import bursts
from tests.fixtures.worker import sync_due
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e]

D = Decimal


def _order(order_id: str) -> Order:
    return Order.objects.get(pk=order_id)


def _status_is(order_id: str, *statuses: str):
    def check():
        order = _order(order_id)
        return order if order.status in statuses else None
    return check


def _ledger_balances(account, market="spot") -> dict[str, tuple[Decimal, Decimal]]:
    return {b.asset: (b.free, b.locked) for b in Balance.objects.filter(account=account, market=market)}


def _venue_balances(venue_view) -> dict[str, tuple[Decimal, Decimal]]:
    rows = venue_view.fetch_balance()["info"]["balances"]
    return {r["asset"]: (D(r["free"]), D(r["locked"])) for r in rows if D(r["free"]) or D(r["locked"])}


def _balances_match(account, venue_view):
    ledger, venue = _ledger_balances(account), _venue_balances(venue_view)
    return ledger == venue and ledger


def _place(**fields) -> Order:
    base = {"account": "main", "symbol": "BTCUSDT", "side": "BUY", "quantity": D("0.01"), "order_type": "LIMIT"}
    return services.order_place(**{**base, **fields})


def test_a_resting_limit_order_is_acknowledged_then_fills_when_the_price_crosses(venue, venue_account, venue_view):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    before = _ledger_balances(venue_account)

    order = _place(price=D("99000"))
    order = wait_until(_status_is(order.id, Status.NEW), what="NEW")
    on_venue = venue_view.fetch_order(None, "BTC/USDT", {"clientOrderId": order.id})
    assert order.exchange_order_id == on_venue["id"] and on_venue["status"] == "open"
    assert not order.fills.exists()

    venue.control.set_price("BTCUSDT", 98000, freeze=True)  # the book trades through 99000
    order = wait_until(_status_is(order.id, Status.FILLED), tick=sync_due, interval=0.2, what="FILLED")

    fills = list(order.fills.all())
    assert sum(f.quantity for f in fills) == D("0.01") == order.filled_quantity
    assert all(f.price == D("99000") and f.is_maker and f.fee > 0 and f.fee_asset == "BTC" for f in fills)
    assert order.average_price == D("99000") and order.cumulative_fee == sum(f.fee for f in fills)
    after = wait_until(lambda: _balances_match(venue_account, venue_view), what="ledger balances = venue balances")
    assert after["BTC"][0] == before["BTC"][0] + D("0.01") - order.cumulative_fee
    assert sum(after["USDT"]) == sum(before["USDT"]) - D("990")


def test_a_market_order_fills_at_once_with_its_fills_and_fees(venue, venue_account, venue_view):
    order = _place(order_type="MARKET", side="SELL", quantity=D("0.02"))
    order = wait_until(_status_is(order.id, Status.FILLED), what="FILLED")

    trades = venue_view.fetch_my_trades("BTC/USDT", None, None, {"orderId": order.exchange_order_id})
    assert sorted(f.trade_id for f in order.fills.all()) == sorted(t["id"] for t in trades)
    assert order.filled_quantity == D("0.02") == sum(f.quantity for f in order.fills.all())
    assert order.cumulative_fee == sum(D(t["info"]["commission"]) for t in trades) > 0 and order.fee_asset == "USDT"
    wait_until(lambda: _balances_match(venue_account, venue_view), what="ledger balances = venue balances")


def test_a_partial_fill_then_cancel_ends_cancelled_keeping_the_partial_quantity(venue, venue_account, venue_view):
    venue.control.fund(venue.api_key, "spot", "USDT", 10_000_000)
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    order = _place(price=D("99000"), quantity=D("60"))  # far more than the venue shows on any level
    wait_until(_status_is(order.id, Status.NEW), what="NEW")
    venue.control.set_price("BTCUSDT", D("98999.5"), freeze=True)  # the best ask reaches 99000: one level fills
    venue.control.set_price("BTCUSDT", 101000, freeze=True)  # and the market leaves again
    on_venue = venue_view.fetch_order(None, "BTC/USDT", {"clientOrderId": order.id})
    assert on_venue["status"] == "open" and 0 < on_venue["filled"] < 60

    services.order_cancel(order_id=order.id)
    order = wait_until(_status_is(order.id, Status.CANCELLED), what="CANCELLED")

    on_venue = venue_view.fetch_order(None, "BTC/USDT", {"clientOrderId": order.id})
    assert on_venue["status"] == "canceled"
    assert order.filled_quantity == D(on_venue["info"]["executedQty"]) > 0
    assert sum(f.quantity for f in order.fills.all()) == order.filled_quantity
    assert order.quantity == D("60")


def test_a_futures_order_with_leverage_10_opens_the_position_the_venue_holds(venue, venue_account, venue_view):
    venue.control.set_price("BTCUSDT", 115000, market="futures", freeze=True)  # a still mark price: exact margins
    order = _place(market="futures", order_type="MARKET", quantity=D("0.05"), leverage=10)
    order = wait_until(_status_is(order.id, Status.FILLED), what="FILLED")
    assert order.fills.exists()

    [venue_position] = [p for p in venue_view.fetch_positions(None, {"type": "future"}) if p["contracts"]]
    info = venue_position["info"]
    position = wait_until(lambda: Position.objects.filter(account=venue_account, symbol="BTCUSDT", size__gt=0).first(),
                          what="position synced")
    assert position.side == Position.Side.LONG
    assert position.size == D(info["positionAmt"]) == D("0.05")
    assert position.entry_price == D(info["entryPrice"]) == order.average_price
    assert position.leverage == 10
    assert position.margin == D(info["initialMargin"])
    assert position.margin == pytest.approx(position.size * D(info["markPrice"]) / 10, rel=D("1e-6"))


def test_an_order_too_small_for_the_instrument_is_refused_before_it_reaches_the_venue(venue, venue_account):
    requests_before = len(venue.control.audit())
    with pytest.raises(InvalidInput) as refused:
        _place(price=D("100000"), quantity=D("0.00002"))  # 2 USDT; the minimum is 5
    assert refused.value.field == "quantity"
    assert "2" in refused.value.message and "5" in refused.value.message
    assert not Order.objects.exists()
    assert len(venue.control.audit()) == requests_before


def _order_posts(venue, path="/api/v3/order") -> list[dict]:
    return [r for r in venue.control.audit() if r["method"] == "POST" and r["path"] == path]


def test_with_responses_dropped_after_acceptance_every_order_is_found_by_its_lookup_and_sent_once(venue, venue_account,
                                                                                               venue_view):
    bursts.answers_dropped(venue, venue_view, placements=20)  # 200 in `make soak`


def test_with_requests_dropped_before_processing_the_orders_end_rejected_after_lookup(venue, venue_account,
                                                                                     venue_view, settings):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    venue.control.set_faults(drop_request_count=5, endpoints=["POST /api/v3/order"])

    placed = [_place(price=D("90000"), quantity=D("0.001")) for _ in range(5)]
    for order in placed:
        rejected = wait_until(_status_is(order.id, Status.REJECTED), what="REJECTED")
        assert "never received" in rejected.reason

    posts = _order_posts(venue)
    assert sorted(r["client_order_id"] for r in posts) == sorted(o.id for o in placed)  # never resent
    assert {r["outcome"] for r in posts} == {"fault:drop_request"}
    window_ms = settings.OMS_RECV_WINDOW_MS + settings.OMS_UNKNOWN_GRACE_SECONDS * 1000
    for post in posts:
        lookups = [r for r in venue.control.audit(post["client_order_id"]) if r["method"] == "GET"]
        assert lookups and lookups[-1]["ts"] >= post["ts"] + window_ms  # "not found" trusted only after the window
    assert venue_view.fetch_open_orders("BTC/USDT") == []


def test_a_cancel_that_loses_the_race_to_a_fill_ends_filled(venue, venue_account):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    order = _place(price=D("99000"))
    wait_until(_status_is(order.id, Status.NEW), what="NEW")
    venue.control.set_price("BTCUSDT", 98000, freeze=True)  # fills on the venue; the ledger has not looked yet

    services.order_cancel(order_id=order.id)
    order = wait_until(_status_is(order.id, Status.FILLED, Status.CANCELLED), what="settled")

    assert order.status == Status.FILLED
    assert sum(f.quantity for f in order.fills.all()) == D("0.01")


def test_a_refused_api_key_disables_the_account_with_the_reason_and_rejects_the_order(venue, venue_account):
    venue.control.set_faults(reject_keys=[venue.api_key])
    order = _place(price=D("90000"))
    order = wait_until(_status_is(order.id, Status.REJECTED), what="REJECTED")

    venue_account.refresh_from_db()
    assert not venue_account.enabled
    assert "API key" in venue_account.disabled_reason and "-2015" in venue_account.disabled_reason
    assert order.reason == venue_account.disabled_reason
    assert venue.api_key not in venue_account.disabled_reason


def test_a_key_refused_after_it_has_worked_disables_the_account_and_the_order_is_sent_once(venue, venue_account):
    # Given a key that has already placed an order (ccxt then reports -2015 as a temporary ban)
    first = wait_until(_status_is(_place(price=D("90000")).id, Status.NEW), what="first order NEW")
    # When the venue starts refusing the key
    venue.control.set_faults(reject_keys=[venue.api_key])
    order = wait_until(_status_is(_place(price=D("90000")).id, Status.REJECTED), what="REJECTED")
    # Then the account is disabled with the venue's reason and the order went out once, not in a retry loop
    venue_account.refresh_from_db()
    assert not venue_account.enabled and "-2015" in venue_account.disabled_reason
    assert order.reason == venue_account.disabled_reason
    assert [r["client_order_id"] for r in venue.control.audit() if r["method"] == "POST"
            and r["path"].endswith("/order")].count(order.id) == 1
    assert first.status == Status.NEW


def test_a_429_bans_the_account_for_retry_after_and_the_order_goes_out_once_the_ban_ends(polling_only, venue,
                                                                                       venue_account):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    venue.control.set_faults(burst_429=1, endpoints=["POST /api/v3/order"])
    order = _place(price=D("90000"))
    order = wait_until(_status_is(order.id, Status.NEW), timeout=10, what="NEW")

    refused, accepted = _order_posts(venue)
    assert refused["outcome"] == "fault:burst_429" and accepted["status"] == 200
    assert accepted["ts"] - refused["ts"] >= 1000  # Retry-After: 1
    during_ban = [r for r in venue.control.audit() if refused["ts"] < r["ts"] < accepted["ts"]]
    assert during_ban == []


def _requests_during(venue, step) -> list[tuple[str, str]]:
    seen = len(venue.control.audit())
    step()
    return [(r["method"], r["path"]) for r in venue.control.audit()[seen:]]


def test_venue_requests_per_placement_and_per_sync_cycle_are_only_those_needed(polling_only, venue, venue_account):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)

    def place_resting():
        order = _place(price=D("99000"))
        wait_until(_status_is(order.id, Status.NEW), what="NEW")
        return order

    seen = len(venue.control.audit())
    order = place_resting()
    assert [(r["method"], r["path"]) for r in venue.control.audit()[seen:]] == [("POST", "/api/v3/order")]

    # A working order that did not change: one look.
    assert _requests_during(venue, lambda: venue_orders.sync_order(order.id)) == [("GET", "/api/v3/order")]

    # After it filled: the look, then its trades; then one balance sync (spot, futures, positions).
    venue.control.set_price("BTCUSDT", 98000, freeze=True)
    seen = len(venue.control.audit())
    assert _requests_during(venue, lambda: venue_orders.sync_order(order.id)) == [("GET", "/api/v3/order"),
                                                                                ("GET", "/api/v3/myTrades")]
    assert _order(order.id).status == Status.FILLED

    def balance_sync():  # leverage brackets are loaded once per client, not per sync
        rows = [(r["method"], r["path"]) for r in venue.control.audit()[seen + 2:] if r["path"] != "/fapi/v1/leverageBracket"]
        return rows if len(rows) >= 3 else None

    assert wait_until(balance_sync, what="balance sync") == [
        ("GET", "/api/v3/account"), ("GET", "/fapi/v3/account"), ("GET", "/fapi/v3/positionRisk")]

    # A market order: the one POST carries its fills (no trade query).
    seen = len(venue.control.audit())
    market = _place(order_type="MARKET")
    wait_until(_status_is(market.id, Status.FILLED), what="FILLED")
    placed = [(r["method"], r["path"]) for r in venue.control.audit()[seen:] if r["path"].endswith("/order") or
              "Trades" in r["path"]]
    assert placed == [("POST", "/api/v3/order")]

    # A futures order with leverage: set leverage, the order, its trades.
    seen = len(venue.control.audit())
    futures = _place(market="futures", order_type="MARKET", quantity=D("0.01"), leverage=5)
    wait_until(_status_is(futures.id, Status.FILLED), what="FILLED")
    placed = [(r["method"], r["path"]) for r in venue.control.audit()[seen:]
              if r["path"].startswith("/fapi/v1/") and r["path"] != "/fapi/v1/leverageBracket"]  # that one: balance sync
    assert placed == [("POST", "/fapi/v1/leverage"), ("POST", "/fapi/v1/order"), ("GET", "/fapi/v1/userTrades")]


def test_a_balance_sync_is_one_request_per_balance_and_positions(polling_only, venue, venue_account):
    paths = _requests_during(venue, lambda: venue_orders.account_sync(venue_account.pk))
    assert paths == [("GET", "/api/v3/account"), ("GET", "/fapi/v3/account"), ("GET", "/fapi/v3/positionRisk")]


def test_after_a_burst_of_random_orders_and_fills_the_ledger_balances_equal_the_venues(venue, venue_account,
                                                                                       venue_view):
    bursts.random_orders(venue, venue_account, venue_view, count=60)  # 200 in `make soak`


def test_market_data_publishes_bid_ask_and_last_of_every_instrument(venue, venue_account):
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    venue.control.set_price("BTCUSDT", 101000, market="futures", freeze=True)
    pubsub.client().delete(pubsub.LATEST_PRICES_KEY)
    listener = pubsub.client().pubsub(ignore_subscribe_messages=True)
    listener.subscribe(pubsub.price_channel("binance", "spot", "BTCUSDT"))

    call_command("run_marketdata", rounds=1, interval=0)

    latest = pubsub.latest_prices()
    spot, futures = latest["binance:spot:BTCUSDT"], latest["binance:futures:BTCUSDT"]
    assert D(spot["bid_price"]) <= D("100000") <= D(spot["ask_price"]) and D(spot["last_price"]) == D("100000")
    assert D(futures["bid_price"]) <= D("101000") <= D(futures["ask_price"])
    assert D(spot["bid_price"]) < D(spot["ask_price"]) and D(futures["bid_price"]) < D(futures["ask_price"])
    assert D(spot["bid_quantity"]) > 0 and spot["timestamp_ms"] > 0
    assert {k.split(":")[2] for k in latest if k.startswith("binance:spot:")} >= {"BTCUSDT", "ETHUSDT", "XRPUSDT"}
    message = wait_until(lambda: listener.get_message(timeout=0.1), what="a price on the channel")
    assert json.loads(message["data"])["symbol"] == "BTCUSDT"
    listener.close()


def test_credentials_are_decrypted_in_the_worker_cached_per_key_version_and_never_logged(venue, venue_account, caplog):
    caplog.set_level(logging.DEBUG)
    gateway = gateway_for(venue_account)
    gateway.fetch_balance("spot")
    assert gateway_for(Account.objects.get(pk=venue_account.pk)) is gateway

    venue.control.add_key("rotated-key", "rotated-secret")
    account_services.credential_set(account="main", api_key="rotated-key", secret="rotated-secret")
    rotated = gateway_for(Account.objects.get(pk=venue_account.pk))
    assert rotated is not gateway and rotated.client.apiKey == "rotated-key"
    rotated.fetch_balance("spot")

    logged = caplog.text + "".join(str(r.args) for r in caplog.records)
    for secret in (venue.api_key, venue.secret, "rotated-key", "rotated-secret"):
        assert secret not in logged
    assert "rotated-secret" not in repr(rotated)



def test_a_long_lived_client_takes_the_venues_markets_again_once_they_are_older_than_the_ttl(venue, venue_account,
                                                                                              settings):
    gateway = gateway_for(venue_account)
    gateway.fetch_balance("spot")
    catalog_reads = lambda: len([r for r in venue.control.audit() if r["path"].endswith("/exchangeInfo")])  # noqa: E731
    before = catalog_reads()
    gateway.fetch_balance("spot")
    assert catalog_reads() == before  # fresh: no catalog request per call

    settings.OMS_MARKETS_TTL_SECONDS = 0
    gateway.fetch_balance("spot")
    assert catalog_reads() == before + 2  # spot and USD-M exchangeInfo, once
