"""Balances from the venue: a whole list replaces the account's, a stream's event updates the assets it names."""
from decimal import Decimal

import pytest

from accounts.models import Balance
from infra.errors import InvalidInput
from orders import services


def _stored(account) -> dict[str, tuple[Decimal, Decimal]]:
    return {b.asset: (b.free, b.locked) for b in Balance.objects.filter(account=account, market="spot")}


def test_a_balance_event_updates_the_assets_it_names_and_removes_one_left_empty(account):
    services.balances_replace(account="main", market="spot", balances=[
        {"asset": "USDT", "free": "1000", "locked": "0"}, {"asset": "BTC", "free": "1", "locked": "0"},
        {"asset": "ETH", "free": "2", "locked": "0"}])
    # when the stream says USDT is partly locked, BTC is gone, and XRP arrived
    services.balances_update(account="main", market="spot", balances=[
        {"asset": "USDT", "free": "900", "locked": "100"}, {"asset": "BTC", "free": "0", "locked": "0"},
        {"asset": "xrp", "free": "5", "locked": "0"}])
    # then those change, ETH (not named) stays
    assert _stored(account) == {"USDT": (Decimal("900"), Decimal("100")), "ETH": (Decimal("2"), Decimal("0")),
                                "XRP": (Decimal("5"), Decimal("0"))}


def test_a_bad_balance_event_changes_nothing(account):
    services.balances_replace(account="main", market="spot", balances=[{"asset": "USDT", "free": "10", "locked": "0"}])
    with pytest.raises(InvalidInput) as refused:
        services.balances_update(account="main", market="spot", balances=[
            {"asset": "USDT", "free": "5", "locked": "0"}, {"asset": "BTC", "free": "-1", "locked": "0"}])
    assert refused.value.field == "free"
    assert _stored(account) == {"USDT": (Decimal("10"), Decimal("0"))}
