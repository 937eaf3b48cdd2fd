"""Live health figures of each database, for the platform staff's "Database health" admin page.

Per database alias (the four domains and any read replica): size and cache hit ratio, connections by state (and the
oldest open transaction), the slowest statements from ``pg_stat_statements`` (where the extension is loaded and
created), dead tuples and the last (auto)vacuum per table, and table and index bloat estimated from the planner's
statistics (no extension needed: pages the table occupies against pages its live rows would need at the fill
factor; accurate to within a few pages after ANALYZE, a guide to what VACUUM FULL / REINDEX would give back).

Every figure is read when the page is asked for; a database that does not answer is reported, never fatal.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections, transaction
from django.template.defaultfilters import filesizeformat

from core.databases import ALL_DATABASES, REPLICA_OF

SUMMARY_SQL = """
SELECT current_database(), pg_database_size(current_database()), version(),
       (SELECT round(100.0 * blks_hit / nullif(blks_hit + blks_read, 0), 2)
          FROM pg_stat_database WHERE datname = current_database()),
       pg_is_in_recovery()
"""

CONNECTIONS_SQL = """
SELECT coalesce(state, 'background') AS state, count(*) AS connections,
       count(*) FILTER (WHERE wait_event_type = 'Lock') AS waiting_on_locks,
       coalesce(round(extract(epoch FROM max(now() - xact_start))::numeric, 1), 0) AS oldest_transaction_s
FROM pg_stat_activity WHERE datname = current_database()
GROUP BY 1 ORDER BY 2 DESC
"""

STATEMENTS_AVAILABLE_SQL = "SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'"
STATEMENTS_SQL = r"""
SELECT left(regexp_replace(query, '\s+', ' ', 'g'), 300) AS query, calls,
       round(total_exec_time::numeric, 1) AS total_ms, round(mean_exec_time::numeric, 2) AS mean_ms,
       round(max_exec_time::numeric, 2) AS max_ms, rows
FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
ORDER BY total_exec_time DESC LIMIT 10
"""

DEAD_TUPLES_SQL = """
SELECT relname AS table, n_live_tup AS live, n_dead_tup AS dead,
       round(100.0 * n_dead_tup / nullif(n_live_tup + n_dead_tup, 0), 1) AS dead_pct,
       greatest(last_vacuum, last_autovacuum) AS last_vacuum,
       greatest(last_analyze, last_autoanalyze) AS last_analyze
FROM pg_stat_user_tables ORDER BY n_dead_tup DESC, relname LIMIT 10
"""

# Pages a table occupies against the pages its live rows need: per row the average width of its columns from
# pg_stats (weighted by how often they are not null), a 24-byte tuple header and a 4-byte line pointer, packed into
# (block size - page header) at the table's fill factor.
TABLE_BLOAT_SQL = r"""
WITH t AS (
    SELECT c.relname, c.relpages, greatest(c.reltuples, 0) AS tuples, current_setting('block_size')::int AS bs,
           coalesce((regexp_match(array_to_string(c.reloptions, ','), 'fillfactor=(\d+)'))[1]::int, 100) AS ff,
           28 + coalesce((SELECT sum(s.avg_width * (1 - s.null_frac)) FROM pg_stats s
                          WHERE s.schemaname = n.nspname AND s.tablename = c.relname), 0) AS row_bytes
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND n.nspname = 'public'
)
SELECT relname AS table, relpages::bigint * bs AS size_bytes,
       greatest(relpages - ceil(tuples * row_bytes / ((bs - 24) * ff / 100.0)), 0)::bigint * bs AS bloat_bytes
