# ruff: noqa: S603, S607 - an operator tool: fixed Debian binaries (on PATH) with our own arguments
"""The production topology on one machine: start, stop, inspect and break it (docs/DEPLOYMENT.md).

    deploy/ctl up                 # everything, in order; idempotent
    deploy/ctl down               # everything it started, in reverse order (by the PIDs it recorded)
    deploy/ctl status             # each process: pid, port, answering?
    deploy/ctl env                # export lines for the app's environment (URLs through PgBouncer, keys, Redis)
    deploy/ctl manage CMD ...     # a manage.py command with that environment (migrate_all, check_invariants...)
    deploy/ctl stop|start|restart|kill PART     # one part: pg:<domain>, pgbouncer[:<domain>], app<N>, jobs<N>,
                                                #   redis, nginx
    deploy/ctl drain|undrain app<N>             # take an app server out of (back into) the load balancer
    deploy/ctl logs               # where every log is
    deploy/ctl wipe               # down, then delete the runtime folder (data, keys, certificate)

Everything runs from Debian packages (postgresql 15, pgbouncer, nginx, redis-server) and the project's venv, as an
unprivileged user when started as root, bound to 127.0.0.1, with data, logs, PIDs, secrets and the certificate in
the runtime folder deploy/run/ (git-ignored). Configs are rendered from deploy/templates/ with the ports below.
Only the standard library and psycopg (from the project's venv) are used here.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import ssl
import string
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

DEPLOY_DIR = Path(__file__).resolve().parent
PROJECT_DIR = DEPLOY_DIR.parent
TEMPLATES = DEPLOY_DIR / "templates"
RUN = Path(os.environ.get("TR_RUN_DIR", DEPLOY_DIR / "run")).resolve()


def _pg_bin() -> Path:
    """Debian's PostgreSQL binaries (postgresql-15 on Debian 12), the newest installed unless TR_PG_BIN says."""
    if os.environ.get("TR_PG_BIN"):
        return Path(os.environ["TR_PG_BIN"])
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    return versions[-1].parent if versions else Path("/usr/lib/postgresql/15/bin")


PG_BIN = _pg_bin()
VENV_PYTHON = RUN / "venv" / "bin" / "python"  # made by deploy/ctl from Debian's python3
SERVICE_USER = os.environ.get("TR_SERVICE_USER", "ticketremaster")  # used only when started as root
APP_ROLE = "ticketremaster"  # the PostgreSQL role of the application

# --- Ports: one block, 127.0.0.1 only -------------------------------------------------------------------------------
BASE = int(os.environ.get("TR_PORT_BASE", "5700"))


@dataclass(frozen=True)
class Domain:
    name: str  # users, seats, orders, events
    alias: str  # Django alias
    variable: str  # *_DATABASE_URL
    dbname: str
    offset: int

    @property
    def pg_port(self) -> int:
        return BASE + self.offset

    @property
    def bouncer_port(self) -> int:
        return BASE + 10 + self.offset


DOMAINS = (
    Domain("users", "default", "USERS_DATABASE_URL", "users_db", 1),
    Domain("seats", "seats", "SEATS_DATABASE_URL", "seats_db", 2),
    Domain("orders", "orders", "ORDERS_DATABASE_URL", "orders_db", 3),
    Domain("events", "events", "EVENTS_DATABASE_URL", "events_db", 4),
)
# The seats database's streaming replica (a hot standby made by pg_basebackup, on its own port): seat maps and
# availability are read there (core.routers.read_alias). TR_SEATS_REPLICA=0 runs the topology without it.
REPLICAS = (
    (Domain("seats_replica", "seats_replica", "SEATS_REPLICA_DATABASE_URL", "seats_db", 5),)
    if os.environ.get("TR_SEATS_REPLICA", "1") != "0"
    else ()
)
REPLICA_PRIMARY = {"seats_replica": "seats"}
REPLICATION_ROLE = "replicator"
BY_NAME = {domain.name: domain for domain in (*DOMAINS, *REPLICAS)}

# Pool mode per domain (docs/DEPLOYMENT.md "Pool modes"): orders and events hold core.locking.flow_lock, a
# SESSION-level advisory lock, across several transactions, so they need session pooling until that lock moves
# into a transaction; users and seats keep no session state between transactions.
POOL_MODES = {
    "users": os.environ.get("TR_POOL_MODE_USERS", "transaction"),
    "seats": os.environ.get("TR_POOL_MODE_SEATS", "transaction"),
    "orders": os.environ.get("TR_POOL_MODE_ORDERS", "session"),
    "events": os.environ.get("TR_POOL_MODE_EVENTS", "session"),
    "seats_replica": "transaction",  # read-only selects: nothing to keep between transactions
}

APP_SERVERS = int(os.environ.get("TR_APP_SERVERS", "2"))
APP_WORKERS = int(os.environ.get("TR_APP_WORKERS", "2"))
APP_THREADS = int(os.environ.get("TR_APP_THREADS", "4"))
HTTPS_PORT = BASE + 43
LIVE_PUBLISH_PORT = BASE + 44  # nginx's nchan publisher location, for the live feed on this machine
NCHAN_MODULE = Path("/usr/lib/nginx/modules/ngx_nchan_module.so")  # Debian's libnginx-mod-nchan
HTTP_PORT = BASE + 80
REDIS_PORT = BASE + 79


def app_port(number: int) -> int:
    return BASE + 20 + number


# --- Small helpers ------------------------------------------------------------------------------------------------
def say(text: str) -> None:
    print(text, flush=True)


def die(text: str) -> None:
    print(f"error: {text}", file=sys.stderr, flush=True)
    sys.exit(1)


def as_root() -> bool:
    return os.geteuid() == 0


def run_as() -> dict:
    """subprocess keyword arguments that drop to the service user when we are root (PostgreSQL refuses root)."""
    if not as_root():
        return {}
    entry = pwd.getpwnam(SERVICE_USER)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def ensure_service_user() -> None:
    if not as_root():
        return
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER], check=True
        )
    # The service user must reach the project (read-only) and own the runtime folder.
    for parent in [PROJECT_DIR, *PROJECT_DIR.parents]:
        mode = parent.stat().st_mode
        if mode & 0o005 != 0o005:
            parent.chmod(mode | 0o005)


