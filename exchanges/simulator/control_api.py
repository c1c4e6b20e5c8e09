"""Control routes under /_venue/: fault knobs and their counts, the audit trail, prices, keys and
funding, rate-limit settings. They need the control token (header `X-Venue-Token`), never a trading key."""
import hmac
from decimal import Decimal, InvalidOperation

import orjson
from aiohttp import web

from . import funding
from .instruments import FUTURES, INSTRUMENTS, MARKETS, SPOT
from .user_events import ACCOUNT_REASONS

MARKET_ALIASES = {"spot": SPOT, "futures": FUTURES, "future": FUTURES, "linear": FUTURES, "swap": FUTURES}


class BadControl(Exception):
    pass


def _json(data, status: int = 200) -> web.Response:
    return web.Response(status=status, body=orjson.dumps(data), content_type="application/json")


def _market(value) -> str:
    market = MARKET_ALIASES.get(str(value or "spot").lower())
    if market not in MARKETS:
        raise BadControl("market must be 'spot' or 'futures'")
    return market


def _decimal(value, name: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise BadControl(f"{name} must be a decimal number") from None
    if not number.is_finite():
        raise BadControl(f"{name} must be a decimal number")
    return number


def add_control_routes(app: web.Application, server) -> None:
    venue = server.venue

    @web.middleware
    async def guard(request: web.Request, handler):
        if not request.path.startswith("/_venue/"):
            return await handler(request)
        token = request.headers.get("X-Venue-Token", "")
        if not hmac.compare_digest(token.encode(), server.control_token.encode()):
            return _json({"error": "control token required"}, 401)
        try:
            return await handler(request)
        except BadControl as exc:
            return _json({"error": str(exc)}, 400)

    async def body(request) -> dict:
        try:
            data = orjson.loads(await request.read() or b"{}")
        except orjson.JSONDecodeError:
            raise BadControl("body must be a JSON object") from None
        if not isinstance(data, dict):
            raise BadControl("body must be a JSON object")
        return data

    async def get_faults(request):
        return _json({"faults": server.faults.knobs.as_dict(), "counts": dict(server.faults.counts)})

    async def set_faults(request):
        try:
            server.faults.knobs.update(await body(request))
        except ValueError as exc:
            raise BadControl(str(exc)) from None
        server.streams.user.apply_connection_faults()  # "close now" / "expire now" act before the answer
        return await get_faults(request)

    async def clear_faults(request):
        server.faults.clear()
        venue.skew_ms = 0
        return await get_faults(request)

    async def fault_counts(request):
        counts = dict(server.faults.counts)
        if request.query.get("reset") == "true":
            server.faults.counts.clear()
        return _json(counts)

    async def audit(request):
        return _json(server.audit.query(request.query.get("client_order_id")))

    async def records(request):
        """One key's orders (every one, open or closed), trades and balances of one market (USD-M: and positions), as
        the venue holds them: what tests compare the ledger with, without spending the key's request weight."""
        api_key = request.query.get("api_key")
        account = venue.accounts.get(api_key)
        if account is None:
            raise BadControl("api_key is not configured")
        market = _market(request.query.get("market"))
        orders = [o.state() for (m, key, _), rows in venue.account_orders.items() if (m, key) == (market, api_key)
                  for o in rows]
        trades = [t.state() for (m, key, _), rows in venue.trades.items() if (m, key) == (market, api_key) for t in rows]
        balances = ({asset: [str(free), str(locked)] for asset, (free, locked) in account.spot.items()} if market == SPOT
                    else {asset: [str(amount), "0"] for asset, amount in account.wallet.items()})  # futures: the wallet
        records = {"orders": orders, "trades": trades, "balances": balances}
        if market != SPOT:  # one-way positions: symbol -> [signed amount, average entry, realized]
            records["positions"] = {symbol: [str(p.amt), str(p.entry), str(p.realized)]
                                    for symbol, p in account.positions.items()}
        return _json(records)

    async def set_price(request):
        data = await body(request)
        market = _market(data.get("market"))
        symbol = str(data.get("symbol", "")).replace("/", "").split(":")[0].upper()
        if symbol not in INSTRUMENTS[market]:
            raise BadControl(f"symbol must be one of {sorted(INSTRUMENTS[market])}")
        price = _decimal(data.get("price"), "price")
        if price <= 0:
            raise BadControl("price must be positive")
        freeze = data.get("freeze")
        if freeze is not None and not isinstance(freeze, bool):
            raise BadControl("freeze must be true or false")
        venue.set_price(market, symbol, price, freeze)
        book = venue.books[(market, symbol)]
        return _json({"symbol": symbol, "market": market, "mid": str(book.mid), "bid": str(book.best_bid[0]),
                      "ask": str(book.best_ask[0]), "frozen": book.frozen})

    async def fund(request):
        data = await body(request)
        api_key = data.get("api_key")
        if api_key not in venue.accounts:
            raise BadControl("api_key is not configured")
        asset = str(data.get("asset", "")).upper()
        if not asset.isalnum():
            raise BadControl("asset must be an asset code such as USDT")
        market, reason = _market(data.get("market")), data.get("reason")
        if reason is not None and (market != FUTURES or reason not in ACCOUNT_REASONS):
            raise BadControl(f"reason is for futures only, one of {list(ACCOUNT_REASONS)}")
        try:
            venue.fund(api_key, market, asset, _decimal(data.get("amount"), "amount"), reason)
        except ValueError as exc:
            raise BadControl(str(exc)) from None
        return _json({"ok": True})

    def _symbol(data: dict, market: str) -> str:
        symbol = str(data.get("symbol", "")).replace("/", "").split(":")[0].upper()
        if symbol not in INSTRUMENTS[market]:
            raise BadControl(f"symbol must be one of {sorted(INSTRUMENTS[market])}")
        return symbol

    async def trickle_flow(request):
        """The random trickle (matching.TakerFlow): GET reads it; POST `{rate_per_min, fraction, seed}` sets it."""
        if request.method == "POST":
            data = await body(request)
            numbers = {}
            for name in ("rate_per_min", "fraction", "seed"):
                value = data.get(name)
                if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
                    raise BadControl(f"{name} must be a number")
                numbers[name] = value
            if numbers["seed"] is not None and not isinstance(numbers["seed"], int):
                raise BadControl("seed must be an integer")
            try:
                venue.taker_flow.configure(numbers["rate_per_min"], numbers["fraction"], numbers["seed"])
            except ValueError as exc:
                raise BadControl(str(exc)) from None
        return _json(venue.taker_flow.describe())

    async def trickle(request):
        """`count` synthetic takers of `qty` on `side` (SELL meets resting BUYs) against resting user orders."""
        data = await body(request)
        market = _market(data.get("market"))
        symbol = _symbol(data, market)
        side = str(data.get("side", "")).upper()
        if side not in ("BUY", "SELL"):
            raise BadControl("side must be BUY or SELL (the takers' side)")
        count, qty = data.get("count"), _decimal(data.get("qty"), "qty")
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= 100_000:
            raise BadControl("count must be an integer from 1 to 100000")
        step = INSTRUMENTS[market][symbol].step
        if qty <= 0 or qty % step:
            raise BadControl(f"qty must be a positive multiple of the step {step}")
        trades = venue.trickle(market, symbol, side, count, qty)
        return _json({"fills": len(trades), "orders": sorted({t.order_id for t in trades}),
                      "first_trade_id": trades[0].trade_id if trades else None,
                      "last_trade_id": trades[-1].trade_id if trades else None})

    async def trade_ids(request):
        data = await body(request)
        market = _market(data["market"]) if data.get("market") is not None else None
        next_id = data.get("next_id")
        if next_id is not None and (isinstance(next_id, bool) or not isinstance(next_id, int) or next_id < 1):
            raise BadControl("next_id must be a positive integer")
        try:
            return _json(venue.align_trade_ids(market, next_id))
        except ValueError as exc:
            raise BadControl(str(exc)) from None

    async def settle_funding(request):
        """A funding settlement now (venue time), at the rate premiumIndex publishes; `symbols` narrows it."""
        data = await body(request)
        symbols = data.get("symbols")
        if symbols is not None:
            if not isinstance(symbols, list):
                raise BadControl("symbols must be a list of futures symbols")
            symbols = {_symbol({"symbol": sym}, FUTURES) for sym in symbols}
        rows = funding.settle(venue, venue.venue_now(), symbols)
        return _json({"payments": [{**row, "api_key": key} for key, row in rows]})

    async def fees(request):
        """A key's maker/taker rates on one market (and symbol, else all its symbols): charged on its next fills,
        answered by tradeFee / commissionRate."""
        data = await body(request)
        api_key = data.get("api_key")
        if api_key not in venue.accounts:
            raise BadControl("api_key is not configured")
        market = _market(data.get("market"))
        symbol = _symbol(data, market) if data.get("symbol") else None
        maker, taker = _decimal(data.get("maker"), "maker"), _decimal(data.get("taker"), "taker")
        for name, rate in (("maker", maker), ("taker", taker)):
            if not Decimal("-0.01") <= rate <= Decimal("0.01"):
                raise BadControl(f"{name} must be a rate from -0.01 to 0.01 (a fraction: 0.001 is 0.1 %)")
        venue.fees.set(api_key, market, symbol, maker, taker)
        return _json({"api_key": api_key, "market": market, "symbol": symbol, "maker": str(maker), "taker": str(taker)})

    async def user_streams(request):
        return _json(server.streams.user.describe())

    async def add_key(request):
        data = await body(request)
        api_key, secret = data.get("api_key"), data.get("secret")
        if not isinstance(api_key, str) or not api_key or not isinstance(secret, str) or not secret:
            raise BadControl("api_key and secret must be non-empty strings")
        venue.add_key(api_key, secret)
        venue.default_key = False
        return _json({"ok": True})

    async def limits(request):
        if request.method == "POST":
            data = await body(request)
            reset = data.pop("reset", False)
            max_num_orders = data.pop("max_num_orders", None)
            if max_num_orders is not None and (isinstance(max_num_orders, bool) or not isinstance(max_num_orders, int)
                                               or max_num_orders < 1):
                raise BadControl("'max_num_orders' must be a positive integer")
            try:
                server.limiter.limits.update(data)
            except ValueError as exc:
                raise BadControl(str(exc)) from None
            if max_num_orders is not None:
                venue.max_open_orders = max_num_orders
            if reset:
                server.limiter.reset()
        return _json({**vars(server.limiter.limits), "max_num_orders": venue.max_open_orders})

    async def clock(request):
        """Venue time (ages history, schedules funding): `speed` (the clock_speed knob) and/or `advance_ms`."""
        if request.method == "POST":
            data = await body(request)
            speed, advance = data.get("speed"), data.get("advance_ms", 0)
            if speed is not None and (isinstance(speed, bool) or not isinstance(speed, int | float)):
                raise BadControl("speed must be a number")
            if isinstance(advance, bool) or not isinstance(advance, int) or advance < 0:
                raise BadControl("advance_ms must be a non-negative integer")
            try:
                if speed is not None:
                    venue.clock.set_speed(speed)  # checked first: a bad speed changes nothing
            except ValueError as exc:
                raise BadControl(str(exc)) from None
            if advance:
                venue.clock.advance(advance)
        return _json(venue.clock.describe())

    async def snapshot(request):
        if not server.snapshot_path:
            raise BadControl("the venue was started without a snapshot file")
        server.save_snapshot()
        return _json({"ok": True, "path": server.snapshot_path})

    app.middlewares.append(guard)
    app.router.add_get("/_venue/faults", get_faults)
    app.router.add_post("/_venue/faults", set_faults)
    app.router.add_delete("/_venue/faults", clear_faults)
    app.router.add_get("/_venue/fault-counts", fault_counts)
    app.router.add_get("/_venue/audit", audit)
    app.router.add_get("/_venue/records", records)
    app.router.add_post("/_venue/price", set_price)
    app.router.add_post("/_venue/fund", fund)
    app.router.add_post("/_venue/trickle", trickle)
    app.router.add_get("/_venue/trickle/random", trickle_flow)
    app.router.add_post("/_venue/trickle/random", trickle_flow)
    app.router.add_post("/_venue/trade-ids", trade_ids)
    app.router.add_post("/_venue/fees", fees)
    app.router.add_get("/_venue/user-streams", user_streams)
    app.router.add_post("/_venue/funding", settle_funding)
    app.router.add_post("/_venue/keys", add_key)
    app.router.add_get("/_venue/limits", limits)
    app.router.add_post("/_venue/limits", limits)
    app.router.add_post("/_venue/snapshot", snapshot)
    app.router.add_get("/_venue/clock", clock)
    app.router.add_post("/_venue/clock", clock)
