"""gRPC and REST asked the same questions on the same ledger, as the same user, answer alike, field by field:
order lists under every filter (and the refusals), one order, balances, positions (the ledger's beside the venue's)
and spot holdings, the PnL report, and a resumed order stream.

Both adapters are thin over the same selectors; this is the test that notices when one of them grows a rule of
its own. A real gRPC server on a real channel, the REST API through Django's test client, one database."""
from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import grpc
import pytest
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.models import AccountMember
from infra import pubsub
from orders import services as order_services
from orders.models import OrderEvent, Status
from proto import oms_pb2, oms_pb2_grpc
from tests import factories
from tests.orders.api.conftest import order_acked, order_filled
from tests.orders.api.test_stream import read_until, sse_orders
from tests.orders.grpc.conftest import StreamReader

D = Decimal


@pytest.fixture
def ledger(grpc_server_factory, no_prices, settings):
    """Alice trades acct-a (spot and futures), views acct-a2; bob's acct-b is foreign to her."""
    settings.OMS_PLACE_WAIT_SECONDS = 0
    settings.OMS_SSE_MAX_SECONDS = 4
    alice, bob = factories.user_create(username="alice"), factories.user_create(username="bob")
    factories.instrument_create()
    factories.instrument_create(symbol="ETHUSDT", tick_size="0.01", step_size="0.0001")
    factories.instrument_create(symbol="BTCUSDT", market="futures")
    a = factories.account_create(name="acct-a", member=alice)
    a2 = factories.account_create(name="acct-a2")
    account_services.member_add(account="acct-a2", user=alice, role=AccountMember.Role.VIEWER)
    b = factories.account_create(name="acct-b", member=bob)

    order_acked(a)
    order_filled(a, trade_id="t-1", price="20001")
    factories.order_place(a, side="SELL", price=D("90000"), client_order_id="mine-1")
    factories.order_place(a, symbol="ETHUSDT", price=D("1000"), quantity=D("0.5"))
    cancelled = order_acked(a, price=D("19000"))
    order_services.order_apply_venue_update(order_id=cancelled.id, status="CANCELLED")
    partial = order_acked(a, market="futures", leverage=3, quantity=D("0.02"))
    order_services.fill_record(order_id=partial.id, trade_id="t-2", price=D("20000"), quantity=D("0.005"),
                               fee=D("0.01"), fee_asset="USDT", is_maker=False, executed_at=datetime.now(UTC))
    order_acked(a2)
    order_acked(b)

    order_services.balances_replace(account="acct-a", market="spot", balances=[
        {"asset": "USDT", "free": D("1000.5"), "locked": D("200")}, {"asset": "BTC", "free": D("0.1"), "locked": D(0)}])
    order_services.balances_replace(account="acct-a", market="futures", balances=[
        {"asset": "USDT", "free": D("50"), "locked": D("0")}])
    order_services.positions_replace(account="acct-a", positions=[
        {"symbol": "BTCUSDT", "side": "LONG", "size": D("0.5"), "entry_price": D("20000"), "mark_price": D("21000"),
         "unrealized_pnl": D("500"), "leverage": 5, "margin": D("2000"), "liquidation_price": D("16000")},
        {"symbol": "ETHUSDT", "side": "SHORT", "size": D("2"), "entry_price": D("1000"), "mark_price": D(0),
         "unrealized_pnl": D(0), "leverage": 2, "margin": D(0)},
        {"symbol": "XRPUSDT", "side": "FLAT", "size": D(0), "entry_price": D(0)}])
    pubsub.publish_price({"exchange": "binance", "market": "futures", "symbol": "ETHUSDT", "bid_price": "990",
                          "bid_quantity": "1", "ask_price": "990", "ask_quantity": "1", "last_price": "990",
                          "timestamp_ms": int(time.time() * 1000)})
    order_services.positions_replace(account="acct-a2", positions=[
        {"symbol": "BTCUSDT", "side": "SHORT", "size": D("1"), "entry_price": D("20000"), "mark_price": D("20000"),
         "unrealized_pnl": D(0), "leverage": 1, "margin": D("20000")}])

    token = account_services.api_token_create(user=alice)
    rest = APIClient()
    rest.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    channel = grpc.insecure_channel(grpc_server_factory(require_auth=True))
    yield oms_pb2_grpc.OrderServiceStub(channel), [("authorization", f"Bearer {token}")], rest
    channel.close()


