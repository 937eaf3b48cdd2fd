"""Shared load-test machinery: a real gunicorn server, a pool of concurrent HTTP clients, latency and error stats.

Used by bench/stampede.py, bench/chaos.py and the performance scenarios (bench/run.py). The API is small and stable::

    from bench import harness

    harness.setup_django()                          # a CLI, before importing app code (pytest has done it already)
    env = harness.server_env()                      # this process's database URLs + bench-safe defaults
    stats = harness.Stats()
    with harness.Server(port=8106, workers=4, env=env) as server:      # starts gunicorn, waits for /healthz
        def buyer(index: int, client: harness.Client) -> None:          # one iteration of one client
            client.request("hold", "POST", f"/api/v1/events/{event_id}/holds/", json={"quantity": 1})

        harness.run_clients(buyer, clients=64, seconds=60, base_url=server.base_url, stats=stats,
                            token_for=lambda index: tokens[index])
    print(stats.table())

``Stats`` records, per operation: attempts, successes (2xx), each error ``code`` of the JSON error body
(``{"code": ..., "detail": ...}``), server errors (5xx), transport errors (connection reset by a killed worker),
and p50/p95/p99 latency. ``Stats.server_errors`` must be 0 in every run.
"""

from __future__ import annotations

import contextlib
import json as jsonlib
import math
import os
import random
import secrets
import select
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from deploy.topology import gunicorn_command

PROJECT_DIR = Path(__file__).resolve().parent.parent
ARTIFACTS_DIR = PROJECT_DIR / "artifacts" / "bench"

# The env variable each alias reads its URL from (mirrors settings.DATABASE_URL_VARIABLES).
DATABASE_URL_VARIABLES = {
    "default": "USERS_DATABASE_URL",
    "seats": "SEATS_DATABASE_URL",
    "orders": "ORDERS_DATABASE_URL",
    "events": "EVENTS_DATABASE_URL",
}

# Error code recorded when no HTTP answer came back at all (worker SIGKILLed mid-request, server restarting).
TRANSPORT_ERROR = "TRANSPORT_ERROR"
# Error code recorded for a 5xx without our JSON error body (a crash page).
SERVER_ERROR = "SERVER_ERROR"
# TLS verification of every Client: True (system CAs), a CA bundle path (a self-signed target), or False. Only a run
# against an HTTPS --target changes it (bench/topology.py configure_tls).
DEFAULT_VERIFY: bool | str = True
# A load balancer's answer for a request it delivered to an app process that then died without answering (the
# deploy/ topology's nginx: 502 with this code). The same event as TRANSPORT_ERROR seen through a proxy: counted
# apart, never as a server error. (No app server at all is nginx's 503 SERVICE_UNAVAILABLE: a server error.)
UPSTREAM_LOST = "UPSTREAM_UNAVAILABLE"


# --- Django set-up -----------------------------------------------------------------------------------------------
def bench_environment_defaults() -> dict[str, str]:
    """Settings a local benchmark server needs: plain HTTP on 127.0.0.1, no throttling in the way of the load."""
    return {
        "DJANGO_SETTINGS_MODULE": "ticketremaster.settings",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SECURE_COOKIES": "false",
        "DJANGO_HSTS_SECONDS": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "API_THROTTLE_USER": "1000000/min",
        "API_THROTTLE_ANON": "1000000/min",
        # One-time codes are issued by the bench itself (it shares the database); nobody reads the mail.
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    }


def setup_django() -> None:
    """Configure Django for a bench CLI: production settings (DEBUG off), a throwaway secret key if none is set."""
    for key, value in bench_environment_defaults().items():
        os.environ.setdefault(key, value)
    if not os.environ.get("DJANGO_SECRET_KEY") and not os.environ.get("DJANGO_DEBUG"):
        # A benchmark server signs nothing that outlives it; a random key keeps production settings usable.
        os.environ["DJANGO_SECRET_KEY"] = secrets.token_urlsafe(50)
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))
    import django

    django.setup()


def database_urls() -> dict[str, str]:
    """``{ENV_VARIABLE: url}`` of the databases this process is connected to (the test databases under pytest)."""
    from django.db import connections

    urls = {}
    for alias, variable in DATABASE_URL_VARIABLES.items():
        config = connections[alias].settings_dict
        user = config.get("USER") or "postgres"
        password = f":{config['PASSWORD']}" if config.get("PASSWORD") else ""
        urls[variable] = f"postgres://{user}{password}@{config['HOST']}:{config['PORT']}/{config['NAME']}"
    return urls


