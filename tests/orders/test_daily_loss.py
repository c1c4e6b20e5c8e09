"""The daily realized-loss limit: checked after each fill and funding payment commits; it moves an ACTIVE account to
REDUCING once today's net realized PnL is below −max_daily_loss, never loosens a stricter state, never moves back.
(End to end, fills through the OMS on the local venue: tests/execution/test_daily_loss_e2e.py.)"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from accounts import services as account_services
from accounts.models import Account, ControlChange
from infra.errors import InvalidInput
from orders import services


def funding(amount: str, venue_id: str, *, paid_at: datetime | None = None) -> int:
    return services.funding_record(account="main", payments=[{
        "venue_id": venue_id, "symbol": "BTCUSDT", "asset": "USDT", "amount": Decimal(amount),
        "paid_at": paid_at or datetime.now(UTC)}])


def test_a_payment_past_the_limit_moves_the_account_to_reducing(account, django_capture_on_commit_callbacks):
    account_services.risk_limit_update(account="main", max_daily_loss="20")
    with django_capture_on_commit_callbacks(execute=True):
        funding("-30", "old", paid_at=datetime.now(UTC) - timedelta(days=1))  # yesterday's: not today's loss
        funding("-15", "f-1")
    assert Account.objects.get(name="main").trading_state == "ACTIVE"

    with django_capture_on_commit_callbacks(execute=True):
        funding("-5.5", "f-2")

    account = Account.objects.get(name="main")
    assert account.trading_state == "REDUCING"
    assert account.trading_state_reason == ("daily loss limit: realized PnL today (UTC, after fees and funding) is "
                                            "-20.5, below -20 (max_daily_loss 20)")
    # a later payment records nothing more; the account stays REDUCING until a person moves it
    with django_capture_on_commit_callbacks(execute=True):
        funding("-1", "f-3")
    assert ControlChange.objects.filter(what="trading_state_set").count() == 1


def test_it_never_loosens_a_halted_account(account, django_capture_on_commit_callbacks):
    account_services.risk_limit_update(account="main", max_daily_loss="1")
    account_services.trading_state_set(account="main", state="HALTED", reason="desk review")
    with django_capture_on_commit_callbacks(execute=True):
        funding("-5", "f-1")
    assert Account.objects.get(name="main").trading_state == "HALTED"


def test_without_a_limit_nothing_moves(account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        funding("-1000", "f-1")
    assert Account.objects.get(name="main").trading_state == "ACTIVE"


@pytest.mark.parametrize(("value", "message"), [("0", "must be a positive number"), ("-5", "finite number >= 0"),
                                                ("lots", "must be a number")])
def test_the_limit_is_a_positive_number(account, value, message):
    with pytest.raises(InvalidInput, match=message) as err:
        account_services.risk_limit_update(account="main", max_daily_loss=value)
    assert err.value.field == "max_daily_loss"