# ---- one shape for both answers ------------------------------------------------------------------


def _dec(text) -> Decimal | None:
    return None if text in (None, "") else D(str(text))


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * 1000)


def grpc_order(o) -> dict:
    return {"id": o.order_id, "client_order_id": o.client_order_id, "exchange_order_id": o.exchange_order_id,
            "account": o.account_id, "exchange": o.exchange, "market": o.market, "symbol": o.symbol, "side": o.side,
            "order_type": o.order_type, "time_in_force": o.time_in_force, "reduce_only": o.reduce_only,
            "post_only": o.post_only, "leverage": o.leverage, "quantity": _dec(o.quantity_decimal),
            "price": _dec(o.price_decimal), "filled_quantity": _dec(o.filled_quantity_decimal),
            "average_price": _dec(o.average_price_decimal), "cumulative_fee": o.cumulative_fee,
            "fee_asset": o.fee_asset, "status": o.status, "reason": o.reason, "version": o.version,
            "created_at_ms": o.created_at_ms, "updated_at_ms": o.updated_at_ms,
            "doubles": (o.quantity, o.price, o.filled_quantity, o.average_price)}


def rest_order(r: dict) -> dict:
    """A REST order (or an order in a stream message, orders.publish's shape) in grpc_order's terms."""
    times = ((r["created_at_ms"], r["updated_at_ms"]) if "created_at_ms" in r
             else (_ms(r["created_at"]), _ms(r["updated_at"])))
    decimals = {k: _dec(r[k]) for k in ("quantity", "price", "filled_quantity", "average_price")}
    return {"id": r.get("id") or r.get("order_id"), "client_order_id": r["client_order_id"] or "",
            "exchange_order_id": r["exchange_order_id"] or "", "account": r.get("account") or r.get("account_id"),
            "exchange": r["exchange"], "market": r["market"], "symbol": r["symbol"], "side": r["side"],
            "order_type": r["order_type"], "time_in_force": r["time_in_force"], "reduce_only": r["reduce_only"],
            "post_only": r["post_only"], "leverage": r["leverage"] or 0, **decimals,
            "cumulative_fee": float(D(r["cumulative_fee"])), "fee_asset": r["fee_asset"], "status": r["status"],
            "reason": r["reason"], "version": r["version"], "created_at_ms": times[0], "updated_at_ms": times[1],
            "doubles": tuple(float(decimals[k] or 0) for k in ("quantity", "price", "filled_quantity", "average_price"))}


def rest_json(response) -> dict | list:
    assert response.status_code == 200, response.content
    return response.json()


def grpc_code(call) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as err:
        call()
    return err.value.code()


REST_CODE = {400: grpc.StatusCode.INVALID_ARGUMENT, 404: grpc.StatusCode.NOT_FOUND}


# ---- the questions -------------------------------------------------------------------------------


