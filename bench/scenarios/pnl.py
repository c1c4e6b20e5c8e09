"""Scenario 10: the PnL report over a million fills (issue 16). USD-M fills of ten desk accounts over 35 days are
written with COPY (their orders too, five fills an order), funding payments every 8 hours, then folded into the
ledger's positions by the fold service's rebuild, as `manage.py` would after an import. Timed: the report of one
account's UTC day (goal p99 ≤ 200 ms) and of a 30-day month across the ten accounts (goal p99 ≤ 2 s), each in
process (the selector, orders.selectors_pnl.pnl_report) and through gRPC GetPnL, per symbol. Baseline: the SQL a
report cannot do without, the count, notional and fees of the same fills grouped the same way, on the database
alone."""
from __future__ import annotations

import io
import random
import time
from datetime import UTC, datetime, timedelta

from bench.stack import Stack
from bench.stats import compare, summary, timed

DESKS = [f"pnl-desk-{i:02d}" for i in range(10)]
SYMBOLS = {"BTCUSDT": 115_000, "ETHUSDT": 4_200, "SOLUSDT": 200, "XRPUSDT": 2.9, "BNBUSDT": 850}  # the venue's USD-M
DAYS = 35
FILLS_PER_ORDER = 5
ORDER_COLUMNS = ("id", "account_id", "exchange_order_id", "exchange", "market", "symbol", "side", "order_type",
                 "time_in_force", "reduce_only", "post_only", "quantity", "price", "filled_quantity", "cumulative_quote",
                 "cumulative_fee", "fee_asset", "status", "reason", "version", "created_at", "updated_at")
FILL_COLUMNS = ("order_id", "account_id", "market", "symbol", "trade_id", "price", "quantity", "fee", "fee_asset",
                "is_maker", "executed_at", "created_at")
FUNDING_COLUMNS = ("account_id", "symbol", "venue_id", "asset", "amount", "paid_at", "source", "created_at")


def _copy(cursor, table: str, columns: tuple[str, ...], rows) -> None:
    raw = cursor.cursor  # psycopg's own cursor: COPY
    with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        chunk, n = io.StringIO(), 0
        for row in rows:
            chunk.write("\t".join(row) + "\n")
            n += 1
            if n % 50_000 == 0:
                copy.write(chunk.getvalue())
                chunk = io.StringIO()
        copy.write(chunk.getvalue())


