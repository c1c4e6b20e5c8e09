"""Accounts and controls in the admin: write-only credentials, audited enable/disable, risk limits,
the kill switch, API tokens, and the read-only synced rows."""
from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.models import Account, ApiToken, Balance, ControlChange, Credential, RiskLimit, TradingSwitch
from oms_project.celery import app as celery_app
from orders import services as order_services
from orders.models import Order
from tests import factories
from tests.orders.api.conftest import order_acked, token_client

SECRET, API_KEY = "very-secret-value-9876", "api-key-abcd1234"


@pytest.fixture
def account(db):
    factories.instrument_create()
    return factories.account_create(name="main")


def test_create_account_goes_through_the_service_and_is_recorded(admin_as, operator):
    response = admin_as(operator).post("/admin/accounts/account/add/", {
        "name": "desk-1", "exchange": "Binance", "base_url": "", "credential-TOTAL_FORMS": 0,
        "credential-INITIAL_FORMS": 0, "members-TOTAL_FORMS": 0, "members-INITIAL_FORMS": 0}, follow=True)

    assert response.status_code == 200
    account = Account.objects.get(name="desk-1")
    assert account.exchange == "binance"  # normalised by the service
    change = ControlChange.objects.get(what="account_create")
    assert (change.user, change.account) == (operator, account)


def test_credentials_are_write_only(admin_as, operator, account):
    client = admin_as(operator)

    client.post("/admin/accounts/credential/add/", {"account": account.pk, "api_key": API_KEY, "secret": SECRET})

    cred = Credential.objects.get(account=account)
    assert cred.decrypted() == {"apiKey": API_KEY, "secret": SECRET}
    assert ControlChange.objects.get(what="credential_set").user == operator
    pages = [client.get(url).content.decode() for url in (
        f"/admin/accounts/credential/{cred.pk}/change/", "/admin/accounts/credential/",
        f"/admin/accounts/account/{account.pk}/change/", "/admin/accounts/account/",
        f"/admin/accounts/credential/{cred.pk}/history/")]
    for page in pages:
        for hidden in (SECRET, API_KEY, cred.secret_encrypted, cred.api_key_encrypted):
            assert hidden not in page
    assert "…1234" in pages[0] and "…1234" in pages[2]
    assert "last changed" in pages[2]


def test_replacing_credentials_keeps_one_row_with_the_new_secret(admin_as, operator, account):
    client = admin_as(operator)
    client.post("/admin/accounts/credential/add/", {"account": account.pk, "api_key": API_KEY, "secret": SECRET})
    cred = Credential.objects.get(account=account)

    client.post(f"/admin/accounts/credential/{cred.pk}/change/", {"api_key": "new-key-5555", "secret": "new-secret"})

    assert Credential.objects.get().decrypted() == {"apiKey": "new-key-5555", "secret": "new-secret"}


def test_blank_secret_is_refused_and_nothing_changes(admin_as, operator, account):
    response = admin_as(operator).post("/admin/accounts/credential/add/", {"account": account.pk, "api_key": API_KEY,
                                                                           "secret": ""})

    assert response.status_code == 200 and "This field is required" in response.content.decode()
    assert not Credential.objects.exists()


def test_disable_with_reason_is_recorded_and_blocks_placement(admin_as, operator, account):
    form = {"sandbox": "", "base_url": "", "enabled": "", "disabled_reason": "key rotated",
            "credential-TOTAL_FORMS": 0, "credential-INITIAL_FORMS": 0, "members-TOTAL_FORMS": 0,
            "members-INITIAL_FORMS": 0}

    admin_as(operator).post(f"/admin/accounts/account/{account.pk}/change/", form)

    account.refresh_from_db()
    assert (account.enabled, account.disabled_reason) == (False, "key rotated")
    change = ControlChange.objects.get(what="account_set_enabled")
    assert change.user == operator and change.after == {"enabled": False, "disabled_reason": "key rotated"}
    with pytest.raises(Exception, match="disabled"):
        factories.order_place(account)


def test_viewer_cannot_disable_an_account(admin_as, viewer, account):
    client = admin_as(viewer)

    client.post("/admin/accounts/account/", {"action": "disable_trading", "_selected_action": [account.pk]})

    account.refresh_from_db()
    assert account.enabled and not ControlChange.objects.filter(what="account_set_enabled").exists()


def test_test_connectivity_queues_a_check(admin_as, operator, account):
    with celery_app.connection_for_write() as connection:
        connection.default_channel.queue_purge("sync")

    response = admin_as(operator).post("/admin/accounts/account/", {
        "action": "test_connectivity", "_selected_action": [account.pk]}, follow=True)

    assert [m.message for m in response.context["messages"]] == [
        "main: connectivity check queued; a refused key disables the account with the venue's reason"]
    with celery_app.connection_for_write() as connection:
        message = connection.default_channel.basic_get("sync")
        connection.default_channel.queue_purge("sync")
    assert message.headers["task"] == "orders.tasks.account_startup_sync"
    assert message.headers["argsrepr"] == f"[{account.pk}]"


