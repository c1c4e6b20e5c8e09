"""The gRPC call's connection check without a round trip (orders.grpc.db_check): a kept connection that the
server closed meanwhile is replaced before the call's first query; a live one is kept, with no statement sent."""
from __future__ import annotations

import psycopg
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.grpc.db_check import connections_for_call


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _terminate(pid: int) -> None:
    params = connection.get_connection_params()
    with psycopg.connect(**{k: v for k, v in params.items() if k in ("dbname", "user", "host", "port", "password")},
                         autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])


def test_a_live_connection_is_kept_without_a_statement(transactional_db):
    pid = _backend_pid()
    with CaptureQueriesContext(connection) as queries:
        connections_for_call()
        assert connection.health_check_done
    assert len(queries) == 0
    assert _backend_pid() == pid


def test_a_connection_the_server_closed_is_replaced_before_the_calls_first_query(transactional_db):
    pid = _backend_pid()
    _terminate(pid)
    connections_for_call()
    assert _backend_pid() != pid  # the first query of the call went through, on a new connection
