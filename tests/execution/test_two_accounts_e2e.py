"""Two OMS accounts on one venue, each with a key of its own, trading with each other through the real stack
(services, a Celery worker, ccxt, the local venue): the resting order's ledger records its fill as maker with the
maker fee, the crossing order's as taker with the taker fee, both with the venue's one trade id, and each ledger
equals the venue (I3, I4) with balances that reconcile to its fills and fees. And self-trade prevention seen from
the OMS: a resting order the venue expires in match (EXPIRED_IN_MATCH, Binance's default EXPIRE_MAKER) ends
EXPIRED in the ledger with the fills it had."""
from decimal import Decimal

import pytest

from accounts import services as account_services
from accounts.models import Account, Position
from execution import venue_orders
from orders import services
from orders.models import Fill, Order, Status
from tests.faults.ledger_venue import at_most_every, fill_totals, ledger_balances, settle, venue_balances
from tests.fixtures.worker import sync_due
from tests.waiting import wait_until

D = Decimal
SECOND_KEY, SECOND_SECRET = "second-venue-key", "second-venue-secret"
WINDOW_MS = 1200  # recvWindow 1 s + grace 0.2 s (venue_account)
PRICE = D("100000")
START = {"USDT": D("100000"), "BTC": D("2")}  # every venue key starts with the demo balances


@pytest.fixture
def second_account(venue, venue_account) -> Account:
    """Account `second` on the same venue, under a key of its own."""
    venue.control.add_key(SECOND_KEY, SECOND_SECRET)
    account = account_services.account_create(name="second", exchange="binance", base_url=venue.base_url)
    account_services.credential_set(account="second", api_key=SECOND_KEY, secret=SECOND_SECRET)
    venue_orders.account_sync(account.pk)
    return Account.objects.get(pk=account.pk)


def place(account: Account, side: str, price: Decimal, market: str = "spot", quantity: str = "0.01") -> Order:
    return services.order_place(account=account.name, symbol="BTCUSDT", side=side, order_type="LIMIT",
                                quantity=D(quantity), price=price, market=market)


def status_is(order: Order, status: str) -> Order:
    return wait_until(lambda: Order.objects.filter(pk=order.id, status=status).first(), timeout=20,
                      tick=at_most_every(0.5, sync_due), what=f"{order.id} {status}")


def balances_reconciled(venue, account: Account, api_key: str) -> bool:
    """The ledger's balances equal the venue's, and each asset moved from its start by exactly its fills less fees."""
    ledger = ledger_balances(account)
    moved = fill_totals(account)
    return ledger == venue_balances(venue, api_key=api_key) and all(
        sum(ledger.get(asset, (D(0), D(0)))) == START[asset] + moved[asset] for asset in START)


@pytest.mark.e2e
@pytest.mark.parametrize("market", ["spot", "futures"])
def test_two_accounts_trade_with_each_other_and_each_ledger_has_its_side(venue, venue_account, second_account, market):
    # given main's SELL resting at the best ask, the book held still
    ask = D(venue.control.set_price("BTCUSDT", PRICE, market=market, freeze=True)["ask"])
    resting = status_is(place(venue_account, "SELL", ask, market), Status.NEW)
    # when second buys at that price
    crossing = place(second_account, "BUY", ask, market)
    # then both orders are FILLED, by one trade: main the maker, second the taker, each with its own fee
    status_is(crossing, Status.FILLED)
    status_is(resting, Status.FILLED)
    maker, taker = Fill.objects.get(order_id=resting.id), Fill.objects.get(order_id=crossing.id)
    assert maker.trade_id == taker.trade_id
    assert (maker.is_maker, taker.is_maker) == (True, False)
    assert (maker.price, maker.quantity, taker.price, taker.quantity) == (ask, D("0.01"), ask, D("0.01"))
    notional = ask * D("0.01")
    if market == "spot":
        assert (maker.fee, maker.fee_asset) == (notional * D("0.001"), "USDT")
        assert (taker.fee, taker.fee_asset) == (D("0.00001"), "BTC")
    else:
        assert (maker.fee, maker.fee_asset) == (notional * D("0.0002"), "USDT")
        assert (taker.fee, taker.fee_asset) == (notional * D("0.0005"), "USDT")
    # and each ledger equals the venue's records of its own key
    assert settle(venue, venue_account, window_ms=WINDOW_MS, api_key=venue.api_key).ok
    assert settle(venue, second_account, window_ms=WINDOW_MS, api_key=SECOND_KEY).ok
    if market == "spot":  # and the balances reconcile to the fills and fees of each account
        for account, key in ((venue_account, venue.api_key), (second_account, SECOND_KEY)):
            wait_until(lambda a=account, k=key: balances_reconciled(venue, a, k), timeout=20,
                       tick=at_most_every(0.5, lambda a=account: venue_orders.account_sync(a.pk)), what=f"{account.name} balances")
    else:  # and the positions are opposite
        def sizes():
            return {p.account.name: (p.side, p.size) for p in Position.objects.filter(symbol="BTCUSDT", market="futures")
                    .exclude(size=0).select_related("account")}

        def sync_both():
            venue_orders.account_sync(venue_account.pk)
            venue_orders.account_sync(second_account.pk)
        wait_until(lambda: sizes() == {"main": ("SHORT", D("0.01")), "second": ("LONG", D("0.01"))}, timeout=20,
                   tick=at_most_every(0.5, sync_both), what="opposite positions")


@pytest.mark.e2e
def test_an_order_expired_by_self_trade_prevention_is_expired_in_the_ledger_with_its_fills(venue, venue_account):
    # given main's BUY resting at the best bid, partly filled by a synthetic taker
    bid = D(venue.control.set_price("BTCUSDT", PRICE, freeze=True)["bid"])
    resting = status_is(place(venue_account, "BUY", bid), Status.NEW)
    venue.control.trickle("BTCUSDT", "SELL", 1, "0.004")
    status_is(resting, Status.PARTIALLY_FILLED)
    # when main sells at that price (the OMS sends no STP mode: the venue's default EXPIRE_MAKER)
    crossing = place(venue_account, "SELL", bid)
    # then the venue expired the resting BUY in match, and the SELL traded with the synthetic bid
    status_is(crossing, Status.FILLED)
    expired = status_is(resting, Status.EXPIRED)
    [record] = [o for o in venue.control.records(venue.api_key)["orders"] if o["client_order_id"] == resting.id]
    assert record["status"] == "EXPIRED_IN_MATCH" and D(record["prevented_qty"]) == D("0.006")
    # and the ledger keeps the fill it had, and equals the venue
    assert expired.filled_quantity == D("0.004")
    [fill] = Fill.objects.filter(order_id=resting.id)
    assert (fill.quantity, fill.price, fill.is_maker) == (D("0.004"), bid, True)
    assert Fill.objects.get(order_id=crossing.id).is_maker is False
    assert settle(venue, venue_account, window_ms=WINDOW_MS).ok
    wait_until(lambda: balances_reconciled(venue, venue_account, venue.api_key), timeout=20,
               tick=at_most_every(0.5, lambda: venue_orders.account_sync(venue_account.pk)), what="balances")