def server_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a gunicorn server that shares this process's databases and secret key."""
    from django.conf import settings

    env = dict(os.environ)
    env.update(bench_environment_defaults())
    env.update(database_urls())
    env["DJANGO_SECRET_KEY"] = settings.SECRET_KEY
    env["QR_SIGNING_KEY"] = settings.QR_SIGNING_KEY
    env.pop("DJANGO_DEBUG", None)
    env.update(extra or {})
    return env


DEFAULT_DATABASE_NAMES = {"default": "users_db", "seats": "seats_db", "orders": "orders_db", "events": "events_db"}


def create_fresh_databases(run_id: str, *, aliases: tuple[str, ...] = tuple(DATABASE_URL_VARIABLES)) -> list[str]:
    """Before Django starts: new, empty databases for ``aliases`` on the configured server (the embedded one unless
    USERS_DATABASE_URL names another), exported as the *_DATABASE_URL variables. A bench run then audits only what it
    did itself, whatever else the shared development databases hold. Call migrate_all after setup_django(); drop
    them with drop_databases(). Returns their URLs."""
    import psycopg

    configured = os.environ.get("USERS_DATABASE_URL", "")
    if configured:
        server = configured.rpartition("/")[0]
    else:
        from core import embedded_db

        server = embedded_db.ensure_running()
    urls = []
    with psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=10) as admin:
        for alias in aliases:
            name = f"bench_{run_id}_{DEFAULT_DATABASE_NAMES[alias]}"
            admin.execute(f'CREATE DATABASE "{name}"')
            os.environ[DATABASE_URL_VARIABLES[alias]] = f"{server}/{name}"
            urls.append(f"{server}/{name}")
    for alias, variable in DATABASE_URL_VARIABLES.items():
        os.environ.setdefault(variable, f"{server}/{DEFAULT_DATABASE_NAMES[alias]}")
    return urls


@contextlib.contextmanager
def fresh_databases(run_id: str, *, keep: bool = False) -> Iterator[list[str]]:
    """A command-line run on databases of its own: created (create_fresh_databases), Django set up and migrated on
    them, dropped when the run ends however it ends (unless ``keep``, to look at them afterwards). Yields their
    URLs."""
    urls = create_fresh_databases(run_id)
    try:
        setup_django()
        migrate_all()
        yield urls
    finally:
        if not keep:
            drop_databases(urls)


def migrate_all() -> None:
    from django.core.management import call_command

    call_command("migrate_all", verbosity=0)


def drop_databases(urls: list[str]) -> None:
    """Drop databases made by create_fresh_databases (closing this process's connections first)."""
    import psycopg

    if "django.db" in sys.modules:
        from django.db import connections

        connections.close_all()
    for url in urls:
        server, _, name = url.rpartition("/")
        with psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=10) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- The server --------------------------------------------------------------------------------------------------
class ServerError(RuntimeError):
    """The server did not start or became unhealthy; the message says why (with the tail of its log)."""


def all_at_once(target: Callable[[Any], None], arguments: list) -> None:
    """``target(argument)`` for each argument, each on its own thread, all started together; waits for all."""
    threads = [threading.Thread(target=target, args=(argument,)) for argument in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


class WorkerProcesses:
    """What chaos and the memory report do to a server's worker processes; ``worker_pids`` says which they are."""

    def worker_pids(self) -> list[int]:
        raise NotImplementedError

    def kill_worker(self, pid: int | None = None) -> int | None:
        """SIGKILL one worker (a random one unless ``pid``); its master starts a replacement. Returns the pid killed."""
        pids = [pid] if pid else self.worker_pids()
        if not pids:
            return None
        victim = random.choice(pids)  # noqa: S311 - not cryptographic
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)
            return victim
        return None

    def worker_rss_mb(self) -> dict[int, float]:
        """Resident memory of each worker in MB (from /proc/<pid>/status)."""
        sizes = {}
        for pid in self.worker_pids():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        sizes[pid] = int(line.split()[1]) / 1024
        return sizes


HTTP_SERVERS = ("gunicorn", "granian")


