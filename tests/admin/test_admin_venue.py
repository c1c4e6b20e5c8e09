"""Where an account's signed requests go (issue 19, item 6): the admin changes an account's venue URL or sandbox
flag only through accounts.services.account_set_venue, which needs the permission 'Can change an account's venue
URL and sandbox flag' and records before and after; removing a member in the admin is recorded too."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from accounts import services
from accounts.models import Account, AccountMember, ControlChange
from infra.errors import PermissionDenied
from tests import factories

FORM = {"enabled": "on", "disabled_reason": "", "credential-TOTAL_FORMS": 0, "credential-INITIAL_FORMS": 0,
        "members-TOTAL_FORMS": 0, "members-INITIAL_FORMS": 0}


@pytest.fixture
def account(db):
    return services.account_create(name="main", exchange="binance", base_url="https://venue.example.com")


def grant_venue(user):
    user.user_permissions.add(Permission.objects.get(codename="change_account_venue"))


def test_change_account_permission_alone_cannot_move_the_venue_url(admin_as, operator, account):
    client = admin_as(operator)
    page = client.get(f"/admin/accounts/account/{account.pk}/change/").content.decode()
    assert 'name="base_url"' not in page and 'name="sandbox"' not in page  # shown, not editable

    client.post(f"/admin/accounts/account/{account.pk}/change/",
                {**FORM, "base_url": "https://attacker.example.net", "sandbox": "on"})

    account.refresh_from_db()
    assert (account.base_url, account.sandbox) == ("https://venue.example.com", False)
    assert not ControlChange.objects.filter(what="account_set_venue").exists()


def test_the_venue_permission_changes_url_and_sandbox_and_both_are_recorded(admin_as, operator, account):
    grant_venue(operator)

    admin_as(operator).post(f"/admin/accounts/account/{account.pk}/change/",
                            {**FORM, "base_url": "http://127.0.0.1:8765", "sandbox": "on"})

    account.refresh_from_db()
    assert (account.base_url, account.sandbox) == ("http://127.0.0.1:8765", True)
    change = ControlChange.objects.get(what="account_set_venue")
    assert (change.user, change.account) == (operator, account)
    assert change.before == {"sandbox": False, "base_url": "https://venue.example.com"}
    assert change.after == {"sandbox": True, "base_url": "http://127.0.0.1:8765"}


def test_the_admin_refuses_a_venue_url_the_gateway_cannot_use(admin_as, operator, account):
    grant_venue(operator)

    response = admin_as(operator).post(f"/admin/accounts/account/{account.pk}/change/",
                                       {**FORM, "base_url": "https://venue.example.com/some/path", "sandbox": ""})

    assert "a path, query or fragment would be ignored" in response.content.decode()
    account.refresh_from_db()
    assert account.base_url == "https://venue.example.com"


def test_the_service_needs_the_permission_from_a_person(account):
    clerk = factories.user_create(username="clerk", is_staff=True)
    with pytest.raises(PermissionDenied) as err:
        services.account_set_venue(account="main", base_url="https://attacker.example.net", user=clerk)
    assert err.value.field == "base_url"
    services.account_set_venue(account="main", sandbox=True)  # the operator at the shell
    account.refresh_from_db()
    assert (account.base_url, account.sandbox) == ("https://venue.example.com", True)
    assert ControlChange.objects.get(what="account_set_venue").user is None


def test_removing_a_member_inline_is_recorded(admin_as, operator, account):
    operator.user_permissions.add(Permission.objects.get(codename="delete_accountmember"))
    member = factories.user_create(username="desk")
    services.member_add(account="main", user=member, role="viewer")
    row = AccountMember.objects.get()

    admin_as(operator).post(f"/admin/accounts/account/{account.pk}/change/", {
        **FORM, "members-TOTAL_FORMS": 1, "members-INITIAL_FORMS": 1, "members-0-id": row.pk,
        "members-0-account": account.pk, "members-0-user": member.pk, "members-0-role": "viewer",
        "members-0-DELETE": "on"})

    assert not AccountMember.objects.exists()
    change = ControlChange.objects.get(what="member_remove")
    assert (change.user, change.account, change.before) == (operator, account, {"user": "desk", "role": "viewer"})


def test_deleting_memberships_in_their_own_admin_is_recorded(admin_as, operator, account):
    operator.user_permissions.add(Permission.objects.get(codename="delete_accountmember"))
    first, second = factories.user_create(username="one"), factories.user_create(username="two")
    services.member_add(account="main", user=first)
    services.member_add(account="main", user=second)
    one, two = AccountMember.objects.order_by("user__username")
    client = admin_as(operator)

    client.post(f"/admin/accounts/accountmember/{one.pk}/delete/", {"post": "yes"})
    client.post("/admin/accounts/accountmember/", {"action": "delete_selected", "_selected_action": [two.pk],
                                                    "post": "yes"})

    assert not AccountMember.objects.exists()
    assert sorted(c.before["user"] for c in ControlChange.objects.filter(what="member_remove", user=operator)) == [
        "one", "two"]
    assert Account.objects.get().name == "main"
