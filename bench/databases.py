"""Dedicated databases for a benchmark run, so a run measures a known data set and audits only its own data.

With all four ``*_DATABASE_URL`` variables set, ``bench.run`` uses those databases as they are. Otherwise it creates
(or, with ``fresh=True``, drops and re-creates) ``bench_users_db``, ``bench_seats_db``, ``bench_orders_db`` and
``bench_events_db`` on the embedded PostgreSQL and points this process at them before Django starts. The
developers' own databases (the demo, manual tests) are never touched, and the invariant checker after each scenario
sees only what the benchmark did.
"""

from __future__ import annotations

import os

from bench.harness import DATABASE_URL_VARIABLES

BENCH_DATABASES = {
    "default": "bench_users_db",
    "seats": "bench_seats_db",
    "orders": "bench_orders_db",
    "events": "bench_events_db",
}


def configured_externally() -> bool:
    return all(os.environ.get(variable) for variable in DATABASE_URL_VARIABLES.values())


def prepare(*, fresh: bool) -> str:
    """Create the bench databases on the embedded server (before ``django.setup()``) and export their URLs.

    Returns a one-line description of where the run's data lives.
    """
    if configured_externally():
        return "the databases configured by *_DATABASE_URL"
    import psycopg
    from psycopg import sql

    from ticketremaster import embedded_db

    base = embedded_db.ensure_running()
    with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=10) as conn:
        existing = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
        for name in BENCH_DATABASES.values():
            if fresh and name in existing:
                # FORCE ends connections a crashed earlier run may have left behind.
                conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
                existing.discard(name)
            if name not in existing:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    for alias, variable in DATABASE_URL_VARIABLES.items():
        os.environ[variable] = f"{base}/{BENCH_DATABASES[alias]}"
    return f"dedicated databases {', '.join(BENCH_DATABASES.values())} on the embedded server {base}"


def migrate() -> None:
    """Apply migrations to the four aliases (after ``django.setup()``); a no-op when they are current."""
    from django.core.management import call_command

    call_command("migrate_all", verbosity=0)
