"""Scenario 6, the admin's part: every list page operators open, and the overview, on a ledger of a million orders.

`seed_ledger` gives the orders scenario 6 wrote (bench.scenarios.reads.seed) what a ledger of that size carries
beside them, written in SQL on the server: a fill per filled order, two events per order (placed, then its last
change), USD-M funding every 8 h, a reconciliation run per account and market every 5 minutes for the 90 days the
orders span (one in fifty found a drift), control changes, balances and positions. The pages are read in this
process (Django's test client: the server's time without the network); the baseline is the page's own SQL
statements replayed on the database alone, so what a row shows over its baseline is Python (Django, templates)."""
from __future__ import annotations

import random
import time

from bench.stats import compare, summary, timed

ASSETS = ("USDT", "BTC", "ETH", "SOL", "XRP", "ADA", "DOGE", "BNB", "DOT", "LTC")


def seed_ledger(desks: list[str], symbols: list[str]) -> dict:
    """Fills, events, funding, reconciliation runs, drifts, control changes, balances and positions for the orders
    already seeded; returns how many rows of each."""
    from django.db import connection

    from accounts.models import Account

    ids = list(Account.objects.filter(name__in=desks).values_list("pk", flat=True))
    with connection.cursor() as cur:
        # Seeding only: the rows reference orders and accounts that exist, so the per-row foreign key checks of
        # millions of inserts are skipped (superuser only, this session only).
        cur.execute("SET session_replication_role = replica")
        cur.execute("""
            INSERT INTO orders_fill (order_id, account_id, market, symbol, trade_id, price, quantity, fee, fee_asset,
                                     is_maker, executed_at, created_at)
            SELECT id, account_id, market, symbol, 't' || exchange_order_id, price, filled_quantity, 0.001, 'USDT',
                   (hashtext(id) & 1) = 0, updated_at, updated_at
            FROM orders_order WHERE filled_quantity > 0""")
        cur.execute("""
            INSERT INTO orders_orderevent (order_id, sequence, kind, from_status, to_status, payload, source, at)
            SELECT id, 1, 'PLACED', '', 'PENDING_NEW', '{}'::jsonb, 'api', created_at FROM orders_order
            UNION ALL
            SELECT id, 2, CASE status WHEN 'NEW' THEN 'ACCEPTED' WHEN 'FILLED' THEN 'FILLED' ELSE status END,
                   'PENDING_NEW', status, '{"venue_status": "x"}'::jsonb, 'worker', updated_at
            FROM orders_order""")
        cur.execute("""
            INSERT INTO orders_fundingpayment (account_id, symbol, venue_id, asset, amount, paid_at, source, created_at)
            SELECT a, s, a || '-' || s || '-' || n, 'USDT', ((n %% 7) - 3) * 0.0125, now() - n * interval '8 hours',
                   'sync', now() - n * interval '8 hours'
            FROM unnest(%s::int[]) a, unnest(%s::text[]) s, generate_series(1, 270) n""", [ids, symbols[:5]])
        cur.execute("""
            INSERT INTO orders_reconciliationrun (account_id, market, trigger, fix, started_at, finished_at, outcome,
                                                  drift_count, fixed_count, error)
            SELECT a, m, 'schedule', false, now() - n * interval '5 minutes',
                   now() - n * interval '5 minutes' + interval '2 seconds',
                   CASE WHEN n %% 50 = 0 THEN 'drift' ELSE 'agree' END, CASE WHEN n %% 50 = 0 THEN 1 ELSE 0 END, 0, ''
            FROM unnest(%s::int[]) a, unnest(ARRAY['spot', 'futures']) m, generate_series(1, 25920) n""", [ids])
        cur.execute("""
            INSERT INTO orders_drift (run_id, kind, symbol, reference, ledger, venue, fixed, note)
            SELECT id, 'balance', '', 'USDT', '{"free": "1"}'::jsonb, '{"free": "2"}'::jsonb, false, ''
            FROM orders_reconciliationrun WHERE drift_count > 0""")
        cur.execute("""
            INSERT INTO accounts_controlchange (at, account_id, what, before, after)
            SELECT now() - n * interval '1 hour', (%s::int[])[1 + n %% %s], 'risk_limit_set',
                   '{"max_open_orders": 100}'::jsonb, '{"max_open_orders": 200}'::jsonb
            FROM generate_series(1, 2000) n""", [ids, len(ids)])
        cur.execute("""
            INSERT INTO accounts_balance (account_id, market, asset, free, locked, updated_at)
            SELECT a, m, x, 1000.5, 10.25, now() FROM unnest(%s::int[]) a, unnest(ARRAY['spot', 'futures']) m,
                   unnest(%s::text[]) x""", [ids, list(ASSETS)])
        cur.execute("""
            INSERT INTO accounts_position (account_id, market, symbol, side, size, entry_price, mark_price, unrealized_pnl,
                                           leverage, margin, liquidation_price, updated_at)
            SELECT a, 'futures', s, 'LONG', 0.5, 100.5, 101.5, 0.5, 5, 10.05, 80.1, now()
            FROM unnest(%s::int[]) a, unnest(%s::text[]) s""", [ids, symbols])
        cur.execute("SET session_replication_role = DEFAULT")
        # What autovacuum has done on a ledger that lived with these rows: statistics, and the visibility map that
        # lets an index-only scan skip the table.
        cur.execute("VACUUM ANALYZE")
        counts = {}
        for table in ("orders_fill", "orders_orderevent", "orders_fundingpayment", "orders_reconciliationrun",
                      "orders_drift", "accounts_controlchange", "accounts_balance", "accounts_position"):
            cur.execute(f"SELECT reltuples::bigint FROM pg_class WHERE relname = '{table}'")  # noqa: S608 - our names
            counts[table] = cur.fetchone()[0]
    return counts


