"""The price feed: tickers of every instrument of every enabled venue, published on Redis.

One poll per venue endpoint (accounts sharing an exchange, sandbox flag and base URL share it) and
market: `fetch_tickers` gives last price, best bid and ask in one request; where a venue's tickers
lack the book (Binance USD-M), `fetch_bids_asks` fills it in. Errors back a venue off exponentially
without stopping the others; while Redis or the database is away (a restart), rounds are skipped, not fatal.
An account the gateway cannot serve (an unknown exchange id or a broken venue URL stored before the services
checked them) or one whose venue fails in any other way is skipped, logged and reported
(exchanges.problems: `/healthz` and the admin show it); the other venues' prices go on.
"""
from __future__ import annotations

import logging
import threading
import time
from decimal import Decimal

import ccxt
import redis
from django.db import DatabaseError, close_old_connections

from accounts.models import Account, Market
from accounts.selectors import venue_accounts
from exchanges import problems
from exchanges.errors import VenueBackoff
from exchanges.gateway import public_gateway
from exchanges.models import Instrument
from infra import pubsub
from venues.supported import config_problem

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 60.0
WHERE = "run_marketdata"


def venues() -> list[Account]:
    """One enabled account per venue endpoint (accounts.selectors.venue_accounts)."""
    return venue_accounts()


def _dec(value) -> str:
    return "" if value is None else format(Decimal(str(value)).normalize(), "f")


def price_update(exchange: str, market: str, symbol: str, ticker: dict) -> dict:
    info = ticker.get("info") or {}
    stamp = ticker.get("timestamp") or info.get("closeTime") or info.get("time") or int(time.time() * 1000)
    return {
        "exchange": exchange, "market": market, "symbol": symbol,
        "bid_price": _dec(ticker.get("bid")), "bid_quantity": _dec(ticker.get("bidVolume")),
        "ask_price": _dec(ticker.get("ask")), "ask_quantity": _dec(ticker.get("askVolume")),
        "last_price": _dec(ticker.get("last")), "timestamp_ms": int(stamp),
    }


def poll_venue(account: Account) -> int:
    """Publish one round of prices for the venue; returns how many were published."""
    gateway = public_gateway(account)
    published = 0
    for market in (Market.SPOT, Market.FUTURES):
        by_ccxt = dict(Instrument.objects.filter(exchange=account.exchange, market=market, active=True)
                       .values_list("ccxt_symbol", "symbol"))
        if not by_ccxt:
            continue
        tickers = gateway.fetch_tickers(list(by_ccxt), market)
        if any(t.get("bid") is None for t in tickers.values()):
            for symbol, book in gateway.fetch_bids_asks(list(by_ccxt), market).items():
                tickers.setdefault(symbol, {}).update({k: book.get(k) for k in ("bid", "bidVolume", "ask", "askVolume")})
        for ccxt_symbol, ticker in tickers.items():
            native = by_ccxt.get(ccxt_symbol)
            if native:
                pubsub.publish_price(price_update(account.exchange, market, native, ticker))
                published += 1
    return published


def run(*, interval: float, stop: threading.Event, rounds: int | None = None) -> None:
    """Poll every venue each `interval` seconds until `stop` is set (or `rounds` rounds are done)."""
    backoff: dict[tuple, tuple[float, float]] = {}  # venue → (not before, current delay)
    served: set[int] = set()  # accounts whose last poll succeeded
    done = 0
    while not stop.is_set() and (rounds is None or done < rounds):
        started = time.monotonic()
        close_old_connections()  # a connection broken by a database restart is replaced, not reused
        try:
            accounts = venues()
        except DatabaseError as exc:
            log.warning("venues unavailable (database), retrying: %s", exc)
            accounts = []
        for account in accounts:
            key = (account.exchange, account.sandbox, account.base_url)
            problem = config_problem(account)
            if problem:  # no client can be built: skipped every round, reported (and logged) once
                problems.report(account, WHERE, problem)
                continue
            not_before, delay = backoff.get(key, (0.0, 0.0))
            if started < not_before:
                continue
            try:
                poll_venue(account)
                backoff.pop(key, None)
                if account.pk not in served:  # once per process, and after each failure: drop what was reported
                    served.add(account.pk)
                    problems.clear(account, WHERE)
            except (redis.RedisError, DatabaseError) as exc:  # our own servers: the feed resumes when they are back
                log.warning("prices of %s not published (%s), retrying: %s", account.name, type(exc).__name__, exc)
            except Exception as exc:  # noqa: BLE001 - one venue's trouble (any kind) must not stop the others' prices
                delay = min(MAX_BACKOFF_SECONDS, max(interval, delay * 2 or interval))
                if isinstance(exc, VenueBackoff):
                    delay = max(delay, exc.retry_after)
                backoff[key] = (time.monotonic() + delay, delay)
                served.discard(account.pk)
                new = problems.report(account, WHERE, f"prices unavailable: {type(exc).__name__}: {exc}")
                log.warning("prices of %s unavailable, retrying in %.1fs: %s", account.name, delay, exc,
                            exc_info=new and not isinstance(exc, ccxt.BaseError | VenueBackoff))
        done += 1
        stop.wait(max(0.0, interval - (time.monotonic() - started)))