def test_order_lists_agree_under_every_filter(ledger):
    stub, auth, rest = ledger
    statuses = ["", "OPEN", "NEW", "PENDING_NEW", "PARTIALLY_FILLED", "FILLED", "CANCELLED"]
    symbols = ["", "BTCUSDT", "eth/usdt", "BTC/USDT:USDT"]
    accounts = ["", "acct-a", "acct-a2"]
    markets, exchanges = ["", "spot", "futures"], ["", "binance", "kraken"]
    questions = [dict(zip(("status", "symbol", "account", "market", "exchange"), q, strict=True))
                 for q in itertools.product(statuses, symbols, accounts, [""], [""])]
    questions += [{"status": "", "symbol": "", "account": a, "market": m, "exchange": e}
                  for a, m, e in itertools.product(accounts, markets, exchanges)]
    nonempty = 0
    for q in questions:
        reply = stub.ListOrders(oms_pb2.ListOrdersRequest(
            status=q["status"], symbol=q["symbol"], account_id=q["account"], market=q["market"],
            exchange=q["exchange"], limit=1000), metadata=auth, timeout=10)
        page = rest_json(rest.get("/api/v1/orders/", {k: v for k, v in q.items() if v} | {"page_size": 1000}))
        assert not reply.next_page_token and page["next"] is None
        assert [grpc_order(o) for o in reply.orders] == [rest_order(r) for r in page["results"]], q
        nonempty += bool(reply.orders)
    assert nonempty > len(questions) // 3  # the filters were asked about orders that exist
    everything = stub.ListOrders(oms_pb2.ListOrdersRequest(limit=1000), metadata=auth, timeout=10).orders
    assert {o.account_id for o in everything} == {"acct-a", "acct-a2"} and len(everything) == 7


def test_order_list_refusals_agree(ledger):
    stub, auth, rest = ledger
    for q in ({"account": "acct-b"}, {"account": "no-such-desk"}, {"status": "BOGUS"}, {"market": "options"}):
        code = grpc_code(lambda q=q: stub.ListOrders(oms_pb2.ListOrdersRequest(
            account_id=q.get("account", ""), status=q.get("status", ""), market=q.get("market", "")),
            metadata=auth, timeout=10))
        response = rest.get("/api/v1/orders/", q)
        assert REST_CODE.get(response.status_code) == code, (q, response.content)
    for name in ("acct-b", "no-such-desk"):  # the order streams too
        call = stub.StreamOrders(oms_pb2.StreamOrdersRequest(account_id=name), metadata=auth, timeout=10)
        code = grpc_code(lambda call=call: next(iter(call)))
        response = rest.get("/api/v1/stream/orders/", {"account": name}, HTTP_ACCEPT="text/event-stream")
        assert REST_CODE.get(response.status_code) == code == grpc.StatusCode.NOT_FOUND, response


def test_one_order_agrees(ledger):
    stub, auth, rest = ledger
    for order in stub.ListOrders(oms_pb2.ListOrdersRequest(limit=1000), metadata=auth, timeout=10).orders:
        reply = stub.GetOrder(oms_pb2.GetOrderRequest(order_id=order.order_id), metadata=auth, timeout=10)
        detail = rest_json(rest.get(f"/api/v1/orders/{order.order_id}/"))
        assert grpc_order(reply.order) == rest_order(detail) == grpc_order(order)
    foreign = OrderEvent.objects.filter(order__account__name="acct-b").first().order_id
    assert grpc_code(lambda: stub.GetOrder(oms_pb2.GetOrderRequest(order_id=foreign), metadata=auth, timeout=10)) \
        == REST_CODE[rest.get(f"/api/v1/orders/{foreign}/").status_code]


def test_balances_agree(ledger):
    stub, auth, rest = ledger
    for account, market in itertools.product(("acct-a", "acct-a2"), ("spot", "futures")):
        reply = stub.GetBalance(oms_pb2.GetBalanceRequest(account_id=account, market=market), metadata=auth, timeout=10)
        rows = rest_json(rest.get("/api/v1/balances/", {"account": account, "market": market}))["results"]
        assert sorted((b.asset, _dec(b.free_decimal), _dec(b.locked_decimal), b.total, b.updated_at_ms)
                      for b in reply.balances) == sorted(
            (r["asset"], D(r["free"]), D(r["locked"]), float(D(r["total"])), _ms(r["updated_at"])) for r in rows)
    assert len(reply.balances) == 0 and len(rows) == 0  # acct-a2 has none: both say so
    assert grpc_code(lambda: stub.GetBalance(oms_pb2.GetBalanceRequest(account_id="acct-b"), metadata=auth,
                                             timeout=10)) == REST_CODE[rest.get("/api/v1/balances/",
                                                                                {"account": "acct-b"}).status_code]


