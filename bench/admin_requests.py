"""How long the staff admin's requests take on an 80,000-place event: every changelist, the event's change page, the
publish and cancel pages (GET and the POST that queues the job), the live progress page and its JSON, the sales
dashboard. The goal: no admin request over 2 s at that size (docs/JOBS.md, docs/PERFORMANCE.md).

    python -m bench.admin_requests                 # 80,000 places, 5,000 of them sold in 100 orders
    python -m bench.admin_requests --sold 50000    # the benchmark's sold-out arena (1,000 orders; takes longer)

Fresh databases of its own on the configured server (like ``bench.run``), dropped afterwards unless --keep-data.
Requests go through Django's full stack in this process (middleware, sessions, the admin), without a network
hop: the figures are server time, and the CPU time of this process (the web side, without PostgreSQL's) shows
what of it is the machine's load. Each page is asked for --repeat times; the table gives the median and the
slowest, and the statements per database of the last request. The jobs (publish, cancel and refund) run in this
process as a worker would, between the requests, and their time is reported apart: it is not request time.
"""

from __future__ import annotations

import argparse
import dataclasses
import secrets
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from bench import harness

if TYPE_CHECKING:
    from django.test import Client

GOAL_SECONDS = 2.0


@dataclasses.dataclass
class Timing:
    name: str
    path: str
    method: str
    status: int
    median_ms: float
    max_ms: float
    cpu_ms: float
    queries: dict[str, int]


def _timed(client, name: str, path: str, *, repeat: int, method: str = "get", data: dict | None = None) -> Timing:
    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    from core.databases import ALL_DATABASES

    samples = []
    cpu = []
    status = 0
    counts: dict[str, int] = {}
    for _ in range(repeat if method == "get" else 1):
        contexts = {alias: CaptureQueriesContext(connections[alias]) for alias in ALL_DATABASES}
        for context in contexts.values():
            context.__enter__()
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.post(path, data or {}) if method == "post" else client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        for context in contexts.values():
            context.__exit__(None, None, None)
        status = response.status_code
        counts = {alias: len(context) for alias, context in contexts.items() if len(context)}
    median = statistics.median(samples)
    return Timing(name, path, method.upper(), status, median, max(samples), statistics.median(cpu), counts)


def _changelists(client, repeat: int) -> list[Timing]:
    from django.contrib import admin
    from django.urls import reverse

    timings = []
    for model in sorted(admin.site._registry, key=lambda m: (m._meta.app_label, m._meta.model_name)):
        path = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        timings.append(
            _timed(client, f"changelist {model._meta.app_label}.{model._meta.model_name}", path, repeat=repeat)
        )
    return timings


def _run_queued_operations() -> float:
    """Run the queued staff operations' job bodies as a worker would; returns the seconds they took."""
    from django.db import connections

    from core.jobs import JOBS_DATABASE
    from orders.services import staff_operations

    started = time.perf_counter()
    with connections[JOBS_DATABASE].cursor() as cursor:
        cursor.execute(
            "SELECT id, args->>'operation_id' FROM procrastinate_jobs WHERE status = 'todo' AND task_name = %s",
            [staff_operations.RUN_TASK],
        )
        jobs = cursor.fetchall()
    for job_id, operation_id in jobs:
        staff_operations.staff_operation_execute(operation_id=uuid.UUID(operation_id))
        with connections[JOBS_DATABASE].cursor() as cursor:
            cursor.execute("UPDATE procrastinate_jobs SET status = 'succeeded' WHERE id = %s", [job_id])
    return time.perf_counter() - started