def _pages(rng: random.Random, desks: list[str], symbols: list[str]) -> dict:
    """Page kind -> a function giving (path, query parameters) for one read."""
    from accounts.models import Account
    from orders.models import Order

    desk_ids = list(Account.objects.filter(name__in=desks).values_list("pk", flat=True))
    some_ids = list(Order.objects.order_by("-created_at").values_list("id", flat=True)[:1000])
    filled_ids = list(Order.objects.filter(status="FILLED").order_by("-created_at").values_list("id", flat=True)[:1000])
    desk = lambda: rng.choice(desk_ids)  # noqa: E731
    orders, fills, events = "/admin/orders/order/", "/admin/orders/fill/", "/admin/orders/orderevent/"
    return {
        "orders": lambda: (orders, {}),
        "orders open, account": lambda: (orders, {"open": "yes", "account__id__exact": desk()}),
        "orders filled, account": lambda: (orders, {"status__exact": "FILLED", "account__id__exact": desk()}),
        "orders by symbol": lambda: (orders, {"symbol": rng.choice(symbols)}),
        "orders pending > 10 s": lambda: (orders, {"pending_over": "10"}),
        "orders by type": lambda: (orders, {"order_type__exact": rng.choice(("LIMIT", "MARKET"))}),  # none MARKET
        "orders search by id": lambda: (orders, {"q": rng.choice(some_ids)}),
        "fills": lambda: (fills, {}),
        "fills, account": lambda: (fills, {"account__id__exact": desk()}),
        "fills search by order id": lambda: (fills, {"q": rng.choice(filled_ids)}),
        "fills by market": lambda: (fills, {"market__exact": rng.choice(("spot", "futures"))}),  # none futures
        "events": lambda: (events, {}),
        # Common kinds and rare ones (1 % EXPIRED, no ADOPTED): a rare value must not mean reading every event.
        "events, kind": lambda: (events, {"kind": rng.choice(("PLACED", "FILLED", "CANCELLED", "EXPIRED", "ADOPTED"))}),
        "events, new status": lambda: (events, {"to_status": rng.choice(("NEW", "REJECTED", "PENDING_CANCEL"))}),
        "events search by order id": lambda: (events, {"q": rng.choice(some_ids)}),
        "balances": lambda: ("/admin/accounts/balance/", {}),
        "positions": lambda: ("/admin/accounts/position/", {}),
        "control changes": lambda: ("/admin/accounts/controlchange/", {}),
        "funding": lambda: ("/admin/orders/fundingpayment/", {}),
        "funding, account": lambda: ("/admin/orders/fundingpayment/", {"account__id__exact": desk()}),
        "reconciliation runs": lambda: ("/admin/orders/reconciliationrun/", {}),
        "reconciliation runs, account": lambda: ("/admin/orders/reconciliationrun/", {"account__id__exact": desk()}),
        "reconciliation runs, outcome": lambda: ("/admin/orders/reconciliationrun/",
                                                 {"outcome__exact": rng.choice(("drift", "error"))}),  # 2 %, none
        "drifts": lambda: ("/admin/orders/drift/", {}),
        "overview": lambda: ("/admin/overview/", {}),
    }


def _replay(statements: list[str]) -> float:
    """ms the page's SELECTs take on the database alone (the session and user look-ups included)."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
            cursor.fetchall()
    return (time.perf_counter() - started) * 1000


def measure(desks: list[str], symbols: list[str], pages: int, note: str, only: set[str] | None = None) -> dict:
    """`pages` reads of each page kind (after 5 untimed ones) -> bench rows "6 admin <kind>"."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from tests.factories import user_create

    client = Client(SERVER_NAME="localhost")
    client.force_login(user_create(username="bench-operator", superuser=True, is_staff=True))
    out = {}
    for kind, make in _pages(random.Random(8), desks, symbols).items():
        if only and kind not in only:
            continue
        page_ms, sql_ms, statements = [], [], 0
        for i in range(pages + 5):
            path, params = make()
            with CaptureQueriesContext(connection) as ctx:
                ms, response = timed(lambda path=path, params=params: client.get(path, params, secure=True))
            assert response.status_code == 200, (path, params, response.status_code)
            selects = [q["sql"] for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
            if i >= 5:
                page_ms.append(ms)
                sql_ms.append(_replay(selects))
                statements = max(statements, len(ctx.captured_queries))
        oms, raw = summary(page_ms), summary(sql_ms)
        out[f"6 admin {kind}"] = {"oms": oms, "raw": raw, **compare(oms, raw), "statements": statements,
                                  "note": f"{note}; {statements} SQL statements; in-process server time, target ≤ 300 ms"}
    return out