class Server(WorkerProcesses):
    """A process group on 127.0.0.1 running ticketremaster.wsgi: gunicorn (settings from gunicorn.conf.py; sync
    workers with ``threads=1``, gthread otherwise) or granian in WSGI mode (``threads`` blocking threads per worker).

    Use as a context manager, or call start()/stop(). The log goes to artifacts/bench/<server>-<port>.log.
    """

    def __init__(
        self,
        *,
        port: int,
        workers: int = 4,
        threads: int = 1,
        env: dict[str, str] | None = None,
        timeout: int = 30,
        extra_args: list[str] | None = None,
        http_server: str = "gunicorn",
    ) -> None:
        if http_server not in HTTP_SERVERS:
            raise ValueError(f"http_server must be one of {HTTP_SERVERS}")
        self.http_server = http_server
        self.port = port
        self.workers = workers
        self.threads = threads
        self.env = env if env is not None else server_env()
        self.timeout = timeout
        self.extra_args = extra_args or []
        self.base_url = f"http://127.0.0.1:{port}"
        ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = ARTIFACTS_DIR / f"{http_server}-{port}.log"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self, *, ready_timeout: float = 60.0) -> None:
        if _port_in_use(self.port):
            raise ServerError(f"port {self.port} is already in use")
        command = self._granian_command() if self.http_server == "granian" else self._gunicorn_command()
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            command, cwd=PROJECT_DIR, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            self.wait_healthy(timeout=ready_timeout)
        except BaseException:  # noqa: BLE001 - never leave a half-started server behind (also on Ctrl-C)
            self.stop()
            raise

    def _granian_command(self) -> list[str]:
        # One Rust runtime thread per worker serves the sockets; the WSGI application runs on the blocking threads.
        return [
            str(Path(sys.executable).parent / "granian"),
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--blocking-threads",
            str(self.threads),
            "--runtime-threads",
            "1",
            "--no-ws",
            "--log-level",
            "warning",
            *self.extra_args,
            "ticketremaster.wsgi:application",
        ]

    def _gunicorn_command(self) -> list[str]:
        base = gunicorn_command(sys.executable, port=self.port, workers=self.workers, threads=self.threads)
        return [*base, "--timeout", str(self.timeout), *self.extra_args]

    def wait_healthy(self, *, timeout: float = 60.0) -> None:
        """Block until /healthz answers 200 and every worker is up, or raise ServerError."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise ServerError(f"{self.http_server} exited with {self.process.returncode}: {self.log_tail()}")
            try:
                response = httpx.get(f"{self.base_url}/healthz", timeout=2.0)
                if response.status_code == 200 and len(self.worker_pids()) >= self.workers:
                    return
                last = f"{response.status_code} {response.text[:200]}"
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            time.sleep(0.2)
        raise ServerError(f"{self.base_url}/healthz not healthy after {timeout:.0f} s ({last}): {self.log_tail()}")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGTERM)  # graceful: finish in-flight requests
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None
        self._log.close()

    @property
    def master_pid(self) -> int:
        if self.process is None:
            raise ServerError("server not running")
        return self.process.pid

    def worker_pids(self) -> list[int]:
        """The live worker processes (children of the server's main process), read from /proc."""
        if self.process is None:
            return []
        return _children_of(self.process.pid)

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


def _children_of(parent: int) -> list[int]:
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            # /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may contain spaces, so split after the last ')'.
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == parent and fields[0] != "Z":
                children.append(int(entry.name))
    return sorted(children)


def _port_in_use(port: int) -> bool:
    import socket

    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.3):
        return True
    return False


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- Statistics --------------------------------------------------------------------------------------------------
def median_ms(function: Callable[[], object], repeat: int) -> float:
    """Median wall time (ms) of ``repeat`` calls of ``function`` in this process: no HTTP, no serialisation."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class OperationStats:
    attempts: int = 0
    successes: int = 0
    codes: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        return {
            "attempts": self.attempts,
            "successes": self.successes,
            "codes": dict(self.codes),
            "p50_ms": round(percentile(ordered, 0.50) * 1000, 2),
            "p95_ms": round(percentile(ordered, 0.95) * 1000, 2),
            "p99_ms": round(percentile(ordered, 0.99) * 1000, 2),
        }


class Stats:
    """Thread-safe counters and latencies per operation."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.operations: dict[str, OperationStats] = defaultdict(OperationStats)
        self.server_errors = 0
        self.transport_errors = 0
        self.lost_in_flight = 0
        self.server_error_samples: list[str] = []
        self.started = time.monotonic()
        self.finished: float | None = None

    def record(self, operation: str, *, status: int | None, code: str | None, seconds: float) -> None:
        """One attempt: ``status`` None means no HTTP answer; ``code`` None means success."""
        with self._lock:
            entry = self.operations[operation]
            entry.attempts += 1
            if status is not None:
                entry.latencies.append(seconds)
            if code is None:
                entry.successes += 1
            else:
                entry.codes[code] += 1
            if status is None:
                self.transport_errors += 1
            elif status == 502 and code == UPSTREAM_LOST:
                self.lost_in_flight += 1
            elif status >= 500 and code != "DATABASE_UNAVAILABLE":
                self.server_errors += 1

    def note_server_error(self, sample: str) -> None:
        with self._lock:
            if len(self.server_error_samples) < 20:
                self.server_error_samples.append(sample)

    @property
    def attempts(self) -> int:
        return sum(entry.attempts for entry in self.operations.values())

    @property
    def successes(self) -> int:
        return sum(entry.successes for entry in self.operations.values())

    def codes(self) -> Counter:
        total: Counter = Counter()
        for entry in self.operations.values():
            total.update(entry.codes)
        return total

    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    def as_dict(self) -> dict[str, Any]:
        return {
            "attempts": self.attempts,
            "successes": self.successes,
            "server_errors": self.server_errors,
            "transport_errors": self.transport_errors,
            "lost_in_flight": self.lost_in_flight,
            "elapsed_s": round(self.elapsed(), 2),
            "codes": dict(self.codes()),
            "operations": {name: entry.summary() for name, entry in sorted(self.operations.items())},
        }

    def table(self) -> str:
        """A fixed-width table: one line per operation, then totals."""
        header = f"{'operation':<18}{'attempts':>9}{'ok':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}  errors by code"
        lines = [header, "-" * len(header)]
        for name, entry in sorted(self.operations.items()):
            s = entry.summary()
            codes = " ".join(f"{code}={count}" for code, count in sorted(s["codes"].items(), key=lambda kv: -kv[1]))
            lines.append(
                f"{name:<18}{s['attempts']:>9}{s['successes']:>8}{s['p50_ms']:>9.1f}{s['p95_ms']:>9.1f}"
                f"{s['p99_ms']:>9.1f}  {codes}"
            )
        lines.append("-" * len(header))
        elapsed = self.elapsed()
        lines.append(
            f"{'total':<18}{self.attempts:>9}{self.successes:>8}  in {elapsed:.1f} s "
            f"({self.attempts / elapsed if elapsed else 0:.0f} req/s); server errors (5xx): {self.server_errors}; "
            f"transport errors: {self.transport_errors}"
            + (f"; lost in flight (502 {UPSTREAM_LOST}): {self.lost_in_flight}" if self.lost_in_flight else "")
        )
        return "\n".join(lines)


