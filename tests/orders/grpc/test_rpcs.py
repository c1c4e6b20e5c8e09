"""Each unary RPC against the real ledger, through the Python SDK (where no worker or venue is needed)."""
import threading
import time
from decimal import Decimal

import grpc
import pytest

from infra import pubsub
from orders import services
from orders.models import Order
from tests import factories
from tests.orders.grpc.conftest import VenueAnswer
from tests.waiting import wait_until


@pytest.fixture(autouse=True)
def short_wait(settings):
    settings.OMS_PLACE_WAIT_SECONDS = 0.3


def test_place_persists_the_order_and_returns_pending_new_when_the_venue_is_silent(client, funded, btcusdt):
    result = client.place_order(symbol="BTCUSDT", side="BUY", quantity=0.001, order_type="LIMIT", price=115000)

    order = Order.objects.get(pk=result["order_id"])
    assert result["status"] == "PENDING_NEW" == order.status
    assert (order.account.name, order.exchange, order.market, order.quantity, order.price) == (
        "main", "binance", "spot", Decimal("0.001"), Decimal("115000"))
    assert result["created_at"].timestamp() == int(order.created_at.timestamp())


def test_place_returns_the_venue_answer_as_soon_as_it_is_published(grpc_server, funded, btcusdt, settings):
    # The server would wait 300 s and the caller lets it: only the published answer can end the call in the
    # 30 s waited for below (on a timeout the server answers with the ledger's state, which would be NEW too).
    settings.OMS_PLACE_WAIT_SECONDS = 300
    from clients.python.oms_client import OMSClient
    venue = VenueAnswer(status="NEW", exchange_order_id="V-42")
    venue.start()
    answers = []
    with OMSClient(grpc_server, timeout=300) as patient:
        caller = threading.Thread(daemon=True, target=lambda: answers.append(
            patient.place_order(symbol="BTCUSDT", side="BUY", quantity=0.001, price=20000)))
        caller.start()
        [result] = wait_until(lambda: answers, timeout=30, what="the answer, ended by the published update")

    venue.join(5)
    assert (result["status"], result["exchange_order_id"], result["order_id"]) == ("NEW", "V-42", venue.order_id)


def test_place_is_capped_by_the_callers_deadline(grpc_server, funded, btcusdt, settings):
    settings.OMS_PLACE_WAIT_SECONDS = 30
    from clients.python.oms_client import OMSClient
    with OMSClient(grpc_server, timeout=1.5) as impatient:
        result = impatient.place_order(symbol="BTCUSDT", side="BUY", quantity=0.001, price=20000)

    assert result["status"] == "PENDING_NEW"


def test_place_with_the_same_client_order_id_returns_the_first_order(client, funded, btcusdt):
    first = client.place_order(symbol="BTCUSDT", side="BUY", quantity=0.001, price=20000, client_order_id="bot-1")
    again = client.place_order(symbol="BTCUSDT", side="BUY", quantity=0.001, price=20000, client_order_id="bot-1")

    assert again["order_id"] == first["order_id"]
    assert Order.objects.filter(client_order_id="bot-1").count() == 1


def test_place_takes_exact_decimal_strings(client, funded, btcusdt):
    result = client.place_order(symbol="BTCUSDT", side="BUY", quantity="0.00123", price=Decimal("19999.99"))

    order = Order.objects.get(pk=result["order_id"])
    assert (order.quantity, order.price) == (Decimal("0.00123"), Decimal("19999.99"))
    assert result["order"]["quantity_decimal"] == Decimal("0.00123")


def test_get_order_shows_every_field(client, funded, btcusdt):
    placed = client.place_order(symbol="BTC/USDT", side="SELL", quantity=0.01, price=90000, client_order_id="c-7")

    order = client.get_order(placed["order_id"])

    assert {k: order[k] for k in ("order_id", "symbol", "side", "order_type", "quantity", "price", "status", "exchange",
                                  "market", "account_id", "client_order_id", "time_in_force")} == {
        "order_id": placed["order_id"], "symbol": "BTCUSDT", "side": "SELL", "order_type": "LIMIT", "quantity": 0.01,
        "price": 90000.0, "status": "PENDING_NEW", "exchange": "binance", "market": "spot", "account_id": "main",
        "client_order_id": "c-7", "time_in_force": "GTC"}
    assert order["price_decimal"] == Decimal("90000") and order["version"] == 1


