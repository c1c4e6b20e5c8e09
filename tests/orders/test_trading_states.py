"""Trading states: HALTED takes no new order, REDUCING only orders that reduce what the account holds, the stricter
of the account's and the global state applies, cancels are always taken, and every change is recorded."""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from accounts import services as account_services
from accounts.models import Account, ControlChange, TradingSwitch
from infra.errors import FailedPrecondition, InvalidInput, NotFound, PermissionDenied
from orders import services
from orders.models import Order, Status
from tests import factories

FUTURES = {"market": "futures", "price": Decimal("20000")}


def refused(account, match, **kw) -> FailedPrecondition:
    count = Order.objects.count()
    with pytest.raises(FailedPrecondition, match=match) as err:
        factories.order_place(account, **kw)
    assert Order.objects.count() == count
    assert err.value.field == "trading_state"
    return err.value


def filled(account, *, side: str, quantity: str, trade_id: str, **kw) -> Order:
    """An order the venue took and filled whole (the ledger's fill path)."""
    order = factories.order_place(account, side=side, quantity=Decimal(quantity), **kw)
    services.order_apply_venue_update(order_id=order.id, status="NEW", exchange_order_id=f"x-{trade_id}")
    services.fill_record(order_id=order.id, trade_id=trade_id, price=order.price, quantity=order.quantity,
                         fee=Decimal("0"), fee_asset="USDT", is_maker=True, executed_at=datetime.now(UTC))
    return order


@pytest.fixture
def long_half(account, btcusdt_futures, no_prices):
    """A USD-M long of 0.5 BTCUSDT bought through the ledger; the venue's last report says 0.8 (what reduces is
    measured against the ledger's own books)."""
    filled(account, side="BUY", quantity="0.5", trade_id="t-long", **FUTURES)
    services.positions_replace(account="main", positions=[{"symbol": "BTCUSDT", "side": "LONG", "size": "0.8",
                                                            "entry_price": "20000", "mark_price": "20000"}])
    return account


def test_halted_account_takes_no_order_but_cancels(account, btcusdt, no_prices):
    working = factories.order_place(account)
    account_services.trading_state_set(account="main", state="HALTED", reason="desk review")

    err = refused(account, "account 'main' is HALTED \\(desk review\\): no new orders are taken "
                           "\\(cancels still are\\)")
    assert err.code == "failed_precondition"
    assert services.order_cancel(order_id=working.id).status == Status.PENDING_CANCEL

    account_services.trading_state_set(account="main", state="ACTIVE")
    assert factories.order_place(account).status == Status.PENDING_NEW


def test_the_global_state_overrides_a_looser_account_state(account, btcusdt, no_prices):
    account_services.trading_state_set(state="HALTED", reason="venue incident")
    refused(account, "trading is globally HALTED \\(venue incident\\)")
    # an account stricter than the global state keeps its own reason
    account_services.trading_state_set(state="REDUCING", reason="calmer now")
    account_services.trading_state_set(account="main", state="HALTED", reason="desk review")
    refused(account, "account 'main' is HALTED \\(desk review\\)")
    account_services.trading_state_set(account="main", state="ACTIVE")
    refused(account, "trading is globally REDUCING \\(calmer now\\)")


def test_reducing_futures_takes_only_what_reduces_the_position(long_half):
    account_services.trading_state_set(account="main", state="REDUCING", reason="daily loss")
    refused(long_half, "a BUY would add to the long of 0.5 BTCUSDT", side="BUY", quantity=Decimal("0.1"), **FUTURES)
    refused(long_half, "a SELL of 0.6 would flip the long of 0.5 BTCUSDT", side="SELL", quantity=Decimal("0.6"),
            **FUTURES)
    first = factories.order_place(long_half, side="SELL", quantity=Decimal("0.3"), **FUTURES)
    # open SELLs count: 0.3 working + 0.3 would flip the long if both filled
    refused(long_half, "a SELL of 0.3 with 0.3 on open SELL orders would flip the long of 0.5",
            side="SELL", quantity=Decimal("0.3"), **FUTURES)
    factories.order_place(long_half, side="SELL", quantity=Decimal("0.2"), **FUTURES)
    # reduce-only orders are always reducing (the venue caps them at the position)
    factories.order_place(long_half, side="SELL", quantity=Decimal("0.5"), reduce_only=True, **FUTURES)
    assert services.order_cancel(order_id=first.id).status == Status.PENDING_CANCEL


def test_reducing_futures_without_a_position_takes_only_reduce_only(account, btcusdt_futures, no_prices):
    account_services.trading_state_set(state="REDUCING", reason="month end")
    refused(account, "there is no BTCUSDT position to reduce", side="SELL", quantity=Decimal("0.1"), **FUTURES)


