"""The daily realized-loss limit end to end: USD-M fills through the OMS on the local venue (a real worker, ccxt over
HTTP) fold into the ledger, and the fill that takes today's net realized PnL below −max_daily_loss moves the account
to REDUCING with a recorded reason naming both numbers; from then on only reducing orders are taken."""
from __future__ import annotations

from decimal import Decimal

import pytest

from accounts import services as account_services
from accounts.models import Account, ControlChange
from infra.errors import FailedPrecondition
from orders import services
from orders.models import Order, Status
from orders.selectors_pnl import ledger_positions, realized_since
from orders.validation import num
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e]

D = Decimal


def _filled(order: Order) -> Order:
    return wait_until(lambda: Order.objects.filter(pk=order.pk, status=Status.FILLED).first(), timeout=30,
                      what=f"{order.side} FILLED")


def _market(side: str, quantity: str, **kw) -> Order:
    return services.order_place(account="main", symbol="BTCUSDT", side=side, quantity=D(quantity),
                                order_type="MARKET", market="futures", **kw)


def test_a_losing_round_trip_moves_the_account_to_reducing(venue, venue_account):
    from orders.daily_loss import start_of_day_utc

    venue.control.set_price("BTCUSDT", 100000, market="futures", freeze=True)
    account_services.risk_limit_update(account="main", max_daily_loss="5")

    _filled(_market("BUY", "0.02"))
    # one fee paid (0.05 % taker of about 2,000 USDT, about 1 USDT): a loss within the limit, nothing moves
    account = Account.objects.get(name="main")
    assert D("-1.01") < realized_since(account=account, since=start_of_day_utc()) < 0
    assert account.trading_state == "ACTIVE"

    venue.control.set_price("BTCUSDT", 99000, market="futures", freeze=True)
    _filled(_market("SELL", "0.01"))  # realizes about (99,000 − 100,000) × 0.01 = −10, fee about 0.495

    account = wait_until(lambda: Account.objects.filter(name="main", trading_state="REDUCING").first(),
                         what="the account moved to REDUCING")
    net = realized_since(account=account, since=start_of_day_utc())
    assert D("-11.6") < net < D("-11.4")
    change = ControlChange.objects.get(what="trading_state_set", account=account)
    assert change.user is None
    assert change.after["state"] == "REDUCING"
    assert f"is {num(net)}, below -5 (max_daily_loss 5)" in change.after["reason"]

    # only what reduces the long of 0.01 is taken now; it never moves back by itself
    with pytest.raises(FailedPrecondition, match="account 'main' is REDUCING \\(daily loss limit: .*a BUY would add "
                                                 "to the long of 0.01 BTCUSDT"):
        _market("BUY", "0.01")
    [position] = ledger_positions(account=account, symbol="BTCUSDT")
    assert (position.side, position.size) == ("LONG", D("0.01"))
    _filled(_market("SELL", "0.01"))
    assert Account.objects.get(name="main").trading_state == "REDUCING"
    assert ControlChange.objects.filter(what="trading_state_set").count() == 1
