"""Chaos: the stampede while the system is being broken on purpose; afterwards the books must still balance.

    .venv/bin/python -m bench.chaos --clients 64 --seconds 90             # full size (docs/RELIABILITY.md)
    .venv/bin/python -m bench.chaos --clients 16 --seconds 25             # CI size

Faults injected during the stampede (bench/stampede.py):

* gunicorn workers SIGKILLed at random moments (``--kill-every`` seconds on average);
* the server runs with FAULT_INJECTION_ENABLED=true and TICKETREMASTER_FAULTS arming ``kill`` (the worker SIGKILLs
  itself) with a small probability at every named step of purchase, transfer and resale completion;
* a database connection dropped mid-transaction: pg_terminate_backend() of a random application backend that is
  inside a transaction, on a random database;
* one PostgreSQL server restarted under load: the orders database runs on its own embedded PostgreSQL (started
  here on a free port with core.embedded_db), stopped with pg_ctl for a few seconds and started again.
  While it is down the API must answer 503 DATABASE_UNAVAILABLE (probed), and it must recover by itself.

Then recover_flows, then the invariant checker: zero violations, zero lost credits, zero double-sold seats, no 5xx
other than 503 DATABASE_UNAVAILABLE. Exit 1 otherwise.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench import harness

FAULT_POINTS = (
    "purchase.after_order",
    "purchase.after_debit",
    "purchase.after_seats",
    "transfer.after_payment",
    "transfer.after_ownership",
    "resale.after_claim",
    "resale.after_payment",
    "resale.after_ownership",
)


def faults_spec(probability: float) -> str:
    return ",".join(f"{point}=kill:{probability}" for point in FAULT_POINTS)


# --- A dedicated PostgreSQL for one alias -------------------------------------------------------------------------
class DedicatedDatabase:
    """An embedded PostgreSQL of our own (data dir + port), for the alias we restart under load."""

    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.directory = directory
        self.port = port or harness.free_port()
        self.env = {**os.environ, "EMBEDDED_PG_DIR": str(directory), "EMBEDDED_PG_PORT": str(self.port)}

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}"

    def _run(self, command: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "core.embedded_db", command],
            env=self.env,
            cwd=harness.PROJECT_DIR,
            capture_output=True,
            text=True,
            timeout=180,
        )
        if result.returncode not in (0, 3):  # 3: "status" of a stopped server
            raise RuntimeError(f"embedded_db {command} failed: {result.stderr.strip() or result.stdout.strip()}")
        return result.stdout.strip()

    def start(self) -> None:
        self._run("start")

    def stop(self) -> None:
        self._run("stop")

    def wipe(self) -> None:
        self._run("wipe")


def prepare_databases(dedicated: DedicatedDatabase, run_id: str) -> list[str]:
    """Before Django starts: a fresh, coherent set of four databases for this run, so the checker audits only what
    the run did. users/seats/events are new databases on the main server; orders lives on the dedicated server (the
    one restarted under load). Returns the URLs to drop afterwards (harness.drop_databases)."""
    created = harness.create_fresh_databases(run_id, aliases=("default", "seats", "events"))
    dedicated.start()
    os.environ["ORDERS_DATABASE_URL"] = f"{dedicated.url}/orders_db"
    return created


# --- The injectors ------------------------------------------------------------------------------------------------
@dataclass
class ChaosLog:
    worker_kills: int = 0
    backends_terminated: Counter = field(default_factory=Counter)
    restarts: int = 0
    outage_seconds: float = 0.0
    recovery_seconds: float = 0.0
    outage_probes: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        return {
            "worker SIGKILLs (external)": self.worker_kills,
            "database connections terminated": dict(self.backends_terminated),
            "database restarts": self.restarts,
            "orders database down for": f"{self.outage_seconds:.1f} s",
            "healthy again after restart in": f"{self.recovery_seconds:.1f} s",
            "answers while down": dict(self.outage_probes),
        }


def terminate_a_backend(urls: list[str], *, attempts: int = 40) -> str | None:
    """pg_terminate_backend() one application connection, preferably one inside a transaction right now.

    Transactions here last milliseconds, so the server is polled for a short while to catch one mid-flight; if
    none is caught, an idle pooled connection is dropped instead (the next request on it must recover as well).
    Returns "in transaction", "idle" or None."""
    import psycopg

    url = random.choice(urls)
    server, _, database = url.rpartition("/")
    query = (
        "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid() "
        "AND backend_type = 'client backend' AND application_name = '' {extra} ORDER BY random() LIMIT 1"
    )
    with psycopg.connect(f"{server}/postgres", autocommit=True, connect_timeout=3, application_name="chaos") as admin:
        for _ in range(attempts):
            row = admin.execute(query.format(extra="AND xact_start IS NOT NULL"), [database]).fetchone()
            if row is not None:
                (done,) = admin.execute("SELECT pg_terminate_backend(%s)", [row[0]]).fetchone()
                if done:
                    return "in transaction"
            time.sleep(0.005)
        row = admin.execute(query.format(extra=""), [database]).fetchone()
        if row is not None and admin.execute("SELECT pg_terminate_backend(%s)", [row[0]]).fetchone()[0]:
            return "idle"
    return None


def psycopg_errors() -> tuple[type[Exception], ...]:
    import psycopg

    return (psycopg.Error,)


@dataclass(frozen=True)
class ChaosPlan:
    """How hard a run breaks things: how long it lasts, the mean seconds between worker kills and between backend
    terminations, and how long a stopped database stays down."""

    seconds: float = 90
    kill_every: float = 3.0
    terminate_every: float = 2.0
    outage: float = 4.0

    @classmethod
    def from_arguments(cls, args: argparse.Namespace) -> ChaosPlan:
        return cls(
            seconds=args.seconds, kill_every=args.kill_every, terminate_every=args.terminate_every, outage=args.outage
        )


class Breaker:
    """The background breakage both chaos runs share: a worker SIGKILLed and an application backend terminated, each
    at random moments around the plan's mean intervals. ``tick`` is called about ten times a second."""

    def __init__(
        self, plan: ChaosPlan, log, urls: list[str], *, expected: tuple[type[Exception], ...] | None = None
    ) -> None:
        self.plan = plan
        self.log = log  # a ChaosLog or a topology.TopologyChaosLog: worker_kills, backends_terminated, notes
        self.urls = urls
        # What terminating may meet: the server being restarted right now, or a lost race.
        self.expected = expected or psycopg_errors()
        started = time.monotonic()
        self.next_kill = started + random.uniform(0.5, plan.kill_every)
        self.next_terminate = started + random.uniform(0.5, plan.terminate_every)

    def postpone_kill(self) -> None:
        """After a planned outage: the next worker kill comes a while after it, not at once."""
        self.next_kill = time.monotonic() + random.uniform(0.5, self.plan.kill_every)

    def tick(self, server, now: float) -> None:
        if now >= self.next_kill:
            if server.kill_worker() is not None:
                self.log.worker_kills += 1
            self.next_kill = now + random.uniform(0.3, 2 * self.plan.kill_every)
        if now >= self.next_terminate:
            try:
                kind = terminate_a_backend(self.urls)
            except self.expected as exc:
                self.log.notes.append(f"terminate: {type(exc).__name__}: {exc}"[:200])
                kind = None
            if kind:
                self.log.backends_terminated[kind] += 1
            self.next_terminate = now + random.uniform(0.3, 2 * self.plan.terminate_every)


