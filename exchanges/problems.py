"""Accounts a shared process had to skip, and why: shown in `/healthz` (to staff) and on the admin's account page.

A shared process (`run_marketdata`, a worker's start-up sync, beat's periodic tasks) never stops because of
one account: it skips the account, logs it, and reports it here. An entry names the process (`where`), the
reason and when it was last seen; it is dropped when that process next succeeds with the account, and is not
shown once the account has been changed since (a fixed URL may have cured it: the next failure reports it
again) or after PROBLEM_TTL_SECONDS without being seen. Entries live in one Redis hash; reporting never
raises (Redis away: logged)."""
from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime

import redis
from django.db import DatabaseError

from infra import pubsub

log = logging.getLogger(__name__)

PROBLEMS_KEY = f"{pubsub.PREFIX}:account-problems"
PROBLEM_TTL_SECONDS = 3 * 3600
ERROR_MAX_CHARS = 300

_logged: dict[tuple[int, str], str] = {}  # what this process last logged per (account, where): log a change once


def _stamp(account) -> str:
    return account.updated_at.isoformat() if account.updated_at else ""


def report(account, where: str, error: str) -> bool:
    """Record that `where` skipped `account` because of `error`; logged when new for this process (then True)."""
    error = " ".join(str(error).split())[:ERROR_MAX_CHARS] or "failed"
    new = _logged.get((account.pk, where)) != error
    if new:
        _logged[(account.pk, where)] = error
        log.error("account %s skipped by %s: %s", account.name, where, error,
                  extra={"account": account.name, "where": where})
    entry = {"account": account.name, "where": where, "error": error, "at": time.time(), "stamp": _stamp(account)}
    try:
        pubsub.client().hset(PROBLEMS_KEY, f"{account.pk}:{where}", json.dumps(entry))
    except redis.RedisError as exc:
        log.warning("problem of account %s not recorded (Redis): %s", account.name, exc)
    return new


def clear(account, where: str) -> None:
    """`where` served the account again."""
    if _logged.pop((account.pk, where), None) is not None:
        log.info("account %s served again by %s", account.name, where, extra={"account": account.name})
    try:
        pubsub.client().hdel(PROBLEMS_KEY, f"{account.pk}:{where}")
    except redis.RedisError as exc:
        log.warning("problem of account %s not cleared (Redis): %s", account.name, exc)


def current(accounts=None) -> dict[str, list[dict]]:
    """account name -> [{"where", "error", "last_seen"}], for the accounts given (default every account): the
    configuration problems of each (venues.supported.config_problem) and what the processes reported."""
    from accounts.models import Account
    from venues.supported import config_problem

    rows = list(Account.objects.all() if accounts is None else accounts)
    out: dict[str, list[dict]] = {}
    for account in rows:
        problem = config_problem(account)
        if problem:
            out.setdefault(account.name, []).append({"where": "configuration", "error": problem})
    try:
        raw = pubsub.client().hgetall(PROBLEMS_KEY)
    except redis.RedisError:
        return out
    by_id = {a.pk: a for a in rows}
    now = time.time()
    for field, value in sorted(raw.items()):
        try:
            account_id = int(field.decode().split(":", 1)[0])
            entry = json.loads(value)
        except (ValueError, UnicodeError):
            continue
        account = by_id.get(account_id)
        if account is None or entry.get("stamp") != _stamp(account) or now - entry.get("at", 0) > PROBLEM_TTL_SECONDS:
            continue
        out.setdefault(account.name, []).append({
            "where": entry.get("where", ""), "error": entry.get("error", ""),
            "last_seen": datetime.fromtimestamp(entry.get("at", now), UTC).isoformat(timespec="seconds")})
    return out


def of(account) -> list[dict]:
    try:
        return current([account]).get(account.name, [])
    except DatabaseError:
        return []
