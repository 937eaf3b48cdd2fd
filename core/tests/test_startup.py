"""Bad configuration stops the start with one readable line, not a traceback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {key: value for key, value in os.environ.items() if not key.endswith("_DATABASE_URL")}
    base.pop("DJANGO_SETTINGS_MODULE", None)
    base.pop("DJANGO_SECRET_KEY", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.integration
def test_a_missing_secret_key_with_debug_off_is_one_clear_line():
    result = run_manage("check", env={"DJANGO_DEBUG": "false"})
    assert result.returncode == 2
    assert result.stderr.strip() == "error: DJANGO_SECRET_KEY is not set (required when DJANGO_DEBUG is off)"


@pytest.mark.integration
def test_an_unreachable_database_is_named_in_one_line():
    urls = {
        "USERS_DATABASE_URL": "postgres://postgres@127.0.0.1:1/users_db",
        "SEATS_DATABASE_URL": "postgres://postgres@127.0.0.1:1/seats_db",
        "ORDERS_DATABASE_URL": "postgres://postgres@127.0.0.1:1/orders_db",
        "EVENTS_DATABASE_URL": "postgres://postgres@127.0.0.1:1/events_db",
    }
    result = run_manage("migrate_all", env={"DJANGO_DEBUG": "true", "DATABASE_CONNECT_TIMEOUT": "2", **urls})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: database 'default' (USERS_DATABASE_URL → 127.0.0.1:1/users_db) is unreachable")


@pytest.mark.integration
def test_a_database_url_that_is_not_postgres_is_refused():
    result = run_manage("check", env={"DJANGO_DEBUG": "true", "SEATS_DATABASE_URL": "sqlite:///x.db"})
    assert result.returncode == 2
    assert result.stderr.strip() == "error: SEATS_DATABASE_URL must point at PostgreSQL, not django.db.backends.sqlite3"


@pytest.mark.integration
def test_gunicorn_refuses_to_start_against_an_unreachable_database_with_one_line():
    base = {key: value for key, value in os.environ.items() if not key.endswith("_DATABASE_URL")}
    base.pop("DJANGO_SETTINGS_MODULE", None)
    urls = {
        f"{name}_DATABASE_URL": f"postgres://postgres@127.0.0.1:1/{name.lower()}_db"
        for name in ("USERS", "SEATS", "ORDERS", "EVENTS")
    }
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "gunicorn.conf.py",
            "-b",
            "127.0.0.1:0",
            "ticketremaster.wsgi",
        ],
        cwd=PROJECT,
        env={**base, "DJANGO_DEBUG": "true", **urls},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "USERS_DATABASE_URL" in errors[0] and "unreachable" in errors[0]
    assert "Traceback" not in result.stderr
