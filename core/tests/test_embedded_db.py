"""The embedded PostgreSQL (core/embedded_db.py): current, durable, local only, pg_stat_statements in every database,
and a data directory of another major version refused with one actionable line."""

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connections
from psycopg import sql

from core import embedded_db
from core.databases import ALL_DATABASES, DATABASE_URL_VARIABLES

PROJECT = Path(__file__).resolve().parents[2]
EMBEDDED_NAMES = [name for variable, name in DATABASE_URL_VARIABLES.values() if not os.environ.get(variable)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run_command(command: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "core.embedded_db", command],
        env=env,
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=180,
    )


def assert_current_and_recording(url: str, database: str) -> None:
    """The server is PostgreSQL 17 or later, durable, local only, and pg_stat_statements counts this database's
    statements (it would raise "must be loaded via shared_preload_libraries" if only the extension existed)."""
    # A new table, so a new query id: statements that differ only in names of columns or constants share one.
    probe = f"embedded_probe_{uuid.uuid4().hex}"
    with psycopg.connect(f"{url}/{database}", autocommit=True, connect_timeout=10) as conn:
        assert int(conn.execute("SHOW server_version_num").fetchone()[0]) >= 170000
        assert conn.execute("SHOW fsync").fetchone()[0] == "on"
        assert conn.execute("SHOW synchronous_commit").fetchone()[0] == "on"
        assert conn.execute("SHOW listen_addresses").fetchone()[0] == "127.0.0.1"
        assert "pg_stat_statements" in conn.execute("SHOW shared_preload_libraries").fetchone()[0]
        conn.execute(sql.SQL("CREATE TEMPORARY TABLE {} (id int)").format(sql.Identifier(probe)))
        for _ in range(3):
            conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(probe)))
        calls = conn.execute(
            "SELECT sum(calls) FROM pg_stat_statements "
            "WHERE query LIKE 'SELECT count%%' AND query LIKE %s "
            "AND dbid = (SELECT oid FROM pg_database WHERE datname = current_database())",
            [f"%{probe}%"],
        ).fetchone()[0]
        assert calls == 3


@pytest.mark.skipif(not EMBEDDED_NAMES, reason="every database has its own URL: no embedded server in this run")
@pytest.mark.parametrize("database", EMBEDDED_NAMES)
def test_each_domain_database_of_the_running_server_records_its_statements(database):
    assert_current_and_recording(embedded_db.base_url(), database)


@pytest.mark.skipif(not EMBEDDED_NAMES, reason="every database has its own URL: no embedded server in this run")
@pytest.mark.django_db(databases=ALL_DATABASES)
def test_the_test_databases_have_the_extension_too():
    """They are made from template1, which carries it."""
    for alias, (variable, _name) in DATABASE_URL_VARIABLES.items():
        if os.environ.get(variable):
            continue
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'")
            assert cursor.fetchone() is not None, alias


def test_data_of_another_major_version_is_refused_with_one_line_and_wipe_clears_it(tmp_path, monkeypatch):
    old = tmp_path / "old-pgdata"
    old.mkdir()
    (old / "PG_VERSION").write_text("16\n")
    (old / "base").mkdir()
    monkeypatch.setenv("EMBEDDED_PG_DIR", str(old))
    monkeypatch.setenv("EMBEDDED_PG_PORT", str(free_port()))

    with pytest.raises(embedded_db.EmbeddedDatabaseError) as refused:
        embedded_db.ensure_running()
    message = str(refused.value)
    assert "\n" not in message
    assert f"the embedded data in {old}/ was made by PostgreSQL 16" in message
    assert f"cannot be opened by PostgreSQL {embedded_db.server_major_version()}" in message
    assert "run `python -m core.embedded_db wipe`" in message

    env = dict(os.environ)
    started = run_command("start", env)
    assert started.returncode == 1
    assert started.stderr.strip() == f"error: {message}"
    status = run_command("status", env)
    assert status.returncode == 3
    assert "PostgreSQL 16, not" in status.stdout
    assert (old / "PG_VERSION").exists()  # nothing is deleted behind the user's back

    assert run_command("wipe", env).returncode == 0
    assert not old.exists()


@pytest.mark.integration
def test_a_fresh_server_starts_with_the_four_databases_stops_restarts_and_wipes(tmp_path):
    pgdata = tmp_path / "pgdata"
    port = free_port()
    env = {**os.environ, "EMBEDDED_PG_DIR": str(pgdata), "EMBEDDED_PG_PORT": str(port)}
    url = f"postgres://postgres@127.0.0.1:{port}"
    try:
        started = run_command("start", env)
        assert started.returncode == 0, started.stderr
        assert started.stdout.strip() == url
        assert (pgdata / "PG_VERSION").read_text().strip() == embedded_db.server_major_version()
        if os.geteuid() == 0:
            import pwd

            assert pwd.getpwuid(pgdata.stat().st_uid).pw_name == embedded_db.SYSTEM_USER
        for database in embedded_db.DOMAIN_DATABASES:
            assert_current_and_recording(url, database)
        assert run_command("status", env).returncode == 0

        with psycopg.connect(f"{url}/orders_db", autocommit=True) as conn:
            conn.execute("CREATE TABLE kept (id int)")
        assert run_command("stop", env).returncode == 0
        stopped = run_command("status", env)
        assert stopped.returncode == 3 and stopped.stdout.startswith("stopped:")

        restarted = run_command("restart", env)
        assert restarted.returncode == 0, restarted.stderr
        with psycopg.connect(f"{url}/orders_db") as conn:
            assert conn.execute("SELECT to_regclass('kept')").fetchone()[0] == "kept"
    finally:
        run_command("wipe", env)
    assert not pgdata.exists()
