"""`VenueControl`: a small synchronous client of the venue's /_venue/ control API."""
from decimal import Decimal

import requests


class VenueControlError(Exception):
    pass


class VenueControl:
    def __init__(self, base_url: str, token: str, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["X-Venue-Token"] = token
        self.timeout = timeout

    def _call(self, method: str, path: str, json: dict | None = None, params: dict | None = None):
        response = self.session.request(method, f"{self.base_url}/_venue/{path}", json=json, params=params,
                                        timeout=self.timeout)
        if response.status_code != 200:
            raise VenueControlError(f"{method} /_venue/{path}: {response.status_code} {response.text}")
        return response.json()

    def set_faults(self, **knobs) -> dict:
        """Merge these knobs into the current ones (see exchanges.simulator.faults.Faults)."""
        return self._call("POST", "faults", json=knobs)["faults"]

    def clear_faults(self) -> dict:
        return self._call("DELETE", "faults")["faults"]

    def faults(self) -> dict:
        return self._call("GET", "faults")["faults"]

    def fault_counts(self, reset: bool = False) -> dict[str, int]:
        return self._call("GET", "fault-counts", params={"reset": "true"} if reset else None)

    def audit(self, client_order_id: str | None = None) -> list[dict]:
        return self._call("GET", "audit", params={"client_order_id": client_order_id} if client_order_id else None)

    def records(self, api_key: str, market: str = "spot") -> dict:
        """{"orders": [...], "trades": [...], "balances": {asset: [free, locked]}} of one key and market, as the
        venue holds them (every order, open or closed; decimals as strings); costs no request weight."""
        return self._call("GET", "records", params={"api_key": api_key, "market": market})

    def set_price(self, symbol: str, price, market: str = "spot", freeze: bool | None = None) -> dict:
        """Move the mid price now and redraw the book (resting orders it crosses fill at once). `freeze=True`
        holds the book still (no walk; depth taken stays taken until the next set_price); False lets it walk."""
        payload = {"symbol": symbol, "price": str(Decimal(str(price))), "market": market}
        if freeze is not None:
            payload["freeze"] = freeze
        return self._call("POST", "price", json=payload)

    def fund(self, api_key: str, market: str, asset: str, amount, reason: str | None = None) -> None:
        """Add (or, negative, remove) free balance: market 'spot' or 'futures'. Spot streams `balanceUpdate`;
        futures streams ACCOUNT_UPDATE with reason DEPOSIT/WITHDRAW, or `reason` (e.g. FUNDING_FEE)."""
        payload = {"api_key": api_key, "market": market, "asset": asset, "amount": str(Decimal(str(amount)))}
        if reason is not None:
            payload["reason"] = reason
        self._call("POST", "fund", json=payload)

    def trickle(self, symbol: str, side: str, count: int, qty, market: str = "spot") -> dict:
        """`count` synthetic takers of `qty` each on `side` (SELL takers fill resting BUYs), each filling the
        best resting user order at its price as maker; {"fills", "orders", "first_trade_id", "last_trade_id"}."""
        return self._call("POST", "trickle", json={"symbol": symbol, "market": market, "side": side, "count": count,
                                                   "qty": str(Decimal(str(qty)))})

    def align_trade_ids(self, next_id: int | None = None, market: str | None = None) -> dict:
        """Every symbol's next trade id (of `market`, or both) becomes `next_id` (default: one past the highest
        used), so different symbols' trades carry the same ids; returns {market: {symbol: next id}}."""
        payload: dict = {} if market is None else {"market": market}
        if next_id is not None:
            payload["next_id"] = next_id
        return self._call("POST", "trade-ids", json=payload)

    def user_streams(self) -> dict:
        """{"listen_keys": [{listen_key, api_key, age_ms, expired}], "connections": [{market, api_key,
        subscription_id, listen_key, age_ms}]}: every open user-data subscription the venue holds."""
        return self._call("GET", "user-streams")

    def add_key(self, api_key: str, secret: str) -> None:
        self._call("POST", "keys", json={"api_key": api_key, "secret": secret})

    def set_limits(self, reset: bool = False, **limits) -> dict:
        """Rate limits (see exchanges.simulator.weights.Limits); `reset` zeroes the counters and bans."""
        return self._call("POST", "limits", json={**limits, "reset": reset})

    def clock(self) -> dict:
        """Venue time: {"venue_ms", "wall_ms", "speed", "ahead_ms"}."""
        return self._call("GET", "clock")

    def set_clock(self, speed: float | None = None, advance_ms: int = 0) -> dict:
        """Venue time (history retention, funding intervals) runs `speed` times as fast as wall time from now
        and/or jumps `advance_ms` forward; wire timestamps (serverTime, order and trade times) stay on wall time."""
        payload: dict = {"advance_ms": advance_ms}
        if speed is not None:
            payload["speed"] = speed
        return self._call("POST", "clock", json=payload)

    def snapshot(self) -> dict:
        return self._call("POST", "snapshot")
