"""The performance scenarios, driven over HTTP against a real gunicorn server (bench/harness.py).

Every scenario returns a :class:`Result`: its figures, the goals with a verdict each, the harness's latency/error
table, and the server-side query counts and server times read from the ``X-Query-Count`` / ``X-Server-Time-Ms``
headers (the server runs ``bench.settings`` with ``BENCH_QUERY_COUNT=1``).
"""

from __future__ import annotations

import functools
import os
import random
import statistics
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import harness
from bench.dataset import DataSet
from bench.middleware import (
    QUERY_ALIASES_HEADER,
    QUERY_COUNT_HEADER,
    SERVER_TIME_HEADER,
    WRITE_TRANSACTIONS_HEADER,
)

# 409s an on-sale is expected to answer: somebody else got the seat first, or the zone is (nearly) sold out.
ONSALE_EXPECTED_CODES = frozenset({"SEAT_UNAVAILABLE", "NOT_ENOUGH_SEATS"})


@dataclass
class Goal:
    name: str
    target: str
    figure: str
    met: bool


@dataclass
class Result:
    scenario: str
    figures: dict[str, Any] = field(default_factory=dict)
    goals: list[Goal] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    server: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # correctness failures (not missed speed goals)
    profile: str = ""  # bench/profile.py summary when the run was profiled

    def goal(self, name: str, target: str, figure: str, met: bool) -> None:
        self.goals.append(Goal(name, target, figure, met))

    @property
    def correct(self) -> bool:
        return not self.problems


