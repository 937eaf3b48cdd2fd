"""Real worker processes (``manage.py run_jobs``) against this run's test databases: a worker killed with SIGKILL
half-way through a job loses nothing, and the restarted worker finishes it with one effect."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from accounts.tests.factories import MembershipFactory, UserFactory
from core.databases import ALL_DATABASES
from core.testing import database_urls
from events.tests.factories import EventFactory, EventSectionFactory, PriceTierFactory
from inventory.models import Seat
from orders.models import StaffOperation
from orders.services import staff_operations
from orders.tests.jobs_helpers import queued_notifications

PROJECT_DIR = Path(__file__).resolve().parents[2]
PLACES = (60, 250)  # rows x seats: 15,000 places, three inventory batches


def _worker(log: Path, *, stalled_after: int, faults: str = "") -> subprocess.Popen:
    env = {
        **os.environ,
        **database_urls(),
        "DJANGO_SETTINGS_MODULE": "ticketremaster.settings_test",
        "JOBS_STALLED_AFTER_SECONDS": str(stalled_after),
        "TICKETREMASTER_FAULTS": faults,
    }
    return subprocess.Popen(  # noqa: S603 - our own command line
        [sys.executable, "manage.py", "run_jobs", "--concurrency", "1", "--queue", "operations"],
        cwd=PROJECT_DIR,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )


def _operation() -> StaffOperation:
    return StaffOperation.objects.using("orders").get()


def _wait(condition, *, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.integration
@pytest.mark.django_db(databases=ALL_DATABASES, transaction=True)
def test_a_worker_killed_mid_job_and_restarted_completes_the_job_once(tmp_path):
    manager = UserFactory(is_staff=True)
    event = EventFactory(status="DRAFT")
    MembershipFactory(user=manager, organization_id=event.organization_id, role="MANAGER")
    tier = PriceTierFactory(event=event)
    EventSectionFactory(event=event, tier=tier, section__rows=PLACES[0], section__seats_per_row=PLACES[1])
    total = PLACES[0] * PLACES[1]
    operation, _ = staff_operations.staff_operation_start(kind="PUBLISH", event_id=event.pk, actor_id=manager.pk)

    # The first worker SIGKILLs itself once part of the places are committed: a crash mid-job, at a known point
    # however fast the machine is.
    first = _worker(tmp_path / "first.log", stalled_after=2, faults="staff_operation.part_done=kill")
    try:
        first.wait(timeout=120)
    finally:
        if first.poll() is None:
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=30)
    assert first.returncode == -signal.SIGKILL, (tmp_path / "first.log").read_text()
    killed_at = _operation()
    assert killed_at.status == "RUNNING" and killed_at.done < total
    assert 0 < Seat.objects.using("seats").filter(event_id=event.pk).count() < total  # half-way: some places exist

    time.sleep(3)  # the dead worker's heartbeat is older than JOBS_STALLED_AFTER_SECONDS now
    second = _worker(tmp_path / "second.log", stalled_after=2)
    try:
        _wait(lambda: _operation().status == "SUCCEEDED", seconds=180, what="the publish to finish")
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=60)

    done = _operation()
    assert (done.done, done.total, done.errors) == (total, total, 0)
    assert Seat.objects.using("seats").filter(event_id=event.pk).count() == total  # every place once
    assert event.__class__.objects.using("events").get(pk=event.pk).status == "PUBLISHED"
    summaries = queued_notifications("STAFF_SUMMARY")
    assert [n["object_id"] for n in summaries].count(str(operation.id)) == 1  # one summary for one operation
