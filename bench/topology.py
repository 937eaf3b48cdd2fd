"""The stampede and the chaos against an already running deployment (the deploy/ topology), over HTTPS.

    eval "$(deploy/ctl env)"      # the topology's database URLs (through PgBouncer) and keys, for the bench process
    .venv/bin/python -m bench.stampede --target https://127.0.0.1:5743 --cacert deploy/run/tls/cert.pem
    .venv/bin/python -m bench.chaos --target https://127.0.0.1:5743 --cacert deploy/run/tls/cert.pem

Without ``--target`` both commands behave exactly as before (they start their own gunicorn). With it, the bench
builds its world in the configured databases (the ones the target serves), drives the target over HTTPS, and in
chaos mode breaks the topology through its own controller (``deploy/ctl``): SIGKILLs gunicorn workers, crashes a
whole app server and starts it again (nginx routes around it), stops one domain's PostgreSQL for a few seconds,
restarts every PgBouncer, and terminates backends on the PostgreSQL servers directly.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import harness
from bench.chaos import Breaker, ChaosPlan, faults_spec, stampede_under

DEFAULT_CTL = harness.PROJECT_DIR / "deploy" / "ctl"


class Topology:
    """The deploy/ controller, called as a subprocess (``deploy/ctl ...``)."""

    def __init__(self, ctl: Path = DEFAULT_CTL, *, extra_env: dict[str, str] | None = None) -> None:
        self.ctl = Path(ctl)
        self.extra_env = extra_env or {}

    def run(self, *args: str, timeout: float = 180) -> str:
        result = subprocess.run(
            [str(self.ctl), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **self.extra_env},
        )
        if result.returncode != 0:
            raise RuntimeError(f"deploy/ctl {' '.join(args)}: {(result.stderr or result.stdout).strip()[-600:]}")
        return result.stdout

    def status(self) -> dict[str, Any]:
        return json.loads(self.run("status", "--json", timeout=60))

    def env(self) -> dict[str, str]:
        return json.loads(self.run("env", "--json", timeout=60))

    def direct_urls(self) -> list[str]:
        """URLs of the PostgreSQL servers themselves (not PgBouncer), for pg_terminate_backend."""
        return list(json.loads(self.env()["TR_DIRECT_URLS"]).values())


class RemoteServer(harness.WorkerProcesses):
    """What stampede.run needs of a server, for one that is already running (it is neither started nor stopped).

    Worker PIDs come from the topology's controller when there is one (chaos kills them); without it, none."""

    def __init__(self, base_url: str, *, topology: Topology | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.topology = topology
        self.workers = 0

    def __enter__(self) -> RemoteServer:
        self.wait_healthy(timeout=60)
        self.cpu_started = cpu_by_component()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.cpu_finished = cpu_by_component()

    def cpu_report(self, requests: int) -> str:
        """CPU milliseconds per request of each part of the deployment over the run (from /proc; a process that
        died during the run takes its CPU with it unless its parent reaped it)."""
        if not requests or not getattr(self, "cpu_finished", None):
            return "n/a"
        used = {k: self.cpu_finished.get(k, 0.0) - self.cpu_started.get(k, 0.0) for k in self.cpu_finished}
        if any(value < 0 for value in used.values()):
            return "n/a (parts were restarted during the run, their CPU left with them)"
        total = sum(used.values())
        parts = [f"{k} {v * 1000 / requests:.2f}" for k, v in sorted(used.items(), key=lambda kv: -kv[1])]
        return f"{total * 1000 / requests:.2f} ms CPU per request: " + ", ".join(parts) + f" ({total:.1f} s in all)"

    def wait_healthy(self, *, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            try:
                answer = httpx.get(f"{self.base_url}/healthz", timeout=5.0, verify=harness.DEFAULT_VERIFY)
                if answer.status_code == 200:
                    return
                last = f"{answer.status_code} {answer.text[:200]}"
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            time.sleep(0.2)
        raise harness.ServerError(f"{self.base_url}/healthz not healthy after {timeout:.0f} s ({last})")

    def app_workers(self) -> dict[str, list[int]]:
        if self.topology is None:
            return {}
        with contextlib.suppress(RuntimeError, ValueError, subprocess.TimeoutExpired):
            return {name: app["workers"] for name, app in self.topology.status()["apps"].items() if app["pid"]}
        return {}

    def worker_pids(self) -> list[int]:
        return sorted(pid for pids in self.app_workers().values() for pid in pids)

    def log_tail(self, lines: int = 30) -> str:
        return ""


COMPONENTS = (("pgbouncer", "pgbouncer"), ("nginx", "nginx"), ("redis", "redis"), ("postgres", "postgres"))


def cpu_by_component(user: str = "ticketremaster") -> dict[str, float]:
    """CPU seconds (own + reaped children) of the deployment's processes, by part: the processes of the service
    user, told apart by name (gunicorn's are "app")."""
    import pwd

    try:
        uid = pwd.getpwnam(user).pw_uid
    except KeyError:
        return {}
    ticks = os.sysconf("SC_CLK_TCK")
    totals: dict[str, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            if entry.stat().st_uid != uid:
                continue
            stat = (entry / "stat").read_text()
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            fields = stat.rsplit(")", 1)[1].split()
            seconds = sum(int(value) for value in fields[11:15]) / ticks  # utime stime cutime cstime
            part = next((label for marker, label in COMPONENTS if name.startswith(marker)), "app")
            totals[part] = totals.get(part, 0.0) + seconds
    return totals


def configure_tls(*, insecure: bool, cacert: str | None) -> None:
    """Every bench HTTP client verifies the target's certificate against ``cacert`` (or not at all)."""
    if insecure:
        harness.DEFAULT_VERIFY = False
    elif cacert:
        harness.DEFAULT_VERIFY = str(Path(cacert).resolve())


# --- Chaos on the topology ------------------------------------------------------------------------------------------
@dataclass
class TopologyChaosLog:
    worker_kills: int = 0
    backends_terminated: Counter = field(default_factory=Counter)
    events: list[str] = field(default_factory=list)
    app_down_seconds: float = 0.0
    pg_outage_seconds: float = 0.0
    pg_recovery_seconds: float = 0.0
    bouncer_gap_seconds: float = 0.0
    bouncer_recovery_seconds: float = 0.0
    probes: dict[str, Counter] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def probe(self, phase: str, answer: str) -> None:
        self.probes.setdefault(phase, Counter())[answer] += 1

    def summary(self) -> dict[str, object]:
        return {
            "worker SIGKILLs (external)": self.worker_kills,
            "database connections terminated": dict(self.backends_terminated),
            "topology events": "; ".join(self.events),
            "app server crashed for": f"{self.app_down_seconds:.1f} s",
            "orders PostgreSQL down for": f"{self.pg_outage_seconds:.1f} s",
            "healthy again after the PostgreSQL start in": f"{self.pg_recovery_seconds:.1f} s",
            "PgBouncer restart took": f"{self.bouncer_gap_seconds:.1f} s",
            "healthy again after the PgBouncer restart in": f"{self.bouncer_recovery_seconds:.1f} s",
            "probe answers": {phase: dict(counts) for phase, counts in self.probes.items()},
        }


def _probe_once(client: httpx.Client, path: str, headers: dict[str, str]) -> str:
    try:
        answer = client.get(path, headers=headers)
    except httpx.TransportError as exc:
        return f"transport {type(exc).__name__}"
    return f"{answer.status_code} {harness.error_code(answer) if answer.status_code >= 400 else 'OK'}"


def _wait_healthy(client: httpx.Client, timeout: float = 60) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        with contextlib.suppress(httpx.TransportError):
            if client.get("/healthz").status_code == 200:
                break
        time.sleep(0.1)
    return time.monotonic() - started


def make_topology_chaos(
    *,
    topology: Topology,
    log: TopologyChaosLog,
    plan: ChaosPlan,
    domain: str = "orders",
    app: str = "app2",
):
    """The background injector for stampede.run: worker kills and backend terminations throughout, and at set
    moments an app server crash (and its restart), one domain's PostgreSQL stopped for ``plan.outage`` seconds, and
    every PgBouncer restarted. Each event is probed through the load balancer."""
    direct_urls = topology.direct_urls()
    timeline = [
        (0.15, "crash_app"),
        (0.30, "start_app"),
        (0.45, "restart_pg"),
        (0.70, "restart_bouncer"),
    ]

    def chaos(server: RemoteServer, world, stop: threading.Event) -> None:
        started = time.monotonic()
        pending = list(timeline)
        # Anything: a server being restarted right now, or a lost race.
        breaker = Breaker(plan, log, direct_urls, expected=(Exception,))
        headers = {"Authorization": f"Token {world.buyers[-1].token}"}
        crashed_at = 0.0
        with httpx.Client(base_url=server.base_url, timeout=10, verify=harness.DEFAULT_VERIFY) as probe:
            while not stop.wait(0.1):
                now = time.monotonic()
                if pending and now >= started + pending[0][0] * plan.seconds:
                    _at, event = pending.pop(0)
                    if event == "crash_app":
                        topology.run("kill", app)
                        crashed_at = time.monotonic()
                        log.events.append(f"{app} SIGKILLed (master and workers) at {crashed_at - started:.1f} s")
                        # nginx learns on the first refused connection and routes around it.
                        for _ in range(5):
                            log.probe(f"{app} down", _probe_once(probe, "/api/v1/orders/", headers))
                    elif event == "start_app":
                        topology.run("start", app)
                        log.app_down_seconds = time.monotonic() - crashed_at
                        log.events.append(f"{app} started again at {time.monotonic() - started:.1f} s")
                    elif event == "restart_pg":
                        _restart_pg(topology, probe, headers, log, domain=domain, outage=plan.outage, started=started)
                    elif event == "restart_bouncer":
                        _restart_bouncer(topology, probe, headers, log, started=started)
                    breaker.postpone_kill()
                    continue
                breaker.tick(server, now)
        # A run shorter than the timeline still leaves every part running.
        for _at, event in pending:
            if event == "start_app":
                topology.run("start", app)

    return chaos


def _restart_pg(topology, probe, headers, log, *, domain: str, outage: float, started: float) -> None:
    stopped = time.monotonic()
    topology.run("stop", f"pg:{domain}")
    log.events.append(f"PostgreSQL {domain} stopped at {stopped - started:.1f} s")
    while time.monotonic() - stopped < outage:
        log.probe(f"{domain} PostgreSQL down", _probe_once(probe, "/api/v1/orders/", headers))
        time.sleep(0.2)
    topology.run("start", f"pg:{domain}")
    log.pg_outage_seconds = time.monotonic() - stopped
    log.pg_recovery_seconds = _wait_healthy(probe)
    log.events.append(f"PostgreSQL {domain} back after {log.pg_outage_seconds:.1f} s")


def _restart_bouncer(topology, probe, headers, log, *, started: float) -> None:
    """Restart every PgBouncer (SIGTERM: immediate shutdown, clients disconnected) and probe while it happens."""
    done = threading.Event()

    def probe_loop() -> None:
        with httpx.Client(base_url=probe.base_url, timeout=10, verify=harness.DEFAULT_VERIFY) as own:
            while not done.is_set():
                log.probe("PgBouncer restarting", _probe_once(own, "/api/v1/orders/", headers))
                time.sleep(0.05)

    thread = threading.Thread(target=probe_loop, daemon=True)
    thread.start()
    began = time.monotonic()
    try:
        topology.run("restart", "pgbouncer")
    finally:
        log.bouncer_gap_seconds = time.monotonic() - began
        done.set()
        thread.join(timeout=15)
    log.bouncer_recovery_seconds = _wait_healthy(probe)
    log.events.append(f"every PgBouncer restarted at {began - started:.1f} s")


def run_chaos(
    *,
    target: RemoteServer,
    plan: ChaosPlan,
    clients: int,
    fault_probability: float,
    max_requests: int | None = None,
    app_faults: bool = True,
):
    """bench.chaos --target: the stampede on the topology while it is broken (make_topology_chaos), with the
    in-app fault points armed on both app servers (restarted with fault injection on, and without it afterwards)."""
    plain = target.topology or Topology()
    armed = Topology(
        plain.ctl,
        extra_env={
            "TR_APP_ENV_FAULT_INJECTION_ENABLED": "true",
            "TR_APP_ENV_TICKETREMASTER_FAULTS": faults_spec(fault_probability),
        }
        if app_faults
        else {},
    )
    apps = sorted(plain.status()["apps"])
    log = TopologyChaosLog()
    if app_faults:
        for app in apps:
            armed.run("restart", app)
    target.topology = armed
    try:
        result = stampede_under(
            make_topology_chaos(topology=armed, log=log, plan=plan),
            plan=plan,
            clients=clients,
            max_requests=max_requests,
            title=f"Chaos on {target.base_url}",
            target=target,
        )
    finally:
        target.topology = plain
        if app_faults:
            for app in apps:
                plain.run("restart", app)
    result.extra.update(log.summary())
    for note in log.notes[:5]:
        result.extra.setdefault("notes", [])
        result.extra["notes"].append(note)
    # What each probe may see: while one domain's PostgreSQL is down, only the announced 503 of an orders endpoint;
    # while PgBouncer restarts, a normal answer or that 503; while an app server is down, normal answers (nginx
    # sends everything to the other one), never nginx's 503 SERVICE_UNAVAILABLE.
    allowed = {
        "orders PostgreSQL down": {"503 DATABASE_UNAVAILABLE"},
        "PgBouncer restarting": {"200 OK", "503 DATABASE_UNAVAILABLE"},
        # (a 502 UPSTREAM_UNAVAILABLE only when a worker of the other server was SIGKILLed under that very request)
        "app2 down": {"200 OK", "502 UPSTREAM_UNAVAILABLE"},
    }
    for phase, counts in log.probes.items():
        wrong = {answer: n for answer, n in counts.items() if answer not in allowed.get(phase, set())}
        if wrong:
            result.anomalies.append(f"while {phase} the API answered {dict(counts)}")
    if not log.probes.get("orders PostgreSQL down"):
        result.anomalies.append("no probe answer while the orders PostgreSQL was down")
    if log.pg_recovery_seconds >= 60 or log.bouncer_recovery_seconds >= 60:
        result.anomalies.append("the service did not recover within 60 s")
    return result, log
