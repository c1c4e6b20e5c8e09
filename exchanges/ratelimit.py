"""A rate limiter shared by every worker process (Redis), one per venue account.

Fixed windows aligned to the epoch, as the venues count them (Binance: request weight per
minute, orders per 10 s and per day, see exchangeInfo.rateLimits). One Lua script checks every
window and the ban in one round trip and only then counts the request, so concurrent workers
can never overshoot together. A 429/418 sets a ban for Retry-After seconds during which nothing
is sent at all.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass

from django.conf import settings

from exchanges.errors import VenueBackoff
from infra import pubsub

_ACQUIRE = """
local ban = redis.call('PTTL', KEYS[1])
if ban > 0 then return {1, ban} end
local now = tonumber(ARGV[1])
local n = #KEYS - 1
for i = 1, n do
  local cap = tonumber(ARGV[3 * i - 1])
  local cost = tonumber(ARGV[3 * i])
  local win = tonumber(ARGV[3 * i + 1])
  if cost > 0 then
    local cur = tonumber(redis.call('GET', KEYS[i + 1]) or '0')
    if cur + cost > cap then return {2, win - (now % win)} end
  end
end
-- GET + SET rather than INCRBYFLOAT: Redis 6.2 (the embedded server) rewrites INCRBYFLOAT's arguments
-- inside Lua and can corrupt its heap doing so; the script runs atomically, so this is still one step.
for i = 1, n do
  local cost = tonumber(ARGV[3 * i])
  if cost > 0 then
    local cur = tonumber(redis.call('GET', KEYS[i + 1]) or '0')
    redis.call('SET', KEYS[i + 1], tostring(cur + cost))
    redis.call('PEXPIRE', KEYS[i + 1], 2 * tonumber(ARGV[3 * i + 1]))
  end
end
return {0, 0}
"""


@dataclass(frozen=True)
class Limit:
    kind: str  # "weight" (request weight) or "orders" (order placements)
    window_seconds: int
    capacity: float


# What we allow ourselves of a published limit: a request counted here at send time may land in the venue's
# next window, and market data shares the same IP weight, so a strict 100% would meet 429s at window edges.
HEADROOM = 0.9


def usable(published: float) -> float:
    return max(1.0, float(int(published * HEADROOM)))


# Binance's published limits (spot /api/v3/exchangeInfo and USD-M /fapi/v1/exchangeInfo rateLimits), used
# until the venue's own answer is stored by sync_markets (per account: each may point at another host).
# Weight is in the venue's weight units.
DEFAULT_LIMITS = {
    "spot": (Limit("weight", 60, usable(6000)), Limit("orders", 10, usable(100)), Limit("orders", 86400, usable(200000))),
    "futures": (Limit("weight", 60, usable(2400)), Limit("orders", 10, usable(300)), Limit("orders", 60, usable(1200))),
}

_INTERVAL_SECONDS = {"SECOND": 1, "MINUTE": 60, "HOUR": 3600, "DAY": 86400}
_KIND = {"REQUEST_WEIGHT": "weight", "ORDERS": "orders"}


def limits_from_exchange_info(rate_limits: list[dict]) -> tuple[Limit, ...]:
    """exchangeInfo.rateLimits → the limits we keep to (with headroom); RAW_REQUESTS and unknown kinds are ignored."""
    out = []
    for row in rate_limits or []:
        kind = _KIND.get(row.get("rateLimitType", ""))
        unit = _INTERVAL_SECONDS.get(row.get("interval", ""))
        if kind and unit and row.get("limit"):
            out.append(Limit(kind, unit * int(row.get("intervalNum", 1)), usable(float(row["limit"]))))
    return tuple(out)


def _key(*parts) -> str:
    return ":".join([settings.OMS_PUBSUB_PREFIX, "rl", *map(str, parts)])


def store_published_limits(account_id: int, market: str, limits: tuple[Limit, ...]) -> None:
    """Remember what the account's venue publishes, for every worker (sync_markets calls this)."""
    pubsub.client().set(_key("published", account_id, market),
                        json.dumps([[lim.kind, lim.window_seconds, lim.capacity] for lim in limits]))


def published_limits(account_id: int, market: str) -> tuple[Limit, ...]:
    return _limits_stored(pubsub.client().get(_key("published", account_id, market)), market)