def test_reducing_spot_takes_sells_of_what_is_held(account, btcusdt, no_prices):
    filled(account, side="BUY", quantity="0.05", trade_id="t-spot")  # the ledger's holding; the venue says 1 BTC
    services.balances_replace(account="main", market="spot", balances=[{"asset": "BTC", "free": "1", "locked": "0"}])
    account_services.trading_state_set(account="main", state="REDUCING", reason="unwind")

    refused(account, "on spot only SELLs of held assets reduce, not a BUY")
    refused(account, "a SELL of 0.06 BTC is more than the 0.05 BTC held", side="SELL", quantity=Decimal("0.06"))
    factories.order_place(account, side="SELL", quantity=Decimal("0.03"))
    refused(account, "a SELL of 0.03 BTC with 0.03 on open SELL orders is more than the 0.05 BTC held",
            side="SELL", quantity=Decimal("0.03"))
    factories.order_place(account, side="SELL", quantity=Decimal("0.02"))


def test_each_change_is_recorded_once_with_before_and_after(account, trader):
    account_services.trading_state_set(account="main", state="reducing", reason="  daily loss  ")
    account_services.trading_state_set(account="main", state="REDUCING", reason="daily loss")  # no change
    account_services.trading_state_set(state="HALTED", reason="venue incident")

    changes = list(ControlChange.objects.filter(what="trading_state_set").order_by("at"))
    assert [(c.account.name if c.account else "", c.before, c.after) for c in changes] == [
        ("main", {"state": "ACTIVE", "reason": ""}, {"state": "REDUCING", "reason": "daily loss"}),
        ("", {"state": "ACTIVE", "reason": ""}, {"state": "HALTED", "reason": "venue incident"}),
    ]
    assert Account.objects.get(name="main").trading_state_at is not None
    assert TradingSwitch.current().trading_state == "HALTED"


def test_tighten_only_never_loosens(account):
    account_services.trading_state_set(account="main", state="HALTED", reason="desk review")
    row = account_services.trading_state_set(account="main", state="REDUCING", reason="loss", tighten_only=True)
    assert (row.trading_state, row.trading_state_reason) == ("HALTED", "desk review")
    assert ControlChange.objects.filter(what="trading_state_set").count() == 1


@pytest.mark.parametrize(("kw", "field", "match"), [
    ({"state": "PAUSED"}, "state", "state must be one of ACTIVE, REDUCING, HALTED, not 'PAUSED'"),
    ({"state": "HALTED"}, "reason", "a reason is required to move to HALTED"),
    ({"state": "HALTED", "reason": "a\x00b"}, "reason", "printable text"),
    ({"state": "HALTED", "reason": "x", "account": "nope"}, "account_id", "account 'nope' not found"),
])
def test_bad_input_changes_nothing(account, kw, field, match):
    with pytest.raises(NotFound if field == "account_id" else InvalidInput, match=match) as err:
        account_services.trading_state_set(**kw)
    assert err.value.field == field
    assert not ControlChange.objects.filter(what="trading_state_set").exists()
    assert Account.objects.get(name="main").trading_state == "ACTIVE"


def test_a_person_needs_the_permission(account):
    from django.contrib.auth.models import Permission

    staff = factories.user_create(username="ops", is_staff=True)
    with pytest.raises(PermissionDenied, match="Can set trading states"):
        account_services.trading_state_set(state="HALTED", reason="x", user=staff)
    staff.user_permissions.add(Permission.objects.get(codename="set_trading_state"))
    staff = type(staff).objects.get(pk=staff.pk)  # permissions are cached per user object
    account_services.trading_state_set(state="HALTED", reason="x", user=staff)
    assert ControlChange.objects.get(what="trading_state_set").user == staff


def test_concurrent_reducing_orders_cannot_flip_the_position_together(order_lane, transactional_db, trader):
    from tests.orders.test_services_place import placed_at_once

    account = factories.account_create(name="main", member=trader)
    factories.instrument_create(market="futures", tick_size="0.1", step_size="0.001", min_quantity="0.001",
                                min_notional="100")
    filled(account, side="BUY", quantity="0.5", trade_id="t-long", **FUTURES)
    account_services.trading_state_set(account="main", state="REDUCING", reason="unwind")
    # when four SELLs of 0.2 are released at once against the long of 0.5
    placed, refused = placed_at_once(4, lambda: factories.order_place(account, side="SELL", quantity=Decimal("0.2"),
                                                                      **FUTURES).id)
    # then the account's lock let two through (0.4); a third would have flipped it
    assert (len(placed), len(refused)) == (2, 2)
    assert all(isinstance(exc, FailedPrecondition) and "would flip the long of 0.5" in str(exc) for exc in refused)