def own(path: Path) -> None:
    if as_root():
        entry = pwd.getpwnam(SERVICE_USER)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def mkdir(path: Path, mode: int = 0o755) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(mode)
    own(path)
    return path


def write(path: Path, text: str, mode: int = 0o644) -> None:
    path.write_text(text)
    path.chmod(mode)
    own(path)


class BracedTemplate(string.Template):
    """Only ${name} is a placeholder: nginx's own $variables pass through untouched."""

    pattern = r"\$(?:(?P<escaped>\$)|\{(?P<braced>[a-z_][a-z0-9_]*)\}|(?P<named>(?!))|(?P<invalid>(?!)))"


def render_text(template: str, **values: object) -> str:
    return BracedTemplate((TEMPLATES / template).read_text()).substitute({k: str(v) for k, v in values.items()})


def render(template: str, target: Path, mode: int = 0o644, **values: object) -> None:
    write(target, render_text(template, **values), mode)


def port_open(port: int, timeout: float = 0.3) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=timeout):
        return True
    return False


def wait_port(port: int, *, up: bool = True, timeout: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port) == up:
            return
        time.sleep(0.1)
    die(f"{what or port} did not {'open' if up else 'close'} port {port} within {timeout:.0f} s")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError):
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return False


def cmdline(pid: int) -> str:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    return ""


def children_of(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == parent and fields[0] != "Z":
                    found.append(int(entry.name))
    return sorted(found)


# --- Secrets and the certificate ------------------------------------------------------------------------------------
SECRETS_FILE = RUN / "secrets.json"
SECRET_NAMES = (
    "pg_superuser",
    "pg_app",
    "pg_replication",
    "redis",
    "django_secret_key",
    "qr_signing_key",
    "payment_webhook_secret",
)


def load_secrets() -> dict[str, str]:
    if SECRETS_FILE.exists():
        return json.loads(SECRETS_FILE.read_text())
    return {}


def ensure_secrets() -> dict[str, str]:
    values = load_secrets()
    changed = False
    for name in SECRET_NAMES:
        if name not in values:
            values[name] = secrets.token_urlsafe(50 if name.startswith(("django", "qr", "payment")) else 24)
            changed = True
    if changed:
        write(SECRETS_FILE, json.dumps(values, indent=1), 0o600)
    return values


TLS_DIR = RUN / "tls"
TLS_CERT = TLS_DIR / "cert.pem"
TLS_KEY = TLS_DIR / "key.pem"


def ensure_certificate() -> None:
    if TLS_CERT.exists() and TLS_KEY.exists():
        return
    mkdir(TLS_DIR, 0o700)
    make_certificate(TLS_CERT, TLS_KEY)
    for path in (TLS_CERT, TLS_KEY):
        path.chmod(0o600 if path == TLS_KEY else 0o644)
        own(path)
    say(f"  self-signed certificate for localhost / 127.0.0.1: {TLS_CERT}")


def make_certificate(cert: Path, key: Path) -> None:
    """A self-signed certificate for localhost / 127.0.0.1 (clients verify with ``cert``)."""
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "365",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )


# --- The environment of the application ----------------------------------------------------------------------------
def app_environment(*, direct: bool = False) -> dict[str, str]:
    """What an app server (or a manage.py command, or the bench) needs: URLs through PgBouncer unless ``direct``."""
    values = load_secrets()
    if not values:
        die("the topology has never been started (deploy/ctl up)")
    env = {
        "DJANGO_SETTINGS_MODULE": "ticketremaster.settings",
        "DJANGO_SECRET_KEY": values["django_secret_key"],
        "QR_SIGNING_KEY": values["qr_signing_key"],
        "PAYMENT_WEBHOOK_SECRET": values["payment_webhook_secret"],
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_CSRF_TRUSTED_ORIGINS": f"https://127.0.0.1:{HTTPS_PORT},https://localhost:{HTTPS_PORT}",
        # The certificate is self-signed for 127.0.0.1/localhost: an hour of HSTS, not a year, so a browser that
        # visits it does not stay pinned to a throwaway certificate.
        "DJANGO_HSTS_SECONDS": os.environ.get("TR_HSTS_SECONDS", "3600"),
        "EMBEDDED_DATABASE": "false",
        "REDIS_URL": f"redis://:{values['redis']}@127.0.0.1:{REDIS_PORT}/0",
        "DATABASE_CONNECT_TIMEOUT": os.environ.get("TR_DATABASE_CONNECT_TIMEOUT", "3"),
        "DATABASE_CONN_MAX_AGE": os.environ.get("TR_DATABASE_CONN_MAX_AGE", "60"),
        "GUNICORN_FORWARDED_ALLOW_IPS": "127.0.0.1",
        # nginx is the one proxy in front and sets X-Forwarded-For to the address it saw (login throttle, DRF's).
        "TRUSTED_PROXY_COUNT": "1",
        # collectstatic writes straight into the folder nginx serves.
        "DJANGO_STATIC_ROOT": str(RUN / "static"),
        # The admission job writes the waiting rooms' status files here; nginx serves them (docs/WAITING_ROOM.md).
        "TR_WAITING_ROOM_STATUS_ROOT": str(RUN / "waiting-room"),
    }
    for domain in (*DOMAINS, *REPLICAS):
        port = domain.pg_port if direct else domain.bouncer_port
        env[domain.variable] = app_url(port, domain.dbname, values)
    return env


def app_url(port: int, dbname: str, values: dict[str, str]) -> str:
    """The application role's address of a database on this host, through a PgBouncer or straight to PostgreSQL."""
    return f"postgres://{APP_ROLE}:{values['pg_app']}@127.0.0.1:{port}/{dbname}"


def venv_python() -> str:
    if not VENV_PYTHON.exists():
        die(f"{VENV_PYTHON} is missing: deploy/ctl up creates it (scripts/_env.sh)")
    return str(VENV_PYTHON)


# --- PostgreSQL ---------------------------------------------------------------------------------------------------
def pg_dir(domain: Domain) -> Path:
    return RUN / "pg" / domain.name


