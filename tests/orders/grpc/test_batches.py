"""PlaceOrders, CancelOrders and CancelAllOrders against the real ledger, through the Python SDK: each order on its
own, a result per order carrying the error the single RPC would raise, and batches outside 1..50 refused whole."""
from decimal import Decimal

import grpc
import pytest

from orders import services
from orders.models import Order
from tests import factories


@pytest.fixture(autouse=True)
def short_wait(settings):
    settings.OMS_PLACE_WAIT_SECONDS = 0.3


def buy(price="20000", **extra):
    return {"symbol": "BTCUSDT", "side": "BUY", "quantity": "0.001", "price": price, **extra}


# Five refusals, each of another rule, at known places in a batch of 50.
REFUSED = {
    3: (buy(price="20000.005"), "price"),          # off the tick
    11: (buy(quantity="0.0000001"), "quantity"),   # under the step
    22: (buy(symbol="NOPEUSDT"), "symbol"),
    37: (buy(side="HOLD"), "side"),
    48: (buy(quantity="-1"), "quantity"),          # refused by the edge's reading, as PlaceOrder refuses it
}


def single_error(client, order: dict) -> tuple[str, str]:
    with pytest.raises(grpc.RpcError) as err:
        client.place_order(**order)
    return err.value.code().name, err.value.details()


def test_a_batch_of_50_with_5_refused_places_the_45_others(client, funded, btcusdt):
    orders = [REFUSED[i][0] if i in REFUSED else buy(price=str(20000 + i), client_order_id=f"b50-{i}")
              for i in range(50)]

    result = client.place_orders(orders)

    assert (result["accepted"], result["refused"]) == (45, 5)
    assert [r["index"] for r in result["results"]] == list(range(50))
    refused = {r["index"]: r["error"] for r in result["results"] if not r["ok"]}
    assert set(refused) == set(REFUSED)
    for index, (order, field) in REFUSED.items():
        assert refused[index]["field"] == field
        assert (refused[index]["code"], refused[index]["message"]) == single_error(client, order)
    placed = Order.objects.order_by("price")
    assert [o.client_order_id for o in placed] == [f"b50-{i}" for i in range(50) if i not in REFUSED]
    assert {r["order"]["order_id"] for r in result["results"] if r["ok"]} == {o.id for o in placed}
    assert all(o.status == "PENDING_NEW" for o in placed)


def test_51_orders_or_none_are_refused_whole_and_nothing_is_written(client, funded, btcusdt):
    for orders, says in (([buy(price=str(20000 + i)) for i in range(51)], "at most 50 orders, got 51"),
                         ([], "1 to 50 orders, got none")):
        with pytest.raises(grpc.RpcError) as err:
            client.place_orders(orders)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert err.value.details().startswith("orders: ") and says in err.value.details()
    assert not Order.objects.exists()


def test_a_client_order_id_twice_in_a_batch_places_one_order_and_a_retry_returns_it(client, funded, btcusdt):
    orders = [buy(client_order_id="dup-1"), buy(price="20001", client_order_id="dup-2"),
              buy(price="20002", client_order_id="dup-1")]

    first = client.place_orders(orders)
    again = client.place_orders(orders)

    for result in (first, again):
        assert [r["ok"] for r in result["results"]] == [True, True, False]
        assert result["results"][2]["error"]["field"] == "client_order_id"
        assert "already used by order 0 of this batch" in result["results"][2]["error"]["message"]
    assert [r["order"]["order_id"] for r in again["results"][:2]] == [r["order"]["order_id"] for r in first["results"][:2]]
    assert Order.objects.count() == 2


def test_cancel_batch_answers_each_id(client, funded, btcusdt):
    working = factories.order_place(funded)
    services.order_apply_venue_update(order_id=working.id, status="NEW", exchange_order_id="E1")
    done = factories.order_place(funded, price=Decimal("20001"))
    services.order_apply_venue_update(order_id=done.id, status="CANCELLED", exchange_order_id="E2")

    result = client.cancel_orders([working.id, "no-such-order", done.id, ""])

    assert (result["accepted"], result["refused"]) == (1, 3)
    ok, missing, closed, blank = result["results"]
    assert ok["order"]["order_id"] == working.id and ok["order"]["status"] == "PENDING_CANCEL"
    assert (missing["error"]["code"], missing["error"]["field"]) == ("NOT_FOUND", "order_id")
    assert (closed["error"]["code"], closed["error"]["field"]) == ("FAILED_PRECONDITION", "order_id")
    assert (blank["error"]["code"], blank["error"]["message"]) == ("INVALID_ARGUMENT", "order_id: is required")
    with pytest.raises(grpc.RpcError) as err:
        client.cancel_order("no-such-order")
    assert (err.value.code().name, err.value.details()) == (missing["error"]["code"], missing["error"]["message"])
    with pytest.raises(grpc.RpcError) as err:
        client.cancel_orders([working.id] * 51)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and err.value.details().startswith("order_ids: ")


def test_cancel_all_cancels_the_accounts_working_orders_of_the_symbol(client, funded, btcusdt):
    factories.instrument_create(symbol="ETHUSDT")
    btc = [factories.order_place(funded, price=Decimal(20000 + i)) for i in range(3)]
    eth = factories.order_place(funded, symbol="ETHUSDT", price=Decimal("2000"))
    services.order_apply_venue_update(order_id=btc[2].id, status="FILLED", filled_quantity=btc[2].quantity)

    cancelled = client.cancel_all_orders(account_id="main", symbol="BTCUSDT")

    assert sorted(o["order_id"] for o in cancelled) == sorted(o.id for o in btc[:2])
    assert {o["status"] for o in cancelled} == {"PENDING_CANCEL"}
    assert Order.objects.get(pk=eth.id).status == "PENDING_NEW"
    with pytest.raises(grpc.RpcError) as err:
        client.cancel_all_orders(account_id="main", exchange="kraken")
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and err.value.details().startswith("exchange: ")
    with pytest.raises(grpc.RpcError) as err:
        client.cancel_all_orders(account_id="someone-else")
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
