"""What the workers asked the venue about each order, for the order's story in the admin: every signed REST request
that names an order (Binance's newClientOrderId / origClientOrderId / orderId), with its outcome and duration.

Kept in Redis per order reference (the OMS order id, which is the venue's client order id, and the venue's order
id), the newest MAX_PER_ORDER for RETENTION_SECONDS. Written by the gateway (exchanges.gateway.SharedLimitsMixin);
recording never fails a request (Redis away: nothing recorded). No secrets: method, path, outcome, time only."""
from __future__ import annotations

import json
import logging
import time

import redis
from django.conf import settings

from infra import pubsub

log = logging.getLogger(__name__)

MAX_PER_ORDER = 50
RETENTION_SECONDS = 7 * 86400
REFERENCE_PARAMS = ("newClientOrderId", "origClientOrderId", "orderId")


def _key(reference: str) -> str:
    return f"{settings.OMS_PUBSUB_PREFIX}:venue-requests:{reference}"


def references(params: dict | None) -> list[str]:
    return [str(params[p]) for p in REFERENCE_PARAMS if params and params.get(p) not in (None, "")]


def record(*, refs: list[str], method: str, path: str, outcome: str, started: float) -> None:
    """One request that named these order references; `started` is time.time() when it was sent."""
    if not refs:
        return
    entry = json.dumps({"at": started, "method": method, "path": path, "outcome": outcome[:200],
                        "ms": round((time.time() - started) * 1000, 1)})
    try:
        pipe = pubsub.client().pipeline(transaction=False)
        for ref in dict.fromkeys(refs):
            pipe.lpush(_key(ref), entry)
            pipe.ltrim(_key(ref), 0, MAX_PER_ORDER - 1)
            pipe.expire(_key(ref), RETENTION_SECONDS)
        pipe.execute()
    except redis.RedisError as exc:
        log.warning("venue request not recorded (Redis): %s", exc)


def of(*refs: str) -> list[dict]:
    """The requests recorded under any of these references, oldest first, each once."""
    seen, out = set(), []
    for ref in filter(None, refs):
        for raw in pubsub.client().lrange(_key(ref), 0, -1):
            if raw not in seen:
                seen.add(raw)
                out.append(json.loads(raw))
    return sorted(out, key=lambda e: e["at"])