def pg_data(domain: Domain) -> Path:
    return pg_dir(domain) / "data"


def pg_ctl(domain: Domain, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(PG_BIN / "pg_ctl"), *args, "-D", str(pg_data(domain))],
        capture_output=True,
        text=True,
        check=check,
        **run_as(),
    )


def pg_pid(domain: Domain) -> int | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int((pg_data(domain) / "postmaster.pid").read_text().splitlines()[0])
        if pid_alive(pid) and "postgres" in cmdline(pid):
            return pid
    return None


def pg_init(domain: Domain, values: dict[str, str]) -> None:
    data = pg_data(domain)
    if (data / "PG_VERSION").exists():
        return
    mkdir(pg_dir(domain), 0o700)
    mkdir(data, 0o700)
    pwfile = pg_dir(domain) / "pwfile"
    write(pwfile, values["pg_superuser"] + "\n", 0o600)
    try:
        subprocess.run(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=scram-sha-256",
                f"--pwfile={pwfile}",
                "--encoding=UTF8",
                "--locale=C",
            ],
            capture_output=True,
            text=True,
            check=True,
            **run_as(),
        )
    finally:
        pwfile.unlink(missing_ok=True)
    with open(data / "postgresql.conf", "a") as conf:
        conf.write("\n# The topology's settings (deploy/templates/postgresql.conf)\ninclude = '../topology.conf'\n")
    say(f"  initdb {data}")


def wal_archive(domain: Domain) -> Path:
    """Where the server's archive_command copies each finished WAL segment (point-in-time recovery)."""
    return RUN / "wal-archive" / REPLICA_PRIMARY.get(domain.name, domain.name)


def pg_configure(domain: Domain) -> None:
    archive = wal_archive(domain)
    mkdir(archive.parent, 0o700)
    mkdir(archive, 0o700)
    render(
        "postgresql.conf",
        pg_dir(domain) / "topology.conf",
        0o600,
        domain=domain.name,
        dbname=domain.dbname,
        pg_port=domain.pg_port,
        pg_max_connections=int(os.environ.get("TR_PG_MAX_CONNECTIONS", "120")),
        pg_shared_buffers=os.environ.get("TR_PG_SHARED_BUFFERS", "128MB"),
        archive_mode="on",
        archive_dir=archive,
    )
    if domain.name in REPLICA_PRIMARY:
        replica_configure(domain)
    render("pg_hba.conf", pg_data(domain) / "pg_hba.conf", 0o600, replication_user=REPLICATION_ROLE)


def pg_start(domain: Domain) -> None:
    if pg_pid(domain):
        return
    if port_open(domain.pg_port):
        die(f"port {domain.pg_port} (PostgreSQL {domain.name}) is taken by another process")
    pg_configure(domain)
    log = mkdir(RUN / "logs") / f"pg-{domain.name}.log"
    if not log.exists():
        write(log, "")
    result = pg_ctl(domain, "start", "-w", "-t", "60", "-l", str(log), check=False)
    if result.returncode != 0:
        die(f"PostgreSQL {domain.name} did not start (see {log}): {result.stderr.strip() or result.stdout.strip()}")
    say(f"  postgres {domain.name:<7} 127.0.0.1:{domain.pg_port}  pid {pg_pid(domain)}")


def pg_stop(domain: Domain, mode: str = "fast") -> None:
    pid = pg_pid(domain)
    if not pid:
        return
    pg_ctl(domain, "stop", "-w", "-t", "60", "-m", mode, check=False)
    deadline = time.monotonic() + 30  # pg_ctl returns when postmaster.pid is gone; wait for the process too
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if pid_alive(pid):
        die(f"PostgreSQL {domain.name} (pid {pid}) did not stop")
    say(f"  postgres {domain.name} stopped ({mode}, pid {pid})")


def pg_admin(domain: Domain, values: dict[str, str], database: str = "postgres"):
    import psycopg

    return psycopg.connect(
        host="127.0.0.1",
        port=domain.pg_port,
        user="postgres",
        password=values["pg_superuser"],
        dbname=database,
        autocommit=True,
        connect_timeout=5,
    )


def pg_provision(domain: Domain, values: dict[str, str]) -> None:
    """The application role (CREATEDB: pytest and the bench make their own databases) and the domain database."""
    from psycopg import sql

    with pg_admin(domain, values) as admin:
        exists = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [APP_ROLE]).fetchone()
        verb = "ALTER" if exists else "CREATE"
        admin.execute(
            sql.SQL(verb + " ROLE {} LOGIN CREATEDB PASSWORD {}").format(
                sql.Identifier(APP_ROLE), sql.Literal(values["pg_app"])
            )
        )
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [domain.dbname]).fetchone():
            admin.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(domain.dbname), sql.Identifier(APP_ROLE))
            )
        # The database health page and the replica's lag (pg_stat_* of every session, pg_stat_wal_receiver) and the
        # backups' restore points (manage.py backup).
        admin.execute(sql.SQL("GRANT pg_monitor TO {}").format(sql.Identifier(APP_ROLE)))
        if domain.name in REPLICA_PRIMARY.values():
            exists = admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [REPLICATION_ROLE]).fetchone()
            admin.execute(
                sql.SQL(("ALTER" if exists else "CREATE") + " ROLE {} LOGIN REPLICATION PASSWORD {}").format(
                    sql.Identifier(REPLICATION_ROLE), sql.Literal(values["pg_replication"])
                )
            )
    # pg_stat_statements, and the right to name restore points, in the domain database and in template1 (databases
    # created later have them too): both live in each database's catalog.
    for database in (domain.dbname, "template1"):
        with pg_admin(domain, values, database) as admin:
            admin.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            admin.execute(
                sql.SQL("GRANT EXECUTE ON FUNCTION pg_create_restore_point(text) TO {}").format(
                    sql.Identifier(APP_ROLE)
                )
            )