def test_list_orders_filters_and_pages_newest_first(client, funded, btcusdt):
    ethusdt = factories.instrument_create(symbol="ETHUSDT")
    assert ethusdt.symbol == "ETHUSDT"
    ids = [factories.order_place(funded, price=Decimal(20000 + i)).id for i in range(5)]
    eth = factories.order_place(funded, symbol="ETHUSDT", quantity=Decimal("0.5"), price=Decimal("1000")).id
    services.order_apply_venue_update(order_id=ids[0], status="NEW", exchange_order_id="E0")
    services.order_apply_venue_update(order_id=ids[0], status="FILLED", filled_quantity=Decimal("0.01"),
                                      average_price=Decimal("20000"))

    everything = client.list_orders()
    open_btc = client.list_orders(status="OPEN", symbol="BTCUSDT")
    filled = client.list_orders(status="FILLED")
    paged = client.list_orders(limit=None)
    first_page = client.list_orders(limit=2)

    assert [o["order_id"] for o in everything] == [eth, *reversed(ids)]
    assert [o["order_id"] for o in open_btc] == list(reversed(ids[1:]))
    assert [o["order_id"] for o in filled] == [ids[0]]
    assert [o["order_id"] for o in paged] == [o["order_id"] for o in everything]
    assert [o["order_id"] for o in first_page] == [eth, ids[4]]


def test_list_orders_pages_with_tokens(grpc_server, funded, btcusdt):
    from proto import oms_pb2, oms_pb2_grpc
    stub = oms_pb2_grpc.OrderServiceStub(grpc.insecure_channel(grpc_server))
    ids = [factories.order_place(funded, price=Decimal(20000 + i)).id for i in range(5)]
    seen, token = [], ""
    for _ in range(5):
        page = stub.ListOrders(oms_pb2.ListOrdersRequest(limit=2, page_token=token), timeout=5)
        seen += [o.order_id for o in page.orders]
        token = page.next_page_token
        if not token:
            break

    assert seen == list(reversed(ids))


def test_cancel_waits_for_the_venue_then_reports_the_state(client, funded, btcusdt, settings):
    order = factories.order_place(funded)
    services.order_apply_venue_update(order_id=order.id, status="NEW", exchange_order_id="E1")

    pending = client.cancel_order(order.id)
    services.order_apply_venue_update(order_id=order.id, status="CANCELLED", reason="cancelled by user")
    again = client.get_order(order.id)

    assert pending["status"] == "PENDING_CANCEL" and pending["order_id"] == order.id
    assert pending["cancelled_at"] is not None
    assert again["status"] == "CANCELLED"


def test_balance_is_the_ledgers(client, funded):
    balance = client.get_balance(exchange="binance", market="spot")

    assert balance == {
        "BTC": {"free": 1.5, "locked": 0.25, "total": 1.75, "free_decimal": Decimal("1.5"), "locked_decimal": Decimal("0.25")},
        "USDT": {"free": 10000.0, "locked": 0.0, "total": 10000.0, "free_decimal": Decimal("10000"),
                 "locked_decimal": Decimal("0")}}
    assert client.get_balance(market="futures") == {}


def test_positions_carry_mark_price_and_pnl(client, account, no_prices):
    services.positions_replace(account=account.name, positions=[
        {"symbol": "BTCUSDT", "side": "LONG", "size": "0.5", "entry_price": "100000", "mark_price": "102000",
         "unrealized_pnl": "1000", "leverage": 10, "margin": "5000"},
        {"symbol": "ETHUSDT", "side": "SHORT", "size": "2", "entry_price": "4000", "leverage": 5, "margin": "1600"},
        {"symbol": "XRPUSDT", "side": "FLAT", "size": "0", "entry_price": "0"},
    ])
    pubsub.publish_price({"exchange": "binance", "market": "futures", "symbol": "ETHUSDT", "bid_price": "3899",
                          "bid_quantity": "1", "ask_price": "3901", "ask_quantity": "1", "last_price": "3900",
                          "timestamp_ms": int(time.time() * 1000)})

    positions = {p["symbol"]: p for p in client.get_positions()}

    assert set(positions) == {"BTCUSDT", "ETHUSDT"}
    btc, eth = positions["BTCUSDT"], positions["ETHUSDT"]
    assert (btc["mark_price"], btc["unrealized_pnl"], btc["pnl_percentage"], btc["leverage"]) == (102000, 1000, 20, 10)
    assert (eth["mark_price"], eth["unrealized_pnl"], eth["pnl_percentage"]) == (3900, 200, 12.5)
