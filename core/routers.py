"""One router for the four domain databases, and the choice of a read replica for reads that may be stale.

Each app's reads, writes and migrations go to the alias named in settings.DATABASE_APPS_MAPPING and nowhere else;
Django's own apps (auth, admin, sessions, contenttypes, authtoken) live in `default` with accounts. A relation is
allowed only between two models on the same alias: across domains a reference is a plain UUID column.

One table is the exception: core's outbox (core.models.OutboxMessage) exists in every database, because a domain
writes its facts in the same transaction as its own change; its code always names the alias (core/outbox.py).

A read replica (``seats_replica``, configured by SEATS_REPLICA_DATABASE_URL) is never chosen by the router: only a
selector that explicitly asks for it with :func:`read_alias` reads there, and only while the replica is within
``REPLICA_MAX_LAG_SECONDS`` of its primary; otherwise (not configured, lagging, unreachable) the read goes to the
primary. Writes, and every read a write depends on, stay on the primary.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.db import DatabaseError, connections
from django.db.models import Model

from core.databases import REPLICA_OF

# The one model whose table is created in every database (lower-case model name, as Django passes it).
EVERY_DATABASE_MODEL = "outboxmessage"

logger = logging.getLogger(__name__)

# How long one answer of "is the replica fresh enough" is trusted by a process before it asks the replica again, and
# how long a replica that did not answer is left alone (a connection attempt to a dead server can take seconds).
REPLICA_CHECK_INTERVAL_SECONDS = 1.0
REPLICA_RETRY_SECONDS = 15.0

# The replica's staleness: 0 when it has replayed everything its primary has sent it while streaming (after a
# restart it may have replayed past the point streaming resumed from, hence >=), else the age of the last transaction
# it replayed (unknown, e.g. never replayed anything: a very large number). A server not in recovery is a primary: 0.
REPLICA_LAG_SQL = """
SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0
    WHEN pg_last_wal_replay_lsn() >= pg_last_wal_receive_lsn()
         AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') THEN 0
    ELSE coalesce(extract(epoch FROM now() - pg_last_xact_replay_timestamp()), 1e9)
END
"""


def alias_for_app(app_label: str) -> str:
    return settings.DATABASE_APPS_MAPPING.get(app_label, "default")


def _alias_of(obj: Model) -> str:
    """The database an instance came from, or the one its app lives on if it has not been saved yet."""
    alias = obj._state.db or alias_for_app(obj._meta.app_label)
    return REPLICA_OF.get(alias, alias)


class DomainRouter:
    def db_for_read(self, model: type[Model], **hints) -> str:
        return alias_for_app(model._meta.app_label)

    def db_for_write(self, model: type[Model], **hints) -> str:
        return alias_for_app(model._meta.app_label)

    def allow_relation(self, obj1: Model, obj2: Model, **hints) -> bool:
        return _alias_of(obj1) == _alias_of(obj2)

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints) -> bool:
        if db in REPLICA_OF:
            return False  # a replica gets its schema from its primary's WAL
        if app_label == "core" and model_name == EVERY_DATABASE_MODEL:
            return True
        return alias_for_app(app_label) == db


# --- Read replicas -----------------------------------------------------------------------------------------------
# alias -> (monotonic time until which the answer holds, fresh enough?)
_fresh: dict[str, tuple[float, bool]] = {}
_checking = threading.Lock()


def replica_of(primary: str) -> str | None:
    """The configured replica alias of ``primary``, or None."""
    for replica, followed in REPLICA_OF.items():
        if followed == primary and replica in settings.DATABASES:
            return replica
    return None


def read_alias(primary: str) -> str:
    """Where a read that tolerates bounded staleness goes: ``primary``'s replica when one is configured and no more
    than ``settings.REPLICA_MAX_LAG_SECONDS`` behind, else ``primary`` itself."""
    replica = replica_of(primary)
    if replica is None:
        return primary
    return replica if replica_fresh(replica) else primary


def replica_fresh(replica: str) -> bool:
    """Whether reads may go to ``replica`` now. One thread per process asks the replica (at most once a second while
    it answers, every REPLICA_RETRY_SECONDS while it does not); the others use the last answer meanwhile, so a
    replica that is down costs the requests nothing but its reads."""
    until, fresh = _fresh.get(replica, (0.0, False))
    if time.monotonic() < until or not _checking.acquire(blocking=False):
        return fresh
    try:
        lag = replica_lag_seconds(replica)
        fresh = lag <= getattr(settings, "REPLICA_MAX_LAG_SECONDS", 5.0)
        wait = REPLICA_CHECK_INTERVAL_SECONDS if lag != float("inf") else REPLICA_RETRY_SECONDS
        _fresh[replica] = (time.monotonic() + wait, fresh)
        return fresh
    finally:
        _checking.release()


def replica_lag_seconds(replica: str) -> float:
    """Seconds the replica is behind its primary (see REPLICA_LAG_SQL); infinity when it cannot be asked."""
    try:
        with connections[replica].cursor() as cursor:
            cursor.execute(REPLICA_LAG_SQL)
            return float(cursor.fetchone()[0])
    except DatabaseError as exc:
        logger.warning("read replica %s unavailable, reading from its primary: %s", replica, exc)
        connections[replica].close()
        return float("inf")


def forget_replica_state() -> None:
    """Ask the replicas again on the next read (tests, after a replica is added or removed)."""
    _fresh.clear()