# --- The seats replica --------------------------------------------------------------------------------------------
def replica_configure(replica: Domain) -> None:
    """A hot standby following its primary by streaming, catching up from the WAL archive when it fell behind."""
    primary = BY_NAME[REPLICA_PRIMARY[replica.name]]
    values = load_secrets()
    conninfo = (
        f"host=127.0.0.1 port={primary.pg_port} user={REPLICATION_ROLE} password={values['pg_replication']} "
        f"application_name={replica.name}"
    )
    with open(pg_dir(replica) / "topology.conf", "a") as conf:
        conf.write(
            "\n# The standby (deploy/topology.py replica_configure)\n"
            f"primary_conninfo = '{conninfo}'\n"
            f"restore_command = 'cp {wal_archive(replica)}/%f %p'\n"
            "hot_standby_feedback = on\n"
        )
    write(pg_data(replica) / "standby.signal", "")


def replica_init(replica: Domain, values: dict[str, str]) -> None:
    """The standby's data directory: a base backup of the running primary (pg_basebackup, WAL streamed along)."""
    data = pg_data(replica)
    if (data / "PG_VERSION").exists():
        return
    primary = BY_NAME[REPLICA_PRIMARY[replica.name]]
    mkdir(pg_dir(replica), 0o700)
    if data.exists():
        shutil.rmtree(data)  # a base backup that stopped halfway
    result = subprocess.run(
        [
            str(PG_BIN / "pg_basebackup"),
            f"--dbname=host=127.0.0.1 port={primary.pg_port} user={REPLICATION_ROLE}",
            "--pgdata",
            str(data),
            "--wal-method=stream",
            "--checkpoint=fast",
            "--no-password",
        ],
        env={**os.environ, "PGPASSWORD": values["pg_replication"]},
        capture_output=True,
        text=True,
        check=False,
        **run_as(),
    )
    if result.returncode != 0:
        die(f"pg_basebackup of {primary.name} failed: {result.stderr.strip()[-400:]}")
    say(f"  pg_basebackup {primary.name} -> {data}")


def replica_lag(replica: Domain, values: dict[str, str]) -> str:
    try:
        with pg_admin(replica, values) as admin:
            receiving, lag = admin.execute(
                "SELECT (SELECT status FROM pg_stat_wal_receiver), "
                "CASE WHEN pg_last_wal_replay_lsn() >= pg_last_wal_receive_lsn() THEN 0 "
                "ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END"
            ).fetchone()
    except Exception as exc:  # noqa: BLE001 - a status line, whatever went wrong
        return f"lag unknown ({type(exc).__name__})"
    return f"{receiving or 'not streaming'}, lag {float(lag or 0):.1f} s"


# --- PgBouncer ----------------------------------------------------------------------------------------------------
def bouncer_dir(domain: Domain) -> Path:
    return RUN / "pgbouncer" / domain.name


def bouncer_pidfile(domain: Domain) -> Path:
    return bouncer_dir(domain) / "pgbouncer.pid"


def bouncer_pid(domain: Domain) -> int | None:
    return _pid_from(bouncer_pidfile(domain), "pgbouncer")


def _pid_from(pidfile: Path, expect: str) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        pid = int(pidfile.read_text().split()[0])
        if pid_alive(pid) and expect in cmdline(pid):
            return pid
    return None


def bouncer_start(domain: Domain, values: dict[str, str]) -> None:
    if bouncer_pid(domain):
        return
    if port_open(domain.bouncer_port):
        die(f"port {domain.bouncer_port} (PgBouncer {domain.name}) is taken by another process")
    folder = mkdir(bouncer_dir(domain), 0o700)
    userlist = folder / "userlist.txt"
    write(userlist, f'"{APP_ROLE}" "{values["pg_app"]}"\n"postgres" "{values["pg_superuser"]}"\n', 0o600)
    session = POOL_MODES[domain.name] == "session"
    clients = APP_SERVERS * APP_WORKERS * APP_THREADS
    render(
        "pgbouncer.ini",
        folder / "pgbouncer.ini",
        0o600,
        domain=domain.name,
        dbname=domain.dbname,
        pg_port=domain.pg_port,
        port=domain.bouncer_port,
        logfile=mkdir(RUN / "logs") / f"pgbouncer-{domain.name}.log",
        pidfile=bouncer_pidfile(domain),
        auth_file=userlist,
        app_user=APP_ROLE,
        pool_mode=POOL_MODES[domain.name],
        max_client_conn=int(os.environ.get("TR_BOUNCER_MAX_CLIENTS", "500")),
        # Session pooling pins a server connection per client connection (Django keeps one per thread for
        # CONN_MAX_AGE): room for every app thread plus tools. Transaction pooling multiplexes them on a few.
        pool_size=int(os.environ.get("TR_BOUNCER_POOL_SIZE", str(clients + 16 if session else 12))),
        max_db_connections=int(os.environ.get("TR_BOUNCER_MAX_DB_CONNECTIONS", "100")),
    )
    result = subprocess.run(
        ["pgbouncer", "-d", str(folder / "pgbouncer.ini")], capture_output=True, text=True, **run_as()
    )
    if result.returncode != 0:
        die(f"PgBouncer {domain.name} did not start: {result.stderr.strip() or result.stdout.strip()}")
    wait_port(domain.bouncer_port, what=f"PgBouncer {domain.name}")
    say(
        f"  pgbouncer {domain.name:<6} 127.0.0.1:{domain.bouncer_port}  pid {bouncer_pid(domain)}  "
        f"pool_mode={POOL_MODES[domain.name]}"
    )


def bouncer_stop(domain: Domain, sig: int = signal.SIGTERM) -> None:
    _stop_pid(bouncer_pid(domain), f"pgbouncer {domain.name}", domain.bouncer_port, sig)


def _stop_pid(pid: int | None, what: str, port: int | None, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
    if not pid:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if pid_alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)
    if port:
        wait_port(port, up=False, timeout=10, what=what)
    say(f"  {what} stopped ({signal.Signals(sig).name}, pid {pid})")


# --- Redis --------------------------------------------------------------------------------------------------------
REDIS_DIR = RUN / "redis"


def redis_pid() -> int | None:
    return _pid_from(REDIS_DIR / "redis.pid", "redis-server")


