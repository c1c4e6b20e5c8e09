"""USD-M funding on the venue, through ccxt: the published rate (premiumIndex), settlements (asked for now, and
on schedule as venue time passes 00:00/08:00/16:00 UTC), the income history (`fetch_funding_history`, raw
`GET /fapi/v1/income` with Binance's fields and paging) and the ACCOUNT_UPDATE with reason FUNDING_FEE."""
import asyncio
from decimal import Decimal

import ccxt
import pytest

from exchanges.simulator import funding
from exchanges.simulator.funding_rates import funding_rate
from tests.waiting import wait_until

from .helpers import hold_price, run_pro, subscribed, watch_until

PERP = "BTC/USDT:USDT"
D = Decimal
INCOME_FIELDS = {"symbol", "incomeType", "income", "asset", "info", "time", "tranId", "tradeId"}


def wallet(venue) -> Decimal:
    return D(venue.control.records(venue.api_key, "futures")["balances"]["USDT"][0])


def open_position(exchange, venue, side: str, amount: str, price=100000) -> None:
    hold_price(venue, "BTCUSDT", price, market="futures")
    exchange.create_order(PERP, "market", side, float(amount))


def test_premium_index_publishes_the_rate_the_next_settlement_pays(venue_exchange, venue):
    index = venue_exchange.fapiPublicGetPremiumIndex({"symbol": "BTCUSDT"})
    venue_ms = venue.control.clock()["venue_ms"]

    rate, next_time = funding_rate(1, "BTCUSDT", funding.next_funding_time(venue_ms)), \
        funding.next_funding_time(venue_ms)
    assert index["lastFundingRate"] == format(rate, "f") and len(index["lastFundingRate"].split(".")[1]) == 8
    assert index["nextFundingTime"] == next_time and next_time % (8 * 3_600_000) == 0
    assert 0 < next_time - venue_ms <= 8 * 3_600_000
    parsed = venue_exchange.fetch_funding_rate(PERP)
    assert parsed["fundingRate"] == float(rate) and parsed["fundingTimestamp"] == next_time


def test_a_long_pays_and_a_short_receives_notional_times_rate_recorded_once_in_the_income_history(venue_exchange, venue):
    open_position(venue_exchange, venue, "buy", "0.01")
    before = wallet(venue)
    rate = D(venue_exchange.fapiPublicGetPremiumIndex({"symbol": "BTCUSDT"})["lastFundingRate"])

    [payment] = venue.control.settle_funding()

    expected = (-(D("0.01") * D(100000) * rate)).quantize(D("0.00000001"))
    assert D(payment["income"]) == expected and payment["api_key"] == venue.api_key
    assert wallet(venue) == before + expected
    raw = venue_exchange.fapiPrivateGetIncome({"incomeType": "FUNDING_FEE"})
    [row] = raw
    assert set(row) == INCOME_FIELDS
    assert row["symbol"] == "BTCUSDT" and row["incomeType"] == "FUNDING_FEE" and row["asset"] == "USDT"
    assert row["info"] == "FUNDING_FEE" and row["tradeId"] == "" and row["income"] == format(expected, "f")
    assert isinstance(row["tranId"], int) and isinstance(row["time"], int)
    [parsed] = venue_exchange.fetch_funding_history(PERP)
    assert parsed["id"] == str(row["tranId"]) and parsed["code"] == "USDT" and parsed["symbol"] == PERP
    assert parsed["timestamp"] == row["time"] and D(parsed["info"]["income"]) == expected

    venue_exchange.create_order(PERP, "market", "sell", 0.03)  # now short 0.02: the same rate pays it
    [payment] = venue.control.settle_funding()
    assert D(payment["income"]) == (D("0.02") * D(100000) * rate).quantize(D("0.00000001"))
    assert len(venue_exchange.fetch_funding_history(PERP)) == 2


def test_trades_and_transfers_are_in_the_income_history_with_their_trade_ids(venue_exchange, venue):
    open_position(venue_exchange, venue, "buy", "0.01")
    hold_price(venue, "BTCUSDT", 101000, market="futures")
    venue_exchange.create_order(PERP, "market", "sell", 0.01, None, {"reduceOnly": True})
    venue.control.fund(venue.api_key, "futures", "USDT", 50)

    rows = venue_exchange.fapiPrivateGetIncome({})
    trades = {str(t["id"]): t for t in venue_exchange.fapiPrivateGetUserTrades({"symbol": "BTCUSDT"})}
    kinds = [r["incomeType"] for r in rows]
    assert kinds.count("COMMISSION") == 2 and kinds.count("REALIZED_PNL") == 1 and kinds[-1] == "TRANSFER"
    for row in rows:
        assert set(row) == INCOME_FIELDS
        if row["incomeType"] == "COMMISSION":
            assert D(row["income"]) == -D(trades[row["tradeId"]]["commission"])
        if row["incomeType"] == "REALIZED_PNL":
            assert D(row["income"]) == D(trades[row["tradeId"]]["realizedPnl"]) > 0
    assert rows[-1]["income"] == "50.00000000" and rows[-1]["tradeId"] == "" and rows[-1]["symbol"] == ""
    assert [r["tranId"] for r in rows] == sorted({r["tranId"] for r in rows})
    # the futures wallet is exactly what the income history says happened to it
    assert wallet(venue) == D(100000) + sum(D(r["income"]) for r in rows)


