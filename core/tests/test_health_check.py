"""The per-request health check of persistent connections (core/postgresql/base.py): a connection the server ended
is replaced before the request uses it, a request while the server is down answers 503 (never a stale 200, never a
500), and a quiet connection costs no round trip."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from unittest import mock

import psycopg
import pytest
from django.conf import settings
from django.db import OperationalError, connections
from rest_framework.test import APIClient

from accounts.models import User
from core.errors import database_unavailable

PROJECT = Path(__file__).resolve().parents[2]


def _backend_pid(connection) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _next_request(connection) -> None:
    """What Django does when a request starts with a kept connection (request_started): check it again before its
    next use. The test client leaves that signal out, so the tests send it themselves."""
    connection.close_if_unusable_or_obsolete()


def _wait_until_readable(connection) -> None:
    deadline = time.monotonic() + 5
    while not connection._server_spoke_while_idle() and time.monotonic() < deadline:
        time.sleep(0.01)


@pytest.mark.django_db(databases=["orders"], transaction=True)
def test_a_connection_the_server_ended_is_replaced_before_the_next_request_uses_it():
    connection = connections["orders"]
    pid = _backend_pid(connection)
    assert connection.health_check_enabled
    config = settings.DATABASES["orders"]
    with psycopg.connect(
        host=config["HOST"], port=config["PORT"], user=config["USER"], dbname=connection.settings_dict["NAME"]
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    _wait_until_readable(connection)
    _next_request(connection)

    assert _backend_pid(connection) != pid  # no error: a new connection answered


@pytest.mark.django_db(databases=["orders"], transaction=True)
def test_a_quiet_connection_is_trusted_without_a_round_trip():
    connection = connections["orders"]
    pid = _backend_pid(connection)
    _next_request(connection)
    with mock.patch.object(type(connection), "is_usable", side_effect=AssertionError("a SELECT 1 was sent")):
        assert _backend_pid(connection) == pid
    assert connection.health_check_done


@pytest.mark.django_db(databases=["orders"], transaction=True)
def test_a_connection_the_client_already_knows_is_closed_gets_the_full_check():
    connection = connections["orders"]
    pid = _backend_pid(connection)
    connection.connection.close()  # libpq's state says so before any socket does
    _next_request(connection)

    assert _backend_pid(connection) != pid


# --- A server of its own, stopped and started under a kept connection (what bench.chaos does to orders) ----------
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class DedicatedServer:
    def __init__(self, directory: Path) -> None:
        self.port = _free_port()
        self.env = {**os.environ, "EMBEDDED_PG_DIR": str(directory), "EMBEDDED_PG_PORT": str(self.port)}

    def run(self, command: str) -> None:
        result = subprocess.run(  # noqa: S603 - our own module, fixed arguments
            [sys.executable, "-m", "core.embedded_db", command],
            env=self.env,
            cwd=PROJECT,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert result.returncode == 0, result.stderr


@pytest.fixture
def orders_on_a_server_of_its_own(tmp_path):
    """The orders alias kept on a dedicated embedded server (its empty orders_db) for the test's length."""
    server = DedicatedServer(tmp_path / "pgdata")
    server.run("start")
    orders = connections["orders"]
    saved = {key: orders.settings_dict[key] for key in ("HOST", "PORT", "NAME")}
    orders.close()
    orders.settings_dict.update(HOST="127.0.0.1", PORT=str(server.port), NAME="orders_db")
    try:
        yield server
    finally:
        orders.close()
        orders.settings_dict.update(saved)
        server.run("wipe")


def _request_while_down(connection) -> OperationalError:
    _next_request(connection)
    with pytest.raises(OperationalError) as raised:
        _backend_pid(connection)
    assert database_unavailable(raised.value)
    return raised.value


@pytest.mark.integration
@pytest.mark.django_db(databases=["orders"], transaction=True)
def test_requests_while_the_server_is_stopped_fail_as_unavailable_and_reconnect_once_it_is_back(
    orders_on_a_server_of_its_own,
):
    server = orders_on_a_server_of_its_own
    connection = connections["orders"]
    pid = _backend_pid(connection)
    server.run("stop")  # pg_ctl -m fast, as bench.chaos stops it

    assert connection._server_spoke_while_idle()  # the termination message and the end of the stream
    _request_while_down(connection)
    assert connection.connection is None
    _request_while_down(connection)  # and so on while it is down: each request tries to connect, none answers
    server.run("start")
    _next_request(connection)

    assert _backend_pid(connection) != pid


@pytest.mark.integration
@pytest.mark.django_db(databases=["default", "orders"], transaction=True)
def test_the_orders_api_answers_503_while_the_orders_server_is_stopped(orders_on_a_server_of_its_own):
    server = orders_on_a_server_of_its_own
    connection = connections["orders"]
    _backend_pid(connection)  # a kept connection from an earlier request
    client = APIClient()
    client.force_authenticate(User(id=uuid.uuid4(), email="probe@example.com"))
    server.run("stop")

    for _ in range(3):
        _next_request(connection)
        response = client.get("/api/v1/orders/")
        assert response.status_code == 503, response.content
        assert response.json()["code"] == "DATABASE_UNAVAILABLE"