FROM t WHERE relpages > 0 ORDER BY bloat_bytes DESC, size_bytes DESC LIMIT 10
"""

# The same for B-tree indexes: an index tuple is its key columns' average width plus an 8-byte header and a 4-byte
# line pointer; leaf pages are filled to 90 % and the metapage is not counted.
INDEX_BLOAT_SQL = """
WITH i AS (
    SELECT ci.relname AS index_name, ct.relname AS table_name, ci.relpages, greatest(ci.reltuples, 0) AS tuples,
           current_setting('block_size')::int AS bs,
           12 + coalesce(sum(s.avg_width), 0) AS entry_bytes
    FROM pg_index x
    JOIN pg_class ci ON ci.oid = x.indexrelid
    JOIN pg_class ct ON ct.oid = x.indrelid
    JOIN pg_namespace n ON n.oid = ct.relnamespace
    JOIN pg_am am ON am.oid = ci.relam AND am.amname = 'btree'
    LEFT JOIN pg_attribute a ON a.attrelid = ct.oid AND a.attnum = ANY (x.indkey)
    LEFT JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = ct.relname AND s.attname = a.attname
    WHERE n.nspname = 'public'
    GROUP BY ci.relname, ct.relname, ci.relpages, ci.reltuples
)
SELECT index_name AS index, table_name AS table, relpages::bigint * bs AS size_bytes,
       greatest(relpages - 1 - ceil(tuples * entry_bytes / ((bs - 40) * 0.9)), 0)::bigint * bs AS bloat_bytes
FROM i WHERE relpages > 1 ORDER BY bloat_bytes DESC, size_bytes DESC LIMIT 10
"""


@dataclass
class Section:
    columns: list[str] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)
    unavailable: str = ""


@dataclass
class DatabaseHealth:
    alias: str
    name: str = ""
    size_bytes: int = 0
    version: str = ""
    cache_hit_pct: Any = None
    is_replica: bool = False
    error: str = ""
    connections: Section = field(default_factory=Section)
    statements: Section = field(default_factory=Section)
    dead_tuples: Section = field(default_factory=Section)
    table_bloat: Section = field(default_factory=Section)
    index_bloat: Section = field(default_factory=Section)
    read_ms: float = 0.0


def aliases() -> list[str]:
    """The four domains, then the configured read replicas."""
    return [*ALL_DATABASES, *(alias for alias in REPLICA_OF if alias in settings.DATABASES)]


def database_health(alias: str) -> DatabaseHealth:
    health = DatabaseHealth(alias=alias)
    started = time.perf_counter()
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute(SUMMARY_SQL)
            health.name, health.size_bytes, version, health.cache_hit_pct, health.is_replica = cursor.fetchone()
            health.version = " ".join(version.split()[:2])
            health.connections = _section(cursor, CONNECTIONS_SQL)
            health.statements = _statements(alias, cursor)
            health.dead_tuples = _section(cursor, DEAD_TUPLES_SQL)
            health.table_bloat = _section(cursor, TABLE_BLOAT_SQL)
            health.index_bloat = _section(cursor, INDEX_BLOAT_SQL)
    except DatabaseError as exc:
        connections[alias].close()
        health.error = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    health.read_ms = round((time.perf_counter() - started) * 1000, 1)
    return health


def all_database_health() -> list[DatabaseHealth]:
    return [database_health(alias) for alias in aliases()]


def _section(cursor, sql: str) -> Section:
    cursor.execute(sql)
    names = [column.name for column in cursor.description]
    sizes = [index for index, name in enumerate(names) if name.endswith("_bytes")]
    rows = [
        tuple(filesizeformat(value) if index in sizes else value for index, value in enumerate(row))
        for row in cursor.fetchall()
    ]
    return Section(columns=[name.removesuffix("_bytes") for name in names], rows=rows)


def _statements(alias: str, cursor) -> Section:
    cursor.execute(STATEMENTS_AVAILABLE_SQL)
    if cursor.fetchone() is None:
        return Section(unavailable="pg_stat_statements is not created in this database (CREATE EXTENSION).")
    try:
        with transaction.atomic(using=alias):
            return _section(cursor, STATEMENTS_SQL)
    except DatabaseError as exc:
        # Created but not loaded (shared_preload_libraries): reading the view fails; say so instead.
        return Section(unavailable=str(exc).strip().splitlines()[0])
