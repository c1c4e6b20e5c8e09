"""The instrument catalog filled from the local venue through ccxt."""
from decimal import Decimal

import pytest
from django.core.management import call_command

from accounts import services as account_services
from exchanges.markets import instrument_get
from exchanges.models import Instrument
from infra.errors import NotFound

D = Decimal


@pytest.fixture
def local_account(db, venue):
    return account_services.account_create(name="local", exchange="binance", base_url=venue.base_url)


def test_sync_markets_fills_filters_and_the_ccxt_symbol_of_spot_and_futures(local_account, capsys):
    call_command("sync_markets", "local")
    assert "local: 10 instruments" in capsys.readouterr().out

    spot = instrument_get("binance", "spot", "BTCUSDT")
    assert (spot.ccxt_symbol, spot.base, spot.quote) == ("BTC/USDT", "BTC", "USDT")
    assert (spot.tick_size, spot.step_size, spot.min_quantity, spot.min_notional) == (D("0.01"), D("0.00001"),
                                                                                      D("0.00001"), D("5"))
    futures = instrument_get("binance", "futures", "BTC/USDT:USDT")
    assert futures.symbol == "BTCUSDT" and futures.ccxt_symbol == "BTC/USDT:USDT"
    assert (futures.tick_size, futures.step_size, futures.min_notional, futures.contract_size) == (D("0.1"), D("0.001"),
                                                                                                   D("100"), D("1"))
    assert instrument_get("binance", "spot", "btc/usdt") == spot


def test_a_symbol_the_venue_stopped_listing_becomes_inactive_and_an_unknown_one_is_refused(local_account):
    Instrument.objects.create(exchange="binance", market="spot", symbol="OLDUSDT", ccxt_symbol="OLD/USDT", base="OLD",
                              quote="USDT", tick_size=D("0.01"), step_size=D("1"))
    call_command("sync_markets")
    assert not Instrument.objects.get(symbol="OLDUSDT").active
    with pytest.raises(NotFound) as missing:
        instrument_get("binance", "spot", "NOPEUSDT")
    assert missing.value.field == "symbol"


def test_sync_markets_names_an_unknown_account(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="nobody"):
        call_command("sync_markets", "nobody")