def grpc_position(p) -> dict:
    return {"account": p.account_id, "exchange": p.exchange, "market": p.market, "symbol": p.symbol, "source": p.source,
            "side": p.side, **{k: _dec(getattr(p, f"{k}_decimal")) for k in POSITION_DECIMALS},
            "leverage": p.leverage, "margin": p.margin, "liquidation_price": p.liquidation_price,
            "other_fees": {a: D(v) for a, v in p.other_fees.items()}, "venue_side": p.venue_side or None,
            "updated_at_ms": p.updated_at_ms,
            "doubles": tuple(getattr(p, k) for k in POSITION_DOUBLES)}


POSITION_DECIMALS = ("size", "entry_price", "mark_price", "unrealized_pnl", "pnl_percentage", "realized_pnl", "fees",
                     "funding", "venue_size", "venue_entry_price")
POSITION_DOUBLES = ("size", "entry_price", "mark_price", "unrealized_pnl", "pnl_percentage", "realized_pnl", "fees",
                    "funding", "venue_size", "venue_entry_price")


def rest_position(r: dict) -> dict:
    return {"account": r["account"], "exchange": r["exchange"], "market": r["market"], "symbol": r["symbol"],
            "source": r["source"], "side": r["side"], **{k: _dec(r[k]) for k in POSITION_DECIMALS},
            "leverage": r["leverage"], "margin": float(D(r["margin"])),
            "liquidation_price": float(D(r["liquidation_price"] or 0)),
            "other_fees": {a: D(v) for a, v in r["other_fees"].items()}, "venue_side": r["venue_side"],
            "updated_at_ms": _ms(r["updated_at"]) if r["updated_at"] else 0,
            "doubles": tuple(float(D(r[k] or 0)) for k in POSITION_DOUBLES)}


HOLDING_DECIMALS = ("quantity", "average_cost", "realized_pnl", "fees", "last_price", "unrealized_pnl", "pnl_percentage")


def grpc_holding(h) -> dict:
    return {"account": h.account_id, "exchange": h.exchange, "asset": h.asset, "quote_asset": h.quote_asset,
            **{k: _dec(getattr(h, f"{k}_decimal")) for k in HOLDING_DECIMALS},
            "other_fees": {a: D(v) for a, v in h.other_fees.items()},
            "doubles": tuple(getattr(h, k) for k in HOLDING_DECIMALS)}


def rest_holding(r: dict) -> dict:
    return {"account": r["account"], "exchange": r["exchange"], "asset": r["asset"], "quote_asset": r["quote_asset"],
            **{k: _dec(r[k]) for k in HOLDING_DECIMALS}, "other_fees": {a: D(v) for a, v in r["other_fees"].items()},
            "doubles": tuple(float(D(r[k] or 0)) for k in HOLDING_DECIMALS)}


