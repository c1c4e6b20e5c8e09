"""Reads: scoped to the caller's accounts; OPEN means every working status; newest first."""
from decimal import Decimal

import pytest

from accounts.selectors import balance_list
from infra.errors import InvalidInput, NotFound
from orders import selectors, selectors_portfolio, services
from orders.models import Status
from tests import factories


@pytest.fixture
def two_accounts(account, btcusdt, no_prices):
    other = factories.account_create(name="other")
    mine = [factories.order_place(account) for _ in range(3)]
    theirs = factories.order_place(other)
    services.order_apply_venue_update(order_id=mine[0].id, status="FILLED")
    services.order_apply_venue_update(order_id=mine[1].id, status="NEW")
    return mine, theirs


def test_order_list_is_scoped_and_newest_first(two_accounts, trader):
    mine, theirs = two_accounts
    assert [o.id for o in selectors.order_list(user=trader)] == [o.id for o in reversed(mine)]
    assert {o.id for o in selectors.order_list()} == {o.id for o in [*mine, theirs]}


def test_open_means_every_working_status(two_accounts, trader):
    mine, _ = two_accounts
    assert {o.status for o in selectors.order_list(user=trader, status="OPEN")} == {Status.NEW, Status.PENDING_NEW}
    assert [o.id for o in selectors.order_list(user=trader, status="filled")] == [mine[0].id]


def test_filters_by_symbol_spelling_and_account(two_accounts, trader):
    assert selectors.order_list(user=trader, symbol="BTC/USDT").count() == 3
    assert selectors.order_list(user=trader, exchange="kraken").count() == 0
    with pytest.raises(NotFound):
        selectors.order_list(user=trader, account="other")
    with pytest.raises(InvalidInput):
        selectors.order_list(status="WORKING")


def test_order_get_hides_foreign_orders(two_accounts, trader):
    _, theirs = two_accounts
    with pytest.raises(NotFound):
        selectors.order_get(theirs.id, trader)
    assert selectors.order_get(theirs.id).id == theirs.id


def test_events_to_resume_are_the_given_accounts_in_sequence(two_accounts, account):
    mine, theirs = two_accounts
    events = list(selectors.order_events_to_resume(since=0, accounts=["main"]))
    assert [e.id for e in events] == sorted(e.id for e in events)
    assert {e.order.account.name for e in events} == {"main"} and len(events) == 5
    later = selectors.order_events_to_resume(since=events[2].id, accounts=[account])
    assert [e.id for e in later] == [e.id for e in events[3:]]


def test_balances_replace_and_list(account, trader):
    services.balances_replace(account="main", market="spot", balances=[
        {"asset": "USDT", "free": "1000", "locked": "5"}, {"asset": "BTC", "free": Decimal("0.5"), "locked": 0}])
    services.balances_replace(account="main", market="spot", balances=[{"asset": "USDT", "free": "990", "locked": "0"}])
    rows = list(balance_list(account="main", market="spot", user=trader))
    assert [(b.asset, b.free, b.locked) for b in rows] == [("USDT", Decimal("990"), Decimal("0"))]


def test_balances_replace_refuses_bad_rows_and_changes_nothing(account):
    services.balances_replace(account="main", market="spot", balances=[{"asset": "USDT", "free": "1", "locked": "0"}])
    for bad in ([{"asset": "BTC", "free": "-1"}], [{"asset": "", "free": "1"}], [{"asset": "BTC", "free": "inf"}]):
        with pytest.raises(InvalidInput):
            services.balances_replace(account="main", market="spot", balances=bad)
    assert [b.asset for b in balance_list(account="main", market="spot")] == ["USDT"]


def test_positions_replace_and_list(account, trader):
    services.positions_replace(account="main", positions=[
        {"symbol": "BTCUSDT", "side": "LONG", "size": "0.1", "entry_price": "20000", "leverage": 10},
        {"symbol": "ETH/USDT:USDT", "side": "SHORT", "size": "2", "entry_price": "1500", "liquidation_price": "1900"}])
    services.positions_replace(account="main", positions=[
        {"symbol": "ETHUSDT", "side": "SHORT", "size": "1", "entry_price": "1500"}])
    rows = selectors_portfolio.portfolio(account="main", user=trader).positions
    assert [(p.symbol, p.side, p.size, p.liquidation_price, p.source) for p in rows] == \
        [("ETHUSDT", "SHORT", Decimal("1"), None, "venue")]
    assert selectors_portfolio.portfolio(user=factories.user_create()).positions == []