# --- Clients -----------------------------------------------------------------------------------------------------
class LeanResponse:
    """What the scenarios read of an answer: ``status_code``, ``headers`` (case-insensitive ``get``), ``content``,
    ``text`` and ``json()``; the same names as httpx's response."""

    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, headers: Any, content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return jsonlib.loads(self.content)


class LeanHeaders:
    """An answer's headers: case-insensitive ``get`` and ``get_all``, as http.client's message gives them."""

    __slots__ = ("items",)

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self.items = items  # (lower-case name, value), in the order sent

    def get(self, name: str, default: str | None = None) -> str | None:
        name = name.lower()
        return next((value for key, value in self.items if key == name), default)

    def get_all(self, name: str) -> list[str] | None:
        name = name.lower()
        return [value for key, value in self.items if key == name] or None


class LeanHTTP:
    """A keep-alive HTTP/1.1 connection over a plain socket: the request written as bytes, the answer's head split
    by hand, the body read by Content-Length or chunks. About 30 µs of CPU per request against http.client's
    160 (whose header parsing goes through the email package), so the load generator leaves the cores to the
    server it measures (docs/PERFORMANCE.md). Plain HTTP only.

    ``headers`` and ``cookies`` are sent with every request. A connection the server closed while idle (keep-alive
    timeout) is noticed before sending (the socket reads as ready) and replaced; an answer that says
    ``Connection: close`` closes it after reading; any other failure is the caller's TransportError and the next
    request opens a new connection.
    """

    def __init__(self, *, base_url: str, headers: dict[str, str], timeout: float) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme != "http":
            raise ValueError(f"LeanHTTP speaks plain HTTP, not {parsed.scheme}")
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 80
        self.prefix = parsed.path.rstrip("/")
        self.headers = dict(headers)
        self.cookies: dict[str, str] = {}
        self.timeout = timeout
        self._sock: socket.socket | None = None
        self._buffer = b""

    def _socket(self) -> socket.socket:
        sock = self._sock
        if sock is not None:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:  # closed by the server while idle (or stray bytes): not reusable
                self.close()
                sock = None
        if sock is None:
            sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._sock, self._buffer = sock, b""
        return sock

    def _read_until(self, sock: socket.socket, marker: bytes) -> bytes:
        buffer = self._buffer
        while (end := buffer.find(marker)) < 0:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("the server closed the connection before answering")
            buffer += chunk
        self._buffer = buffer[end + len(marker) :]
        return buffer[:end]

    def _read_exactly(self, sock: socket.socket, size: int) -> bytes:
        buffer = self._buffer
        while len(buffer) < size:
            chunk = sock.recv(max(65536, size - len(buffer)))
            if not chunk:
                raise ConnectionError("the server closed the connection in the middle of an answer")
            buffer += chunk
        self._buffer = buffer[size:]
        return buffer[:size]

    def _read_to_close(self, sock: socket.socket) -> bytes:
        parts = [self._buffer]
        while chunk := sock.recv(65536):
            parts.append(chunk)
        self._buffer = b""
        return b"".join(parts)

    def _read_answer(self, sock: socket.socket, method: str) -> tuple[int, LeanHeaders, bytes, bool]:
        status_line, *lines = self._read_until(sock, b"\r\n\r\n").decode("latin-1").split("\r\n")
        version, status = status_line[:8], int(status_line[9:12])
        items = []
        for line in lines:
            name, _, value = line.partition(":")
            items.append((name.strip().lower(), value.strip()))
        headers = LeanHeaders(items)
        connection = (headers.get("connection") or "").lower()
        close = connection == "close" or (version == "HTTP/1.0" and connection != "keep-alive")
        if method == "HEAD" or status in (204, 304) or status < 200:
            return status, headers, b"", close
        if (headers.get("transfer-encoding") or "").lower() == "chunked":
            parts = []
            while size := int(self._read_until(sock, b"\r\n").split(b";", 1)[0], 16):
                parts.append(self._read_exactly(sock, size))
                self._read_exactly(sock, 2)
            while self._read_until(sock, b"\r\n"):  # trailers, up to the empty line
                pass
            return status, headers, b"".join(parts), close
        length = headers.get("content-length")
        if length is not None:
            return status, headers, self._read_exactly(sock, int(length)), close
        return status, headers, self._read_to_close(sock), True

    def request(
        self, method: str, path: str, *, json: Any = None, headers: dict[str, str] | None = None
    ) -> LeanResponse:
        sent = {**self.headers, **(headers or {})}
        body = b""
        if json is not None:
            body = jsonlib.dumps(json).encode()
            sent["Content-Type"] = "application/json"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        if body or method in ("POST", "PUT", "PATCH"):
            sent["Content-Length"] = str(len(body))
        head = f"{method} {self.prefix}{path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n" + "".join(
            f"{name}: {value}\r\n" for name, value in sent.items()
        )
        try:
            sock = self._socket()
            sock.sendall(head.encode("latin-1") + b"\r\n" + body)
            status, answer_headers, content, close = self._read_answer(sock, method)
        except (OSError, ValueError, IndexError) as exc:
            self.close()
            raise TransportError(str(exc) or type(exc).__name__) from exc
        for cookie in answer_headers.get_all("Set-Cookie") or ():
            name, _, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        if close:
            self.close()
        return LeanResponse(status, answer_headers, content)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock, self._buffer = None, b""


