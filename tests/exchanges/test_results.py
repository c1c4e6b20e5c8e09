"""The gateway's answers are read from ccxt's dicts in one place (exchanges.results), keeping the rules the ledger
depends on: blanks stay blank, statuses are ccxt's (both spellings of cancelled), the venue's own words win, a
trade without a fee is fee-free and one without an id in a report is not a trade."""
from __future__ import annotations

from decimal import Decimal

from exchanges.results import VenueStatus, futures_balances, spot_balances, venue_order, venue_position, venue_trade


def test_an_order_report_keeps_the_venues_words_and_leaves_blanks_blank():
    vo = venue_order({"id": 12, "clientOrderId": "abc", "symbol": "BTC/USDT", "side": "buy", "status": "canceled",
                      "filled": "0.5", "amount": None, "cost": "", "average": 0.0,
                      "info": {"status": "CANCELED", "avgPrice": "0.00000", "msg": "by user"},
                      "trades": [{"id": None, "price": "1", "amount": "1"}, {"id": 5, "price": "20000.1", "amount": "0.5",
                                                                          "fee": {"cost": "0.01", "currency": "BNB"},
                                                                          "takerOrMaker": "taker", "order": 12}]})

    assert (vo.id, vo.client_order_id, vo.status, vo.filled, vo.amount, vo.cost, vo.average) == (
        "12", "abc", VenueStatus.CANCELED, Decimal("0.5"), None, None, Decimal("0.0"))
    assert (vo.venue_status, vo.venue_average, vo.reason) == ("CANCELED", None, "by user")
    [trade] = vo.trades  # the one without an id is not a trade
    assert (trade.id, trade.order_id, trade.price, trade.fee, trade.fee_asset, trade.is_maker) == (
        "5", "12", Decimal("20000.1"), Decimal("0.01"), "BNB", False)


def test_statuses_are_ccxts_with_both_spellings_and_unknown_ones_kept_as_text():
    assert venue_order({"status": "cancelled"}).status == VenueStatus.CANCELED
    assert venue_order({"status": "OPEN"}).status == VenueStatus.OPEN
    unknown = venue_order({"status": "parked"})
    assert (unknown.status, unknown.status_text, unknown.reason, unknown.id) == (None, "parked", "parked", "")


def test_a_trade_without_a_fee_is_fee_free():
    trade = venue_trade({"id": 9, "price": "1.5", "amount": "2", "fee": None, "takerOrMaker": "maker"})
    assert (trade.fee, trade.fee_asset, trade.is_maker, trade.timestamp) == (Decimal(0), "", True, None)


def test_spot_balances_come_from_the_venues_rows_and_skip_empty_assets():
    raw = {"info": {"balances": [{"asset": "BTC", "free": "0.10000000", "locked": "0.00000000"},
                                 {"asset": "ETH", "free": "0.00000000", "locked": "0.00000000"}]},
           "total": {"BTC": 0.1, "ETH": 0}, "BTC": {"free": 0.1, "used": 0}}
    assert [b.row() for b in spot_balances(raw)] == [{"asset": "BTC", "free": Decimal("0.1"), "locked": Decimal(0)}]
    unified = {"total": {"USDT": 5}, "USDT": {"free": "4", "used": "1"}}
    assert [b.row() for b in futures_balances(unified)] == [{"asset": "USDT", "free": Decimal(4), "locked": Decimal(1)}]


def test_a_position_reads_the_venues_fields_first():
    p = venue_position({"symbol": "BTC/USDT:USDT", "side": "short", "contracts": 9, "leverage": None,
                        "info": {"symbol": "BTCUSDT", "positionAmt": "-0.010", "initialMargin": "20", "notional": "-200",
                                 "entryPrice": "20000", "markPrice": "20010", "unRealizedProfit": "-0.1"}})
    assert p.row("futures") == {"symbol": "BTCUSDT", "market": "futures", "side": "SHORT", "size": Decimal("0.010"),
                                "entry_price": Decimal(20000), "mark_price": Decimal(20010),
                                "unrealized_pnl": Decimal("-0.1"), "leverage": 10, "margin": Decimal(20),
                                "liquidation_price": None}
