"""Exchange credentials never leave the vault: a whole placement flow (gRPC, REST, the worker, a lost answer,
reconciliation, the admin) runs with known test secrets, and none of them shows up in the logs (every logger
at DEBUG), admin HTML, API responses, error messages or the reconcile report."""
from __future__ import annotations

import io
import logging

import grpc
import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import Account, Credential
from exchanges.gateway import gateway_for
from execution import venue_orders
from orders.models import Order, OrderEvent, Status
from proto import oms_pb2, oms_pb2_grpc
from tests import factories
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e]

API_KEY, SECRET = "faults-key-7Qx2hLmV9c", "faults-secret-Zr84TnWq1e"


@pytest.fixture
def everything_logged(caplog, monkeypatch):
    """caplog hears every logger at DEBUG, including those that do not propagate to the root."""
    caplog.set_level(logging.DEBUG)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger):
            caplog.set_level(logging.DEBUG, logger=name)
            if not logger.propagate:
                monkeypatch.setattr(logger, "propagate", True)
    return caplog


def _assert_no_secret(text: str, where: str) -> None:
    for secret in (API_KEY, SECRET):
        assert secret not in text, f"{secret!r} leaked into {where}"


def test_a_placement_flow_never_shows_the_credentials(venue, venue_account, grpc_server, admin_client,
                                                      everything_logged, settings):
    settings.OMS_PLACE_WAIT_SECONDS = 5
    venue.control.add_key(API_KEY, SECRET)
    venue.control.fund(API_KEY, "spot", "USDT", 100000)
    venue.control.fund(API_KEY, "spot", "BTC", 1)
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    account_services.credential_set(account="main", api_key=API_KEY, secret=SECRET)
    venue_orders.account_sync(venue_account.pk)
    trader = factories.user_create(username="secret-trader")
    account_services.member_add(account="main", user=trader)
    token = account_services.api_token_create(user=trader)
    seen: list[str] = []

    # gRPC: a MARKET order that fills, and a resting LIMIT order whose answer is dropped (looked up after).
    stub = oms_pb2_grpc.OrderServiceStub(grpc.insecure_channel(grpc_server))
    auth = [("authorization", f"Bearer {token}")]
    filled = stub.PlaceOrder(oms_pb2.PlaceOrderRequest(account_id="main", symbol="BTCUSDT", side="BUY",
                                                       order_type="MARKET", quantity_decimal="0.01"),
                             metadata=auth, timeout=15)
    wait_until(lambda: Order.objects.filter(pk=filled.order.order_id, status=Status.FILLED).exists(), what="FILLED")
    venue.control.set_faults(drop_response_count=1, endpoints=["POST /api/v3/order"])
    resting = stub.PlaceOrder(oms_pb2.PlaceOrderRequest(account_id="main", symbol="BTCUSDT", side="BUY",
                                                        order_type="LIMIT", quantity_decimal="0.01",
                                                        price_decimal="90000"), metadata=auth, timeout=15)
    wait_until(lambda: Order.objects.filter(pk=resting.order.order_id, status=Status.NEW).exists(), what="NEW")
    seen += [str(filled), str(resting)]
    seen.append(str(stub.ListOrders(oms_pb2.ListOrdersRequest(), metadata=auth, timeout=5)))
    seen.append(str(stub.GetBalance(oms_pb2.GetBalanceRequest(account_id="main"), metadata=auth, timeout=5)))
    with pytest.raises(grpc.RpcError) as refused:
        stub.PlaceOrder(oms_pb2.PlaceOrderRequest(account_id="main", symbol="BTCUSDT", side="BUY",
                                                  order_type="LIMIT", quantity_decimal="-1", price_decimal="1"),
                        metadata=auth, timeout=5)
    seen.append(refused.value.details())

    # REST: every read a trader makes.
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    for url in ("/api/v1/accounts/", "/api/v1/orders/", f"/api/v1/orders/{filled.order.order_id}/",
                "/api/v1/fills/", "/api/v1/balances/", "/api/v1/summary/"):
        response = client.get(url)
        assert response.status_code == 200, (url, response.content)
        seen.append(response.content.decode())

    # Reconciliation, plain and JSON.
    for args in ((), ("--json",)):
        out = io.StringIO()
        try:
            call_command("reconcile", "--account", "main", "--settle", "0", *args, stdout=out, stderr=out)
        except SystemExit as exit_:  # 1: drift found (a balance sync may still be on its way); 2 would be an error
            assert exit_.code == 1, out.getvalue()
        seen.append(out.getvalue())

    account = Account.objects.get(name="main")
    seen += [str(e.payload) for e in OrderEvent.objects.all()] + [o.reason for o in Order.objects.all()]

    # The admin pages of the account, its credential and its orders.
    credential = Credential.objects.get(account=account)
    for url in (f"/admin/accounts/account/{account.pk}/change/", "/admin/accounts/credential/",
                f"/admin/accounts/credential/{credential.pk}/change/", "/admin/orders/order/",
                f"/admin/orders/order/{filled.order.order_id}/change/"):
        response = admin_client.get(url, secure=True)
        assert response.status_code == 200, url
        seen.append(response.content.decode())

    # Objects that reach tracebacks and debuggers.
    gateway = gateway_for(account)
    seen += [repr(gateway), str(gateway), repr(credential), str(credential)]

    logged = everything_logged.text + "".join(f"{r.msg}{r.args}{r.exc_text or ''}" for r in everything_logged.records)
    assert everything_logged.records  # the flow did log
    _assert_no_secret(logged, "the logs")
    for index, text in enumerate(seen):
        _assert_no_secret(text, f"output #{index}: {text[:200]}")
