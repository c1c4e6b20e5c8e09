"""StreamOrders and StreamPrices: one Redis subscriber per server, fanned out to bounded per-stream queues."""
import time
from decimal import Decimal

import grpc
import pytest

from accounts import services as account_services
from infra import pubsub
from orders import services
from orders.models import OrderEvent
from proto import oms_pb2, oms_pb2_grpc
from tests import factories
from tests.late_commit import placement_committed_late
from tests.orders.grpc.conftest import StreamReader


@pytest.fixture
def stub(grpc_server):
    return oms_pb2_grpc.OrderServiceStub(grpc.insecure_channel(grpc_server))


@pytest.fixture(autouse=True)
def short_wait(settings):
    settings.OMS_PLACE_WAIT_SECONDS = 0.2


def fill(order, exchange_order_id="E-1"):
    services.order_apply_venue_update(order_id=order.id, status="NEW", exchange_order_id=exchange_order_id)
    services.order_apply_venue_update(order_id=order.id, status="FILLED", filled_quantity=order.quantity,
                                      average_price=order.price)


def tick(symbol, last, exchange="binance", market="spot"):
    pubsub.publish_price({"exchange": exchange, "market": market, "symbol": symbol, "bid_price": str(last - 1),
                          "bid_quantity": "1.5", "ask_price": str(last + 1), "ask_quantity": "2", "last_price": str(last),
                          "timestamp_ms": int(time.time() * 1000)})


def test_stream_orders_sees_new_then_filled(stub, funded, btcusdt):
    reader = StreamReader(stub.StreamOrders(oms_pb2.StreamOrdersRequest()))
    reader.start()
    placed = stub.PlaceOrder(oms_pb2.PlaceOrderRequest(symbol="BTCUSDT", side="BUY", quantity=0.01, price=20000),
                             timeout=10)
    order = services.order_apply_venue_update(order_id=placed.order_id, status="NEW", exchange_order_id="E-1")
    services.order_apply_venue_update(order_id=order.id, status="FILLED", filled_quantity=Decimal("0.01"),
                                      average_price=Decimal("20000"))

    updates = reader.wait_for(3)
    reader.stop()

    assert [(u.update_type, u.order.status) for u in updates] == [("NEW", "PENDING_NEW"), ("NEW", "NEW"),
                                                                   ("FILLED", "FILLED")]
    assert {u.order.order_id for u in updates} == {placed.order_id}
    assert updates[2].order.filled_quantity == 0.01 and updates[2].order.filled_quantity_decimal == "0.01"
    assert [u.sequence for u in updates] == list(
        OrderEvent.objects.filter(order_id=placed.order_id).order_by("id").values_list("id", flat=True))


def published_sequences(**filters):
    return list(OrderEvent.objects.filter(**filters).exclude(kind="STALE_IGNORED").order_by("id")
                .values_list("id", flat=True))


def test_resuming_with_since_sequence_replays_every_missed_update_once(stub, funded, btcusdt):
    first = factories.order_place(funded)
    live = StreamReader(stub.StreamOrders(oms_pb2.StreamOrdersRequest())).start()
    services.order_apply_venue_update(order_id=first.id, status="NEW", exchange_order_id="E-1")
    seen = live.wait_for(1)
    live.stop()
    # While the client is away: a fill, a new order and its ack.
    services.order_apply_venue_update(order_id=first.id, status="FILLED", filled_quantity=first.quantity,
                                      average_price=first.price)
    second = factories.order_place(funded, price=Decimal("21000"))
    services.order_apply_venue_update(order_id=second.id, status="NEW", exchange_order_id="E-2")

    resumed = StreamReader(stub.StreamOrders(oms_pb2.StreamOrdersRequest(since_sequence=seen[-1].sequence))).start()
    missed = resumed.wait_for(3)
    services.order_cancel(order_id=second.id)
    after = resumed.wait_for(4)[3]
    resumed.stop()

    assert [(u.order.order_id, u.update_type, u.order.status) for u in missed] == [
        (first.id, "FILLED", "FILLED"), (second.id, "NEW", "PENDING_NEW"), (second.id, "NEW", "NEW")]
    assert (after.order.order_id, after.update_type, after.order.status) == (second.id, "UPDATE", "PENDING_CANCEL")
    assert [seen[0].sequence] + [u.sequence for u in resumed.messages] == published_sequences()[1:]  # after placing
    assert len(resumed.messages) == 4


