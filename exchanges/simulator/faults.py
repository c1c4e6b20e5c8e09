"""Fault injection knobs (switchable at run time through the control API), the count of every fault
injected, and the audit trail of every request the venue received."""
import random
from collections import Counter, deque
from dataclasses import asdict, dataclass, field, fields

ERROR_KINDS = {
    # kind: (HTTP status, body or None for plain text, processed before answering?)
    "unknown": (503, {"code": -1001, "msg": "Unknown error, please check your request or try again later."}, True),
    "timeout": (408, {"code": -1007, "msg": "Timeout waiting for response from backend server. Send status unknown; execution status unknown."}, True),
    "bus": (503, {"code": -1006, "msg": "An unexpected response was received from the message bus. Execution status unknown."}, True),
    "internal": (503, {"code": -1001, "msg": "Internal error; unable to process your request. Please try again."}, False),
    "unavailable": (503, None, False),
}
UNAVAILABLE_TEXT = "Service Unavailable."


@dataclass
class Faults:
    latency_ms: float = 0.0  # added to every request
    jitter_ms: float = 0.0  # plus uniform(0, jitter)
    error_rate: float = 0.0  # share of matching requests answered with `error_kind`
    error_count: int = 0  # the next N matching requests are answered with `error_kind`
    error_kind: str = "unknown"
    error_delay_ms: float = 200.0  # how long a "timeout" (-1007) answer takes
    burst_429: int = 0  # the next N matching requests get 429 -1003
    ban_418_seconds: float = 0.0  # the next matching request bans its IP (that API's market) this long: 418 -1003
    drop_response_rate: float = 0.0  # process, then close the connection without an answer
    drop_response_count: int = 0
    drop_request_rate: float = 0.0  # close the connection without processing
    drop_request_count: int = 0
    drop_hold_ms: float = 0.0  # how long a dropped connection is held open first
    clock_skew_ms: int = 0  # added to the venue's clock
    visibility_delay_ms: float = 0.0  # an accepted order stays out of queries this long (at most its recvWindow)
    reject_keys: list[str] = field(default_factory=list)  # these API keys get -2015
    endpoints: list[str] = field(default_factory=list)  # "POST /api/v3/order" or "/fapi/v1/order"; empty = all
    # user-data streams: lifetimes as Binance's (venue time), shortened by tests
    listen_key_ttl_s: float = 3600.0  # a listenKey not kept alive (PUT) for this long expires
    user_stream_max_age_s: float = 86400.0  # the venue closes a user-data connection this old
    # user-data stream faults, narrowed to `user_stream_keys` (API keys) and `user_stream_markets` when set
    user_stream_close_count: int = 0  # close the next N matching user-data connections (now, or when they open)
    listen_key_expire_count: int = 0  # expire the next N matching listenKeys now (listenKeyExpired, socket closed)
    user_event_delay_ms: float = 0.0  # every matching event leaves this much later (order kept)
    user_event_drop_count: int = 0  # the next N matching events are never sent
    user_event_drop_rate: float = 0.0
    user_event_duplicate_count: int = 0  # the next N matching events are sent twice
    user_event_duplicate_rate: float = 0.0
    user_event_reorder_count: int = 0  # the next N matching events are swapped with the event after them
    user_event_reorder_rate: float = 0.0
    user_stream_keys: list[str] = field(default_factory=list)  # empty = every key
    user_stream_markets: list[str] = field(default_factory=list)  # "spot", "futures"; empty = both

    def update(self, knobs: dict) -> None:
        """Merge knobs after checking them all, so a bad one changes nothing."""
        names = {f.name for f in fields(self)}
        for name, value in knobs.items():
            if name not in names:
                raise ValueError(f"unknown fault knob '{name}'")
            self._check(name, value)
        for name, value in knobs.items():
            current = getattr(self, name)
            setattr(self, name, list(value) if isinstance(current, list) else type(current)(value))

    def _check(self, name: str, value) -> None:
        current = getattr(self, name)
        if isinstance(current, list):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"'{name}' must be a list of strings")
            if name == "user_stream_markets" and not set(value) <= {"spot", "futures"}:
                raise ValueError("'user_stream_markets' takes 'spot' and/or 'futures'")
        elif name == "error_kind":
            if value not in ERROR_KINDS:
                raise ValueError(f"'error_kind' must be one of {sorted(ERROR_KINDS)}")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"'{name}' must be a number")
        elif name.endswith("_rate") and not 0 <= value <= 1:
            raise ValueError(f"'{name}' must be between 0 and 1")
        elif name != "clock_skew_ms" and value < 0:
            raise ValueError(f"'{name}' must not be negative")
        elif name in ("listen_key_ttl_s", "user_stream_max_age_s") and value <= 0:
            raise ValueError(f"'{name}' must be positive")

    def as_dict(self) -> dict:
        return asdict(self)


class FaultPlan:
    """Decides, per request, which fault (if any) it gets, and counts what was injected."""

    def __init__(self, seed: int):
        self.knobs = Faults()
        self.rng = random.Random(f"faults:{seed}")
        self.counts: Counter[str] = Counter()

    def clear(self) -> None:
        self.knobs = Faults()

    def matches(self, method: str, path: str) -> bool:
        eps = self.knobs.endpoints
        return not eps or path in eps or f"{method} {path}" in eps

    def take(self, count_name: str, rate_name: str) -> bool:
        if getattr(self.knobs, count_name) > 0:
            setattr(self.knobs, count_name, getattr(self.knobs, count_name) - 1)
            return True
        rate = getattr(self.knobs, rate_name)
        return rate > 0 and self.rng.random() < rate

    def latency_s(self) -> float:
        k = self.knobs
        if k.latency_ms <= 0 and k.jitter_ms <= 0:
            return 0.0
        self.counts["latency"] += 1
        return (k.latency_ms + self.rng.uniform(0, k.jitter_ms)) / 1000

    def count(self, name: str) -> None:
        self.counts[name] += 1


class Audit:
    """Every request the venue received, in order (bounded)."""

    def __init__(self, maxlen: int = 50_000):
        self.rows: deque[dict] = deque(maxlen=maxlen)
        self.seq = 0

    def record(self, **row) -> None:
        self.seq += 1
        row["seq"] = self.seq
        self.rows.append(row)

    def query(self, client_order_id: str | None = None) -> list[dict]:
        if client_order_id is None:
            return list(self.rows)
        return [r for r in self.rows if client_order_id in (r.get("client_order_id"), r.get("orig_client_order_id"))]
