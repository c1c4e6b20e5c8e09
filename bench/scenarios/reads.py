"""Scenario 6: ledger reads with a million orders. The orders are written with COPY straight into the
table (never through the API), then filtered pages are read through gRPC ListOrders and, when the REST
API is present, GET /api/v1/orders/. Baseline: the same SQL the selector builds, run on the database.
The admin's list pages and overview are read too (bench.scenarios.admin_pages), against the ≤ 300 ms target of
issue 20."""
from __future__ import annotations

import io
import random
import time
from datetime import UTC, datetime, timedelta

from bench.stack import Stack
from bench.stats import compare, summary, timed

DESKS = [f"desk-{i:02d}" for i in range(10)]
SYMBOLS = [f"{base}USDT" for base in ("BTC", "ETH", "SOL", "XRP", "ADA", "DOGE", "BNB", "DOT", "LTC", "AVAX",
                                      "LINK", "TRX", "ATOM", "NEAR", "APT", "ARB", "OP", "FIL", "ETC", "BCH")]
# Most orders of a long-lived ledger are done; a few percent still work.
STATUSES = [("FILLED", 45), ("CANCELLED", 40), ("REJECTED", 4), ("EXPIRED", 1), ("NEW", 8), ("PARTIALLY_FILLED", 2)]
COLUMNS = ("id", "account_id", "exchange_order_id", "exchange", "market", "symbol", "side", "order_type",
           "time_in_force", "reduce_only", "post_only", "quantity", "price", "filled_quantity", "cumulative_quote",
           "cumulative_fee", "fee_asset", "status", "reason", "version", "created_at", "updated_at")


def _rows(account_ids: list[int], count: int, rng: random.Random):
    statuses = [s for s, weight in STATUSES for _ in range(weight)]
    start = datetime.now(UTC) - timedelta(days=90)
    step = timedelta(days=90) / count
    for i in range(count):
        status = rng.choice(statuses)
        filled = "1" if status == "FILLED" else "0.5" if status == "PARTIALLY_FILLED" else "0"
        created = (start + step * i).isoformat()
        yield (f"{i:012x}{rng.getrandbits(80):020x}", str(rng.choice(account_ids)), str(i), "binance", "spot",
               rng.choice(SYMBOLS), rng.choice(("BUY", "SELL")), "LIMIT", "GTC", "f", "f", "1",
               f"{rng.randint(1, 100000)}.5", filled, "0", "0", "", status, "", "2", created, created)


def seed(count: int) -> list[str]:
    """`count` orders spread over ten desk accounts, written with COPY; returns the desk names."""
    from django.db import connection

    from accounts import services as account_services
    from accounts.models import Account

    for name in DESKS:
        account_services.account_create(name=name, exchange="binance")
    ids = list(Account.objects.filter(name__in=DESKS).values_list("pk", flat=True))
    rng = random.Random(6)
    rows = _rows(ids, count, rng)
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor: COPY
        with raw.copy(f"COPY orders_order ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            while True:
                chunk = io.StringIO()
                n = 0
                for row in rows:
                    chunk.write("\t".join(row) + "\n")
                    n += 1
                    if n == 50_000:
                        break
                if not n:
                    break
                copy.write(chunk.getvalue())
        cursor.execute("ANALYZE")  # every table: plans must not rest on guessed account counts
    return DESKS


def _queries(rng: random.Random) -> dict:
    """Filter kinds a dashboard or bot asks for, each with varying values."""
    return {
        "open by account+symbol": lambda: {"status": "OPEN", "account_id": rng.choice(DESKS), "symbol": rng.choice(SYMBOLS)},
        "filled by account": lambda: {"status": "FILLED", "account_id": rng.choice(DESKS)},
        "by symbol": lambda: {"symbol": rng.choice(SYMBOLS)},
        "cancelled by symbol": lambda: {"status": "CANCELLED", "symbol": rng.choice(SYMBOLS)},
    }


def _sql_baseline(filters: dict) -> float:
    """The page ListOrders reads (the selector's queryset, first 101 rows), as SQL on the database alone."""
    from django.db import connection

    from orders import selectors

    qs = selectors.order_list(status=filters.get("status", ""), symbol=filters.get("symbol", ""),
                              account=filters.get("account_id", ""))
    sql, params = qs.select_related("account").order_by("-created_at", "-id")[:101].query.sql_with_params()
    with connection.cursor() as cursor:
        return timed(lambda: (cursor.execute(sql, params), cursor.fetchall()))[0]


def _rest_client(stack: Stack):
    """A session with a bearer token of a user who is a member of every desk (REST reads are scoped)."""
    import requests
    from django.db import connection

    from accounts import services as account_services
    from tests.factories import user_create

    user = user_create(username="bench-reader")
    for name in DESKS:
        account_services.member_add(account=name, user=user)
    with connection.cursor() as cursor:  # autovacuum waits for 50 changed rows; a scoped list's plan rests on these
        cursor.execute("ANALYZE accounts_accountmember")
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {account_services.api_token_create(user=user, name='bench')}"
    return session


def _rest_list(session, url: str, filters: dict) -> None:
    params = {"page_size": 100, **{("account" if k == "account_id" else k): v for k, v in filters.items()}}
    response = session.get(f"{url}/api/v1/orders/", params=params, timeout=30)
    response.raise_for_status()


def _measure(kind: str, make, call, queries: int) -> tuple[dict, dict]:
    api_ms, sql_ms = [], []
    for i in range(queries + 10):
        filters = make()
        ms, _ = timed(lambda filters=filters: call(filters))
        base = _sql_baseline(filters)
        if i >= 10:  # the first few warm caches and connections
            api_ms.append(ms)
            sql_ms.append(base)
    oms, raw = summary(api_ms), summary(sql_ms)
    return oms, {"raw": raw, **compare(oms, raw)}


def run(stack: Stack, count: int, queries: int) -> dict:
    from clients.python.oms_client import OMSClient

    started = time.monotonic()
    seed(count)
    seeded_s = time.monotonic() - started
    note = f"{count:,} orders (COPY {seeded_s:.0f} s), pages of 100"
    rng = random.Random(7)
    out = {}
    with OMSClient(stack.grpc_address, timeout=30) as client:
        for kind, make in _queries(rng).items():
            oms, rest = _measure(kind, make, lambda f: client.list_orders(**f), queries)
            out[f"6 ListOrders {kind}"] = {"oms": oms, **rest, "note": note}
    url, session = stack.start_web(), _rest_client(stack)
    for kind, make in _queries(rng).items():
        oms, rest = _measure(kind, make, lambda f: _rest_list(session, url, f), queries)
        out[f"6 REST orders {kind}"] = {"oms": oms, **rest, "note": note}
    out.update(admin(count, max(10, queries // 5), seeded=True))
    return out


def admin(count: int, pages: int, *, seeded: bool = False) -> dict:
    """The admin's part of scenario 6 (`python -m bench admin` runs it alone): the orders (unless `seeded`) and the
    rest of a ledger of their size, then every list page and the overview (bench.scenarios.admin_pages)."""
    from bench.scenarios import admin_pages

    started = time.monotonic()
    if not seeded:
        seed(count)
    rows = admin_pages.seed_ledger(DESKS, SYMBOLS)
    note = (f"{count:,} orders, {rows['orders_fill']:,} fills, {rows['orders_orderevent']:,} events, "
            f"{rows['orders_reconciliationrun']:,} runs (seeded in {time.monotonic() - started:.0f} s), pages of 50")
    return admin_pages.measure(DESKS, SYMBOLS, pages, note)
