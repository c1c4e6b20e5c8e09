"""Two bursts of orders through a real worker to the local venue, sized by the caller: small in `make test`
(tests/execution/test_venue_orders_e2e.py), large in `make soak` (tests/soak/test_soak.py)."""
from __future__ import annotations

import random
from collections import Counter
from decimal import Decimal

from accounts.models import Balance
from orders import services
from orders.models import Order, Status
from tests.fixtures.worker import sync_due
from tests.waiting import wait_until

D = Decimal


def _place(**fields) -> Order:
    base = {"account": "main", "symbol": "BTCUSDT", "side": "BUY", "quantity": D("0.01"), "order_type": "LIMIT"}
    return services.order_place(**{**base, **fields})


def order_posts(venue, path="/api/v3/order") -> list[dict]:
    return [r for r in venue.control.audit() if r["method"] == "POST" and r["path"] == path]


def balances(venue_view) -> dict[str, tuple[Decimal, Decimal]]:
    rows = venue_view.fetch_balance()["info"]["balances"]
    return {r["asset"]: (D(r["free"]), D(r["locked"])) for r in rows if D(r["free"]) or D(r["locked"])}


def answers_dropped(venue, venue_view, placements: int) -> None:
    """Every placement's answer is lost after the venue accepted it: each order is found by its lookup and
    ends NEW, sent exactly once."""
    venue.control.set_price("BTCUSDT", 100000, freeze=True)
    venue.control.set_faults(drop_response_rate=1.0, endpoints=["POST /api/v3/order"])

    placed = [_place(price=D("90000") + i, quantity=D("0.001")) for i in range(placements)]
    ids = {o.id for o in placed}
    wait_until(lambda: not Order.objects.filter(status=Status.PENDING_NEW).exists(), timeout=60, interval=0.1,
               what="every order resolved")

    orders = list(Order.objects.all())
    assert len(orders) == placements and {o.status for o in orders} == {Status.NEW}
    assert len({o.exchange_order_id for o in orders}) == placements
    posts = order_posts(venue)
    assert sorted(r["client_order_id"] for r in posts) == sorted(ids)  # each sent exactly once
    assert {r["outcome"] for r in posts} == {"fault:drop_response"}
    on_venue = venue_view.fetch_open_orders("BTC/USDT")
    assert {o["clientOrderId"]: o["id"] for o in on_venue} == {o.id: o.exchange_order_id for o in orders}


def random_orders(venue, account, venue_view, count: int) -> None:
    """`count` random orders on two symbols while the market walks: every order sent once, the ledger's balances
    equal the venue's, and the venue never answered 429/418 (at 200, more than the venue's 100 orders per 10 s,
    the shared limiter is what keeps it so)."""
    rng = random.Random(20261126)
    mids = {"BTCUSDT": D("100000"), "ETHUSDT": D("4000")}
    lots = {"BTCUSDT": (D("0.001"), D("0.01")), "ETHUSDT": (D("0.01"), D("0.01"))}
    for symbol, mid in mids.items():
        venue.control.set_price(symbol, mid)  # the walk goes on: resting orders fill as it passes them
    markets = 0
    for _ in range(count):
        symbol = rng.choice(list(mids))
        unit, tick = lots[symbol]
        fields = {"symbol": symbol, "side": rng.choice(["BUY", "SELL"]), "quantity": unit * rng.randint(1, 5)}
        if rng.random() < 0.4:
            fields["order_type"] = "MARKET"
            markets += 1
        else:
            offset = mids[symbol] * D(rng.uniform(-0.0005, 0.0005)).quantize(D("0.000001"))
            fields["price"] = (mids[symbol] + offset).quantize(tick)
        _place(**fields)
    wait_until(lambda: not Order.objects.filter(status=Status.PENDING_NEW).exists(), timeout=90, interval=0.1,
               what="every order acknowledged")
    for symbol in mids:  # stop the market where it is: no more fills from here
        venue.control.set_price(symbol, venue_view.fetch_ticker(f"{symbol[:-4]}/USDT")["last"], freeze=True)

    def balances_match():
        ledger = {b.asset: (b.free, b.locked) for b in Balance.objects.filter(account=account, market="spot")}
        return ledger == balances(venue_view) and ledger

    matched = wait_until(balances_match, timeout=30, interval=0.2, tick=sync_due, what="ledger balances = venue balances")
    assert {"BTC", "ETH", "USDT"} <= set(matched)
    assert Order.objects.filter(status=Status.FILLED).count() >= markets  # the market orders, at least
    sent = Counter(r["client_order_id"] for r in order_posts(venue))
    assert sent == Counter({o.id: 1 for o in Order.objects.all()}), [
        r for r in order_posts(venue) if sent[r["client_order_id"]] > 1]  # every order sent exactly once
    assert venue.control.fault_counts().get("burst_429", 0) == 0
    assert not [r for r in venue.control.audit() if r["status"] in (418, 429)]  # the shared limiter kept us under
