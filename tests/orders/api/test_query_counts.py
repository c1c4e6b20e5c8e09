"""Query-count baselines per endpoint (NetBox style): a list costs the same with 2 rows or 8, so an
N+1 cannot creep in unnoticed. Raise a baseline only with a reason."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders import services as order_services
from tests import factories
from tests.orders.api.conftest import order_filled

# `?account=` costs one query on the lists that filter by it: the account is read first, so one the caller may
# not see is a 404 (as on gRPC), not an empty page.
BASELINES = {
    "/api/v1/orders/": 3,
    "/api/v1/orders/{id}/": 5,
    "/api/v1/fills/": 3,
    "/api/v1/funding/": 3,
    "/api/v1/balances/": 3,
    # token, account, scope; per account: venue positions (leverage, margin), the ledger's positions beside the
    # venue's (2), holdings and their instruments (2)
    "/api/v1/positions/": 8,
    # token, account, scope; the fills' (with their other fees), funding's and adjustments' sums (3); positions and
    # holdings for the unrealized PnL now (4)
    "/api/v1/pnl/": 10,
    "/api/v1/accounts/": 2,
    "/api/v1/instruments/": 2,
    "/api/v1/summary/": 7,
}


def rows(account, n: int) -> None:
    for i in range(n):
        order = order_filled(account, trade_id=f"q-{account.name}-{i}", price=str(20000 + i))
        factories.order_place(account, price=Decimal(19000 + i))
        factories.instrument_create(symbol=f"C{account.name[-1].upper()}{i}USDT")
        order_services.balances_replace(account=account.name, market="spot", balances=[
            {"asset": f"A{j}", "free": Decimal(1), "locked": Decimal(0)} for j in range(i + 1)])
        order_services.positions_replace(account=account.name, positions=[{
            "symbol": f"P{j}USDT", "side": "LONG", "size": Decimal(1), "entry_price": Decimal(1),
            "mark_price": Decimal(1), "unrealized_pnl": Decimal(0), "leverage": 1, "margin": Decimal(1)}
            for j in range(i + 1)])
        order_services.funding_record(account=account.name, payments=[{
            "venue_id": f"f-{account.name}-{i}", "symbol": "BTCUSDT", "asset": "USDT", "amount": Decimal("-0.1"),
            "paid_at": order.created_at}])
    return order


def queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


@pytest.mark.parametrize("endpoint", BASELINES)
def test_query_count_does_not_grow_with_rows(endpoint, client_a, alice, acct_a):
    small = factories.account_create(name="few", member=alice)
    last_few = rows(small, 2)
    client_a.get("/api/v1/accounts/")  # the token's last_used_at is written once a minute: not part of the baseline

    few = queries(client_a, endpoint.format(id=last_few.id) + "?account=few")
    last_many = rows(acct_a, 8)
    many = queries(client_a, endpoint.format(id=last_many.id) + "?account=acct-a")

    assert few == many == BASELINES[endpoint], (few, many)