def test_resuming_replays_an_update_that_committed_after_one_with_a_higher_sequence(stub, funded, btcusdt):
    """Sequences are taken when an event is written, not when it commits: the client sees a later sequence
    first, goes away, and the earlier one commits. Resuming from what it saw must still bring it."""
    quick = factories.order_place(funded)
    with placement_committed_late(funded, Decimal("20500")) as slow:
        live = StreamReader(stub.StreamOrders(oms_pb2.StreamOrdersRequest())).start()
        # A higher sequence, committed (and heard) first: the venue acknowledges the other order.
        services.order_apply_venue_update(order_id=quick.id, status="NEW", exchange_order_id="E-1")
        seen = live.wait_for(1)
        live.stop()
    # the lower sequence has committed while the client was away

    resumed = StreamReader(stub.StreamOrders(oms_pb2.StreamOrdersRequest(since_sequence=seen[0].sequence))).start()
    replayed = resumed.wait_for(1)
    resumed.stop()

    assert (seen[0].order.order_id, seen[0].order.status) == (quick.id, "NEW")
    assert seen[0].sequence > slow["sequence"]
    assert [(u.order.order_id, u.sequence) for u in replayed] == [(slow["order_id"], slow["sequence"])]
    assert resumed.messages == replayed  # nothing else: the quick order's update is not in the window


def test_reconnecting_while_orders_change_loses_nothing_and_repeats_nothing(stub, funded, btcusdt):
    import threading

    def trade():
        for i in range(8):
            order = factories.order_place(funded, price=Decimal(20000 + i))
            fill(order, exchange_order_id=f"E-{i}")

    writer = threading.Thread(target=trade)
    received, since = [], 0
    writer.start()
    while writer.is_alive() or len(received) < len(published_sequences()):
        call = stub.StreamOrders(oms_pb2.StreamOrdersRequest(since_sequence=since), timeout=2)
        try:
            for _, update in zip(range(3), call, strict=False):  # drop the connection after three updates
                received.append(update.sequence)
                since = update.sequence
        except grpc.RpcError as exc:  # nothing more came before the deadline: reconnect like a client would
            assert exc.code() == grpc.StatusCode.DEADLINE_EXCEEDED, exc
        call.cancel()
    writer.join()

    assert received == published_sequences()
    assert len(received) == 8 * 3


def test_a_token_holder_streams_only_its_own_accounts(grpc_server_factory, funded, btcusdt, trader):
    other = factories.account_create(name="other")
    token = account_services.api_token_create(user=trader)
    stub = oms_pb2_grpc.OrderServiceStub(grpc.insecure_channel(grpc_server_factory(require_auth=True)))
    reader = StreamReader(stub.StreamOrders(oms_pb2.StreamOrdersRequest(),
                                            metadata=[("authorization", f"Bearer {token}")])).start()

    factories.order_place(other)
    mine = factories.order_place(funded)

    assert reader.wait_for(1)[0].order.order_id == mine.id
    reader.stop()
    assert [u.order.account_id for u in reader.messages] == ["main"]


def test_stream_prices_sends_the_latest_then_live_ticks_for_the_requested_symbols(stub, no_prices):
    tick("BTCUSDT", 115000)
    tick("XRPUSDT", 3)
    reader = StreamReader(stub.StreamPrices(oms_pb2.StreamPricesRequest(symbols=["BTCUSDT", "ETH/USDT"]))).start()
    tick("XRPUSDT", 4)
    tick("ETHUSDT", 4000)

    updates = reader.wait_for(2)
    reader.stop()

    assert [(u.symbol, u.last_price, u.bid_price, u.ask_quantity) for u in updates] == [
        ("BTCUSDT", 115000, 114999, 2), ("ETHUSDT", 4000, 3999, 2)]
    assert updates[1].exchange == "binance" and updates[1].market == "spot" and updates[1].timestamp > 0
    assert len(reader.messages) == 2


def test_stream_prices_without_symbols_streams_all(stub, no_prices):
    reader = StreamReader(stub.StreamPrices(oms_pb2.StreamPricesRequest())).start()
    for symbol, price in (("BTCUSDT", 115000), ("ETHUSDT", 4000), ("XRPUSDT", 3)):
        tick(symbol, price, market="futures")

    assert [u.symbol for u in reader.wait_for(3)] == ["BTCUSDT", "ETHUSDT", "XRPUSDT"]
    reader.stop()