class TransportError(Exception):
    """No HTTP answer came back (connection refused or reset, a worker killed mid-request, a timeout)."""


class Client:
    """One simulated user: a keep-alive connection with an optional API token, recording into ``stats``.

    Plain HTTP goes through ``LeanHTTP`` (a plain socket); HTTPS targets (bench/topology.py) through httpx, which
    verifies certificates as ``verify`` says.
    """

    def __init__(
        self,
        *,
        base_url: str,
        stats: Stats,
        token: str | None = None,
        timeout: float = 30.0,
        verify: bool | str | None = None,
    ) -> None:
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Token {token}"
        if base_url.startswith("http://"):
            self.http: Any = LeanHTTP(base_url=base_url, headers=headers, timeout=timeout)
        else:
            self.http = httpx.Client(
                base_url=base_url, headers=headers, timeout=timeout, verify=DEFAULT_VERIFY if verify is None else verify
            )
        self.stats = stats

    def close(self) -> None:
        self.http.close()

    def request(
        self, operation: str, method: str, path: str, *, json: Any = None, headers: dict[str, str] | None = None
    ) -> Any:
        """Send one request and record it. Returns the response, or None when no answer came back."""
        started = time.perf_counter()
        try:
            response = self.http.request(method, path, json=json, headers=headers)
        except (httpx.TransportError, TransportError):
            self.stats.record(operation, status=None, code=TRANSPORT_ERROR, seconds=time.perf_counter() - started)
            return None
        elapsed = time.perf_counter() - started
        code = None if response.status_code < 400 else error_code(response)
        self.stats.record(operation, status=response.status_code, code=code, seconds=elapsed)
        if response.status_code >= 500 and code not in ("DATABASE_UNAVAILABLE", UPSTREAM_LOST):
            self.stats.note_server_error(f"{method} {path} -> {response.status_code} {response.text[:300]}")
        return response


