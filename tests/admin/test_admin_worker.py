"""Admin actions that reach the venue through a real worker: connectivity check and sync now."""
from __future__ import annotations

import pytest

from accounts import services as account_services
from accounts.models import Account, Balance
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e]


def test_connectivity_check_with_a_refused_key_disables_the_account(admin_as, operator, venue_account):
    account_services.credential_set(account="main", api_key="not-a-venue-key", secret="wrong")

    response = admin_as(operator).post("/admin/accounts/account/", {
        "action": "test_connectivity", "_selected_action": [venue_account.pk]}, follow=True)

    assert [m.message for m in response.context["messages"]] == [
        "main: connectivity check queued; a refused key disables the account with the venue's reason"]
    account = wait_until(lambda: Account.objects.filter(pk=venue_account.pk, enabled=False).first(),
                         what="account disabled by the worker")
    assert account.disabled_reason.startswith("venue refused the API key")


def test_connectivity_check_with_a_good_key_leaves_the_account_enabled_and_synced(admin_as, operator, venue_account):
    Balance.objects.filter(account=venue_account).delete()

    admin_as(operator).post("/admin/accounts/account/", {"action": "test_connectivity",
                                                         "_selected_action": [venue_account.pk]})

    wait_until(lambda: Balance.objects.filter(account=venue_account, asset="USDT").exists(), what="balances synced")
    assert Account.objects.get(pk=venue_account.pk).enabled


def test_sync_now_on_balances_refreshes_them_from_the_venue(admin_as, operator, venue_account):
    usdt = Balance.objects.get(account=venue_account, market="spot", asset="USDT")
    venue_total = usdt.total
    Balance.objects.filter(pk=usdt.pk).update(free=0, locked=0)  # the ledger drifted

    admin_as(operator).post("/admin/accounts/balance/", {"action": "sync_now", "_selected_action": [usdt.pk]})

    assert wait_until(lambda: Balance.objects.filter(account=venue_account, market="spot",
                                         asset="USDT", free__gt=0).first(), what="resynced").total == venue_total