def redis_start(values: dict[str, str]) -> None:
    if redis_pid():
        return
    if port_open(REDIS_PORT):
        die(f"port {REDIS_PORT} (Redis) is taken by another process")
    mkdir(REDIS_DIR, 0o700)
    render(
        "redis.conf",
        REDIS_DIR / "redis.conf",
        0o600,
        port=REDIS_PORT,
        password=values["redis"],
        pidfile=REDIS_DIR / "redis.pid",
        logfile=mkdir(RUN / "logs") / "redis.log",
        dir=REDIS_DIR,
    )
    result = subprocess.run(["redis-server", str(REDIS_DIR / "redis.conf")], capture_output=True, text=True, **run_as())
    pid = _daemon_started(result, what="Redis", port=REDIS_PORT, pid_of=redis_pid)
    say(f"  redis           127.0.0.1:{REDIS_PORT}  pid {pid}")


def _daemon_started(result: subprocess.CompletedProcess, *, what: str, port: int, pid_of) -> int | None:
    """A daemon that forks away: its launcher succeeded, its port answers, and (within 5 s) its pid file is written."""
    if result.returncode != 0:
        die(f"{what} did not start: {(result.stderr or result.stdout).strip()}")
    wait_port(port, what=what)
    for _ in range(50):
        if pid_of():
            break
        time.sleep(0.1)
    return pid_of()


def redis_stop() -> None:
    _stop_pid(redis_pid(), "redis", REDIS_PORT)


# --- The app servers ----------------------------------------------------------------------------------------------
def app_pidfile(number: int) -> Path:
    return RUN / "pids" / f"app{number}.pid"


def app_pid(number: int) -> int | None:
    return _pid_from(app_pidfile(number), "gunicorn")


def gunicorn_command(python: str, *, port: int, workers: int, threads: int) -> list[str]:
    """The app server as every start runs it (here, and the benchmarks' servers): the project's WSGI application
    under gunicorn with gunicorn.conf.py, on 127.0.0.1:``port``, ``workers`` processes of ``threads`` threads."""
    return [
        python,
        "-m",
        "gunicorn",
        "ticketremaster.wsgi:application",
        "--config",
        str(PROJECT_DIR / "gunicorn.conf.py"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
    ]


def app_start(number: int) -> None:
    if app_pid(number):
        return
    port = app_port(number)
    if port_open(port):
        die(f"port {port} (app{number}) is taken by another process")
    mkdir(RUN / "pids")
    logs = mkdir(RUN / "logs")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(RUN), "LANG": "C.UTF-8"}
    env.update(app_environment())
    # Prometheus multiprocess mode: one folder per app server, emptied by gunicorn at start (core/metrics.py);
    # Django's JSON log lines in a file of their own (gunicorn's log keeps its own format).
    env["PROMETHEUS_MULTIPROC_DIR"] = str(mkdir(mkdir(RUN / "metrics") / f"app{number}"))
    env["DJANGO_LOG_FILE"] = str(logs / f"app{number}-django.log")
    # TR_APP_ENV_<NAME>=value in the caller's environment reaches the app servers as <NAME>=value (the chaos run
    # arms fault injection this way; nothing in the topology itself uses it).
    env.update(
        {key.removeprefix("TR_APP_ENV_"): value for key, value in os.environ.items() if key.startswith("TR_APP_ENV_")}
    )
    command = [
        *gunicorn_command(venv_python(), port=port, workers=APP_WORKERS, threads=APP_THREADS),
        "--name",
        f"ticketremaster-app{number}",
        "--daemon",
        "--pid",
        str(app_pidfile(number)),
        "--error-logfile",
        str(logs / f"app{number}.log"),
        "--access-logfile",
        str(logs / f"app{number}-access.log"),
        # A daemon's stderr is /dev/null: send Django's log (request errors with their tracebacks) to the error log.
        "--capture-output",
        # Only nginx (on 127.0.0.1) may set X-Forwarded-* for gunicorn (wsgi.url_scheme).
        "--forwarded-allow-ips",
        "127.0.0.1",
    ]
    for log in (logs / f"app{number}.log", logs / f"app{number}-access.log"):
        if not log.exists():
            write(log, "")
    result = subprocess.run(command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, **run_as())
    if result.returncode != 0:
        die(f"app{number} did not start: {(result.stderr or result.stdout).strip()[-800:]}")
    wait_app(number)
    shape = f"{APP_WORKERS} workers x {APP_THREADS} threads"
    say(f"  app{number}            127.0.0.1:{port}  pid {app_pid(number)}  {shape}")


# --- Job workers ----------------------------------------------------------------------------------------------------
JOB_WORKERS = int(os.environ.get("TR_JOB_WORKERS", "1"))
JOB_CONCURRENCY = int(os.environ.get("TR_JOB_CONCURRENCY", "2"))


def jobs_pidfile(number: int) -> Path:
    return RUN / "pids" / f"jobs{number}.pid"


def jobs_pid(number: int) -> int | None:
    return _pid_from(jobs_pidfile(number), "run_jobs")


def _worker_start(name: str, command: list[str], *, ready: str, pidfile: Path, env: dict[str, str]) -> int:
    """A manage.py command as a detached worker of the service user, its output in logs/<name>.log; returns once
    the log says ``ready``."""
    mkdir(RUN / "pids")
    log = RUN / "logs" / f"{name}.log"
    if not log.exists():
        write(log, "")
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(RUN), "LANG": "C.UTF-8", **env}
    with log.open("a") as output:
        process = subprocess.Popen(  # noqa: S603 - our own command line
            [venv_python(), "manage.py", *command],
            cwd=PROJECT_DIR,
            env=full_env,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            **run_as(),
        )
    write(pidfile, f"{process.pid}\n")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and ready not in log.read_text():
        if process.poll() is not None:
            die(f"{name} did not start: {log.read_text()[-800:]}")
        time.sleep(0.2)
    return process.pid


def jobs_start(number: int) -> None:
    """A worker straight to PostgreSQL, not through PgBouncer: it LISTENs for new jobs on a session of its own."""
    if jobs_pid(number):
        return
    pid = _worker_start(
        f"jobs{number}",
        ["run_jobs", "--concurrency", str(JOB_CONCURRENCY), "--name", f"jobs{number}"],
        ready="running jobs",
        pidfile=jobs_pidfile(number),
        env=app_environment(direct=True),
    )
    say(f"  jobs{number}           (no port)        pid {pid}  concurrency {JOB_CONCURRENCY}")


