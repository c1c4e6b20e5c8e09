"""Per-account PnL gauges on /metrics, computed at scrape from the ledger's books (orders.selectors_pnl): realized
today after fees and funding, unrealized at the latest prices, and the exposure in quote."""
from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from infra import pubsub
from orders import services
from tests import factories
from tests.infra.test_metrics import sample, scrape


def filled(account, *, side: str, quantity: str, price: str, trade_id: str, fee: str = "0",
           executed_at: datetime | None = None, **kw):
    order = factories.order_place(account, side=side, quantity=Decimal(quantity), price=Decimal(price), **kw)
    services.order_apply_venue_update(order_id=order.id, status="NEW", exchange_order_id=f"x-{trade_id}")
    services.fill_record(order_id=order.id, trade_id=trade_id, price=Decimal(price), quantity=order.quantity,
                         fee=Decimal(fee), fee_asset="USDT", is_maker=True,
                         executed_at=executed_at or datetime.now(UTC))


def price(market: str, last: str) -> None:
    pubsub.publish_price({"exchange": "binance", "market": market, "symbol": "BTCUSDT", "bid_price": last,
                          "bid_quantity": "1", "ask_price": last, "ask_quantity": "1", "last_price": last,
                          "timestamp_ms": int(time.time() * 1000)})


def test_the_gauges_read_the_books(client, account, btcusdt, btcusdt_futures, no_prices):
    futures = {"market": "futures"}
    # yesterday: a long of 0.5 opened at 20,000 and a gain taken (not today's)
    yesterday = datetime.now(UTC) - timedelta(days=1)
    filled(account, side="BUY", quantity="0.6", price="20000", trade_id="f-0", executed_at=yesterday, **futures)
    filled(account, side="SELL", quantity="0.1", price="25000", trade_id="f-1", executed_at=yesterday, **futures)
    # today: 0.2 closed at 21,000 (+200), a funding payment of −10, a spot BUY of 0.05 BTC with a 0.02 USDT fee
    filled(account, side="SELL", quantity="0.2", price="21000", trade_id="f-2", **futures)
    services.funding_record(account="main", payments=[{"venue_id": "1", "symbol": "BTCUSDT", "asset": "USDT",
                                                       "amount": Decimal("-10"), "paid_at": datetime.now(UTC)}])
    filled(account, side="BUY", quantity="0.05", price="20000", trade_id="s-1", fee="0.02")
    price("futures", "22000")
    price("spot", "21000")

    samples = scrape(client)

    assert sample(samples, "oms_pnl_realized_today", account="main") == 189.98  # 200 − 0.02 − 10
    assert sample(samples, "oms_pnl_unrealized", account="main") == 650  # 0.3 × (22,000 − 20,000) + 0.05 × 1,000
    assert sample(samples, "oms_exposure_notional", account="main") == 7650  # 0.3 × 22,000 + 0.05 × 21,000
