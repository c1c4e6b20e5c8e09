"""When each venue last answered, as the processes saw it, for the admin's overview: a page that renders without
asking the venue anything, and still says whether the venue is up and since when it was last known healthy.

Two kinds of evidence, kept in Redis:
- every REST request the gateway makes (any worker, market data, a command): per account and market, the last
  time the venue answered (a refusal is an answer too) and the last time it did not (no connection, a timeout,
  a 5xx), with what went wrong; written at most once a second per process and account/market when it answered;
- every probe of `/healthz` (exchanges.health.check_venues): per venue root, its outcome and time.

Recording never fails a request (Redis away: nothing recorded)."""
from __future__ import annotations

import json
import logging
import time

import redis

from infra import pubsub

log = logging.getLogger(__name__)

ANSWER_RECORD_SECONDS = 1.0  # one write a second per process and account/market is enough for "N s ago"
TTL_SECONDS = 7 * 86400
_answers_written: dict[tuple[int, str], float] = {}


def _key(kind: str, ident: str) -> str:
    return f"{pubsub.PREFIX}:venue-health:{kind}:{ident}"


def _write(key: str, mapping: dict) -> None:
    try:
        pipe = pubsub.client().pipeline(transaction=False)
        pipe.hset(key, mapping=mapping)
        pipe.expire(key, TTL_SECONDS)
        pipe.execute()
    except redis.RedisError as exc:
        log.warning("venue health not recorded (Redis): %s", exc)


def answered(account_id: int, market: str) -> None:
    """The venue answered a request of the account on this market."""
    now = time.time()
    if now - _answers_written.get((account_id, market), 0.0) < ANSWER_RECORD_SECONDS:
        return
    _answers_written[(account_id, market)] = now
    _write(_key("rest", f"{account_id}:{market}"), {"ok_at": now})


def not_answered(account_id: int, market: str, exc: BaseException) -> None:
    """A request of the account on this market got no answer (`exc` says why: its class only, never the URL; the
    gateway tells an unanswered request from a refusal)."""
    _answers_written.pop((account_id, market), None)  # the next answer is recorded at once
    _write(_key("rest", f"{account_id}:{market}"), {"failed_at": time.time(), "error": type(exc).__name__})


def probed(root: str, result: dict) -> None:
    """A probe of the venue at `root` (exchanges.health._probe's result), with its time."""
    now = time.time()
    _write(_key("probe", root), {"at": now, "result": json.dumps(result), **({"ok_at": now} if result.get("ok") else {})})


def _floats(raw: dict, *names: str) -> dict:
    return {n: float(raw[n.encode()]) if n.encode() in raw else None for n in names}


def recorded(pairs: list[tuple[int, str]], roots: list[str]) -> tuple[dict, dict]:
    """What is recorded, in one Redis round trip: ({(account id, market): {"ok_at", "failed_at", "error"}},
    {root: {"at", "ok_at", "result"}}); times are unix seconds or None."""
    pipe = pubsub.client().pipeline(transaction=False)
    for account_id, market in pairs:
        pipe.hgetall(_key("rest", f"{account_id}:{market}"))
    for root in roots:
        pipe.hgetall(_key("probe", root))
    found = pipe.execute()
    answers = {pair: {**_floats(raw, "ok_at", "failed_at"), "error": raw.get(b"error", b"").decode()}
               for pair, raw in zip(pairs, found[:len(pairs)], strict=True)}
    probes = {root: {**_floats(raw, "at", "ok_at"), "result": json.loads(raw[b"result"]) if b"result" in raw else None}
              for root, raw in zip(roots, found[len(pairs):], strict=True)}
    return answers, probes


def forget(account_id: int) -> None:
    """Drop the account's answers (a test database that reuses ids)."""
    for market in ("spot", "futures"):
        _answers_written.pop((account_id, market), None)
        pubsub.client().delete(_key("rest", f"{account_id}:{market}"))