def error_code(response: Any) -> str:
    """The stable ``code`` of an error answer, or HTTP_<status> / SERVER_ERROR when the body has none."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("code"), str):
        return body["code"]
    return SERVER_ERROR if response.status_code >= 500 else f"HTTP_{response.status_code}"


def run_clients(
    iteration: Callable[[int, Client], Any],
    *,
    clients: int,
    base_url: str,
    stats: Stats,
    seconds: float,
    max_iterations: int | None = None,
    token_for: Callable[[int], str | None] = lambda index: None,
    stop: threading.Event | None = None,
) -> None:
    """Run ``iteration(index, client)`` in a loop on ``clients`` threads until ``seconds`` pass, ``max_iterations``
    (in total) are done, ``stop`` is set, or an iteration returns the string "done" for that client.

    An exception raised by an iteration is a bug of the scenario, not of the server: it stops every client and is
    re-raised here.
    """
    stop = stop or threading.Event()
    deadline = time.monotonic() + seconds
    budget = [max_iterations if max_iterations is not None else math.inf]
    budget_lock = threading.Lock()
    failures: list[BaseException] = []

    def take_budget() -> bool:
        with budget_lock:
            if budget[0] <= 0:
                return False
            budget[0] -= 1
            return True

    def worker(index: int) -> None:
        client = Client(base_url=base_url, stats=stats, token=token_for(index))
        try:
            while not stop.is_set() and time.monotonic() < deadline and take_budget():
                if iteration(index, client) == "done":
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the caller after every thread stops
            failures.append(exc)
            stop.set()
        finally:
            client.close()
            _close_django_connections()

    threads = [threading.Thread(target=worker, args=(index,), name=f"client-{index}") for index in range(clients)]
    stats.started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats.finished = time.monotonic()
    if failures:
        raise failures[0]


def _close_django_connections() -> None:
    """A scenario may call services in-process from a client thread; that thread's connections die with it."""
    if "django.db" in sys.modules:
        from django.db import connections

        connections.close_all()


@contextlib.contextmanager
def background(function: Callable[[threading.Event], Any]) -> Iterator[threading.Event]:
    """Run ``function(stop_event)`` on a thread while the ``with`` block runs (fault injectors, samplers)."""
    stop = threading.Event()
    errors: list[BaseException] = []

    def target() -> None:
        try:
            function(stop)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(exc)
        finally:
            _close_django_connections()

    thread = threading.Thread(target=target, name="background", daemon=True)
    thread.start()
    try:
        yield stop
    finally:
        stop.set()
        thread.join(timeout=120)
    if errors:
        raise errors[0]


def machine_description() -> str:
    """'<nproc> CPU (<model>), <GB> GB RAM' for result records."""
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = 0.0
    with contextlib.suppress(OSError, ValueError, IndexError):
        memory = int(Path("/proc/meminfo").read_text().splitlines()[0].split()[1]) / 1024 / 1024
    return f"{os.cpu_count()} CPU ({model}), {memory:.0f} GB RAM"