def jobs_stop(number: int, sig: int = signal.SIGTERM) -> None:
    """SIGTERM: the worker finishes its running jobs, then exits (a SIGKILL after 30 s loses nothing either)."""
    _stop_pid(jobs_pid(number), f"jobs{number}", None, sig=sig)


LIVE_PIDFILE = RUN / "pids" / "live.pid"


def live_pid() -> int | None:
    return _pid_from(LIVE_PIDFILE, "publish_seat_changes")


def live_start() -> None:
    """The live feed: publishes the seat changes of events on sale to nginx's nchan, which pushes them to the open
    seat maps (docs/DEPLOYMENT.md, "Live seat maps"). One per edge; it reads through PgBouncer like the app."""
    if live_pid():
        return
    pid = _worker_start(
        "live",
        ["publish_seat_changes"],
        ready="publishing seat changes",
        pidfile=LIVE_PIDFILE,
        env={**app_environment(), "TR_LIVE_PUBLISH_URL": f"http://127.0.0.1:{LIVE_PUBLISH_PORT}/live"},
    )
    say(f"  live            (publishes to 127.0.0.1:{LIVE_PUBLISH_PORT})  pid {pid}")


def live_stop(sig: int = signal.SIGTERM) -> None:
    """SIGTERM: it stops after the tick in progress. Open maps poll the cached changes until it is back."""
    _stop_pid(live_pid(), "live", None, sig=sig)


def app_health(port: int, timeout: float = 3.0) -> tuple[int | None, str]:
    """GET /healthz straight from one app server, as nginx would forward it (X-Forwarded-Proto: https)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/healthz", headers={"X-Forwarded-Proto": "https", "Host": "127.0.0.1"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - our own http URL
            return answer.status, answer.read(300).decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(300).decode(errors="replace")
    except (OSError, urllib.error.URLError) as exc:
        return None, str(exc)


def wait_app(number: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    last: tuple[int | None, str] = (None, "")
    while time.monotonic() < deadline:
        pid = app_pid(number)
        last = app_health(app_port(number))
        if last[0] == 200 and pid and len(children_of(pid)) >= APP_WORKERS:
            return
        time.sleep(0.2)
    tail = "\n".join((RUN / "logs" / f"app{number}.log").read_text(errors="replace").splitlines()[-15:])
    die(f"app{number} not healthy after {timeout:.0f} s ({last}):\n{tail}")


def app_stop(number: int, sig: int = signal.SIGTERM) -> None:
    pid = app_pid(number)
    if not pid:
        return
    if sig == signal.SIGKILL:
        # A crash: the master and every worker die at once, nothing is finished.
        victims = [pid, *children_of(pid)]
        for victim in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while any(pid_alive(v) for v in victims) and time.monotonic() < deadline:
            time.sleep(0.05)
        app_pidfile(number).unlink(missing_ok=True)
        say(f"  app{number} killed (SIGKILL, pids {victims})")
        return
    _stop_pid(pid, f"app{number}", app_port(number), sig, timeout=40)  # graceful: in-flight requests finish


def app_workers(number: int) -> list[int]:
    pid = app_pid(number)
    return children_of(pid) if pid else []


# --- nginx --------------------------------------------------------------------------------------------------------
NGINX_DIR = RUN / "nginx"
DRAINED_FILE = RUN / "drained.json"


def drained() -> set[int]:
    with contextlib.suppress(OSError, ValueError):
        return set(json.loads(DRAINED_FILE.read_text()))
    return set()


def nginx_pid() -> int | None:
    return _pid_from(NGINX_DIR / "nginx.pid", "nginx")


def nginx_render() -> None:
    mkdir(NGINX_DIR)
    tmp = mkdir(NGINX_DIR / "tmp", 0o700)
    servers = []
    for number in range(1, APP_SERVERS + 1):
        state = " down" if number in drained() else ""
        address = f"127.0.0.1:{app_port(number)}"
        servers.append(f"        server {address} max_fails=0{state};  # app{number}")
    render(
        "nginx.conf",
        NGINX_DIR / "nginx.conf",
        pidfile=NGINX_DIR / "nginx.pid",
        log_dir=mkdir(RUN / "logs"),
        tmp_dir=tmp,
        upstream_servers="\n".join(servers),
        http_port=HTTP_PORT,
        https_port=HTTPS_PORT,
        tls_cert=TLS_CERT,
        tls_key=TLS_KEY,
        static_root=RUN / "static",
        waiting_room_root=mkdir(RUN / "waiting-room"),
        errors_dir=DEPLOY_DIR / "errors",
        nchan_module=NCHAN_MODULE,
        live_publish_port=LIVE_PUBLISH_PORT,
    )


def nginx_command(*extra: str) -> list[str]:
    return ["nginx", "-p", str(NGINX_DIR), "-c", str(NGINX_DIR / "nginx.conf"), *extra]


def nginx_start() -> None:
    if nginx_pid():
        return
    for port in (HTTPS_PORT, HTTP_PORT):
        if port_open(port):
            die(f"port {port} (nginx) is taken by another process")
    nginx_render()
    for name in ("nginx-error.log", "nginx-access.log"):
        if not (RUN / "logs" / name).exists():
            write(RUN / "logs" / name, "")
    # Not root: nginx warns that the "user" directive is ignored; the error_log it opens before reading the
    # configuration is the package's default path, so point it at ours with -e.
    result = subprocess.run(
        nginx_command("-e", str(RUN / "logs" / "nginx-error.log")), capture_output=True, text=True, **run_as()
    )
    pid = _daemon_started(result, what="nginx", port=HTTPS_PORT, pid_of=nginx_pid)
    say(f"  nginx           https://127.0.0.1:{HTTPS_PORT}/ (http {HTTP_PORT} redirects)  pid {pid}")


def nginx_reload() -> None:
    nginx_render()
    pid = nginx_pid()
    if pid:
        os.kill(pid, signal.SIGHUP)  # graceful: new workers take the new upstream list, old ones finish requests


def nginx_stop() -> None:
    _stop_pid(nginx_pid(), "nginx", HTTPS_PORT, signal.SIGQUIT)  # graceful shutdown


def front_health(timeout: float = 5.0) -> tuple[int | None, str]:
    context = ssl.create_default_context(cafile=str(TLS_CERT))
    try:
        with urllib.request.urlopen(  # noqa: S310 - our own https URL
            f"https://127.0.0.1:{HTTPS_PORT}/healthz", timeout=timeout, context=context
        ) as answer:
            return answer.status, answer.read(300).decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(300).decode(errors="replace")
    except (OSError, urllib.error.URLError) as exc:
        return None, str(exc)


# --- manage.py ----------------------------------------------------------------------------------------------------
def manage(*args: str, direct: bool = False, check: bool = True) -> int:
    env = {**os.environ, **app_environment(direct=direct)}
    result = subprocess.run([venv_python(), "manage.py", *args], cwd=PROJECT_DIR, env=env, check=False)
    if check and result.returncode != 0:
        die(f"manage.py {' '.join(args)} exited with {result.returncode}")
    return result.returncode


# --- The commands -------------------------------------------------------------------------------------------------
def check_tools() -> None:
    missing = [tool for tool in ("pgbouncer", "nginx", "redis-server", "openssl") if not shutil.which(tool)]
    if not (PG_BIN / "pg_ctl").exists():
        missing.append(str(PG_BIN / "pg_ctl"))
    if not NCHAN_MODULE.exists():
        missing.append(str(NCHAN_MODULE))
    if missing:
        die(
            f"missing {', '.join(missing)}: run deploy/ctl install (apt-get install postgresql pgbouncer nginx "
            "libnginx-mod-nchan redis-server)"
        )


def cmd_up() -> None:
    check_tools()
    ensure_service_user()
    mkdir(RUN, 0o755)
    mkdir(RUN / "logs")
    mkdir(RUN / "pids")
    values = ensure_secrets()
    ensure_certificate()
    say("databases:")
    for domain in DOMAINS:
        pg_init(domain, values)
        pg_start(domain)
        pg_provision(domain, values)
    for replica in REPLICAS:
        replica_init(replica, values)
        pg_start(replica)
    say("pooler:")
    for domain in (*DOMAINS, *REPLICAS):
        bouncer_start(domain, values)
    say("cache:")
    redis_start(values)
    say("schema and static files:")
    manage("migrate_all")  # through PgBouncer, as the app will run
    manage("collectstatic", "--noinput", "-v", "0")
    manage("compilemessages", "--ignore=.venv", "-v", "0")
    _sync_static(mkdir(RUN / "static"))
    say("app servers:")
    for number in range(1, APP_SERVERS + 1):
        app_start(number)
    say("job workers:")
    # Flow recovery, expiry and pruning run inside the workers on their schedule (docs/JOBS.md): no cron needed.
    for number in range(1, JOB_WORKERS + 1):
        jobs_start(number)
    say("front:")
    nginx_start()
    live_start()
    code, body = front_health()
    if code != 200:
        die(f"https://127.0.0.1:{HTTPS_PORT}/healthz answered {code}: {body}")
    say(f"up: https://127.0.0.1:{HTTPS_PORT}/  (certificate {TLS_CERT}); deploy/ctl status; deploy/ctl down")


def _sync_static(static: Path) -> None:
    """collectstatic writes STATIC_ROOT (settings: <project>/staticfiles); copy it into the runtime folder that
    nginx serves, so the topology never depends on the checkout's staticfiles/."""
    source = PROJECT_DIR / "staticfiles"
    if source.exists():
        shutil.copytree(source, static, dirs_exist_ok=True)
    if as_root():
        subprocess.run(["chown", "-R", SERVICE_USER, str(static)], check=True)


