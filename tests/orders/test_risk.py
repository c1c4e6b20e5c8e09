"""Pre-trade risk: each rule refuses with its numbers, and a refused order leaves no row."""
import json
import time
from decimal import Decimal

import pytest

from accounts import services as account_services
from accounts.models import Position
from infra import pubsub
from infra.errors import FailedPrecondition
from orders import services
from orders.models import Order
from tests import factories


def price_is(symbol, last, market="spot", age_s=0):
    pubsub.client().hset(pubsub.LATEST_PRICES_KEY, f"binance:{market}:{symbol}",
                         json.dumps({"last_price": last, "timestamp_ms": int((time.time() - age_s) * 1000)}))


def refused(account, match, **kw):
    count = Order.objects.count()
    with pytest.raises(FailedPrecondition, match=match) as err:
        factories.order_place(account, **kw)
    assert Order.objects.count() == count
    return err.value


def test_kill_switch_refuses_every_placement(account, btcusdt, no_prices):
    account_services.kill_switch_set(on=True, reason="venue incident")
    err = refused(account, "kill switch: venue incident")
    assert err.field == "kill_switch"
    account_services.kill_switch_set(on=False)
    assert factories.order_place(account).status == "PENDING_NEW"


def test_disabled_account_refuses(account, btcusdt, no_prices):
    account_services.account_set_enabled(account="main", enabled=False, reason="API key rejected")
    refused(account, "disabled for trading: API key rejected")


def test_allowed_symbols(account, btcusdt, no_prices):
    factories.instrument_create(symbol="ETHUSDT")
    account_services.risk_limit_update(account="main", allowed_symbols=["ETHUSDT"])
    err = refused(account, "BTCUSDT is not among the symbols this account may trade \\(ETHUSDT\\)")
    assert err.field == "symbol"
    factories.order_place(account, symbol="ETHUSDT")


def test_allowed_symbols_in_ccxt_spelling_match_futures_orders(account, btcusdt, no_prices):
    """`BTC/USDT:USDT` is the futures BTCUSDT: stored as the orders spell it (it used to become `BTCUSDT:USDT`,
    which no order ever matched, so the account could trade nothing on futures)."""
    factories.instrument_create(symbol="BTCUSDT", market="futures")
    limit = account_services.risk_limit_update(account="main", allowed_symbols="BTC/USDT:USDT, eth/usdt")
    assert limit.allowed_symbols == ["BTCUSDT", "ETHUSDT"]
    factories.order_place(account, market="futures", leverage=2)


def test_max_order_notional(account, btcusdt, no_prices):
    account_services.risk_limit_update(account="main", max_order_notional="1000")
    refused(account, "order value 2000 USDT exceeds max_order_notional 1000 USDT", quantity=Decimal("0.1"))
    factories.order_place(account, quantity=Decimal("0.05"))


def test_max_order_notional_of_a_market_order_needs_a_price(account, btcusdt, no_prices):
    account_services.risk_limit_update(account="main", max_order_notional="1000")
    refused(account, "no recent market price", order_type="MARKET", price=None)
    price_is("BTCUSDT", "30000")
    refused(account, "order value 3000 USDT", order_type="MARKET", price=None, quantity=Decimal("0.1"))
    factories.order_place(account, order_type="MARKET", price=None, quantity=Decimal("0.03"))


def test_max_open_orders(account, btcusdt, no_prices):
    account_services.risk_limit_update(account="main", max_open_orders=2)
    first = factories.order_place(account)
    factories.order_place(account)
    refused(account, "has 2 open orders; max_open_orders is 2")
    services.order_apply_venue_update(order_id=first.id, status="CANCELLED")
    factories.order_place(account)


