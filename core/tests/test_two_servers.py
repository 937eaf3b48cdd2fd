"""Each domain can live on its own PostgreSQL server: point one alias at a second server and watch the rows land."""

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

PROJECT = Path(__file__).resolve().parents[2]


def _python(env: dict, *arguments: str, timeout: int) -> subprocess.CompletedProcess:
    """This project's Python run in the project folder with ``env``, its output captured as text."""
    return subprocess.run(
        [sys.executable, *arguments], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=timeout
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_url(config: dict) -> str:
    return f"postgres://{config['USER'] or 'postgres'}@{config['HOST']}:{config['PORT']}"


@pytest.fixture
def second_server(tmp_path):
    env = {**os.environ, "EMBEDDED_PG_DIR": str(tmp_path / "pg2"), "EMBEDDED_PG_PORT": str(free_port())}
    started = _python(env, "-m", "core.embedded_db", "start", timeout=120)
    assert started.returncode == 0, started.stderr
    try:
        yield started.stdout.strip()
    finally:
        subprocess.run([sys.executable, "-m", "core.embedded_db", "wipe"], env=env, cwd=PROJECT, timeout=60)


@pytest.mark.integration
def test_reads_and_writes_land_on_the_server_each_alias_names(second_server):
    first_server = server_url(settings.DATABASES["default"])
    suffix = uuid.uuid4().hex[:8]
    names = {alias: f"two_{alias}_{suffix}" for alias in ("default", "seats", "orders", "events")}
    with psycopg.connect(f"{first_server}/postgres", autocommit=True) as admin:
        for alias in ("default", "orders", "events"):
            admin.execute(f'CREATE DATABASE "{names[alias]}"')
    with psycopg.connect(f"{second_server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{names["seats"]}"')
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env.update(
        DJANGO_DEBUG="true",
        USERS_DATABASE_URL=f"{first_server}/{names['default']}",
        ORDERS_DATABASE_URL=f"{first_server}/{names['orders']}",
        EVENTS_DATABASE_URL=f"{first_server}/{names['events']}",
        SEATS_DATABASE_URL=f"{second_server}/{names['seats']}",
    )
    try:
        migrated = _python(env, "manage.py", "migrate_all", timeout=300)
        assert migrated.returncode == 0, migrated.stderr
        script = (
            "import uuid; from accounts.models import User; from inventory.models import Seat; "
            "u = User.objects.create_user('two@example.com', 'pw'); "
            "s = Seat.objects.create(event_id=uuid.uuid4(), section_id=uuid.uuid4(), row_label='Z', number=9, "
            "price='1.00'); "
            "assert Seat.objects.filter(pk=s.pk).exists() and User.objects.filter(pk=u.pk).exists(); print(s.pk)"
        )
        created = _python(env, "manage.py", "shell", "-c", script, timeout=120)
        assert created.returncode == 0, created.stderr
        seat_id = created.stdout.strip().splitlines()[-1]

        with psycopg.connect(f"{second_server}/{names['seats']}") as seats_on_second:
            assert (
                seats_on_second.execute("SELECT count(*) FROM inventory_seat WHERE id = %s", [seat_id]).fetchone()[0]
                == 1
            )
            assert seats_on_second.execute("SELECT to_regclass('accounts_user')").fetchone()[0] is None
        with psycopg.connect(f"{first_server}/{names['default']}") as users_on_first:
            assert users_on_first.execute("SELECT count(*) FROM accounts_user").fetchone()[0] == 1
            assert users_on_first.execute("SELECT to_regclass('inventory_seat')").fetchone()[0] is None
    finally:
        with psycopg.connect(f"{first_server}/postgres", autocommit=True) as admin:
            for alias in ("default", "orders", "events"):
                admin.execute(f'DROP DATABASE IF EXISTS "{names[alias]}" WITH (FORCE)')
