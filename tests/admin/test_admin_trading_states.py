"""Trading states on the overview: shown beside the kill switch and per account (the state that governs it), changed
only with a confirmation, through accounts.services, recorded with the operator."""
from __future__ import annotations

import pytest

from accounts import services as account_services
from accounts.models import Account, ControlChange, TradingSwitch
from tests import factories
from tests.admin.test_admin_overview import OVERVIEW, row_of

STATE_URL = "/admin/overview/trading-state/"


@pytest.fixture
def account(db):
    factories.instrument_create()
    return factories.account_create(name="main")


def test_the_global_state_needs_a_confirmation_and_is_recorded(admin_as, operator, account):
    client = admin_as(operator)
    client.post(STATE_URL, {"state": "HALTED", "reason": "venue incident"})
    assert TradingSwitch.current().trading_state == "ACTIVE"

    page = client.post(STATE_URL, {"state": "HALTED", "reason": "venue incident", "confirm": "yes"},
                       follow=True).content.decode()

    assert TradingSwitch.current().trading_state == "HALTED"
    change = ControlChange.objects.get(what="trading_state_set")
    assert (change.user, change.account, change.after) == (operator, None,
                                                           {"state": "HALTED", "reason": "venue incident"})
    assert 'id="trading-state-global">HALTED</span>' in page and "venue incident" in page
    # the account row shows the state that governs it: the global one
    assert 'title="venue incident">HALTED</span> <span class="quiet">(global; own ACTIVE)' in row_of(page, "main", "spot")


def test_an_accounts_state_is_set_on_its_row(admin_as, operator, account):
    client = admin_as(operator)
    page = client.post(STATE_URL, {"account": account.pk, "state": "REDUCING", "reason": "daily loss",
                                   "confirm": "yes"}, follow=True).content.decode()

    assert Account.objects.get(pk=account.pk).trading_state == "REDUCING"
    assert ControlChange.objects.get(what="trading_state_set").account == account
    assert 'title="daily loss">REDUCING</span>' in row_of(page, "main", "spot")


def test_a_refusal_is_shown_and_changes_nothing(admin_as, operator, account):
    page = admin_as(operator).post(STATE_URL, {"account": account.pk, "state": "HALTED", "confirm": "yes"},
                                   follow=True).content.decode()
    assert "Refused (main): a reason is required to move to HALTED" in page
    assert not ControlChange.objects.filter(what="trading_state_set").exists()


def test_without_the_permission_there_is_no_form_and_no_change(admin_as, viewer, account):
    client = admin_as(viewer)
    page = client.get(OVERVIEW).content.decode()
    assert 'id="trading-state-form"' not in page and 'class="account-state-form"' not in page
    assert client.post(STATE_URL, {"state": "HALTED", "reason": "x", "confirm": "yes"}).status_code == 403
    account_services.trading_state_set(state="REDUCING", reason="set at the shell")
    assert 'id="trading-state-global">REDUCING</span>' in client.get(OVERVIEW).content.decode()