def test_kill_switch_with_cancel_all_is_recorded_and_refuses_new_orders(admin_as, operator, account):
    working = order_acked(account)
    client = admin_as(operator)
    client.get("/admin/accounts/tradingswitch/")  # the single row exists from the first look

    client.post("/admin/accounts/tradingswitch/1/change/", {"kill_switch": "on", "reason": "venue incident",
                                                            "cancel_open_orders": "on"})

    switch = TradingSwitch.objects.get()
    assert (switch.kill_switch, switch.reason, switch.updated_by) == (True, "venue incident", operator)
    assert ControlChange.objects.get(what="kill_switch_set").user == operator
    working.refresh_from_db()
    assert working.status == "PENDING_CANCEL"
    with pytest.raises(Exception, match="kill switch: venue incident"):
        factories.order_place(account, price=Decimal("20001"))


def test_control_changes_are_read_only(admin_as, operator, account):
    client = admin_as(operator)
    client.get("/admin/accounts/tradingswitch/")
    client.post("/admin/accounts/tradingswitch/1/change/", {"kill_switch": "", "reason": "check"})
    change = ControlChange.objects.get(what="kill_switch_set")

    page = client.get(f"/admin/accounts/controlchange/{change.pk}/change/").content.decode()

    assert 'name="_save"' not in page
    assert client.post(f"/admin/accounts/controlchange/{change.pk}/delete/", {"post": "yes"}).status_code == 403


def test_risk_limit_set_in_the_admin_refuses_a_rest_order(admin_as, operator, account):
    trader = factories.user_create(username="trader")
    factories.account_create(name="other")
    from accounts import services as account_services
    account_services.member_add(account="main", user=trader)

    admin_as(operator).post("/admin/accounts/risklimit/add/", {
        "account": account.pk, "max_order_notional": "100", "allowed_symbols": "btcusdt, ETH/USDT"})

    limit = RiskLimit.objects.get(account=account)
    assert (limit.max_order_notional, limit.allowed_symbols, limit.updated_by) == (Decimal("100"), ["BTCUSDT", "ETHUSDT"],
                                                                                 operator)
    assert ControlChange.objects.get(what="risk_limit_update").user == operator
    response = token_client(trader).post("/api/v1/orders/", {
        "account": "main", "symbol": "BTCUSDT", "side": "BUY", "quantity": "0.01", "price": "20000"}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["message"] == "order value 200 USDT exceeds max_order_notional 100 USDT"
    assert not Order.objects.exists()


def test_api_token_is_shown_once_on_its_own_page(admin_as, operator):
    from django.contrib.auth.models import Permission

    operator.user_permissions.add(Permission.objects.get(codename="issue_token_for_others"))
    owner = factories.user_create(username="bot")

    response = admin_as(operator).post("/admin/accounts/apitoken/add/", {"user": owner.pk, "name": "grafana"})

    token = response.context["token"]
    assert token in response.content.decode() and ApiToken.objects.get().user == owner
    assert token_client_with(token).get("/api/v1/accounts/").status_code == 200
    assert token not in admin_as(operator).get("/admin/accounts/apitoken/").content.decode()


def token_client_with(token: str):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_balances_are_read_only_with_last_sync_and_sync_now(admin_as, operator, account):
    order_services.balances_replace(account="main", market="spot", balances=[
        {"asset": "USDT", "free": Decimal("10"), "locked": Decimal("0")}])
    balance = Balance.objects.get()
    client = admin_as(operator)

    page = client.get("/admin/accounts/balance/").content.decode()
    response = client.post("/admin/accounts/balance/", {"action": "sync_now", "_selected_action": [balance.pk]},
                           follow=True)

    assert "Last sync" in page
    assert 'name="_save"' not in client.get(f"/admin/accounts/balance/{balance.pk}/change/").content.decode()
    assert [m.message for m in response.context["messages"]] == ["main: sync queued"]
    with celery_app.connection_for_write() as connection:
        connection.default_channel.queue_purge("sync")


def test_membership_added_inline_goes_through_the_service_and_is_recorded(admin_as, operator, account):
    member = factories.user_create(username="newdesk")
    form = {"sandbox": "", "base_url": "", "enabled": "on", "disabled_reason": "",
            "credential-TOTAL_FORMS": 0, "credential-INITIAL_FORMS": 0,
            "members-TOTAL_FORMS": 1, "members-INITIAL_FORMS": 0, "members-0-user": member.pk,
            "members-0-role": "viewer"}

    admin_as(operator).post(f"/admin/accounts/account/{account.pk}/change/", form)

    assert list(account.members.values_list("user__username", "role")) == [("newdesk", "viewer")]
    change = ControlChange.objects.get(what="member_add")
    assert (change.user, change.after) == (operator, {"user": "newdesk", "role": "viewer"})


def test_the_account_page_shows_each_user_data_stream_as_the_workers_report_it(admin_as, operator, account):
    from exchanges import stream_state

    # given the spot stream held and live, the futures one down after a reconnect
    stream_state.forget(account.pk)
    stream_state.record(account.pk, "spot", state="live", event=True, holder="worker-a:41")
    stream_state.set_live(account.pk, "spot", True)
    stream_state.record(account.pk, "futures", state="down", reconnect=True)
    try:
        # when an operator opens the account
        page = admin_as(operator).get(f"/admin/accounts/account/{account.pk}/change/").content.decode()
        # then both streams are there with their state, holder and reconnects
        assert "<strong>spot</strong>: live (live) since" in page and "held by worker-a:41" in page
        assert "<strong>futures</strong>: down since" in page and "1 reconnects" in page
    finally:
        stream_state.forget(account.pk)