def _staff_client(user) -> Client:
    """A logged-in admin session that has passed its second factor, as a staff member's browser would have: a
    confirmed TOTP device whose id is in the session (accounts/services/two_factor.py checks both on every request)."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def measure(*, sold: int, repeat: int, log: Callable[[str], None]) -> tuple[list[Timing], dict[str, float]]:
    from django.test.utils import override_settings
    from django.urls import reverse

    from accounts.models import User
    from bench import dataset
    from orders.models import StaffOperation

    size = dataclasses.replace(
        dataset.SIZES["full"], onsale_clients=4, gate_clients=1, buyers_for_bulk_sale=4, big_sold=sold
    )
    run_id = secrets.token_hex(3)
    data = dataset.build_people(size, run_id, log)
    event_id, _sections = dataset._event_with_sections(
        data,
        title="Arena",
        sections=size.big_sections,
        rows=size.big_rows,
        seats_per_row=size.big_seats_per_row,
        price=dataset.BIG_PRICE,
    )
    data.big_event_id, data.big_section_ids = event_id, _sections
    client = _staff_client(User.objects.get(pk=data.admin.id))
    jobs: dict[str, float] = {}
    timings: list[Timing] = []
    with override_settings(ALLOWED_HOSTS=["*"]):
        publish = reverse("admin:events_event_publish", args=[event_id])
        timings.append(_timed(client, "publish page", publish, repeat=repeat))
        timings.append(_timed(client, "publish: queue the job", publish, repeat=1, method="post"))
        operation = StaffOperation.objects.using("orders").get(event_id=event_id, kind="PUBLISH")
        progress = reverse("admin:events_event_operation", kwargs={"object_id": event_id, "operation_id": operation.pk})
        timings.append(_timed(client, "progress page (queued)", progress, repeat=repeat))
        jobs["publish 80,000 places (job)"] = _run_queued_operations()
        log(f"  publish job: {jobs['publish 80,000 places (job)']:.1f} s")
        timings.append(_timed(client, "progress page (finished)", progress, repeat=repeat))
        timings.append(_timed(client, "progress JSON", f"{progress}?format=json", repeat=repeat))

        started = time.perf_counter()
        dataset.sell_big_event(data, log)
        jobs[f"sell {sold:,} places (setup)"] = time.perf_counter() - started
        dataset.settle(data, log)

        change = reverse("admin:events_event_change", args=[event_id])
        timings.append(_timed(client, "event change page", change, repeat=repeat))
        timings.append(
            _timed(client, "sales dashboard", reverse("admin:events_event_dashboard", args=[event_id]), repeat=repeat)
        )
        timings.extend(_changelists(client, repeat))

        cancel = reverse("admin:events_event_cancel", args=[event_id])
        timings.append(_timed(client, "cancel page", cancel, repeat=repeat))
        body = {"reason": "Bench: storm warning", "confirm": "on"}
        timings.append(_timed(client, "cancel: stop sales, queue the job", cancel, repeat=1, method="post", data=body))
        operation = StaffOperation.objects.using("orders").get(event_id=event_id, kind="CANCEL")
        progress = reverse("admin:events_event_operation", kwargs={"object_id": event_id, "operation_id": operation.pk})
        timings.append(
            _timed(client, "cancel: second press (finds the job)", cancel, repeat=1, method="post", data=body)
        )
        timings.append(_timed(client, "progress page (queued)", progress, repeat=repeat))
        jobs[f"cancel and refund {sold // dataset.BULK_ORDER_SIZE:,} orders (job)"] = _run_queued_operations()
        timings.append(_timed(client, "progress page (finished)", progress, repeat=repeat))
        timings.append(_timed(client, "event change page (cancelled)", change, repeat=repeat))
    return timings, jobs


def render(timings: list[Timing], jobs: dict[str, float], *, sold: int, activity: str) -> str:
    slowest = max(timings, key=lambda t: t.max_ms)
    lines = [
        f"80,000 places, {sold:,} sold; machine: {activity}",
        "",
        "| request | status | median ms | max ms | CPU ms (median) | statements (per database) |",
        "|---|---|---|---|---|---|",
    ]
    for timing in timings:
        queries = ", ".join(f"{alias} {count}" for alias, count in sorted(timing.queries.items()))
        label = f"{timing.method} {timing.name}"
        figures = f"{timing.median_ms:.0f} | {timing.max_ms:.0f} | {timing.cpu_ms:.0f}"
        lines.append(f"| {label} | {timing.status} | {figures} | {queries} |")
    lines += ["", "| job (not a request) | seconds |", "|---|---|"]
    lines += [f"| {name} | {seconds:.1f} |" for name, seconds in jobs.items()]
    verdict = "met" if slowest.max_ms < GOAL_SECONDS * 1000 else "MISSED"
    lines += ["", f"Slowest request: {slowest.method} {slowest.name}, {slowest.max_ms:.0f} ms: goal < 2 s {verdict}."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sold", type=int, default=5_000, help="places sold before the cancellation (50 per order)")
    parser.add_argument("--repeat", type=int, default=5, help="times each page is asked for (median and max)")
    parser.add_argument("--keep-data", action="store_true", help="keep the run's databases afterwards")
    options = parser.parse_args(argv)

    with harness.fresh_databases(secrets.token_hex(3), keep=options.keep_data):
        from bench.run import machine_activity

        activity = machine_activity()
        timings, jobs = measure(sold=options.sold, repeat=options.repeat, log=print)
        print()
        print(render(timings, jobs, sold=options.sold, activity=activity))
        slowest = max(timing.max_ms for timing in timings)
        errors = [t for t in timings if t.status >= 400]
        if errors:
            print("Requests that failed: " + ", ".join(f"{t.name} ({t.status})" for t in errors), file=sys.stderr)
        return 0 if slowest < GOAL_SECONDS * 1000 and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
