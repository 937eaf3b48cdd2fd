"""The four domain databases: their aliases, which app lives where, and their settings from the environment.

Imported by the settings module, so it may not import Django's settings or any app.
"""

from __future__ import annotations

from typing import Any

import environ

from core import embedded_db
from core.startup import StartupError

# Every alias, `default` (users_db) first. Tests that touch every domain declare ``databases = ALL_DATABASES``.
ALL_DATABASES = ("default", "seats", "orders", "events")

# alias -> (environment variable of its URL, database name on the embedded server)
DATABASE_URL_VARIABLES = {
    "default": ("USERS_DATABASE_URL", "users_db"),
    "seats": ("SEATS_DATABASE_URL", "seats_db"),
    "orders": ("ORDERS_DATABASE_URL", "orders_db"),
    "events": ("EVENTS_DATABASE_URL", "events_db"),
}

# Read replicas: alias -> (environment variable of its URL, the primary alias it follows). Configured only when
# its variable is set; used only by reads that ask for it (core.routers.read_alias), never by writes or migrations.
REPLICA_URL_VARIABLES = {
    "seats_replica": ("SEATS_REPLICA_DATABASE_URL", "seats"),
}
REPLICA_OF = {alias: primary for alias, (_variable, primary) in REPLICA_URL_VARIABLES.items()}

# app label -> alias; the router (core/routers.py) reads it. Django's own apps fall back to `default`.
APP_DATABASES = {
    "accounts": "default",
    "core": "default",
    "inventory": "seats",
    "orders": "orders",
    "events": "events",
    # The job queue's tables live with the orders they are most often enqueued with (docs/JOBS.md).
    "procrastinate": "orders",
}

# Where the job queue lives: jobs deferred inside a transaction on this alias commit or roll back with it.
JOBS_DATABASE = "orders"


def uses_embedded_server(env: environ.Env) -> bool:
    """Any alias without its own URL lives on the embedded server."""
    return any(not env.str(variable, default="") for variable, _name in DATABASE_URL_VARIABLES.values())


def database_settings(
    env: environ.Env,
    *,
    embedded_allowed: bool,
    connect_timeout: int,
    pool_size: int | None,
    conn_max_age: int,
    test_suffix: str,
    prepare_threshold: int | None = None,
) -> dict[str, dict[str, Any]]:
    """``DATABASES`` for the four aliases; a bad or missing URL stops the start with one line.

    ``prepare_threshold``: psycopg's server-side binding, each statement prepared by the server after that many
    executions on one connection (docs/PERFORMANCE.md measures it). Only with direct connections, session pooling,
    or PgBouncer 1.21+ with ``max_prepared_statements`` (docs/DEPLOYMENT.md).
    """
    databases = {}
    for alias, (variable, name) in DATABASE_URL_VARIABLES.items():
        url = env.str(variable, default="")
        if not url:
            if not embedded_allowed:
                raise StartupError(
                    f"{variable} is not set: set the four *_DATABASE_URL variables, or EMBEDDED_DATABASE=true to "
                    "use the embedded development server (never in production)"
                )
            url = f"{embedded_db.base_url()}/{name}"
        config = _postgresql_config(variable, url)
        config["OPTIONS"] = {"connect_timeout": connect_timeout}
        if prepare_threshold is not None:
            config["OPTIONS"].update(server_side_binding=True, prepare_threshold=prepare_threshold)
        if pool_size:
            # A pooled connection per worker thread is reused across requests.
            config["OPTIONS"]["pool"] = {"min_size": 1, "max_size": pool_size, "timeout": 5}
        else:
            config["CONN_MAX_AGE"] = conn_max_age
            config["CONN_HEALTH_CHECKS"] = True
        # Parallel test runs on one server (several checkouts, helpers) each get their own test databases.
        config["TEST"] = {"NAME": f"test_{name}{test_suffix}"}
        databases[alias] = config
    for alias, (variable, primary) in REPLICA_URL_VARIABLES.items():
        url = env.str(variable, default="")
        if url:
            databases[alias] = _replica_settings(variable, url, databases[primary], primary)
    return databases


def _postgresql_config(variable: str, url: str) -> dict[str, Any]:
    """The Django settings of one database URL, refused at start-up unless it is a valid PostgreSQL URL."""
    try:
        config = environ.Env.db_url_config(url)
    except Exception as exc:  # noqa: BLE001 - django-environ raises several types for a bad URL
        raise StartupError(f"{variable} is not a valid database URL: {exc}") from exc
    if config["ENGINE"] != "django.db.backends.postgresql":
        raise StartupError(f"{variable} must point at PostgreSQL, not {config['ENGINE']}")
    # Django's backend, with a health check that asks the socket before it asks the server (core/postgresql/base.py).
    config["ENGINE"] = "core.postgresql"
    return config


def _replica_settings(variable: str, url: str, primary: dict[str, Any], primary_alias: str) -> dict[str, Any]:
    """The primary's options on the replica's server; under test it mirrors the primary's test database."""
    config = _postgresql_config(variable, url)
    for key in ("OPTIONS", "CONN_MAX_AGE", "CONN_HEALTH_CHECKS"):
        if key in primary:
            config[key] = primary[key]
    config["TEST"] = {"MIRROR": primary_alias}
    return config
