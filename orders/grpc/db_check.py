"""The database connection's health check for each gRPC call, without a round trip.

Django's request cycle (which django-grpc-framework runs around every call, and the token check before it)
checks a kept connection with `SELECT 1` at its first query: a PostgreSQL restart between two calls then costs
the next caller nothing. That round trip is a statement per call. A connection's socket is silent between
statements unless the server spoke first: a restart, pg_terminate_backend or an idle timeout sends its FATAL and
closes, so the socket is readable. Polling it (a system call) tells the same thing: readable, the connection is
closed and the call opens a new one; silent, Django's check is marked done."""
from __future__ import annotations

import select

from django.db import DEFAULT_DB_ALIAS, close_old_connections, connections


def connection_check() -> None:
    """After close_old_connections() (which closes a connection past its age or after an error): the kept
    connection's health check, done by polling its socket."""
    connection = connections[DEFAULT_DB_ALIAS]
    raw = connection.connection
    if raw is None or connection.health_check_done or connection.in_atomic_block:
        return
    try:
        poller = select.poll()  # not select.select: a server with 1,000 streams has descriptors past FD_SETSIZE
        poller.register(raw.fileno(), select.POLLIN | select.POLLPRI)
        spoke = bool(poller.poll(0))
    except Exception:  # noqa: BLE001 - a connection that cannot tell is treated as broken
        spoke = True
    if spoke:
        connection.close()
    else:
        connection.health_check_done = True


def connections_for_call(**_signal) -> None:
    """A call's start: Django's request-cycle rules, the health check without its round trip."""
    close_old_connections()
    connection_check()
