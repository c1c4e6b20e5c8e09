"""What every process may know about the user-data streams, kept in Redis: who holds each account's stream
(the lease), whether it is live (connected and caught up), and its figures for /metrics and the admin.

One consumer per account and market in the whole deployment: a worker holds the lease while it consumes,
renewing it every third of OMS_USER_STREAM_LEASE_SECONDS; if it dies the lease lapses and another worker takes
the stream over. "Live" lapses as fast, so the sweeps fall back to the young-order rate at once.
"""
from __future__ import annotations

import time

from django.conf import settings

from infra import pubsub

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
STATE_TTL_SECONDS = 7 * 86400


def _key(kind: str, account_id: int, market: str) -> str:
    return f"{settings.OMS_PUBSUB_PREFIX}:userstream:{kind}:{account_id}:{market}"


def _lease_ms() -> int:
    return int(settings.OMS_USER_STREAM_LEASE_SECONDS * 1000)


def lease_acquire(account_id: int, market: str, owner: str) -> bool:
    return bool(pubsub.client().set(_key("lease", account_id, market), owner, nx=True, px=_lease_ms()))


def lease_renew(account_id: int, market: str, owner: str) -> bool:
    return bool(pubsub.client().eval(_RENEW, 1, _key("lease", account_id, market), owner, _lease_ms()))


def lease_release(account_id: int, market: str, owner: str) -> None:
    pubsub.client().eval(_RELEASE, 1, _key("lease", account_id, market), owner)


def lease_holder(account_id: int, market: str) -> str | None:
    raw = pubsub.client().get(_key("lease", account_id, market))
    return raw.decode() if raw else None


def set_live(account_id: int, market: str, live: bool) -> None:
    """Live: the stream is connected and its catch-up is done; expires with the lease if the holder dies."""
    key = _key("live", account_id, market)
    if live:
        pubsub.client().set(key, "1", px=_lease_ms())
    else:
        pubsub.client().delete(key)


def is_live(account_id: int, market: str) -> bool:
    return bool(pubsub.client().exists(_key("live", account_id, market)))


def record(account_id: int, market: str, *, state: str | None = None, event: bool = False,
           reconnect: bool = False, catch_up: bool = False, holder: str | None = None) -> None:
    """Update the stream's figures: its state (and since when), the time of its last event, its counts."""
    key = _key("state", account_id, market)
    now = time.time()
    pipe = pubsub.client().pipeline(transaction=False)
    if state is not None:
        pipe.hset(key, mapping={"state": state, "since": now, **({"holder": holder} if holder else {})})
    if event:
        pipe.hset(key, "last_event", now)
    if reconnect:
        pipe.hincrby(key, "reconnects", 1)
    if catch_up:
        pipe.hincrby(key, "catch_ups", 1)
    pipe.expire(key, STATE_TTL_SECONDS)
    pipe.execute()


def sync_weight_add(account_id: int, market: str, weight: float) -> None:
    """Request weight spent on background sync (sweeps and their look-ups), for /metrics."""
    pubsub.client().hincrbyfloat(_key("state", account_id, market), "sync_weight", weight)


def forget(account_id: int) -> None:
    """Drop everything kept about the account's streams (a deleted account; a test database that reuses ids)."""
    pubsub.client().delete(*[_key(kind, account_id, market) for kind in ("lease", "live", "state")
                             for market in ("spot", "futures")])


def snapshot(account_id: int, market: str) -> dict:
    """The stream's figures as plain values: state, since, last_event (unix seconds), reconnects, catch_ups,
    sync_weight, holder, live."""
    return snapshots([(account_id, market)])[(account_id, market)]


def snapshots(pairs: list[tuple[int, str]]) -> dict[tuple[int, str], dict]:
    """snapshot() of each (account id, market), in one Redis round trip."""
    pipe = pubsub.client().pipeline(transaction=False)
    for account_id, market in pairs:
        pipe.hgetall(_key("state", account_id, market))
        pipe.exists(_key("live", account_id, market))
    found = pipe.execute()
    return {pair: _figures(found[2 * i], found[2 * i + 1]) for i, pair in enumerate(pairs)}


def _figures(state: dict, live: int) -> dict:
    raw = {k.decode(): v.decode() for k, v in state.items()}
    return {
        "state": raw.get("state", "down" if settings.OMS_USER_STREAMS else "off"),
        "since": float(raw["since"]) if "since" in raw else None,
        "last_event": float(raw["last_event"]) if "last_event" in raw else None,
        "reconnects": int(raw.get("reconnects", 0)),
        "catch_ups": int(raw.get("catch_ups", 0)),
        "sync_weight": float(raw.get("sync_weight", 0)),
        "holder": raw.get("holder", ""),
        "live": bool(live),
    }