def test_max_position_notional_futures(account, btcusdt_futures, no_prices):
    # given a long of 0.5 at 20000 (value 10000) and a limit of 12000
    services.positions_replace(account="main", positions=[{"symbol": "BTCUSDT", "side": "LONG", "size": "0.5",
                                                            "entry_price": "20000", "mark_price": "20000"}])
    account_services.risk_limit_update(account="main", max_position_notional="12000")
    common = {"market": "futures", "price": Decimal("20000")}
    # when / then adding 0.2 would make 0.7 (14000)
    refused(account, "position in BTCUSDT would be 0.7 \\(value 14000 USDT\\), over max_position_notional 12000",
            quantity=Decimal("0.2"), **common)
    # reducing is always allowed
    factories.order_place(account, side="SELL", quantity=Decimal("0.9"), **common)
    assert Position.objects.get().size == Decimal("0.5")


def test_max_position_notional_counts_open_orders_on_the_same_side(account, btcusdt_futures, no_prices):
    # given a long of 0.5 at 20000 (value 10000), a limit of 12000 and a working BUY of 0.05
    services.positions_replace(account="main", positions=[{"symbol": "BTCUSDT", "side": "LONG", "size": "0.5",
                                                            "entry_price": "20000", "mark_price": "20000"}])
    account_services.risk_limit_update(account="main", max_position_notional="12000")
    common = {"market": "futures", "price": Decimal("20000")}
    factories.order_place(account, quantity=Decimal("0.05"), **common)
    # when / then a second 0.05 reaches 12000 if both fill (allowed), a third would make 0.65 (13000)
    factories.order_place(account, quantity=Decimal("0.05"), **common)
    refused(account, "position in BTCUSDT would be 0.65 counting 0.1 on open BUY orders \\(value 13000 USDT\\)",
            quantity=Decimal("0.05"), **common)
    # reduce-only and opposite-side orders add nothing; a filled one counts through the position only
    factories.order_place(account, side="SELL", quantity=Decimal("0.5"), reduce_only=True, **common)
    first = Order.objects.filter(side="BUY").earliest("created_at")
    services.order_apply_venue_update(order_id=first.id, status="CANCELLED")
    factories.order_place(account, quantity=Decimal("0.05"), **common)


def test_price_band(account, btcusdt, no_prices):
    account_services.risk_limit_update(account="main", price_band_pct="5")
    price_is("BTCUSDT", "20000")
    err = refused(account, "price 22000 is 10.00% from the last price 20000; price_band_pct allows 5%",
                  price=Decimal("22000"))
    assert err.field == "price"
    factories.order_place(account, price=Decimal("20900"))


def test_price_band_ignores_a_stale_price(account, btcusdt, no_prices):
    account_services.risk_limit_update(account="main", price_band_pct="5")
    price_is("BTCUSDT", "20000", age_s=3600)
    factories.order_place(account, price=Decimal("30000"))


def test_min_notional_of_a_market_order_uses_the_last_price(account, btcusdt, no_prices):
    from infra.errors import InvalidInput

    price_is("BTCUSDT", "20000")
    with pytest.raises(InvalidInput, match="order value 2 USDT"):
        factories.order_place(account, order_type="MARKET", price=None, quantity=Decimal("0.0001"))
    assert not Order.objects.exists()


STOP = {"side": "SELL", "order_type": "STOP_MARKET", "price": None, "stop_price": Decimal("19000")}


def test_an_armed_stop_counts_toward_max_open_orders(account, btcusdt, no_prices):
    account_services.risk_limit_update(account="main", max_open_orders=2)
    stop = factories.order_place(account, **STOP)
    services.order_apply_venue_update(order_id=stop.id, status="NEW", exchange_order_id="x-1")  # armed at the venue
    factories.order_place(account)
    refused(account, "has 2 open orders; max_open_orders is 2", **STOP)


def test_a_stop_market_is_valued_at_its_stop_price_without_a_last_price(account, btcusdt, no_prices):
    account_services.risk_limit_update(account="main", max_order_notional="1000")
    refused(account, "order value 1900 USDT exceeds max_order_notional 1000 USDT", **{**STOP, "quantity": Decimal("0.1")})
    factories.order_place(account, **{**STOP, "quantity": Decimal("0.05")})

