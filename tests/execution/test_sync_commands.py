"""sync_balances / sync_positions: the venue's balances and positions replace the ledger's, now."""
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import Balance, Position

pytestmark = [pytest.mark.e2e]


def test_sync_balances_takes_the_venues_numbers(venue, account_on_venue):
    before = Balance.objects.get(account=account_on_venue, market="spot", asset="USDT").free
    venue.control.fund(venue.api_key, "spot", "USDT", 250)
    out = io.StringIO()
    call_command("sync_balances", "main", stdout=out)
    assert Balance.objects.get(account=account_on_venue, market="spot", asset="USDT").free == before + Decimal(250)
    assert "main:" in out.getvalue() and "USDT" in out.getvalue()


def test_sync_positions_takes_the_venues_positions(venue, account_on_venue, venue_view):
    venue.control.set_price("BTCUSDT", 100000, market="futures", freeze=True)
    venue_view.create_order("BTC/USDT:USDT", "market", "sell", 0.002)
    out = io.StringIO()
    call_command("sync_positions", stdout=out)
    position = Position.objects.get(account=account_on_venue, symbol="BTCUSDT")
    assert (position.side, position.size) == ("SHORT", Decimal("0.002"))
    assert "BTCUSDT" in out.getvalue() and "SHORT" in out.getvalue()


def test_unknown_account_exits_2_and_changes_nothing(venue, account_on_venue):
    rows = list(Balance.objects.values_list("asset", "free"))
    with pytest.raises(CommandError) as err:
        call_command("sync_balances", "main", "ghost")
    assert err.value.returncode == 2 and "ghost" in str(err.value)
    assert list(Balance.objects.values_list("asset", "free")) == rows


def test_an_unreachable_venue_exits_2(venue, account_on_venue):
    venue.control.set_faults(error_count=10, error_kind="internal", endpoints=["GET /api/v3/account"])
    with pytest.raises(CommandError) as err:
        call_command("sync_balances", stderr=io.StringIO())
    assert err.value.returncode == 2 and "main" in str(err.value)
