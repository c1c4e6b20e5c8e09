"""The instrument catalog: filled from the venue by `sync_markets`, read when orders go out.

Native symbols (`BTCUSDT`) and a market (`spot`/`futures`) name an instrument; ccxt names the same
thing `BTC/USDT` or `BTC/USDT:USDT`. The mapping lives in the Instrument row, never in string tricks
at call sites, so a spot order can never reach the perpetual by accident.
"""
from __future__ import annotations

import logging
from decimal import Decimal

import ccxt
from django.db import transaction

from accounts.models import Account, Market
from exchanges import ratelimit
from exchanges.gateway import gateway_for
from exchanges.models import Instrument
from infra.errors import NotFound, echo
from venues.symbols import symbol_normalize

log = logging.getLogger(__name__)


def _market_of(m: dict) -> str | None:
    """spot → spot; linear perpetual swaps → futures; everything else is not traded here."""
    if m.get("spot"):
        return Market.SPOT
    if m.get("swap") and m.get("linear"):
        return Market.FUTURES
    return None


def _decimal(value, default: str = "0") -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal(default)


def _increment(client: ccxt.Exchange, precision) -> Decimal:
    """ccxt gives precision as a tick (TICK_SIZE mode) or as a number of decimals."""
    if precision in (None, ""):
        return Decimal(0)
    if client.precisionMode == ccxt.TICK_SIZE:
        return _decimal(precision)
    return Decimal(1).scaleb(-int(precision))


def _venue_bounds(info: dict) -> dict:
    """The bounds Binance publishes among a symbol's filters (none on other venues: all null): the limit price band
    (spot PERCENT_PRICE_BY_SIDE per side; USD-M PERCENT_PRICE for both), spot NOTIONAL maxNotional, MAX_NUM_ORDERS."""
    by_type = {f.get("filterType"): f for f in (info or {}).get("filters") or [] if isinstance(f, dict)}
    bounds: dict = {"bid_multiplier_up": None, "bid_multiplier_down": None, "ask_multiplier_up": None,
                    "ask_multiplier_down": None, "max_notional": None, "max_open_orders": None}
    if (side_band := by_type.get("PERCENT_PRICE_BY_SIDE")) is not None:
        for name in ("bid_multiplier_up", "bid_multiplier_down", "ask_multiplier_up", "ask_multiplier_down"):
            camel = name.split("_")[0] + "Multiplier" + name.rsplit("_", 1)[1].capitalize()
            bounds[name] = _decimal(side_band[camel]) if side_band.get(camel) else None
    elif (band := by_type.get("PERCENT_PRICE")) is not None and band.get("multiplierUp") and band.get("multiplierDown"):
        up, down = _decimal(band["multiplierUp"]), _decimal(band["multiplierDown"])
        bounds.update(bid_multiplier_up=up, ask_multiplier_up=up, bid_multiplier_down=down, ask_multiplier_down=down)
    notional = by_type.get("NOTIONAL") or {}
    if notional.get("maxNotional"):
        bounds["max_notional"] = _decimal(notional["maxNotional"])
    max_orders = by_type.get("MAX_NUM_ORDERS") or {}
    count = max_orders.get("maxNumOrders", max_orders.get("limit"))
    if isinstance(count, int) and count > 0:
        bounds["max_open_orders"] = count
    return bounds


def instrument_fields(client: ccxt.Exchange, m: dict) -> dict:
    limits = m.get("limits") or {}
    precision = m.get("precision") or {}
    return {
        "ccxt_symbol": m["symbol"],
        "base": m["base"],
        "quote": m["quote"],
        "tick_size": _increment(client, precision.get("price")),
        "step_size": _increment(client, precision.get("amount")),
        "min_quantity": _decimal((limits.get("amount") or {}).get("min")),
        "min_notional": _decimal((limits.get("cost") or {}).get("min")),
        "contract_size": _decimal(m.get("contractSize"), "1"),
        "active": m.get("active") is not False,
        **_venue_bounds(m.get("info") or {}),
    }


def sync_markets(account: Account) -> int:
    """Upsert every spot and linear-perpetual instrument the account's venue lists; instruments it no
    longer lists become inactive. Also stores the venue's published rate limits. Returns the count."""
    gateway = gateway_for(account)
    markets = gateway.load_markets()
    seen: dict[str, set[str]] = {Market.SPOT: set(), Market.FUTURES: set()}
    with transaction.atomic():
        for m in markets.values():
            market = _market_of(m)
            if market is None:
                continue
            symbol = m["id"].upper()
            seen[market].add(symbol)
            Instrument.objects.update_or_create(exchange=account.exchange, market=market, symbol=symbol,
                                                defaults=instrument_fields(gateway.client, m))
        for market, symbols in seen.items():
            if symbols:
                Instrument.objects.filter(exchange=account.exchange, market=market, active=True) \
                    .exclude(symbol__in=symbols).update(active=False)
    try:
        for market, limits in gateway.published_rate_limits().items():
            if limits:
                ratelimit.store_published_limits(account.id, market, limits)
                gateway.client.oms_limiters[market].limits = limits
    except ccxt.BaseError as exc:  # the limits are an optimisation; the catalog is what matters
        log.warning("rate limits of %s not read: %s", account.name, exc)
    return sum(len(s) for s in seen.values())


def instrument_get(exchange: str, market: str, symbol: str) -> Instrument:
    """The instrument by native (`BTCUSDT`) or ccxt (`BTC/USDT`, `BTC/USDT:USDT`) symbol."""
    native = symbol_normalize(symbol)
    found = Instrument.objects.filter(exchange=exchange, market=market, symbol=native).first()
    if found is None:
        raise NotFound(f"unknown symbol {echo(native, quote=False)} on {exchange} {market}", field="symbol")
    return found


def ccxt_symbol(exchange: str, market: str, symbol: str) -> str:
    return instrument_get(exchange, market, symbol).ccxt_symbol
