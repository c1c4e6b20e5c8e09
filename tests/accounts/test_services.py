"""Account and control services: each change is audited with who and what."""
import pytest

from accounts import selectors, services
from accounts.models import ControlChange, RiskLimit
from infra.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from tests import factories


def test_account_create_and_duplicate_name(db):
    admin = factories.user_create(superuser=True)
    account = services.account_create(name="main", exchange="Binance", user=admin)
    assert account.exchange == "binance"
    change = ControlChange.objects.get()
    assert (change.what, change.user, change.account) == ("account_create", admin, account)
    with pytest.raises(Conflict):
        services.account_create(name="main", exchange="binance")
    with pytest.raises(InvalidInput) as err:
        services.account_create(name="not a slug!", exchange="binance")
    assert err.value.field == "name"


def test_kill_switch_and_enablement_are_audited(account):
    admin = factories.user_create(superuser=True)
    services.kill_switch_set(on=True, reason="drill", user=admin)
    services.account_set_enabled(account="main", enabled=False, reason="maintenance", user=admin)
    changes = {c.what: c for c in ControlChange.objects.filter(user=admin)}
    assert changes["kill_switch_set"].after == {"kill_switch": True, "reason": "drill"}
    assert changes["account_set_enabled"].before["enabled"] is True
    assert changes["account_set_enabled"].after == {"enabled": False, "disabled_reason": "maintenance"}


def test_risk_limit_update_validates_and_records(account):
    services.risk_limit_update(account="main", max_order_notional="1000", allowed_symbols="btc/usdt, ETHUSDT")
    limit = RiskLimit.objects.get()
    assert str(limit.max_order_notional.normalize()) == "1E+3" and limit.allowed_symbols == ["BTCUSDT", "ETHUSDT"]
    with pytest.raises(InvalidInput) as err:
        services.risk_limit_update(account="main", max_leverage=3)
    assert err.value.field == "max_leverage"
    with pytest.raises(InvalidInput):
        services.risk_limit_update(account="main", max_order_notional="-5")
    limit.refresh_from_db()
    assert str(limit.max_order_notional.normalize()) == "1E+3"
    assert ControlChange.objects.filter(what="risk_limit_update").count() == 1


def test_account_access_by_role(account, trader):
    viewer = factories.user_create()
    services.member_add(account="main", user=viewer, role="viewer")
    stranger = factories.user_create()
    boss = factories.user_create(superuser=True)
    assert selectors.account_get("main", trader, trade=True) == account
    assert selectors.account_get("main", viewer) == account
    with pytest.raises(PermissionDenied):
        selectors.account_get("main", viewer, trade=True)
    with pytest.raises(NotFound):
        selectors.account_get("main", stranger)
    assert selectors.account_get("main", boss, trade=True) == account
    assert list(selectors.accounts_for_user(stranger)) == []
    assert list(selectors.accounts_for_user(viewer, trade=True)) == []