def make_chaos(
    *, dedicated: DedicatedDatabase, log: ChaosLog, plan: ChaosPlan
) -> Callable[[harness.Server, object, threading.Event], None]:
    """The background injector: kills and terminations throughout, one database restart in the middle."""
    urls = [os.environ[variable] for variable in harness.DATABASE_URL_VARIABLES.values()]

    def chaos(server: harness.Server, world, stop: threading.Event) -> None:
        started = time.monotonic()
        restart_at = started + plan.seconds * 0.45
        restarted = False
        breaker = Breaker(plan, log, urls)
        probe_token = world.buyers[-1].token
        while not stop.wait(0.1):
            now = time.monotonic()
            if not restarted and now >= restart_at:
                restarted = True
                restart_database(server, dedicated, log, outage=plan.outage, probe_token=probe_token)
                breaker.postpone_kill()
                continue
            breaker.tick(server, now)

    return chaos


MAX_OUTAGE_EXTENSION = 30.0  # seconds the database may stay down past the plan, waiting for one probe answer


def restart_database(
    server: harness.Server, dedicated: DedicatedDatabase, log: ChaosLog, *, outage: float, probe_token: str
) -> None:
    """Stop the dedicated server, probe the API while it is down (503 DATABASE_UNAVAILABLE), start it, time the
    recovery (the first 200 from /healthz after the start)."""
    stopped = time.monotonic()
    dedicated.stop()
    log.restarts += 1
    headers = {"Authorization": f"Token {probe_token}"}
    with httpx.Client(base_url=server.base_url, timeout=10) as probe:
        # Down for ``outage`` seconds, and in any case until a probe got an answer (bounded): on a loaded machine
        # the first probe can wait behind the clients' requests for longer than the planned outage.
        while time.monotonic() - stopped < outage or (
            not log.outage_probes and time.monotonic() - stopped < outage + MAX_OUTAGE_EXTENSION
        ):
            with contextlib.suppress(httpx.TransportError):
                answer = probe.get("/api/v1/orders/", headers=headers)
                log.outage_probes[
                    f"{answer.status_code} {harness.error_code(answer) if answer.status_code >= 400 else 'OK'}"
                ] += 1
            time.sleep(0.2)
        dedicated.start()
        log.outage_seconds = time.monotonic() - stopped
        back = time.monotonic()
        deadline = back + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                if probe.get("/healthz").status_code == 200:
                    break
            time.sleep(0.1)
        log.recovery_seconds = time.monotonic() - back


