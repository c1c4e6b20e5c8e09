"""The fold on PostgreSQL through the real services: fills and funding recorded by `orders.services` fold into the
books in the same transaction; incremental == rebuilt for any sequence and arrival order; the PnL reads."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from accounts.models import Position
from infra import pubsub
from orders import portfolio, selectors_pnl, services
from orders.models import Fill
from orders.models_portfolio import FillPnl, PortfolioAdjustment, PortfolioHolding, PortfolioPosition
from orders.portfolio_fold import Book, futures_fill, spot_fill
from tests import factories

D = Decimal
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class Desk:
    """One BUY and one SELL order per market, large enough to carry any sequence of fills recorded on them."""

    def __init__(self, account):
        self.account = account
        self.orders = {}
        self.trade_ids = iter(range(1, 10**9))

    def order(self, market, side, symbol="BTCUSDT"):
        key = (market, side, symbol)
        if key not in self.orders:
            self.orders[key] = factories.order_place(self.account, symbol=symbol, side=side, quantity=D(1000),
                                                     price=D("20000"), market=market,
                                                     **({"leverage": 10} if market == "futures" else {}))
        return self.orders[key]

    def fill(self, market, side, qty, price, *, fee="0", fee_asset="USDT", at=T0, symbol="BTCUSDT"):
        return services.fill_record(order_id=self.order(market, side, symbol).id, trade_id=str(next(self.trade_ids)),
                                    price=D(price), quantity=D(qty), fee=D(fee), fee_asset=fee_asset, is_maker=False,
                                    executed_at=at)


def books(account):
    """Everything the fold wrote for the account."""
    fields = ("amount", "entry_price", "realized_pnl", "fees", "other_fees", "funding")
    return ({p.symbol: tuple(getattr(p, f) for f in fields) for p in PortfolioPosition.objects.filter(account=account)},
            {h.asset: (h.quantity, h.average_cost, h.realized_pnl, h.fees, h.other_fees, h.quote_asset)
             for h in PortfolioHolding.objects.filter(account=account) if h.quantity or h.realized_pnl or h.fees},
            {r.fill_id: (r.realized_pnl, r.fee, r.other_fee, r.other_fee_asset, r.notional, r.amount_after,
                         r.entry_after, r.realized_after, r.fees_after, r.other_fees_after)
             for r in FillPnl.objects.filter(account=account)})


@pytest.fixture
def desk(account, btcusdt, btcusdt_futures, no_prices):
    return Desk(account)


def test_a_recorded_fill_folds_into_the_position_once(desk):
    desk.fill("futures", "BUY", "0.010", "20000", fee="0.1")
    desk.fill("futures", "BUY", "0.030", "21000", fee="0.315", at=T0 + timedelta(seconds=1))
    fill = desk.fill("futures", "SELL", "0.020", "22000", fee="0.22", at=T0 + timedelta(seconds=2))
    before = books(desk.account)
    # the same trade again is no fill and no change
    again = services.fill_record(order_id=fill.order_id, trade_id=fill.trade_id, price=fill.price,
                                 quantity=fill.quantity, fee=fill.fee, fee_asset="USDT", is_maker=False,
                                 executed_at=fill.executed_at)
    portfolio.fill_fold(fill, side="SELL", exchange="binance")  # folding a folded fill changes nothing either
    assert again is None and books(desk.account) == before
    pos = PortfolioPosition.objects.get(account=desk.account, symbol="BTCUSDT")
    assert (pos.amount, pos.entry_price, pos.realized_pnl, pos.fees) == (D("0.02"), D(20750), D(25), D("0.635"))
    assert FillPnl.objects.get(fill=fill).realized_pnl == D(25)


def test_a_late_fill_refolds_its_position_so_incremental_equals_rebuilt(desk):
    desk.fill("futures", "BUY", "1", "100", at=T0 + timedelta(seconds=1))
    desk.fill("futures", "SELL", "1", "110", at=T0 + timedelta(seconds=3))
    # found late by a sweep: bought before the sale
    desk.fill("futures", "BUY", "1", "90", at=T0 + timedelta(seconds=2))
    pos = PortfolioPosition.objects.get(account=desk.account, symbol="BTCUSDT")
    assert (pos.amount, pos.entry_price, pos.realized_pnl) == (D(1), D(95), D(15))
    incremental = books(desk.account)
    changes = portfolio.portfolio_rebuild([desk.account])
    assert changes == [] and books(desk.account) == incremental


def test_funding_is_folded_once_however_often_it_is_recorded(desk):
    desk.fill("futures", "SELL", "0.5", "20000")
    payment = {"venue_id": "77", "symbol": "BTCUSDT", "asset": "USDT", "amount": D("1.25"), "paid_at": T0}
    assert services.funding_record(account="main", payments=[payment]) == 1
    assert services.funding_record(account="main", payments=[payment]) == 0
    services.funding_record(account="main", payments=[{**payment, "venue_id": "78", "amount": D("-0.5"),
                                                       "symbol": "ETHUSDT"}])
    funding = dict(PortfolioPosition.objects.filter(account=desk.account).values_list("symbol", "funding"))
    assert funding == {"BTCUSDT": D("1.25"), "ETHUSDT": D("-0.5")}
    assert portfolio.portfolio_rebuild([desk.account]) == []


def test_rebuild_says_what_it_changed(desk, capsys):
    desk.fill("futures", "BUY", "1", "100")
    PortfolioPosition.objects.filter(account=desk.account).update(amount=D(5))  # books gone wrong by hand
    call_command("portfolio_rebuild", "--account", "main")
    out = capsys.readouterr().out
    assert "main futures BTCUSDT amount: 5" in out and "-> 1" in out
    assert PortfolioPosition.objects.get(account=desk.account).amount == D(1)
    call_command("portfolio_rebuild")
    assert "no change" in capsys.readouterr().out
    with pytest.raises(CommandError) as bad:
        call_command("portfolio_rebuild", "--account", "nobody")
    assert bad.value.returncode == 2 and "--account" in str(bad.value) and "nobody" in str(bad.value)


def test_an_adjustment_is_recorded_with_both_numbers_and_folded(desk):
    desk.fill("futures", "BUY", "1", "100")
    adj = portfolio.adjustment_record(account=desk.account, market="futures", key="BTCUSDT", field="size",
                                      ledger_value=D(1), venue_value=D("1.5"), price=D(130), reason="venue says 1.5")
    assert (adj.delta, adj.reason) == (D("0.5"), "venue says 1.5")
    pos = PortfolioPosition.objects.get(account=desk.account, symbol="BTCUSDT")
    assert (pos.amount, pos.entry_price, pos.realized_pnl) == (D("1.5"), D(110), D(0))
    # a fill after it folds on top, and a rebuild agrees
    desk.fill("futures", "SELL", "0.5", "120", at=datetime.now(UTC) + timedelta(seconds=1))
    assert portfolio.portfolio_rebuild([desk.account]) == []
    assert PortfolioPosition.objects.get(account=desk.account).realized_pnl == D(5)


def test_a_bad_adjustment_names_the_field_and_changes_nothing(desk):
    with pytest.raises(services.InvalidInput) as bad:
        portfolio.adjustment_record(account=desk.account, market="futures", key="BTCUSDT", field="quantity",
                                    ledger_value=D(1), venue_value=D(2), reason="x")
    assert bad.value.field == "field" and "size" in bad.value.message
    with pytest.raises(services.InvalidInput) as bad:
        portfolio.adjustment_record(account=desk.account, market="spot", key="BTC", field="quantity",
                                    ledger_value=D(1), venue_value=D(2), reason=" ")
    assert bad.value.field == "reason"
    assert not PortfolioAdjustment.objects.exists()


def test_spot_holdings_from_fills(desk):
    desk.fill("spot", "BUY", "0.5", "20000", fee="0.0005", fee_asset="BTC")
    desk.fill("spot", "SELL", "0.2", "21000", fee="4.2", fee_asset="USDT", at=T0 + timedelta(seconds=1))
    held = {h.asset: h for h in PortfolioHolding.objects.filter(account=desk.account)}
    assert (held["BTC"].quantity, held["BTC"].average_cost, held["BTC"].quote_asset) == (D("0.2995"), D(20000), "USDT")
    assert (held["BTC"].realized_pnl, held["BTC"].fees) == (D(200), D("14.2"))
    assert held["USDT"].quantity == D(-10000) + D(4200) - D("4.2")


def test_positions_and_holdings_read_with_the_venue_and_the_feed(desk):
    desk.fill("futures", "BUY", "0.010", "20000", fee="0.1")
    desk.fill("spot", "BUY", "0.5", "20000")
    Position.objects.create(account=desk.account, symbol="BTCUSDT", side="LONG", size=D("0.010"),
                            entry_price=D(20000), mark_price=D(20100), unrealized_pnl=D(1), margin=D(10))
    Position.objects.create(account=desk.account, symbol="ETHUSDT", side="SHORT", size=D(1), entry_price=D(3000))
    (btc, eth) = selectors_pnl.ledger_positions(account=desk.account)
    # no price published: the venue's mark, PnL% over the venue's margin of this same position
    assert (btc.side, btc.size, btc.entry_price, btc.fees) == ("LONG", D("0.01"), D(20000), D("0.1"))
    assert (btc.mark_price, btc.unrealized_pnl, btc.pnl_percentage) == (D(20100), D(1), D(10))
    assert (btc.venue_side, btc.venue_size, btc.venue_entry_price) == ("LONG", D("0.01"), D(20000))
    assert (eth.side, eth.size, eth.venue_side, eth.venue_size) == ("FLAT", D(0), "SHORT", D(1))
    pubsub.publish_price({"exchange": "binance", "market": "futures", "symbol": "BTCUSDT", "last_price": "20500"})
    pubsub.publish_price({"exchange": "binance", "market": "spot", "symbol": "BTCUSDT", "last_price": "19000"})
    (btc,) = selectors_pnl.ledger_positions(account=desk.account, symbol="btc/usdt")
    assert (btc.mark_price, btc.unrealized_pnl, btc.pnl_percentage) == (D(20500), D(5), D(50))
    held = {h.asset: h for h in selectors_pnl.holdings(account=desk.account)}
    assert (held["BTC"].last_price, held["BTC"].unrealized_pnl, held["BTC"].pnl_percentage) == (D(19000), D(-500), D(-5))
    assert (held["USDT"].quantity, held["USDT"].unrealized_pnl) == (D(-10000), D(0))


def test_pnl_report_by_day_and_symbol(desk):
    day2 = T0 + timedelta(days=1)
    desk.fill("futures", "BUY", "1", "100", fee="0.05")
    desk.fill("futures", "SELL", "0.5", "120", fee="0.03", at=day2)
    desk.fill("spot", "BUY", "1", "100", fee="0.001", fee_asset="BNB", at=day2)
    services.funding_record(account="main", payments=[{"venue_id": "1", "symbol": "BTCUSDT", "asset": "USDT",
                                                       "amount": D("-0.02"), "paid_at": day2}])
    pubsub.publish_price({"exchange": "binance", "market": "futures", "symbol": "BTCUSDT", "last_price": "110"})
    since, until = T0 - timedelta(hours=1), T0 + timedelta(days=2)
    report = selectors_pnl.pnl_report(accounts=[desk.account], since=since, until=until, group_by="day")
    assert [r.key for r in report.rows] == ["2026-12-01", "2026-12-02"]
    first, second = report.rows
    assert (first.realized_pnl, first.fees, first.volume, first.trade_count, first.unrealized_pnl) == (
        D(0), D("0.05"), D(100), 1, D(0))
    assert (second.realized_pnl, second.fees, second.funding, second.net_pnl, second.other_fees) == (
        D(10), D("0.03"), D("-0.02"), D("9.95"), {"BNB": D("0.001")})
    total = report.total
    assert (total.key, total.realized_pnl, total.fees, total.funding, total.trade_count, total.volume) == (
        "", D(10), D("0.08"), D("-0.02"), 3, D(260))
    assert total.net_pnl == D("9.90") and total.unrealized_pnl == D(5)  # 0.5 long from 100 marked at 110
    by_symbol = selectors_pnl.pnl_report(accounts=[desk.account], since=since, until=until, group_by="symbol")
    (btc,) = by_symbol.rows
    assert (btc.key, btc.trade_count, btc.unrealized_pnl, btc.net_pnl) == ("BTCUSDT", 3, D(5), D("9.90"))
    assert by_symbol.total == total
    assert selectors_pnl.realized_since(account=desk.account, since=T0 + timedelta(hours=1)) == D("9.95")
    assert selectors_pnl.pnl_report(accounts=[desk.account], since=since, until=until).rows == []


def test_pnl_report_refuses_what_it_cannot_answer(desk):
    with pytest.raises(ValueError, match="group_by must be one of '', 'day', 'symbol', not 'week'") as bad:
        selectors_pnl.pnl_report(accounts=[desk.account], since=T0, until=T0 + timedelta(days=1), group_by="week")
    assert bad.value.field == "group_by"
    with pytest.raises(ValueError, match="since") as bad:
        selectors_pnl.pnl_report(accounts=[desk.account], since=T0, until=T0)
    with pytest.raises(ValueError, match="until must be a timezone-aware time"):
        selectors_pnl.pnl_report(accounts=[desk.account], since=T0, until=datetime(2027, 1, 1))


fills = st.lists(st.tuples(st.sampled_from(["futures", "spot"]), st.sampled_from(["BUY", "SELL"]),
                           st.decimals(min_value=D("0.001"), max_value=D(3), places=3),
                           st.decimals(min_value=D(15000), max_value=D(25000), places=1),
                           st.sampled_from(["USDT", "BTC", "BNB"]),
                           st.integers(min_value=0, max_value=20)), max_size=14)


class TestAnyArrivalOrder(HypothesisTestCase):
    """Any fills, in any arrival order (executed_at out of order, as sweeps and reconciliation find them): the
    incremental books equal a rebuild from scratch and the plain fold of the fills in trade order."""

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(fills)
    def test_incremental_equals_rebuilt(self, sequence):
        pubsub.client().delete(pubsub.LATEST_PRICES_KEY)
        factories.instrument_create()
        factories.instrument_create(market="futures", tick_size="0.1", step_size="0.001", min_quantity="0.001",
                                    min_notional="100")
        desk = Desk(factories.account_create())
        for market, side, qty, price, fee_asset, second in sequence:
            fee = qty * price / 1000 if fee_asset == "USDT" else qty / 1000 if fee_asset == "BTC" else D("0.0001")
            desk.fill(market, side, qty, price, fee=fee, fee_asset=fee_asset, at=T0 + timedelta(seconds=second))
        incremental = books(desk.account)
        assert portfolio.portfolio_rebuild([desk.account]) == []
        assert books(desk.account) == incremental
        # and both equal the rules applied to the fills in (executed_at, id) order
        futures, spot = Book(), {}
        for f in Fill.objects.filter(account=desk.account).select_related("order").order_by("executed_at", "id"):
            fold = futures_fill if f.market == "futures" else spot_fill
            fold(futures if f.market == "futures" else spot, side=f.order.side, quantity=f.quantity, price=f.price,
                 fee=f.fee, fee_asset=f.fee_asset, base="BTC", quote="USDT")
        positions, holdings, _ = incremental
        if futures.amount or futures.realized or futures.fees:
            assert positions["BTCUSDT"][:4] == (futures.amount, futures.entry, futures.realized, futures.fees)
        if "BTC" in spot:
            assert holdings["BTC"][:4] == (spot["BTC"].amount, spot["BTC"].entry, spot["BTC"].realized, spot["BTC"].fees)


def test_fills_of_one_position_recorded_at_once_are_each_folded_once(transactional_db, no_prices):
    """Eight writers record fills of the same futures position and spot books at the same moment (separate orders, so
    no order lock serialises them): the fold's lock makes the books what a rebuild says."""
    import random
    import threading

    from django.db import connection

    factories.instrument_create()
    factories.instrument_create(market="futures", tick_size="0.1", step_size="0.001", min_quantity="0.001",
                                min_notional="100")
    desk = Desk(factories.account_create(name="busy"))
    orders = {(m, s): desk.order(m, s) for m in ("futures", "spot") for s in ("BUY", "SELL")}
    barrier, errors = threading.Barrier(8), []

    def writer(n: int) -> None:
        rng = random.Random(n)
        try:
            barrier.wait(timeout=10)
            for i in range(10):
                market, side = rng.choice(list(orders))
                services.fill_record(order_id=orders[(market, side)].id, trade_id=f"{n}-{i}",
                                     price=D(rng.randrange(19000, 21000)), quantity=D("0.01"), fee=D("0.01"),
                                     fee_asset="USDT", is_maker=False,
                                     executed_at=T0 + timedelta(milliseconds=rng.randrange(100)))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == [] and Fill.objects.filter(account=desk.account).count() == 80
    assert FillPnl.objects.filter(account=desk.account).count() == 80
    incremental = books(desk.account)
    assert portfolio.portfolio_rebuild([desk.account]) == [] and books(desk.account) == incremental
