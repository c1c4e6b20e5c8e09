"""Trading states through the adapters: what REDUCING takes and HALTED still allows (cancels) is answered alike by
REST and gRPC (one rule in orders.risk), and REST reads and sets the states for staff with the permission.
(What each state refuses, REST beside gRPC: tests/orders/api/test_refusal_parity.py.)"""
from __future__ import annotations

from decimal import Decimal

import grpc
import pytest
from django.contrib.auth.models import Permission

from accounts import services as account_services
from accounts.models import Account, ControlChange
from clients.python.oms_client import OMSClient
from orders.models import Order, Status
from tests import factories
from tests.orders.api.conftest import error_of, order_acked, order_filled, token_client

pytestmark = [pytest.mark.e2e]


@pytest.fixture
def holder(grpc_server, no_prices):
    """A trader whose account `main` holds 0.05 BTC it bought (a ledger fill)."""
    user = factories.user_create(username="trader")
    factories.instrument_create()
    account = factories.account_create(name="main", member=user)
    order_filled(account, trade_id="t-1", quantity=Decimal("0.05"))
    return user


def test_reducing_takes_a_sell_of_what_is_held_through_both(grpc_server, holder):
    account_services.trading_state_set(account="main", state="REDUCING", reason="daily loss")

    rest = token_client(holder).post("/api/v1/orders/", {"account": "main", "symbol": "BTCUSDT", "side": "SELL",
                                                         "quantity": "0.02", "price": "20000"}, format="json")
    with OMSClient(grpc_server, timeout=10, token=account_services.api_token_create(user=holder)) as client:
        via_grpc = client.place_order("BTCUSDT", "SELL", "0.02", price="20000")
        with pytest.raises(grpc.RpcError) as refused:
            client.place_order("BTCUSDT", "SELL", "0.02", price="20000")

    assert rest.status_code == 201, rest.content
    assert via_grpc["status"] == Status.PENDING_NEW
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert refused.value.details() == (
        "trading_state: account 'main' is REDUCING (daily loss): only orders that reduce a position or holding are "
        "taken, and a SELL of 0.02 BTC with 0.04 on open SELL orders is more than the 0.05 BTC held")
    assert Order.objects.filter(side="SELL").count() == 2


def test_halted_still_cancels_through_both(grpc_server, holder):
    account = Account.objects.get(name="main")
    first, second = order_acked(account), order_acked(account)
    account_services.trading_state_set(state="HALTED", reason="venue incident")

    rest = token_client(holder).post(f"/api/v1/orders/{first.id}/cancel/")
    with OMSClient(grpc_server, timeout=10, token=account_services.api_token_create(user=holder)) as client:
        via_grpc = client.cancel_order(second.id)

    assert rest.status_code == 200 and rest.json()["status"] == Status.PENDING_CANCEL
    assert via_grpc["status"] == Status.PENDING_CANCEL


@pytest.fixture
def operator(db):
    user = factories.user_create(username="ops", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="set_trading_state"))
    return user


def test_rest_sets_and_reads_the_states(holder, operator):
    client = token_client(operator)

    answer = client.post("/api/v1/trading-states/", {"account": "main", "state": "REDUCING", "reason": "daily loss"},
                         format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json().pop("since") is not None
    assert {k: v for k, v in answer.json().items() if k != "since"} == {
        "account": "main", "state": "REDUCING", "reason": "daily loss", "effective_state": "REDUCING",
        "effective_scope": "account"}
    assert client.post("/api/v1/trading-states/", {"state": "HALTED", "reason": "venue incident"},
                       format="json").json()["account"] == ""

    rows = token_client(holder).get("/api/v1/trading-states/").json()  # a trader reads the states it is under
    assert [(r["account"], r["state"], r["effective_state"], r["effective_scope"]) for r in rows] == [
        ("", "HALTED", "HALTED", "global"), ("main", "REDUCING", "HALTED", "global")]
    change = ControlChange.objects.filter(what="trading_state_set", account__name="main").get()
    assert (change.user, change.after) == (operator, {"state": "REDUCING", "reason": "daily loss"})


def test_rest_refuses_without_the_permission_or_with_bad_input(holder, operator):
    denied = token_client(holder).post("/api/v1/trading-states/", {"state": "HALTED", "reason": "x"}, format="json")
    assert denied.status_code == 403
    assert error_of(denied)["code"] == "permission_denied"

    bad = token_client(operator).post("/api/v1/trading-states/", {"account": "main", "state": "PAUSED"}, format="json")
    assert bad.status_code == 400
    assert error_of(bad) == {"code": "invalid", "field": "state",
                             "message": "state must be one of ACTIVE, REDUCING, HALTED, not 'PAUSED'"}
    no_reason = token_client(operator).post("/api/v1/trading-states/", {"state": "HALTED"}, format="json")
    assert error_of(no_reason)["field"] == "reason"
    assert not ControlChange.objects.filter(what="trading_state_set").exists()


def test_reducing_futures_is_answered_alike_by_both(grpc_server, holder):
    """A long of 0.5 from the ledger's fills: a SELL within it is taken, a BUY refused, by REST and gRPC alike."""
    factories.instrument_create(market="futures", tick_size="0.1", step_size="0.001", min_quantity="0.001",
                                min_notional="100")
    order_filled(Account.objects.get(name="main"), trade_id="t-f", market="futures", quantity=Decimal("0.5"))
    account_services.trading_state_set(state="REDUCING", reason="month end")
    body = {"account": "main", "symbol": "BTCUSDT", "market": "futures", "quantity": "0.2", "price": "20000"}

    rest_sell = token_client(holder).post("/api/v1/orders/", {**body, "side": "SELL"}, format="json")
    rest_buy = token_client(holder).post("/api/v1/orders/", {**body, "side": "BUY"}, format="json")
    with OMSClient(grpc_server, timeout=10, token=account_services.api_token_create(user=holder)) as client:
        grpc_sell = client.place_order("BTCUSDT", "SELL", "0.2", price="20000", market="futures")
        with pytest.raises(grpc.RpcError) as grpc_buy:
            client.place_order("BTCUSDT", "BUY", "0.2", price="20000", market="futures")

    assert rest_sell.status_code == 201 and grpc_sell["status"] == Status.PENDING_NEW
    assert rest_buy.status_code == 409
    refusal = error_of(rest_buy)
    assert refusal["message"] == ("trading is globally REDUCING (month end): only orders that reduce a position or "
                                  "holding are taken, and a BUY would add to the long of 0.5 BTCUSDT")
    assert grpc_buy.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert grpc_buy.value.details() == f"trading_state: {refusal['message']}"