def test_income_paging_and_filters_follow_binance(venue_exchange, venue):
    open_position(venue_exchange, venue, "buy", "0.01")
    for _ in range(3):
        venue.control.settle_funding()
    rows = venue_exchange.fapiPrivateGetIncome({"incomeType": "FUNDING_FEE"})
    assert len(rows) == 3

    first = venue_exchange.fapiPrivateGetIncome({"incomeType": "FUNDING_FEE", "limit": 2})
    second = venue_exchange.fapiPrivateGetIncome({"incomeType": "FUNDING_FEE", "limit": 2, "page": 2})
    assert first + second == rows
    assert venue_exchange.fapiPrivateGetIncome({"symbol": "ETHUSDT"}) == []
    assert venue_exchange.fapiPrivateGetIncome({"startTime": rows[-1]["time"] + 1}) == []
    with pytest.raises(ccxt.BadRequest):
        venue_exchange.fapiPrivateGetIncome({"incomeType": "NOT_A_TYPE"})
    with pytest.raises(ccxt.BadRequest):
        venue_exchange.fapiPrivateGetIncome({"limit": 1001})


def test_settlements_follow_venue_time_every_eight_hours(venue_exchange, venue):
    open_position(venue_exchange, venue, "sell", "0.01")
    venue_ms = venue.control.clock()["venue_ms"]
    due = funding.next_funding_time(venue_ms)

    venue.control.set_clock(advance_ms=due - venue_ms + 2 * 8 * 3_600_000)  # past this funding time and two more

    rows = wait_until(lambda: len(r := venue_exchange.fapiPrivateGetIncome({"incomeType": "FUNDING_FEE"})) >= 3 and r,
                      timeout=10, what="three scheduled settlements")
    assert len(rows) == 3
    rates = [funding_rate(1, "BTCUSDT", due + n * 8 * 3_600_000) for n in range(3)]  # the venue's seed is 1
    assert [D(r["income"]) for r in rows] == [(D("0.01") * D(100000) * rate).quantize(D("0.00000001"))
                                              for rate in rates]
    assert venue_exchange.fapiPublicGetPremiumIndex({"symbol": "BTCUSDT"})["nextFundingTime"] == due + 3 * 8 * 3_600_000


def test_no_position_no_payment(venue_exchange, venue):
    assert venue.control.settle_funding() == []
    assert venue_exchange.fetch_funding_history(PERP) == []


def test_a_settlement_streams_account_update_with_reason_funding_fee_and_the_wallet_only(venue_exchange, venue):
    open_position(venue_exchange, venue, "buy", "0.01")

    async def scenario(ex):
        watching = asyncio.create_task(watch_until(lambda: ex.watch_balance({"type": "future"}),
                                                   lambda b: b["info"]["a"]["m"] == "FUNDING_FEE"))
        await subscribed(venue)
        [payment] = await asyncio.to_thread(venue.control.settle_funding)
        return payment, await watching

    payment, balance = run_pro(venue, scenario)

    event = balance["info"]
    assert event["e"] == "ACCOUNT_UPDATE" and event["a"]["P"] == []
    [usdt] = event["a"]["B"]
    assert usdt["a"] == "USDT" and usdt["bc"] == payment["income"]
    assert D(usdt["wb"]) == wallet(venue)


def test_a_fast_venue_clock_settles_funding_every_eight_hours_of_venue_time(venue_exchange, venue):
    open_position(venue_exchange, venue, "buy", "0.01")

    venue.control.set_clock(speed=200_000)  # 8 hours of venue time in 0.144 s
    rows = wait_until(lambda: len(r := venue_exchange.fapiPrivateGetIncome({"incomeType": "FUNDING_FEE"})) >= 3 and r,
                      timeout=10, what="settlements as venue time passes")
    venue.control.set_clock(speed=1)

    assert all(row["symbol"] == "BTCUSDT" and D(row["income"]) for row in rows)
    index = venue_exchange.fapiPublicGetPremiumIndex({"symbol": "BTCUSDT"})
    assert index["nextFundingTime"] > venue.control.clock()["wall_ms"] + 8 * 3_600_000  # the schedule is venue time's


def test_the_income_history_survives_a_restart_from_snapshot_and_tran_ids_keep_rising(tmp_path):
    from exchanges.simulator.testing import ccxt_client, start_venue

    path = str(tmp_path / "venue.json")
    first = start_venue(seed=3, keys={"snap": "shot"}, snapshot_path=path)
    exchange = ccxt_client(first, "snap", "shot")
    hold_price(first, "BTCUSDT", 100000, market="futures")
    exchange.create_order(PERP, "market", "buy", 0.01)
    first.control.settle_funding()
    before = exchange.fapiPrivateGetIncome({})
    first.stop()

    second = start_venue(seed=3, keys={"snap": "shot"}, snapshot_path=path)
    try:
        again = ccxt_client(second, "snap", "shot")
        assert again.fapiPrivateGetIncome({}) == before
        hold_price(second, "BTCUSDT", 100000, market="futures")
        [payment] = second.control.settle_funding()
        assert payment["tranId"] > max(r["tranId"] for r in before)
    finally:
        second.stop()