# --- The run -----------------------------------------------------------------------------------------------------
def stampede_under(chaos, *, plan: ChaosPlan, **options):
    """The stampede for the plan's length while ``chaos`` breaks things, outages expected rather than failures;
    ``options``: stampede.run's others (clients, title, and the local server's settings or the remote target)."""
    from bench import stampede

    return stampede.run(seconds=plan.seconds, chaos=chaos, tolerate_outages=True, **options)


def run(
    *,
    dedicated: DedicatedDatabase,
    plan: ChaosPlan = ChaosPlan(),
    clients: int = 64,
    workers: int = 4,
    port: int = 8107,
    fault_probability: float = 0.03,
    max_requests: int | None = None,
):
    log = ChaosLog()
    faults = {
        "FAULT_INJECTION_ENABLED": "true",
        "TICKETREMASTER_FAULTS": faults_spec(fault_probability),
        "DATABASE_CONNECT_TIMEOUT": "2",
    }
    result = stampede_under(
        make_chaos(dedicated=dedicated, log=log, plan=plan),
        plan=plan,
        clients=clients,
        max_requests=max_requests,
        title="Chaos",
        workers=workers,
        port=port,
        server_env_extra=faults,
    )
    result.extra.update(log.summary())
    down = sum(count for answer, count in log.outage_probes.items() if answer == "503 DATABASE_UNAVAILABLE")
    wrong = {answer: count for answer, count in log.outage_probes.items() if answer != "503 DATABASE_UNAVAILABLE"}
    # While the orders database is down, an orders endpoint must say so with the stable code and nothing else.
    if log.restarts and (not down or wrong):
        result.anomalies.append(f"while the orders database was down the API answered {dict(log.outage_probes)}")
    if log.restarts and log.recovery_seconds >= 60:
        result.anomalies.append("the service did not recover within 60 s of the database restart")
    return result, log


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=90)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=8107)
    parser.add_argument("--max-requests", type=int, default=None)
    parser.add_argument("--fault-probability", type=float, default=0.03, help="Chance of a kill at each fault point.")
    parser.add_argument("--kill-every", type=float, default=3.0, help="Mean seconds between external worker kills.")
    parser.add_argument("--terminate-every", type=float, default=2.0, help="Mean seconds between backend kills.")
    parser.add_argument("--outage", type=float, default=4.0, help="Seconds the orders database stays down.")
    parser.add_argument(
        "--pg-dir", default=str(harness.ARTIFACTS_DIR / "chaos-orders-pg"), help="Data dir of the dedicated server."
    )
    parser.add_argument(
        "--no-app-faults",
        action="store_true",
        help="With --target: leave the app servers as they run (no in-app fault points armed).",
    )
    from bench.stampede import add_target_arguments, target_from_arguments

    add_target_arguments(parser)
    args = parser.parse_args(argv)
    target = target_from_arguments(args)
    if target is not None:
        return _main_on_target(args, target)
    run_id = uuid.uuid4().hex[:8]
    dedicated = DedicatedDatabase(Path(args.pg_dir) / run_id)
    created = prepare_databases(dedicated, run_id)
    try:
        harness.setup_django()
        harness.migrate_all()
        result, _log = run(
            dedicated=dedicated,
            plan=ChaosPlan.from_arguments(args),
            clients=args.clients,
            workers=args.workers,
            port=args.port,
            fault_probability=args.fault_probability,
            max_requests=args.max_requests,
        )
        result.print(title="Chaos")
    finally:
        from django.db import connections

        connections.close_all()
        dedicated.wipe()
        harness.drop_databases(created)
    return 0 if result.ok else 1


def _main_on_target(args: argparse.Namespace, target) -> int:
    """--target: the running topology (deploy/) is broken through its controller instead of a dedicated server."""
    from bench import topology

    harness.setup_django()
    result, _log = topology.run_chaos(
        target=target,
        plan=ChaosPlan.from_arguments(args),
        clients=args.clients,
        fault_probability=args.fault_probability,
        max_requests=args.max_requests,
        app_faults=not args.no_app_faults,
    )
    result.print(title=f"Chaos on {args.target}")
    from django.db import connections

    connections.close_all()
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
