"""A trade is identified by (account, market, symbol, trade id): venues number trades per symbol."""
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from orders import services
from orders.models import Fill, Status
from tests import factories


def _fill(order, trade_id, qty):
    return services.fill_record(order_id=order.id, trade_id=trade_id, price=Decimal(order.price or "20000"),
                                quantity=Decimal(qty), fee=Decimal("0"), fee_asset="USDT", is_maker=True,
                                executed_at=factories.executed_at())


def test_two_symbols_trades_sharing_an_id_are_both_recorded(account, btcusdt, no_prices):
    # given an order on each of two symbols of one account and market
    factories.instrument_create(symbol="ETHUSDT", base="ETH")
    btc = factories.order_place(account, symbol="BTCUSDT", quantity=Decimal("0.5"))
    eth = factories.order_place(account, symbol="ETHUSDT", quantity=Decimal("2"), price=Decimal("3000"))
    # when the venue reports a trade with the same id on each
    first, second = _fill(btc, "7", "0.5"), _fill(eth, "7", "2")
    # then both are fills, and both orders are filled
    assert first is not None and second is not None
    assert sorted(Fill.objects.filter(trade_id="7").values_list("symbol", flat=True)) == ["BTCUSDT", "ETHUSDT"]
    btc.refresh_from_db()
    eth.refresh_from_db()
    assert (btc.status, eth.status) == (Status.FILLED, Status.FILLED)
    # and the same trade again on either symbol changes nothing
    assert _fill(eth, "7", "2") is None
    assert Fill.objects.filter(trade_id="7").count() == 2


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_every_fill_and_gives_it_its_orders_symbol(account, btcusdt, no_prices):
    # given a fill recorded under the old identity (account, market, trade id)
    order = factories.order_place(account, quantity=Decimal("0.5"))
    _fill(order, "41", "0.2")
    executor = MigrationExecutor(connection)
    executor.migrate([("orders", "0006_event_txid")])
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM orders_fill")
            assert cursor.fetchone()[0] == 1
    finally:
        # when the migration runs
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
    # then the row is kept and carries the order's symbol
    assert list(Fill.objects.values_list("trade_id", "symbol")) == [("41", "BTCUSDT")]