class ServerMetrics:
    """Per operation: queries per request (total and by database) and server time, from the response headers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.queries: dict[str, list[int]] = defaultdict(list)
        self.writes: dict[str, list[int]] = defaultdict(list)
        self.server_ms: dict[str, list[float]] = defaultdict(list)
        self.aliases: dict[str, Counter] = defaultdict(Counter)
        # HTTP status -> answers, and the first Location of a redirect: a read scenario measures only 200s.
        self.statuses: dict[str, Counter] = defaultdict(Counter)
        self.redirected_to: dict[str, str] = {}
        self.cpu: dict[str, float] = {}  # CpuMeter.per(requests, "request") of the measured requests

    def record(self, operation: str, response) -> None:
        count = response.headers.get(QUERY_COUNT_HEADER)
        server = response.headers.get(SERVER_TIME_HEADER)
        by_alias = response.headers.get(QUERY_ALIASES_HEADER, "")
        writes = response.headers.get(WRITE_TRANSACTIONS_HEADER)
        with self._lock:
            self.statuses[operation][response.status_code] += 1
            if 300 <= response.status_code < 400:
                self.redirected_to.setdefault(operation, response.headers.get("Location", ""))
            if writes is not None:
                self.writes[operation].append(int(writes))
            if count is not None:
                self.queries[operation].append(int(count))
                self.aliases[operation][by_alias] += 1
            if server is not None:
                self.server_ms[operation].append(float(server))

    def not_ok(self) -> list[str]:
        """Every answer other than 200, by operation: a redirect or an error is not the page a read goal is about."""
        problems = []
        for operation, statuses in sorted(self.statuses.items()):
            others = {status: count for status, count in sorted(statuses.items()) if status != 200}
            if others:
                where = self.redirected_to.get(operation)
                problems.append(
                    f"{operation}: answers other than 200: {others}" + (f" (redirected to {where})" if where else "")
                )
        return problems

    def summary(self) -> dict[str, dict[str, Any]]:
        out = {}
        for operation in sorted(set(self.queries) | set(self.server_ms)):
            queries = self.queries.get(operation, [])
            writes = self.writes.get(operation, [])
            times = sorted(self.server_ms.get(operation, []))
            out[operation] = {
                "queries_median": statistics.median(queries) if queries else None,
                "queries_max": max(queries) if queries else None,
                "queries_by_db": self.aliases[operation].most_common(1)[0][0] if self.aliases[operation] else "",
                "write_transactions_median": statistics.median(writes) if writes else None,
                "server_p50_ms": round(harness.percentile(times, 0.50), 2),
                "server_p95_ms": round(harness.percentile(times, 0.95), 2),
                "server_p99_ms": round(harness.percentile(times, 0.99), 2),
            }
        return out


def _cpu_seconds(pid: int) -> float:
    """user + system CPU time of one process, from /proc/<pid>/stat (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _postgres_backends() -> list[int]:
    """The PostgreSQL backends serving this run's databases (their process title names the database)."""
    from django.db import connections

    names = {connections[alias].settings_dict["NAME"] for alias in connections}
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres: ") and len(title.split()) > 2 and title.split()[2] in names:
            pids.append(int(entry.name))
    return pids


class CpuMeter:
    """CPU seconds spent by the gunicorn workers, by this run's PostgreSQL backends and by the load generator.

    On two shared cores, throughput is bounded by CPU per request; these figures say where it goes, whatever else
    the machine is doing at the time. Processes are sampled every 0.2 s, so a backend that ends during the run
    (a connection past CONN_MAX_AGE) still counts with its last reading, and one that starts counts from zero.
    """

    def __init__(self, server: harness.Server) -> None:
        self.server = server
        self._stop = threading.Event()

    def _read(self, *, find_backends: bool = True) -> dict[int, float]:
        if find_backends or not self._backends:
            self._backends = _postgres_backends()
        readings = {pid: _cpu_seconds(pid) for pid in self.server.worker_pids()}
        readings.update({-pid: _cpu_seconds(pid) for pid in self._backends})
        return {key: value for key, value in readings.items() if value > 0}

    def _sample(self) -> None:
        # Looking for new backends walks all of /proc: every 2 s is enough (a backend lives for CONN_MAX_AGE). The
        # sampler's own CPU is measurement, not load generation: it is taken out of the load generator's figure.
        started = time.thread_time()
        ticks = 0
        while not self._stop.wait(0.2):
            ticks += 1
            self.last.update(self._read(find_backends=ticks % 10 == 0))
        self.sampler_cpu = time.thread_time() - started

    def __enter__(self) -> CpuMeter:
        self._backends: list[int] = []
        self.sampler_cpu = 0.0
        self.first = self._read()
        self.last = dict(self.first)
        self.load_start = time.process_time()
        self.wall = time.perf_counter()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self.last.update(self._read())
        self.wall = time.perf_counter() - self.wall
        used = {key: value - self.first.get(key, 0.0) for key, value in self.last.items()}
        self.workers = sum(value for key, value in used.items() if key > 0)
        self.postgres = sum(value for key, value in used.items() if key < 0)
        self.load = time.process_time() - self.load_start - self.sampler_cpu

    def per(self, units: int, label: str) -> dict[str, float]:
        units = max(units, 1)
        return {
            f"cpu_ms_per_{label}_django": round(self.workers * 1000 / units, 2),
            f"cpu_ms_per_{label}_postgres": round(self.postgres * 1000 / units, 2),
            f"cpu_ms_per_{label}_load_generator": round(self.load * 1000 / units, 2),
            "cores_busy_django": round(self.workers / self.wall, 2) if self.wall else 0.0,
            "cores_busy_postgres": round(self.postgres / self.wall, 2) if self.wall else 0.0,
        }


def _each_once(items: list) -> Callable[[], Any]:
    """A ``take()`` the client threads share: the next item of ``items`` (each one to one client), then None."""
    remaining = iter(items)
    lock = threading.Lock()

    def take() -> Any:
        with lock:
            return next(remaining, None)

    return take


def call(client: harness.Client, metrics: ServerMetrics, operation: str, method: str, path: str, **kwargs):
    response = client.request(operation, method, path, **kwargs)
    if response is not None:
        metrics.record(operation, response)
    return response


def _unexpected(stats: harness.Stats, expected: frozenset[str]) -> dict[str, int]:
    return {code: count for code, count in stats.codes().items() if code not in expected}


def _check_invariants(result: Result) -> None:
    """The RELIABILITY engineer's auditor (``manage.py check_invariants``), strict: no grace period."""
    from ops import invariants

    report = invariants.check_all(grace_seconds=0)
    result.figures["invariants_s"] = round(report.elapsed_s, 2)
    result.figures["invariants"] = "ok" if report.ok else dict(report.counts)
    if not report.ok:
        details = "; ".join(f"{v.check}: {v.detail} {v.ids}" for v in report.violations[:5])
        result.problems.append(f"check_invariants failed: {dict(report.counts)} ({details})")


def _status_counts(event_id: uuid.UUID) -> dict[str, dict[str, int]]:
    from inventory import selectors as inventory_selectors

    return {str(k): dict(v) for k, v in inventory_selectors.section_availability(event_id=event_id).items()}


# --- On-sale -----------------------------------------------------------------------------------------------------
class SeatPool:
    """The load process's (slightly stale) picture of free seats in the hot zone, shared by the clients.

    A client picking seats on the map takes them out of the picture; best-available holds happen on the server
    only, so explicit picks still run into seats someone else holds, as on a real on-sale.
    """

    def __init__(self, seat_ids: list[str], seed: int) -> None:
        self._ids = list(seat_ids)
        self._lock = threading.Lock()
        self._random = random.Random(seed)

    def take(self, quantity: int) -> list[str]:
        with self._lock:
            if len(self._ids) < quantity:
                return []
            picked = []
            for _ in range(quantity):
                index = self._random.randrange(len(self._ids))
                self._ids[index], self._ids[-1] = self._ids[-1], self._ids[index]
                picked.append(self._ids.pop())
            return picked


def onsale(server: harness.Server, data: DataSet, *, clients: int, seconds: float, seed: int = 7) -> Result:
    """64 buyers hold 1-4 seats (half picked on the map, half best-available) and pay, until the zone is sold out."""
    from inventory import selectors as inventory_selectors

    result = Result("onsale")
    event_id, section_id = data.stadium_event_id, data.hot_section_id
    seat_ids = [str(seat["id"]) for seat in inventory_selectors.seat_map(event_id=event_id, section_id=section_id)]
    zone = len(seat_ids)
    pool = SeatPool(seat_ids, seed)
    stats, metrics = harness.Stats(), ServerMetrics()
    lock = threading.Lock()
    confirmed = {"orders": 0, "seats": 0}
    sold_seat_ids: set[str] = set()
    max_quantity = [4] * clients
    rngs = [random.Random(seed * 1000 + index) for index in range(clients)]
    holds_path = f"/api/v1/events/{event_id}/holds/"

    def buyer(index: int, client: harness.Client) -> str | None:
        rng = rngs[index]
        quantity = rng.randint(1, max_quantity[index])
        picked = pool.take(quantity) if rng.random() < 0.5 else []
        body = {"seat_ids": picked} if picked else {"section_id": str(section_id), "quantity": quantity}
        hold = call(client, metrics, "hold", "POST", holds_path, json=body)
        if hold is None or hold.status_code >= 400:
            code = harness.error_code(hold) if hold is not None else None
            if code == "NOT_ENOUGH_SEATS" and not picked:
                if quantity == 1:
                    return "done"  # nothing left for anyone (or held by buyers about to pay)
                max_quantity[index] = max(1, quantity - 1)
            return None
        checkout = call(
            client,
            metrics,
            "checkout",
            "POST",
            "/api/v1/orders/",
            json={"event_id": str(event_id)},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        if checkout is not None and checkout.status_code in (200, 201):
            lines = checkout.json().get("lines", [])
            with lock:
                confirmed["orders"] += 1
                confirmed["seats"] += len(lines)
                for line in lines:
                    seat = str(line.get("seat_id") or line.get("seat", {}).get("id"))
                    if seat in sold_seat_ids:
                        result.problems.append(f"seat {seat} confirmed in two orders")
                    sold_seat_ids.add(seat)
        else:
            # Never leave seats stuck in a hold the client gave up on.
            call(client, metrics, "release", "POST", "/api/v1/holds/release/", json={})
        return None

    with CpuMeter(server) as cpu:
        harness.run_clients(
            buyer,
            clients=clients,
            base_url=server.base_url,
            stats=stats,
            seconds=seconds,
            token_for=lambda index: data.buyers[index].token,
        )
    elapsed = stats.elapsed()
    result.figures.update(cpu.per(confirmed["orders"], "purchase"))
    counts = _status_counts(event_id).get(str(section_id), {})
    sold = counts.get("SOLD", 0)
    rate = confirmed["orders"] / elapsed if elapsed else 0.0
    checkout_p99 = stats.operations["checkout"].summary()["p99_ms"]
    hold_p99 = stats.operations["hold"].summary()["p99_ms"]
    unexpected = _unexpected(stats, ONSALE_EXPECTED_CODES)
    result.figures.update(
        {
            "zone_seats": zone,
            "confirmed_orders": confirmed["orders"],
            "confirmed_seats": confirmed["seats"],
            "seats_sold_in_db": sold,
            "elapsed_s": round(elapsed, 2),
            "purchases_per_s": round(rate, 1),
            "hold_p99_ms": hold_p99,
            "checkout_p99_ms": checkout_p99,
            "codes": dict(stats.codes()),
            "server_errors": stats.server_errors,
        }
    )
    if sold != confirmed["seats"]:
        result.problems.append(f"{sold} seats SOLD in the database but {confirmed['seats']} confirmed to buyers")
    if sold > zone:
        result.problems.append(f"oversold: {sold} sold of {zone}")
    if unexpected:
        result.problems.append(f"unexpected errors: {unexpected}; samples: {stats.server_error_samples[:3]}")
    result.goal("purchases/s", ">= 200", f"{rate:.1f}", rate >= 200)
    worst = max(checkout_p99, hold_p99)
    result.goal("on-sale p99 (hold, checkout)", "< 250 ms", f"{hold_p99:.0f} / {checkout_p99:.0f} ms", worst < 250)
    result.goal("oversold", "0", str(max(0, sold - zone)), sold <= zone and sold == confirmed["seats"])
    result.goal("sold out", f"{zone}", f"{sold}", sold == zone)
    result.goal("errors other than expected 409s", "0", str(sum(unexpected.values())), not unexpected)
    result.tables.append(stats.table())
    result.server = metrics.summary()
    _check_invariants(result)
    return result


# --- Gate --------------------------------------------------------------------------------------------------------
def gate(server: harness.Server, data: DataSet, *, clients: int) -> Result:
    """32 gate devices scan each of 5,000 valid tickets once, then every ticket again (all DUPLICATE)."""
    from inventory import selectors as inventory_selectors
    from inventory import services as inventory_services

    result = Result("gate")
    tickets = data.big_tickets[: data.size.gate_tickets]
    started = time.perf_counter()
    # Each phone shows a code issued a moment before it is scanned (the ticket page rotates it every minute): the
    # QR version is read once, and every scan signs a fresh token in the load process, with no database access.
    seats = inventory_selectors.seats_get_many(seat_ids=[seat for seat, _ in tickets])
    tokens = [
        functools.partial(
            inventory_services.qr_token_make, seat_id=seat, owner_id=owner, qr_version=seats[seat].qr_version
        )
        for seat, owner in tickets
    ]
    result.figures["tokens_prepared_s"] = round(time.perf_counter() - started, 2)
    metrics = ServerMetrics()
    passes = {}
    for label, expected in (("scan", "SUCCESS"), ("rescan", "DUPLICATE")):
        with CpuMeter(server) as cpu:
            stats, results = _gate_pass(server, data, tokens, label=label, clients=clients, metrics=metrics)
        result.figures[f"{label}_cpu"] = cpu.per(len(tokens), "scan")
        elapsed = stats.elapsed()
        summary = stats.operations[label].summary()
        passes[label] = {
            "scans": sum(results.values()),
            "results": dict(results),
            "elapsed_s": round(elapsed, 2),
            "scans_per_s": round(sum(results.values()) / elapsed, 1) if elapsed else 0.0,
            "p50_ms": summary["p50_ms"],
            "p99_ms": summary["p99_ms"],
        }
        if results.get(expected, 0) != len(tokens):
            result.problems.append(f"{label}: {results.get(expected, 0)} {expected} of {len(tokens)}: {dict(results)}")
        if stats.server_errors or stats.transport_errors:
            result.problems.append(f"{label}: {stats.server_errors} 5xx, {stats.transport_errors} transport errors")
        result.tables.append(stats.table())
    checked_in = sum(section.get("CHECKED_IN", 0) for section in _status_counts(data.big_event_id).values())
    if checked_in != len(tokens):
        result.problems.append(f"{checked_in} seats CHECKED_IN after {len(tokens)} admissions")
    total_scans = sum(p["scans"] for p in passes.values())
    total_time = sum(p["elapsed_s"] for p in passes.values())
    rate = total_scans / total_time if total_time else 0.0
    worst_p99 = max(p["p99_ms"] for p in passes.values())
    result.figures.update({"tickets": len(tokens), "passes": passes, "scans_per_s": round(rate, 1)})
    result.goal("scans/s (both passes)", ">= 600", f"{rate:.0f}", rate >= 600)
    result.goal("scan p99", "< 50 ms", f"{worst_p99:.1f} ms", worst_p99 < 50)
    successes = passes["scan"]["results"].get("SUCCESS", 0) + passes["rescan"]["results"].get("SUCCESS", 0)
    result.goal("SUCCESS per ticket", "exactly 1", f"{successes}/{len(tokens)}", successes == len(tokens))
    result.server = metrics.summary()
    _check_invariants(result)
    return result


def _gate_pass(
    server: harness.Server, data: DataSet, tokens: list, *, label: str, clients: int, metrics: ServerMetrics
) -> tuple[harness.Stats, Counter]:
    """Every token scanned once, spread over ``clients`` devices taking the next token from a shared queue."""
    stats = harness.Stats()
    results: Counter = Counter()
    take = _each_once(tokens)
    lock = threading.Lock()

    def device(index: int, client: harness.Client) -> str | None:
        make_token = take()
        if make_token is None:
            return "done"
        token = make_token(issued_at=int(time.time()))
        body = {"event_id": str(data.big_event_id), "gate": f"Gate {index % 8}", "token": token}
        response = call(client, metrics, label, "POST", "/api/v1/scan/", json=body)
        if response is not None:
            try:
                outcome = response.json().get("result", f"HTTP_{response.status_code}")
            except ValueError:
                outcome = f"HTTP_{response.status_code}"
            with lock:
                results[outcome] += 1
        return None

    harness.run_clients(
        device,
        clients=clients,
        base_url=server.base_url,
        stats=stats,
        seconds=600,
        token_for=lambda index: data.gate_staff[index % len(data.gate_staff)].token,
    )
    return stats, results


# --- Reads: seat map, availability, dashboard ---------------------------------------------------------------------
def _timed_gets(
    server: harness.Server,
    *,
    operation: str,
    paths: list[str],
    clients: int,
    token: str | None = None,
    cookies: dict[str, str] | None = None,
    warm_up: bool = True,
) -> tuple[harness.Stats, ServerMetrics, list]:
    stats, metrics = harness.Stats(), ServerMetrics()
    if warm_up:
        # The first requests of a kind pay for lazy imports and cold caches in each worker: not timed, but their
        # statuses count (a redirect at the warm-up is a redirect of every request).
        _, warm, _ = _timed_gets(
            server, operation=operation, paths=paths[:16], clients=clients, token=token, cookies=cookies, warm_up=False
        )
        metrics.statuses.update(warm.statuses)
        metrics.redirected_to.update(warm.redirected_to)
    take = _each_once(paths)
    samples: list = []

    def reader(index: int, client: harness.Client) -> str | None:
        path = take()
        if path is None:
            return "done"
        if cookies:
            client.http.cookies.update(cookies)
        response = call(client, metrics, operation, "GET", path)
        if response is not None and len(samples) < 1:
            samples.append(response)
        return None

    with CpuMeter(server) as meter:
        harness.run_clients(
            reader, clients=clients, base_url=server.base_url, stats=stats, seconds=300, token_for=lambda index: token
        )
    metrics.cpu = meter.per(stats.attempts, "request")
    return stats, metrics, samples


# The read goals are latencies: measured with as many concurrent readers as the machine has cores, so the figure is
# the request's own time, not time spent queueing behind other readers for a CPU.
READ_CLIENTS = os.cpu_count() or 2


def seatmap(server: harness.Server, data: DataSet, *, requests: int) -> Result:
    """Availability of one 1,000-seat section (the seat map) and of the whole 80,000-seat event."""
    from inventory import selectors as inventory_selectors

    result = Result("seatmap")
    rng = random.Random(3)
    buyer = data.buyers[-1]
    event = data.big_event_id
    section_paths = [
        f"/api/v1/events/{event}/seats/?section={rng.choice(data.big_section_ids)}" for _ in range(requests)
    ]
    stats, metrics, samples = _timed_gets(
        server, operation="seat_map", paths=section_paths, clients=READ_CLIENTS, token=buyer.token
    )
    event_paths = [f"/api/v1/events/{event}/sections/" for _ in range(max(requests // 4, 5))]
    stats2, metrics2, samples2 = _timed_gets(
        server, operation="event_availability", paths=event_paths, clients=READ_CLIENTS, token=buyer.token
    )
    server_figures = {**metrics.summary(), **metrics2.summary()}
    section_p50 = server_figures.get("seat_map", {}).get("server_p50_ms", 0.0)
    event_p50 = server_figures.get("event_availability", {}).get("server_p50_ms", 0.0)
    seats_in_answer = _count_items(samples[0]) if samples else 0
    selector_section = harness.median_ms(
        lambda: inventory_selectors.seat_map(event_id=event, section_id=data.big_section_ids[0]), 30
    )
    selector_event = harness.median_ms(lambda: inventory_selectors.section_availability(event_id=event), 10)
    result.figures.update(
        {
            "section_seats": data.size.big_section_capacity,
            "seats_in_one_answer": seats_in_answer,
            "event_seats": data.size.big_capacity,
            "section_server_p50_ms": section_p50,
            "event_server_p50_ms": event_p50,
            "section_selector_ms": round(selector_section, 2),
            "event_selector_ms": round(selector_event, 2),
            "seat_map_cpu": metrics.cpu,
            "event_availability_cpu": metrics2.cpu,
        }
    )
    for stats_, label in ((stats, "seat map"), (stats2, "event availability")):
        if stats_.codes() or stats_.server_errors:
            result.problems.append(f"{label}: errors {dict(stats_.codes())}")
    result.problems += metrics.not_ok() + metrics2.not_ok()
    result.goal("1,000-seat section seat map, p50 server time", "< 5 ms", f"{section_p50:.2f} ms", section_p50 < 5)
    result.goal("80,000-seat event availability, p50 server time", "< 30 ms", f"{event_p50:.2f} ms", event_p50 < 30)
    result.tables += [stats.table(), stats2.table()]
    result.server = server_figures
    _check_invariants(result)
    return result


def _count_items(response) -> int:
    try:
        body = response.json()
    except ValueError:
        return 0
    if isinstance(body, list):
        return len(body)
    if isinstance(body, dict):
        for key in ("seats", "results"):
            if isinstance(body.get(key), list):
                return len(body[key])
    return 0


DASHBOARD_URL_NAMES = (
    "admin:events_event_dashboard",
    "admin:event_dashboard",
    "admin:events_event_sales_dashboard",
    "admin:sales_dashboard",
)


def dashboard_path(event_id: uuid.UUID) -> str | None:
    """The staff sales dashboard of one event, found by URL name (the STAFF engineer's admin view)."""
    from django.urls import NoReverseMatch, reverse

    for name in DASHBOARD_URL_NAMES:
        try:
            return reverse(name, args=[event_id])
        except NoReverseMatch:
            continue
    return None


def dashboard(server: harness.Server, data: DataSet, *, requests: int) -> Result:
    """The sales dashboard of the 80,000-seat event with 50,000 sold: the page and its selector."""
    from django.conf import settings

    from inventory import selectors as inventory_selectors

    result = Result("dashboard")
    event = data.big_event_id
    selector_ms = harness.median_ms(lambda: inventory_selectors.event_sales_summary(event_id=event), 10)
    result.figures["selector_ms"] = round(selector_ms, 2)
    sold = sum(section.get("SOLD", 0) + section.get("CHECKED_IN", 0) for section in _status_counts(event).values())
    result.figures["sold"] = sold
    path = dashboard_path(event)
    if path is None:
        result.figures["page"] = "no dashboard URL found"
        result.problems.append("no dashboard URL found: update DASHBOARD_URL_NAMES")
        result.goal("dashboard (selector, in process)", "< 50 ms", f"{selector_ms:.1f} ms", selector_ms < 50)
    else:
        stats, metrics, samples = _timed_gets(
            server,
            operation="dashboard",
            paths=[path] * max(requests // 4, 5),
            clients=READ_CLIENTS,
            cookies={settings.SESSION_COOKIE_NAME: data.manager_session},
        )
        summary = metrics.summary().get("dashboard", {})
        page_p50 = summary.get("server_p50_ms", 0.0)
        result.figures.update({"page": path, "page_server_p50_ms": page_p50})
        # What a manager's open dashboard asks for every few seconds: the table fragment (no admin chrome).
        fragment_stats, fragment_metrics, _ = _timed_gets(
            server,
            operation="dashboard_fragment",
            paths=[f"{path}?fragment=1"] * max(requests // 4, 5),
            cookies={settings.SESSION_COOKIE_NAME: data.manager_session},
            clients=READ_CLIENTS,
        )
        fragment_p50 = fragment_metrics.summary().get("dashboard_fragment", {}).get("server_p50_ms", 0.0)
        result.figures["fragment_server_p50_ms"] = fragment_p50
        result.figures["page_cpu"] = metrics.cpu
        result.figures["fragment_cpu"] = fragment_metrics.cpu
        if fragment_stats.codes() or fragment_stats.server_errors:
            result.problems.append(f"dashboard fragment answered errors: {dict(fragment_stats.codes())}")
        result.tables.append(fragment_stats.table())
        if stats.codes() or stats.server_errors:
            result.problems.append(f"dashboard page answered errors: {dict(stats.codes())}")
        # A redirect (to the login or the two-factor page) answers fast and is not the dashboard: no figure of such
        # a run counts.
        result.problems += metrics.not_ok() + fragment_metrics.not_ok()
        result.goal("dashboard page, p50 server time", "< 50 ms", f"{page_p50:.1f} ms", page_p50 < 50)
        result.goal("dashboard refresh (table fragment), p50", "< 30 ms", f"{fragment_p50:.1f} ms", fragment_p50 < 30)
        result.goal("dashboard selector, in process", "< 50 ms", f"{selector_ms:.1f} ms", selector_ms < 50)
        result.tables.append(stats.table())
        result.server = {**metrics.summary(), **fragment_metrics.summary()}
    _check_invariants(result)
    return result


def publish(data: DataSet) -> Result:
    result = Result("publish")
    seconds = data.timings.get("publish_big_s", 0.0)
    result.figures.update({"seats": data.size.big_capacity, "seconds": round(seconds, 2)})
    result.goal(f"publish {data.size.big_capacity:,} seats", "< 5 s", f"{seconds:.2f} s", seconds < 5)
    _check_invariants(result)
    return result


def memory(server: harness.Server, peak: dict[int, float]) -> Result:
    result = Result("memory")
    now = server.worker_rss_mb()
    worst_now = max(now.values(), default=0.0)
    worst_peak = max(peak.values(), default=0.0)
    result.figures.update(
        {
            "workers": len(now),
            "rss_after_onsale_mb": {str(pid): round(mb, 1) for pid, mb in now.items()},
            "peak_rss_mb": round(worst_peak, 1),
        }
    )
    result.goal(
        "worker RSS after the on-sale", "< 150 MB", f"{worst_now:.0f} MB (peak {worst_peak:.0f})", worst_now < 150
    )
    return result