def _trades(account_ids: list[int], count: int, start: datetime):
    """(order row, its fill rows) for `count` fills: each order of one account, symbol and side filled in
    FILLS_PER_ORDER trades at prices that walk around the symbol's level; sides alternate by chance, so positions
    open, close and flip. The same rows on every call (seeded), so orders and fills are copied in two passes
    without holding a million rows in memory."""
    rng = random.Random(10)
    prices = {(a, s): float(p) for a in account_ids for s, p in SYMBOLS.items()}
    step = timedelta(days=DAYS) / count
    for n in range(count // FILLS_PER_ORDER):
        account, symbol, side = rng.choice(account_ids), rng.choice(list(SYMBOLS)), rng.choice(("BUY", "SELL"))
        level = prices[(account, symbol)] * (1 + rng.uniform(-0.002, 0.002))
        prices[(account, symbol)] = level
        quantity = max(round(rng.uniform(0.1, 2.0) * 1000 / SYMBOLS[symbol], 3), 0.001)
        at = start + step * n * FILLS_PER_ORDER
        order_id = f"pnl{n:012x}{rng.getrandbits(64):016x}"
        order = (order_id, str(account), str(n), "binance", "futures", symbol, side, "LIMIT", "GTC", "f", "f",
                 f"{quantity * FILLS_PER_ORDER:.3f}", f"{level:.4f}", f"{quantity * FILLS_PER_ORDER:.3f}", "0", "0",
                 "USDT", "FILLED", "", "2", at.isoformat(), at.isoformat())
        fills = []
        for k in range(FILLS_PER_ORDER):
            price = level * (1 + rng.uniform(-0.0005, 0.0005))
            when = (at + step * k).isoformat()
            fills.append((order_id, str(account), "futures", symbol, f"{n}-{k}", f"{price:.4f}", f"{quantity:.3f}",
                          f"{price * quantity * 0.0004:.8f}", "USDT", rng.choice(("t", "f")), when, when))
        yield order, fills


def _funding(account_ids: list[int], start: datetime, rng: random.Random):
    for account in account_ids:
        for k in range(DAYS * 3):  # every 8 hours, as Binance settles
            at = (start + timedelta(hours=8 * k)).isoformat()
            for symbol in SYMBOLS:
                yield (str(account), symbol, f"{account}-{symbol}-{k}", "USDT", f"{rng.uniform(-2, 2):.8f}", at,
                       "sync", at)


def seed(count: int) -> tuple[list, datetime]:
    """`count` fills over DESKS, written with COPY, then folded; returns (the accounts, the first fill's day)."""
    from django.db import connection

    from accounts import services as account_services
    from accounts.models import Account

    for name in DESKS:
        account_services.account_create(name=name, exchange="binance")
    accounts = list(Account.objects.filter(name__in=DESKS).order_by("name"))
    ids = [a.pk for a in accounts]
    start = (datetime.now(UTC) - timedelta(days=DAYS)).replace(hour=0, minute=0, second=0, microsecond=0)
    with connection.cursor() as cursor:
        _copy(cursor, "orders_order", ORDER_COLUMNS, (order for order, _ in _trades(ids, count, start)))
        _copy(cursor, "orders_fill", FILL_COLUMNS, (fill for _, fills in _trades(ids, count, start) for fill in fills))
        _copy(cursor, "orders_fundingpayment", FUNDING_COLUMNS, _funding(ids, start, random.Random(12)))
        cursor.execute("ANALYZE")
    return accounts, start


def fold(accounts) -> None:
    """The fold's rebuild from scratch over the copied fills (what `manage.py portfolio_rebuild` does), then the
    statistics autovacuum would gather on a live ledger: unanalyzed, the planner guesses a few dozen rows of
    orders_fillpnl and sorts a month's 860,000 on disk to group them (2.1 s instead of 0.5 s)."""
    from django.db import connection

    from orders.portfolio import portfolio_rebuild

    portfolio_rebuild(accounts)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _sql_baseline(account_ids: list[int], since: datetime, until: datetime, group_by: str) -> float:
    """The fills a report must read, counted and summed (notional, fees) with the report's grouping."""
    from django.db import connection

    key = {"": "''", "day": "(executed_at AT TIME ZONE 'UTC')::date::text", "symbol": "symbol"}[group_by]
    sql = (f"SELECT {key}, count(*), sum(price * quantity), sum(fee) FROM orders_fill "
           f"WHERE account_id = ANY(%s) AND executed_at >= %s AND executed_at < %s GROUP BY 1")
    with connection.cursor() as cursor:
        return timed(lambda: (cursor.execute(sql, [account_ids, since, until]), cursor.fetchall()))[0]


def run(stack: Stack, count: int, queries: int) -> dict:
    from clients.python.oms_client import OMSClient
    from orders import selectors_pnl

    started = time.monotonic()
    accounts, start = seed(count)
    seeded_s = time.monotonic() - started
    started = time.monotonic()
    fold(accounts)
    folded_s = time.monotonic() - started
    note = f"{count:,} fills of {len(accounts)} accounts over {DAYS} days (COPY {seeded_s:.0f} s, fold {folded_s:.0f} s)"
    rng = random.Random(11)
    names = {a.pk: a.name for a in accounts}

    def day_of_one():
        account = rng.choice(accounts)
        since = start + timedelta(days=rng.randrange(1, DAYS - 1))
        return [account], since, since + timedelta(days=1), "symbol"

    def month_of_ten():
        since = start + timedelta(days=rng.randrange(0, DAYS - 30))
        return accounts, since, since + timedelta(days=30), rng.choice(("day", "symbol"))

    out = {}
    with OMSClient(stack.grpc_address, timeout=60) as client:
        for kind, make, goal in (("a day of one account", day_of_one, "≤ 200 ms"),
                                 ("a month of 10 accounts", month_of_ten, "≤ 2 s")):
            selector_ms, grpc_ms, sql_ms = [], [], []
            for i in range(queries + 3):
                chosen, since, until, group_by = make()
                question = {"since": since, "until": until, "group_by": group_by}
                ms, _ = timed(lambda q=question, c=chosen: selectors_pnl.pnl_report(accounts=c, **q))
                account_id = names[chosen[0].pk] if len(chosen) == 1 else ""
                rpc_ms, _ = timed(lambda q=question, a=account_id: client.get_pnl(account_id=a, **q))
                base = _sql_baseline([a.pk for a in chosen], since, until, group_by)
                if i >= 3:  # the first few warm caches and connections
                    selector_ms.append(ms)
                    grpc_ms.append(rpc_ms)
                    sql_ms.append(base)
            raw = summary(sql_ms)
            for via, samples in (("selector", selector_ms), ("GetPnL", grpc_ms)):
                oms = summary(samples)
                out[f"10 PnL {kind}, {via}"] = {"oms": oms, "raw": raw, **compare(oms, raw),
                                                "note": f"{note}; goal p99 {goal}"}
    return out
