"""POST /api/v1/orders/batch/ and /orders/cancel-batch/: each order on its own through the single-order services, a
result per order with the status and error body its single call would answer, 200 when all went through, 207
when some were refused, 400 for a batch outside 1..50 (nothing written); and both in the OpenAPI schema."""
from __future__ import annotations

from decimal import Decimal

from orders.models import Order
from tests.orders.api.conftest import error_of, order_acked

URL = "/api/v1/orders/"
BODY = {"account": "acct-a", "symbol": "BTCUSDT", "side": "BUY", "quantity": "0.01", "price": "20000"}

REFUSED = {  # index in the batch -> (order, field the refusal names)
    1: ({**BODY, "price": "20000.001"}, "price"),       # off the tick (the service)
    4: ({**BODY, "side": "HOLD"}, "side"),               # not a side (the serializer)
    6: ({k: v for k, v in BODY.items() if k != "quantity"}, "quantity"),  # missing
    7: ({**BODY, "account": "acct-b"}, "account_id"),    # another user's account: not found (as the service names it)
    9: ({**BODY, "symbol": "NOPEUSDT"}, "symbol"),
}


def test_a_batch_places_each_order_on_its_own_and_answers_207_with_the_single_calls_errors(client_a, acct_a, acct_b):
    orders = [REFUSED[i][0] if i in REFUSED else {**BODY, "price": str(20000 + i), "client_order_id": f"r-{i}"}
              for i in range(10)]

    response = client_a.post(f"{URL}batch/", {"orders": orders}, format="json")

    assert response.status_code == 207, response.content
    body = response.json()
    assert (body["accepted"], body["refused"]) == (5, 5)
    assert [item["index"] for item in body["results"]] == list(range(10))
    for item in body["results"]:
        if item["index"] in REFUSED:
            order, field = REFUSED[item["index"]]
            single = client_a.post(URL, order, format="json")
            assert (item["status"], {"error": item["error"]}) == (single.status_code, single.json())
            assert item["error"]["field"] == field and "order" not in item
        else:
            assert item["status"] == 201 and item["order"]["status"] == "PENDING_NEW"
    assert sorted(Order.objects.values_list("client_order_id", flat=True)) == sorted(
        f"r-{i}" for i in range(10) if i not in REFUSED)


def test_an_all_accepted_batch_is_200_and_a_retry_returns_the_same_orders(client_a, acct_a):
    orders = [{**BODY, "price": str(20000 + i), "client_order_id": f"ok-{i}"} for i in range(3)]

    first = client_a.post(f"{URL}batch/", {"orders": orders}, format="json")
    again = client_a.post(f"{URL}batch/", {"orders": orders}, format="json")

    assert first.status_code == again.status_code == 200
    assert [r["order"]["id"] for r in again.json()["results"]] == [r["order"]["id"] for r in first.json()["results"]]
    assert Order.objects.count() == 3


def test_batches_outside_1_to_50_are_400_and_write_nothing(client_a, acct_a):
    for body, says in (({"orders": [{**BODY, "price": str(20000 + i)} for i in range(51)]}, "at most 50 orders, got 51"),
                       ({"orders": []}, "got none"), ({"orders": "all of them"}, "must be a list"), ({}, "must be a list")):
        response = client_a.post(f"{URL}batch/", body, format="json")
        assert response.status_code == 400, response.content
        assert error_of(response)["field"] == "orders" and says in error_of(response)["message"]
    assert not Order.objects.exists()


def test_an_idempotency_key_on_a_batch_is_refused_and_places_nothing(client_a, acct_a):
    response = client_a.post(f"{URL}batch/", {"orders": [BODY]}, format="json", HTTP_IDEMPOTENCY_KEY="k-batch")

    assert response.status_code == 400 and error_of(response)["field"] == "Idempotency-Key"
    assert "client_order_id" in error_of(response)["message"]
    assert not Order.objects.exists()


def test_a_client_order_id_twice_in_a_batch_refuses_the_later_one(client_a, acct_a):
    orders = [{**BODY, "client_order_id": "same"}, {**BODY, "price": "20001", "client_order_id": "same"}]

    response = client_a.post(f"{URL}batch/", {"orders": orders}, format="json")

    assert response.status_code == 207
    later = response.json()["results"][1]
    assert later["status"] == 400 and later["error"]["field"] == "client_order_id"
    assert Order.objects.get().price == Decimal("20000")


def test_cancel_batch_answers_each_id(client_a, acct_a, acct_b):
    mine = order_acked(acct_a)
    theirs = order_acked(acct_b)

    response = client_a.post(f"{URL}cancel-batch/", {"order_ids": [mine.id, theirs.id, "nope"]}, format="json")

    assert response.status_code == 207
    ok, foreign, missing = response.json()["results"]
    assert ok["status"] == 200 and ok["order"]["status"] == "PENDING_CANCEL"
    assert foreign["status"] == missing["status"] == 404 and foreign["error"]["field"] == "order_id"
    theirs.refresh_from_db()
    assert theirs.status == "NEW"
    again = client_a.post(f"{URL}cancel-batch/", {"order_ids": [mine.id]}, format="json")
    assert again.status_code == 200 and again.json()["results"][0]["order"]["status"] == "PENDING_CANCEL"
    too_many = client_a.post(f"{URL}cancel-batch/", {"order_ids": [mine.id] * 51}, format="json")
    assert too_many.status_code == 400 and error_of(too_many)["field"] == "order_ids"


def test_the_batch_endpoints_are_in_the_openapi_schema(client_a):
    paths = client_a.get("/api/schema/", {"format": "json"}).json()["paths"]

    for path in ("/api/v1/orders/batch/", "/api/v1/orders/cancel-batch/", "/api/v1/orders/cancel-all/"):
        operation = paths[path]["post"]
        assert {"200", "400"} <= set(operation["responses"])
    assert "207" in paths["/api/v1/orders/batch/"]["post"]["responses"]