def test_a_slow_stream_is_ended_without_stalling_the_others(grpc_server_factory, settings, no_prices):
    settings.OMS_GRPC_STREAM_QUEUE_SIZE = 20
    stub = oms_pb2_grpc.OrderServiceStub(grpc.insecure_channel(grpc_server_factory()))
    slow = stub.StreamPrices(oms_pb2.StreamPricesRequest(symbols=["BTCUSDT"]))  # never read until the end
    assert ("oms-stream", "live") in tuple(slow.initial_metadata())
    brisk = StreamReader(stub.StreamPrices(oms_pb2.StreamPricesRequest(symbols=["ETHUSDT"]))).start()
    pipe = pubsub.client().pipeline(transaction=False)
    for i in range(5000):  # more than the transport buffers and the queue hold together
        pipe.publish(pubsub.price_channel("binance", "spot", "BTCUSDT"),
                     f'{{"exchange":"binance","market":"spot","symbol":"BTCUSDT","last_price":"{100000 + i}",'
                     f'"timestamp_ms":{i + 1}}}')
    pipe.execute()
    tick("ETHUSDT", 4000)

    assert brisk.wait_for(1)[0].last_price == 4000
    received = 0
    with pytest.raises(grpc.RpcError) as err:
        for _ in slow:
            received += 1
    brisk.stop()

    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "too slowly" in err.value.details()
    assert received < 5000


def test_streams_beyond_the_limit_are_refused(grpc_server_factory, settings):
    settings.OMS_GRPC_MAX_STREAMS = 1
    stub = oms_pb2_grpc.OrderServiceStub(grpc.insecure_channel(grpc_server_factory()))
    first = StreamReader(stub.StreamOrders(oms_pb2.StreamOrdersRequest())).start()

    with pytest.raises(grpc.RpcError) as err:
        next(stub.StreamOrders(oms_pb2.StreamOrdersRequest(), timeout=5))
    prices = StreamReader(stub.StreamPrices(oms_pb2.StreamPricesRequest())).start()  # no thread: not counted
    first.stop()
    prices.stop()

    assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "too many open streams" in err.value.details() and "order streams" in err.value.details()


def test_one_token_cannot_take_every_stream_slot(grpc_server_factory, settings):
    """Issue 19, item 3: per-token caps on order and price streams, price streams counted apart from the
    thread-bound order streams, and a total for each."""
    settings.OMS_GRPC_MAX_STREAMS, settings.OMS_GRPC_MAX_ORDER_STREAMS_PER_TOKEN = 2, 1
    settings.OMS_GRPC_MAX_PRICE_STREAMS, settings.OMS_GRPC_MAX_PRICE_STREAMS_PER_TOKEN = 3, 2
    stub = oms_pb2_grpc.OrderServiceStub(grpc.insecure_channel(grpc_server_factory(require_auth=True)))
    greedy, other, third = ([("authorization", f"Bearer {account_services.api_token_create(user=factories.user_create())}")]
                            for _ in range(3))
    opened = []

    def open_stream(method, request, metadata):
        call = method(request, metadata=metadata, timeout=30)
        if ("oms-stream", "live") not in tuple(call.initial_metadata()):
            return call.code(), call.details()  # refused before going live
        opened.append(StreamReader(call).start())
        return grpc.StatusCode.OK, ""

    def orders(metadata):
        return open_stream(stub.StreamOrders, oms_pb2.StreamOrdersRequest(), metadata)

    def prices(metadata):
        return open_stream(stub.StreamPrices, oms_pb2.StreamPricesRequest(), metadata)

    try:
        results = {"greedy orders": [orders(greedy), orders(greedy)], "other orders": [orders(other)],
                   "third orders": [orders(third)],
                   "greedy prices": [prices(greedy), prices(greedy), prices(greedy)], "other prices": [prices(other)],
                   "third prices": [prices(third)]}
    finally:
        for reader in opened:
            reader.stop()

    codes = {name: [code for code, _ in outcomes] for name, outcomes in results.items()}
    ok, full = grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED
    assert codes == {"greedy orders": [ok, full], "other orders": [ok], "third orders": [full],
                     "greedy prices": [ok, ok, full], "other prices": [ok], "third prices": [full]}
    assert "limit per token" in results["greedy orders"][1][1] and "order streams" in results["greedy orders"][1][1]
    assert "limit per token" in results["greedy prices"][2][1] and "price streams" in results["greedy prices"][2][1]
    assert "too many open streams on this server" in results["third orders"][0][1]
    assert "too many open streams on this server" in results["third prices"][0][1]