def _limits_stored(raw: bytes | None, market: str) -> tuple[Limit, ...]:
    if raw:
        return tuple(Limit(k, int(w), float(c)) for k, w, c in json.loads(raw))
    return DEFAULT_LIMITS.get(market, DEFAULT_LIMITS["spot"])


# The venue's clock against ours (ms, ccxt's options["timeDifference"]), measured after a -1021 and kept beside the
# limits (same key space: a test that forgets the limits forgets it too) so every client of the account starts from it.
CLOCK_OFFSET_TTL_SECONDS = 3600


def store_clock_offset(account_id: int, offset_ms: int) -> None:
    pubsub.client().set(_key("clock", account_id), int(offset_ms), ex=CLOCK_OFFSET_TTL_SECONDS)


def clock_offset(account_id: int) -> int | None:
    raw = pubsub.client().get(_key("clock", account_id))
    return None if raw is None else int(raw)


def weights_in_use(pairs: list[tuple[int, str]]) -> dict[tuple[int, str], dict]:
    """Per (account id, market): the request weight counted in the current window of the account's weight limit (what
    every worker spent, as SharedLimiter counts it), the limit we keep to, and the ban's seconds left: for the admin's
    overview, in two Redis round trips for all of them."""
    redis = pubsub.client()
    stored = redis.mget([_key("published", account_id, market) for account_id, market in pairs]) if pairs else []
    now_ms, limit_of, pipe = int(time.time() * 1000), {}, redis.pipeline(transaction=False)
    for (account_id, market), raw in zip(pairs, stored, strict=True):
        limits = [lim for lim in _limits_stored(raw, market) if lim.kind == "weight"]
        lim = limit_of[(account_id, market)] = (min(limits, key=lambda x: x.window_seconds) if limits else
                                                Limit("weight", 60, usable(6000)))
        pipe.get(_key("w", account_id, market, lim.kind, lim.window_seconds, now_ms // (lim.window_seconds * 1000)))
        pipe.pttl(_key("ban", account_id))
    found = pipe.execute()
    return {pair: {"used": float(found[2 * i] or 0), "capacity": limit_of[pair].capacity,
                   "window_seconds": limit_of[pair].window_seconds, "banned_for": max(0, found[2 * i + 1]) / 1000}
            for i, pair in enumerate(pairs)}


class SharedLimiter:
    """Per venue account and market API. `acquire` blocks briefly when a window is full
    (up to OMS_RATE_LIMIT_MAX_WAIT_SECONDS), else raises VenueBackoff; a ban always raises."""

    def __init__(self, account_id: int, market: str, limits: tuple[Limit, ...], *, max_wait: float | None = None):
        self.account_id = account_id
        self.market = market
        self.limits = limits
        self.max_wait = settings.OMS_RATE_LIMIT_MAX_WAIT_SECONDS if max_wait is None else max_wait
        self._script = pubsub.client().register_script(_ACQUIRE)

    @property
    def ban_key(self) -> str:
        # A ban (418/429) is per account, across both market APIs: the venue bans the key/IP, not one endpoint.
        return _key("ban", self.account_id)

    def acquire(self, *, weight: float = 1, orders: int = 0) -> None:
        deadline = time.monotonic() + self.max_wait
        while True:
            now_ms = int(time.time() * 1000)
            keys, args = [self.ban_key], [now_ms]
            for lim in self.limits:
                win_ms = lim.window_seconds * 1000
                keys.append(_key("w", self.account_id, self.market, lim.kind, lim.window_seconds, now_ms // win_ms))
                args += [lim.capacity, weight if lim.kind == "weight" else orders, win_ms]
            status, wait_ms = self._script(keys=keys, args=args)
            if status == 0:
                return
            wait = int(wait_ms) / 1000
            if status == 1:
                raise VenueBackoff(wait, "venue ban (429/418)")
            if time.monotonic() + wait > deadline:
                raise VenueBackoff(wait, "rate limit window full")
            time.sleep(wait)

    def ban(self, seconds: float) -> None:
        pubsub.client().set(self.ban_key, "1", px=max(1, int(seconds * 1000)))

    def banned_for(self) -> float:
        return max(0, pubsub.client().pttl(self.ban_key)) / 1000
