"""Binance-style limits: request weight per IP per minute, orders per account per 10 s and per day
(spot) or per minute (futures), in fixed windows. Persisting past a 429 earns a 418 ban. Spot counts unfilled
orders only: an order's first fill takes it off the current windows' counts (`order_filled`)."""
from dataclasses import dataclass

from .instruments import SPOT
from .refusals import VenueError

WINDOWS_MS = {"10S": 10_000, "1M": 60_000, "1D": 86_400_000}


@dataclass
class Limits:
    enabled: bool = True
    spot_weight_1m: int = 6000
    futures_weight_1m: int = 2400
    spot_orders_10s: int = 100
    spot_orders_1d: int = 200_000
    futures_orders_10s: int = 300
    futures_orders_1m: int = 1200
    ban_after: int = 5  # requests refused with 429 in one window before the IP is banned (418)
    ban_seconds: int = 120

    def update(self, knobs: dict) -> None:
        for name, value in knobs.items():
            if not hasattr(self, name):
                raise ValueError(f"unknown limit '{name}'")
            if name == "enabled":
                if not isinstance(value, bool):
                    raise ValueError("'enabled' must be true or false")
            elif not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"'{name}' must be a positive integer")
            setattr(self, name, value)

    def published(self, market: str) -> list[dict]:
        """exchangeInfo.rateLimits: the limits in force (changed through the control API, they are published too)."""
        def row(kind: str, interval: str, num: int, limit: int) -> dict:
            return {"rateLimitType": kind, "interval": interval, "intervalNum": num, "limit": limit}
        if market == SPOT:
            return [row("REQUEST_WEIGHT", "MINUTE", 1, self.spot_weight_1m), row("ORDERS", "SECOND", 10, self.spot_orders_10s),
                    row("ORDERS", "DAY", 1, self.spot_orders_1d), row("RAW_REQUESTS", "MINUTE", 5, 61000)]
        return [row("REQUEST_WEIGHT", "MINUTE", 1, self.futures_weight_1m), row("ORDERS", "MINUTE", 1, self.futures_orders_1m),
                row("ORDERS", "SECOND", 10, self.futures_orders_10s)]

    def order_limits(self, market: str) -> dict[str, int]:
        if market == SPOT:
            return {"10S": self.spot_orders_10s, "1D": self.spot_orders_1d}
        return {"10S": self.futures_orders_10s, "1M": self.futures_orders_1m}


class RateLimiter:
    def __init__(self):
        self.limits = Limits()
        self.counters: dict[tuple, list[int]] = {}  # key -> [window start, used]
        self.strikes: dict[tuple, list[int]] = {}
        self.banned_until: dict[tuple[str, str], int] = {}  # (market, ip): spot and futures ban apart

    def reset(self) -> None:
        self.counters.clear()
        self.strikes.clear()
        self.banned_until.clear()

    def _add(self, key: tuple, window: str, amount: int, now: int) -> tuple[int, int]:
        size = WINDOWS_MS[window]
        start = now - now % size
        row = self.counters.get(key + (window,))
        if row is None or row[0] != start:
            row = self.counters[key + (window,)] = [start, 0]
        row[1] += amount
        return row[1], start + size

    def weight(self, market: str, ip: str, weight: int, now: int) -> dict[str, str]:
        """Adds the request's weight; raises 429/418 past the limit. Returns the headers to send."""
        used, resets = self._add(("w", market, ip), "1M", weight, now)
        headers = {"X-MBX-USED-WEIGHT-1M": str(used)}
        ban = self.banned_until.get((market, ip), 0)  # earned past the limits, or set by the ban_418 fault knob
        if now < ban:
            raise VenueError(-1003, f"Way too much request weight used; IP banned until {ban}. Please use WebSocket "
                             "Streams for live updates to avoid bans.", status=418,
                             headers={**headers, "Retry-After": str(max(1, (ban - now + 999) // 1000))})
        if not self.limits.enabled:
            return headers
        limit = self.limits.spot_weight_1m if market == SPOT else self.limits.futures_weight_1m
        if used > limit:
            strikes, _ = self._add(("strike", market, ip), "1M", 1, now)
            if strikes > self.limits.ban_after:
                ban = self.banned_until[(market, ip)] = now + self.limits.ban_seconds * 1000
                raise VenueError(-1003, f"Way too much request weight used; IP banned until {ban}. Please use WebSocket "
                                 "Streams for live updates to avoid bans.", status=418,
                                 headers={**headers, "Retry-After": str(self.limits.ban_seconds)})
            raise VenueError(-1003, f"Too much request weight used; current limit is {limit} request weight per 1 MINUTE. "
                             "Please use WebSocket Streams for live updates to avoid polling the API.", status=429,
                             headers={**headers, "Retry-After": str(max(1, (resets - now + 999) // 1000))})
        return headers

    def ban(self, market: str, ip: str, seconds: float, now: int) -> None:
        """Ban the IP on one market's API as persisting past a 429 would (the fault knob `ban_418_seconds`)."""
        self.banned_until[(market, ip)] = now + int(seconds * 1000)

    def order_filled(self, market: str, api_key: str, now: int) -> None:
        """Spot's unfilled order count: an order's first fill (partial or full) takes 1 off the key's current 10 s and
        day counts, so orders that trade never count toward the ORDERS limits. USD-M counts every order."""
        if market != SPOT:
            return
        for window in self.limits.order_limits(market):
            size = WINDOWS_MS[window]
            row = self.counters.get(("o", market, api_key, window))
            if row is not None and row[0] == now - now % size and row[1] > 0:
                row[1] -= 1

    def order(self, market: str, api_key: str, now: int, counts: dict[str, int] | None = None) -> dict[str, str]:
        """Count one order request toward the key's order limits: 1 in each window, or `counts` per window (a
        USD-M batch counts 5 in 10 s and 1 in the minute)."""
        headers, refused = {}, None
        for window, limit in self.limits.order_limits(market).items():
            used, resets = self._add(("o", market, api_key), window, (counts or {}).get(window, 1), now)
            headers[f"X-MBX-ORDER-COUNT-{window}"] = str(used)
            if self.limits.enabled and used > limit and refused is None:
                label = {"10S": "10 SECOND", "1M": "1 MINUTE", "1D": "1 DAY"}[window]
                refused = (f"Too many new orders; current limit is {limit} orders per {label}.", resets)
        if refused:
            raise VenueError(-1015, refused[0], status=429,
                             headers={**headers, "Retry-After": str(max(1, (refused[1] - now + 999) // 1000))})
        return headers
