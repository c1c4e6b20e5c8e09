"""POST /api/v1/orders/ (with Idempotency-Key), /orders/{id}/cancel/, /orders/cancel-all/."""
from __future__ import annotations

from decimal import Decimal

from accounts import services as account_services
from accounts.models import AccountMember
from orders.models import IdempotencyKey, Order, OrderEvent
from tests import factories
from tests.orders.api.conftest import error_of, order_acked

URL = "/api/v1/orders/"
BODY = {"account": "acct-a", "symbol": "BTCUSDT", "side": "BUY", "quantity": "0.01", "price": "20000"}


def test_place_returns_the_pending_order(client_a, acct_a):
    response = client_a.post(URL, {**BODY, "client_order_id": "c-1"}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    order = Order.objects.get(pk=body["id"])
    assert (order.account, order.client_order_id, order.quantity, order.price) == (acct_a, "c-1", Decimal("0.01"),
                                                                                   Decimal("20000"))
    assert body["status"] == "PENDING_NEW" and order.created_by.username == "alice"
    assert OrderEvent.objects.get(order=order).source == "api"


def test_same_idempotency_key_twice_places_one_order(client_a, acct_a):
    first = client_a.post(URL, BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = client_a.post(URL, {**BODY, "quantity": "0.010"}, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1


def test_same_key_with_another_body_is_409_and_places_nothing(client_a, acct_a):
    first = client_a.post(URL, BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-2")

    response = client_a.post(URL, {**BODY, "quantity": "0.02"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")

    assert response.status_code == 409
    assert error_of(response) == {"code": "conflict", "field": "Idempotency-Key",
                                  "message": "this Idempotency-Key was already used with a different request body"}
    assert list(Order.objects.values_list("pk", flat=True)) == [first.json()["id"]]


def test_keys_belong_to_their_user(client_a, client_b, acct_a, acct_b):
    mine = client_a.post(URL, BODY, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    theirs = client_b.post(URL, {**BODY, "account": "acct-b"}, format="json", HTTP_IDEMPOTENCY_KEY="shared")

    assert theirs.status_code == 201 and theirs.json()["id"] != mine.json()["id"]


def test_refused_placement_keeps_no_key_so_a_corrected_retry_works(client_a, acct_a):
    refused = client_a.post(URL, {**BODY, "quantity": "0.000001"}, format="json", HTTP_IDEMPOTENCY_KEY="k-3")

    assert refused.status_code == 400 and error_of(refused)["field"] == "quantity"
    assert not IdempotencyKey.objects.exists() and not Order.objects.exists()
    assert client_a.post(URL, BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-3").status_code == 201


def test_client_order_id_repeat_returns_the_existing_order(client_a, acct_a):
    first = client_a.post(URL, {**BODY, "client_order_id": "same"}, format="json").json()
    again = client_a.post(URL, {**BODY, "client_order_id": "same"}, format="json").json()

    assert again["id"] == first["id"] and Order.objects.count() == 1


def test_bad_input_names_the_field_and_changes_nothing(client_a, acct_a):
    for body, field in [({**BODY, "side": "HOLD"}, "side"), ({**BODY, "quantity": "abc"}, "quantity"),
                        ({k: v for k, v in BODY.items() if k != "symbol"}, "symbol"),
                        ({**BODY, "symbol": "NOPEUSDT"}, "symbol"), ({**BODY, "quantity": "-1"}, "quantity")]:
        response = client_a.post(URL, body, format="json")
        assert response.status_code == 400, body
        assert error_of(response)["field"] == field, response.json()
    assert not Order.objects.exists()


def test_cannot_place_on_another_users_account(client_a, acct_a, acct_b):
    response = client_a.post(URL, {**BODY, "account": "acct-b"}, format="json")

    assert response.status_code == 404
    assert not Order.objects.exists()


def test_viewer_cannot_place(client_b, bob, acct_a):
    account_services.member_add(account="acct-a", user=bob, role=AccountMember.Role.VIEWER)

    response = client_b.post(URL, BODY, format="json")

    assert response.status_code == 403 and error_of(response)["code"] == "permission_denied"
    assert not Order.objects.exists()


def test_kill_switch_refuses_with_409_and_the_reason(client_a, acct_a):
    account_services.kill_switch_set(on=True, reason="venue incident")

    response = client_a.post(URL, BODY, format="json")

    assert response.status_code == 409
    assert error_of(response) == {"code": "failed_precondition", "field": "kill_switch",
                                  "message": "trading is halted by the kill switch: venue incident"}
    assert not Order.objects.exists()


def test_cancel_moves_the_order_to_pending_cancel(client_a, acct_a):
    order = order_acked(acct_a)

    response = client_a.post(f"{URL}{order.id}/cancel/")

    assert response.status_code == 200
    assert response.json()["status"] == "PENDING_CANCEL"
    assert OrderEvent.objects.filter(order=order).last().to_status == "PENDING_CANCEL"


def test_cancel_a_terminal_order_is_409(client_a, acct_a):
    from tests.orders.api.conftest import order_filled

    order = order_filled(acct_a, trade_id="t-9")

    response = client_a.post(f"{URL}{order.id}/cancel/")

    assert response.status_code == 409 and error_of(response)["code"] == "failed_precondition"
    order.refresh_from_db()
    assert order.status == "FILLED"


def test_cannot_cancel_another_accounts_order(client_a, acct_a, acct_b):
    theirs = order_acked(acct_b)

    response = client_a.post(f"{URL}{theirs.id}/cancel/")

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "NEW"


def test_cancel_all_for_an_account_and_a_symbol(client_a, acct_a, acct_b, alice):
    factories.instrument_create(symbol="ETHUSDT")
    btc = [order_acked(acct_a), order_acked(acct_a, price=Decimal("20001"))]
    eth = order_acked(acct_a, symbol="ETHUSDT", price=Decimal("1000"))
    theirs = order_acked(acct_b)

    response = client_a.post(f"{URL}cancel-all/", {"account": "acct-a", "symbol": "BTCUSDT"}, format="json")

    assert response.status_code == 200
    assert sorted(o["id"] for o in response.json()["orders"]) == sorted(o.id for o in btc)
    assert dict(Order.objects.values_list("pk", "status")) == {
        btc[0].pk: "PENDING_CANCEL", btc[1].pk: "PENDING_CANCEL", eth.pk: "NEW", theirs.pk: "NEW"}


def test_cancel_all_needs_an_account_or_symbol(client_a, acct_a):
    order = order_acked(acct_a)

    response = client_a.post(f"{URL}cancel-all/", {}, format="json")

    assert response.status_code == 400 and error_of(response)["field"] == "account"
    order.refresh_from_db()
    assert order.status == "NEW"


def test_cancel_all_on_another_users_account_is_404(client_a, acct_a, acct_b):
    theirs = order_acked(acct_b)

    response = client_a.post(f"{URL}cancel-all/", {"account": "acct-b"}, format="json")

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "NEW"


def test_amounts_are_ascii_digits_with_one_point(client_a, acct_a):
    """Decimal() reads other scripts' digits, underscores and exponents; an amount on the wire is none of those."""
    for field, text in [("quantity", "٠.٠١"), ("quantity", "0.0_1"), ("quantity", "1e-2"), ("quantity", "０.01"),
                        ("price", "２0000"), ("price", "20_000"), ("price", "2E4"), ("quantity", "0.0.1")]:
        response = client_a.post(URL, {**BODY, field: text}, format="json")
        assert response.status_code == 400, (field, text, response.json())
        error = error_of(response)
        assert error["field"] == field and "ASCII digits" in error["message"], error
    assert not Order.objects.exists()


def test_amounts_as_json_numbers_still_place(client_a, acct_a):
    response = client_a.post(URL, {**BODY, "quantity": 0.01, "price": 20000}, format="json")

    assert response.status_code == 201, response.json()
    assert Order.objects.get().quantity == Decimal("0.01")


def test_client_order_ids_refuse_control_and_bidirectional_characters(client_a, acct_a):
    for text in ("a\x1b[31mb", "a\rb", "abc\u202edef", "\u2067x"):
        response = client_a.post(URL, {**BODY, "client_order_id": text}, format="json")
        assert response.status_code == 400, (text, response.json())
        error = error_of(response)
        assert error["field"] == "client_order_id" and "character" in error["message"], error
    assert not Order.objects.exists()


def test_a_stop_limit_is_placed_with_its_stop_price_and_shown_armed(client_a, acct_a):
    response = client_a.post(URL, {**BODY, "side": "SELL", "order_type": "STOP_LIMIT", "price": "18900",
                                   "stop_price": "19000"}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["order_type"], body["price"], body["stop_price"], body["triggered_at"]) == (
        "STOP_LIMIT", "18900", "19000", None)
    order = Order.objects.get(pk=body["id"])
    assert (order.order_type, order.stop_price, order.time_in_force) == ("STOP_LIMIT", Decimal("19000"), "GTC")


def test_conditional_refusals_name_the_field_and_change_nothing(client_a, acct_a):
    for body, field in [({**BODY, "order_type": "STOP_MARKET", "price": None}, "stop_price"),
                        ({**BODY, "order_type": "STOP_LIMIT", "price": None, "stop_price": "19000"}, "price"),
                        ({**BODY, "stop_price": "19000"}, "stop_price"),
                        ({**BODY, "order_type": "TAKE_PROFIT_MARKET", "price": None, "stop_price": "19000.001"},
                         "stop_price")]:
        response = client_a.post(URL, body, format="json")
        assert response.status_code == 400, body
        assert error_of(response)["field"] == field, response.json()
    assert not Order.objects.exists()
