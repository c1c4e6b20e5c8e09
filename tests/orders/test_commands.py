"""The orders' commands (kill_switch, cancel_all): thin over the services, clear errors with exit code 2."""
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import Account, TradingSwitch
from orders.models import Order, OrderEvent


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def open_order(account, symbol="BTCUSDT", status="NEW"):
    return Order.objects.create(account=account, exchange=account.exchange, symbol=symbol, side="BUY",
                                quantity=Decimal("0.01"), price=Decimal("100"), status=status, version=1,
                                exchange_order_id="1", submitted_at="2026-01-01T00:00:00Z")


def test_kill_switch_on_cancels_open_orders_and_off_allows(db):
    account = Account.objects.create(name="main", exchange="binance")
    order = open_order(account)
    out = run("kill_switch", "on", "--reason", "venue incident", "--cancel-open")
    assert "kill switch ON" in out and "cancel requested for 1" in out
    switch = TradingSwitch.current()
    assert switch.kill_switch and switch.reason == "venue incident"
    order.refresh_from_db()
    assert order.status == "PENDING_CANCEL"
    assert OrderEvent.objects.filter(order=order, to_status="PENDING_CANCEL", source="admin").exists()
    assert "ON: venue incident" in run("kill_switch", "status")
    run("kill_switch", "off")
    assert TradingSwitch.current().kill_switch is False


def test_cancel_all_filters_by_account_and_symbol(db):
    a = Account.objects.create(name="a", exchange="binance")
    b = Account.objects.create(name="b", exchange="binance")
    target, other_symbol, other_account = open_order(a), open_order(a, symbol="ETHUSDT"), open_order(b)
    out = run("cancel_all", "--account", "a", "--symbol", "BTC/USDT")
    assert "cancel requested for 1 order(s)" in out
    statuses = {o.pk: o.status for o in Order.objects.all()}
    assert statuses == {target.pk: "PENDING_CANCEL", other_symbol.pk: "NEW", other_account.pk: "NEW"}


def test_cancel_all_unknown_account_is_an_error(db):
    with pytest.raises(CommandError) as err:
        run("cancel_all", "--account", "nope")
    assert err.value.returncode == 2 and "nope" in str(err.value)