def cmd_down() -> None:
    say("stopping:")
    live_stop()
    nginx_stop()
    for number in range(JOB_WORKERS, 0, -1):
        jobs_stop(number)
    for number in range(APP_SERVERS, 0, -1):
        app_stop(number)
    redis_stop()
    for domain in reversed((*DOMAINS, *REPLICAS)):
        bouncer_stop(domain)
    for domain in reversed((*DOMAINS, *REPLICAS)):
        pg_stop(domain)
    leftovers = cmd_status(quiet=True)
    if leftovers:
        die(f"still running: {leftovers}")
    say("down: nothing of the topology is running")


def status_json() -> dict:
    """Machine-readable state for the bench (bench/topology.py): PIDs of every part, workers of each app server."""
    return {
        "postgres": {domain.name: pg_pid(domain) for domain in (*DOMAINS, *REPLICAS)},
        "pgbouncer": {domain.name: bouncer_pid(domain) for domain in (*DOMAINS, *REPLICAS)},
        "redis": redis_pid(),
        "apps": {
            f"app{number}": {"pid": app_pid(number), "port": app_port(number), "workers": app_workers(number)}
            for number in range(1, APP_SERVERS + 1)
        },
        "jobs": {f"jobs{number}": jobs_pid(number) for number in range(1, JOB_WORKERS + 1)},
        "drained": sorted(drained()),
        "nginx": nginx_pid(),
        "live": live_pid(),
        "base_url": f"https://127.0.0.1:{HTTPS_PORT}",
    }