def test_positions_agree(ledger):
    stub, auth, rest = ledger
    questions = ({}, {"account": "acct-a"}, {"account": "acct-a2"}, {"exchange": "binance"}, {"exchange": "kraken"},
                 {"symbol": "btc/usdt"}, {"account": "acct-a", "symbol": "ETHUSDT"})
    for question in questions:
        reply = stub.GetPositions(oms_pb2.GetPositionsRequest(
            account_id=question.get("account", ""), exchange=question.get("exchange", ""),
            symbol=question.get("symbol", "")), metadata=auth, timeout=10)
        page = rest_json(rest.get("/api/v1/positions/", question))
        assert page["next"] is None and page["previous"] is None
        assert [grpc_position(p) for p in reply.positions] == [rest_position(r) for r in page["results"]], question
        assert [grpc_holding(h) for h in reply.holdings] == [rest_holding(r) for r in page["holdings"]], question
    everything = stub.GetPositions(oms_pb2.GetPositionsRequest(), metadata=auth, timeout=10)
    assert [(p.account_id, p.symbol, p.source) for p in everything.positions] == [
        ("acct-a", "BTCUSDT", "ledger"), ("acct-a", "ETHUSDT", "venue"), ("acct-a2", "BTCUSDT", "venue")]  # never XRPUSDT
    btc = everything.positions[0]  # the ledger's 0.005 bought at 20000, beside the venue's 0.5
    assert (btc.side, btc.size_decimal, btc.entry_price_decimal, btc.fees_decimal) == ("LONG", "0.005", "20000", "0.01")
    assert (btc.venue_side, btc.venue_size_decimal, btc.venue_entry_price_decimal, btc.leverage) == (
        "LONG", "0.5", "20000", 5)
    assert [(h.account_id, h.asset, h.quantity_decimal, h.average_cost_decimal) for h in everything.holdings] == [
        ("acct-a", "BTC", "0.01", "20001"), ("acct-a", "USDT", "-200.03", "1")]  # USDT: what the trade moved


def test_position_refusals_agree(ledger):
    stub, auth, rest = ledger
    for name in ("acct-b", "no-such-desk"):
        code = grpc_code(lambda name=name: stub.GetPositions(oms_pb2.GetPositionsRequest(account_id=name),
                                                             metadata=auth, timeout=10))
        response = rest.get("/api/v1/positions/", {"account": name})
        assert REST_CODE.get(response.status_code) == code == grpc.StatusCode.NOT_FOUND, response.content
        assert response.json()["error"]["field"] == "account"


def grpc_pnl_row(r) -> dict:
    return {"key": r.key, **{k: D(getattr(r, f"{k}_decimal")) for k in PNL_DECIMALS},
            "other_fees": {a: D(v) for a, v in r.other_fees.items()}, "trade_count": r.trade_count,
            "doubles": tuple(getattr(r, k) for k in PNL_DECIMALS)}


PNL_DECIMALS = ("realized_pnl", "fees", "funding", "net_pnl", "unrealized_pnl", "volume")


def rest_pnl_row(r: dict) -> dict:
    return {"key": r["key"], **{k: D(r[k]) for k in PNL_DECIMALS},
            "other_fees": {a: D(v) for a, v in r["other_fees"].items()}, "trade_count": r["trade_count"],
            "doubles": tuple(float(D(r[k])) for k in PNL_DECIMALS)}


def test_pnl_agrees(ledger):
    stub, auth, rest = ledger
    now = datetime.now(UTC)
    day_start = datetime(now.year, now.month, now.day, tzinfo=UTC)
    ranges = [(None, None), (now - timedelta(days=3), None), (day_start, now + timedelta(hours=1))]
    nonzero = 0
    for (since, until), group_by, account in itertools.product(ranges, ("", "day", "symbol"), ("", "acct-a", "acct-a2")):
        query = {k: v for k, v in {"since": since and since.isoformat(), "until": until and until.isoformat(),
                                   "group_by": group_by, "account": account}.items() if v}
        reply = stub.GetPnL(oms_pb2.GetPnLRequest(
            account_id=account, group_by=group_by, since_ms=int(since.timestamp() * 1000) if since else 0,
            until_ms=int(until.timestamp() * 1000) if until else 0), metadata=auth, timeout=10)
        body = rest_json(rest.get("/api/v1/pnl/", query))
        assert [grpc_pnl_row(r) for r in reply.rows] == [rest_pnl_row(r) for r in body["rows"]], query
        assert grpc_pnl_row(reply.total) == rest_pnl_row(body["total"]), query
        assert (reply.since_ms, reply.group_by, list(reply.account_ids)) == (
            _ms(body["since"]), body["group_by"], body["accounts"]), query
        assert reply.since_ms == int((since or day_start).timestamp() * 1000)
        if until:
            assert reply.until_ms == _ms(body["until"]) == int(until.timestamp() * 1000)
        assert list(reply.account_ids) == ([account] if account else ["acct-a", "acct-a2"])  # never bob's acct-b
        nonzero += reply.total.trade_count > 0
    assert nonzero >= 18  # acct-a traded today: every range of acct-a and of all accounts counts its fills


