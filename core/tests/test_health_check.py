"""The per-request health check of persistent connections (core/postgresql/base.py): a connection the server ended
is replaced before the request uses it, and a quiet one costs no round trip."""

from __future__ import annotations

import time
from unittest import mock

import psycopg
import pytest
from django.conf import settings
from django.db import connections

pytestmark = pytest.mark.django_db(databases=["orders"], transaction=True)


def _backend_pid(connection) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _next_request(connection) -> None:
    """What Django does between two requests for a kept connection: check it again before its next use."""
    connection.health_check_done = False


def test_a_connection_the_server_ended_is_replaced_before_the_next_request_uses_it():
    connection = connections["orders"]
    pid = _backend_pid(connection)
    assert connection.health_check_enabled
    config = settings.DATABASES["orders"]
    with psycopg.connect(
        host=config["HOST"], port=config["PORT"], user=config["USER"], dbname=connection.settings_dict["NAME"]
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 5
    while not connection._server_spoke_while_idle() and time.monotonic() < deadline:
        time.sleep(0.01)
    _next_request(connection)

    assert _backend_pid(connection) != pid  # no error: a new connection answered


def test_a_quiet_connection_is_trusted_without_a_round_trip():
    connection = connections["orders"]
    pid = _backend_pid(connection)
    _next_request(connection)
    with mock.patch.object(type(connection), "is_usable", side_effect=AssertionError("a SELECT 1 was sent")):
        assert _backend_pid(connection) == pid
    assert connection.health_check_done