def cmd_status(quiet: bool = False) -> list[str]:
    running = []
    rows = []
    for domain in (*DOMAINS, *REPLICAS):
        pid = pg_pid(domain)
        note = replica_lag(domain, load_secrets()) if pid and domain in REPLICAS else ""
        rows.append((f"postgres:{domain.name}", domain.pg_port, pid, port_open(domain.pg_port), note))
    for domain in (*DOMAINS, *REPLICAS):
        pid = bouncer_pid(domain)
        rows.append(
            (
                f"pgbouncer:{domain.name}",
                domain.bouncer_port,
                pid,
                port_open(domain.bouncer_port),
                f"pool_mode={POOL_MODES[domain.name]}",
            )
        )
    rows.append(("redis", REDIS_PORT, redis_pid(), port_open(REDIS_PORT), ""))
    for number in range(1, APP_SERVERS + 1):
        pid = app_pid(number)
        note = f"workers {app_workers(number)}" if pid else ""
        if number in drained():
            note += " DRAINED"
        if pid:
            code, _body = app_health(app_port(number))
            note += f" healthz {code}"
        rows.append((f"app{number}", app_port(number), pid, port_open(app_port(number)), note))
    for number in range(1, JOB_WORKERS + 1):
        rows.append((f"jobs{number}", None, jobs_pid(number), False, f"job worker, concurrency {JOB_CONCURRENCY}"))
    pid = nginx_pid()
    note = ""
    if pid and TLS_CERT.exists():
        code, _body = front_health()
        note = f"https /healthz {code}"
    rows.append(("nginx", HTTPS_PORT, pid, port_open(HTTPS_PORT), note))
    rows.append(("live", LIVE_PUBLISH_PORT, live_pid(), port_open(LIVE_PUBLISH_PORT), "seat changes to open maps"))
    for name, port, pid, listening, note in rows:
        if pid:
            running.append(f"{name} (pid {pid})")
        if not quiet:
            state = "running" if pid else "stopped"
            port_text = f"127.0.0.1:{port}" if port else "-"
            say(
                f"{name:<18} {port_text:<16} {state:<8} {('pid ' + str(pid)) if pid else '':<11} "
                f"{'listening' if listening else '':<10} {note}"
            )
    return running


def part(name: str) -> tuple[str, list]:
    """'pg:orders' -> ('pg', [Domain]); 'pgbouncer' -> ('pgbouncer', all domains); 'app2' -> ('app', [2])."""
    kind, _, which = name.partition(":")
    if kind in ("pg", "postgres"):
        if which not in BY_NAME:
            die(f"pg:<domain> with domain in {', '.join(BY_NAME)}")
        return "pg", [BY_NAME[which]]
    if kind == "pgbouncer":
        return "pgbouncer", [BY_NAME[which]] if which else [*DOMAINS, *REPLICAS]
    if kind.startswith("app") and kind[3:].isdigit() and 1 <= int(kind[3:]) <= APP_SERVERS:
        return "app", [int(kind[3:])]
    if kind.startswith("jobs") and kind[4:].isdigit() and 1 <= int(kind[4:]) <= JOB_WORKERS:
        return "jobs", [int(kind[4:])]
    if kind in ("redis", "nginx", "live"):
        return kind, [None]
    die(
        f"unknown part {name!r}: pg:<domain>, pgbouncer[:<domain>], app1..app{APP_SERVERS}, "
        f"jobs1..jobs{JOB_WORKERS}, redis, nginx, live"
    )
    raise AssertionError


def cmd_part(action: str, name: str) -> None:
    kind, items = part(name)
    values = load_secrets()
    for item in items:
        if action in ("stop", "restart", "kill"):
            hard = action == "kill"
            if kind == "pg":
                pg_stop(item, "immediate" if hard else "fast")
            elif kind == "pgbouncer":
                bouncer_stop(item, signal.SIGKILL if hard else signal.SIGTERM)
            elif kind == "app":
                app_stop(item, signal.SIGKILL if hard else signal.SIGTERM)
            elif kind == "jobs":
                jobs_stop(item, signal.SIGKILL if hard else signal.SIGTERM)
            elif kind == "redis":
                redis_stop()
            elif kind == "nginx":
                nginx_stop()
            elif kind == "live":
                live_stop(signal.SIGKILL if hard else signal.SIGTERM)
    for item in items:
        if action in ("start", "restart"):
            if kind == "pg":
                pg_start(item)
            elif kind == "pgbouncer":
                bouncer_start(item, values)
            elif kind == "app":
                app_start(item)
            elif kind == "jobs":
                jobs_start(item)
            elif kind == "redis":
                redis_start(values)
            elif kind == "nginx":
                nginx_start()
            elif kind == "live":
                live_start()


def cmd_drain(name: str, undrain: bool = False) -> None:
    kind, items = part(name)
    if kind != "app":
        die("drain/undrain take app<N>")
    current = drained()
    if undrain:
        current.discard(items[0])
    else:
        current.add(items[0])
        if len(current) >= APP_SERVERS:
            die("refusing to drain the last app server")
    write(DRAINED_FILE, json.dumps(sorted(current)))
    nginx_reload()
    say(f"app{items[0]} {'back in' if undrain else 'out of'} the load balancer (nginx reloaded)")


def cmd_env(args: list[str]) -> None:
    direct = "--direct" in args
    env = app_environment(direct=direct)
    if "--json" in args:
        env["TR_BASE_URL"] = f"https://127.0.0.1:{HTTPS_PORT}"
        env["TR_CA_CERT"] = str(TLS_CERT)
        env["TR_DIRECT_URLS"] = json.dumps(
            {domain.variable: app_environment(direct=True)[domain.variable] for domain in DOMAINS}
        )
        print(json.dumps(env, indent=1))
        return
    for key, value in env.items():
        print(f"export {key}='{value}'")


def cmd_logs() -> None:
    for path in sorted((RUN / "logs").glob("*.log")):
        say(f"{path}  ({path.stat().st_size} bytes)")


def cmd_wipe() -> None:
    cmd_down()
    shutil.rmtree(RUN, ignore_errors=True)
    say(f"wiped {RUN}")


def main(argv: list[str]) -> None:
    if not argv:
        die("usage: deploy/ctl up|down|status|env|manage|stop|start|restart|kill|drain|undrain|logs|wipe")
    command, rest = argv[0], argv[1:]
    if command == "up":
        cmd_up()
    elif command == "down":
        cmd_down()
    elif command == "status":
        if "--json" in rest:
            print(json.dumps(status_json(), indent=1))
        else:
            cmd_status()
    elif command == "env":
        cmd_env(rest)
    elif command == "manage":
        direct = "--direct" in rest
        sys.exit(manage(*[arg for arg in rest if arg != "--direct"], direct=direct, check=False))
    elif command in ("stop", "start", "restart", "kill") and len(rest) == 1:
        cmd_part(command, rest[0])
    elif command in ("drain", "undrain") and len(rest) == 1:
        cmd_drain(rest[0], undrain=command == "undrain")
    elif command == "logs":
        cmd_logs()
    elif command == "wipe":
        cmd_wipe()
    else:
        die(f"unknown command {' '.join(argv)!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