def test_pnl_refusals_agree(ledger):
    """A foreign account, a bad group_by, a bad or reversed range: the same refusal on both, naming the field, and
    nothing read."""
    stub, auth, rest = ledger
    now_ms = int(time.time() * 1000)
    cases = [({"account": "acct-b"}, {"account_id": "acct-b"}, 404, "account", "account_id"),
             ({"account": "no-such-desk"}, {"account_id": "no-such-desk"}, 404, "account", "account_id"),
             ({"group_by": "week"}, {"group_by": "week"}, 400, "group_by", "group_by"),
             ({"since": "yesterday"}, None, 400, "since", None),
             ({"since": "2026-02-31T00:00:00Z"}, None, 400, "since", None),
             ({"until": "12x"}, None, 400, "until", None),
             ({"since": "1h", "until": "2h"}, {"since_ms": now_ms - 3_600_000, "until_ms": now_ms - 7_200_000}, 400,
              "since", "since_ms"),
             (None, {"since_ms": -1}, 400, None, "since_ms")]
    for query, request, status, rest_field, grpc_field in cases:
        if query is not None:
            response = rest.get("/api/v1/pnl/", query)
            assert response.status_code == status, (query, response.content)
            assert response.json()["error"]["field"] == rest_field, response.content
        if request is not None:
            with pytest.raises(grpc.RpcError) as err:
                stub.GetPnL(oms_pb2.GetPnLRequest(**request), metadata=auth, timeout=10)
            assert err.value.code() == {404: grpc.StatusCode.NOT_FOUND, 400: grpc.StatusCode.INVALID_ARGUMENT}[status]
            assert err.value.details().startswith(f"{grpc_field}:"), err.value.details()


def test_a_resumed_order_stream_agrees(ledger):
    """Both replay what followed a sequence, each update as its event left the order (not as it is now)."""
    stub, auth, rest = ledger
    events = list(OrderEvent.objects.filter(order__account__name="acct-a").exclude(kind="STALE_IGNORED")
                  .order_by("id"))
    since = events[2].id
    missed = [e for e in OrderEvent.objects.filter(order__account__name__in=["acct-a", "acct-a2"], id__gt=since)
              .exclude(kind="STALE_IGNORED").order_by("id")]

    call = stub.StreamOrders(oms_pb2.StreamOrdersRequest(since_sequence=since), metadata=auth, timeout=15)
    reader = StreamReader(call).start()
    heard = reader.wait_for(len(missed))
    call.cancel()
    response = rest.get("/api/v1/stream/orders/", HTTP_LAST_EVENT_ID=str(since), HTTP_ACCEPT="text/event-stream")
    sent = sse_orders(read_until(iter(response.streaming_content), f"id: {missed[-1].id}\n"))
    response.close()

    assert [u.sequence for u in heard] == [m["sequence"] for m in sent] == [e.id for e in missed]
    assert [(u.update_type, u.event_kind, u.at_ms, grpc_order(u.order)) for u in heard] == [
        (m["update_type"], m["event_kind"], m["at_ms"], rest_order(m["order"])) for m in sent]
    assert {u.order.status for u in heard} >= {Status.NEW, Status.FILLED, Status.CANCELLED, Status.PENDING_NEW}
    assert [u.order.status for u in heard] == [e.to_status for e in missed]  # history, not the current status
