"""Reading and running the job queue in tests, without a worker process: the queued jobs' rows, and their bodies
run in this process (the worker's own behaviour is tested with real processes in test_jobs_worker.py)."""

from __future__ import annotations

import json
import uuid

from django.db import connections

from core.jobs import JOBS_DATABASE
from orders.notifications import SEND_TASK
from orders.notifications.delivery import notification_deliver
from orders.services import staff_operations


def queue_clear() -> None:
    """Empty the queue within the current test's transaction.

    The queue's tables belong to procrastinate's unmanaged models, so the flush after a transactional test
    (``transaction=True``) leaves its jobs behind; a test that counts queued jobs starts from none.
    """
    with connections[JOBS_DATABASE].cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs")


def queued(task_name: str | None = None) -> list[dict]:
    """Jobs waiting in the queue (status todo), oldest first, as {"id", "task", "args", "lock"}."""
    with connections[JOBS_DATABASE].cursor() as cursor:
        cursor.execute(
            "SELECT id, task_name, args, lock FROM procrastinate_jobs WHERE status = 'todo' "
            "AND (%s::text IS NULL OR task_name = %s) ORDER BY id",
            [task_name, task_name],
        )
        rows = cursor.fetchall()
    decode = lambda args: args if isinstance(args, dict) else json.loads(args)  # noqa: E731
    return [{"id": row[0], "task": row[1], "args": decode(row[2]), "lock": row[3]} for row in rows]


def queued_notifications(kind: str | None = None) -> list[dict]:
    return [job["args"] for job in queued(SEND_TASK) if kind is None or job["args"]["kind"] == kind]


def _done(job_id: int) -> None:
    with connections[JOBS_DATABASE].cursor() as cursor:
        cursor.execute("UPDATE procrastinate_jobs SET status = 'succeeded' WHERE id = %s", [job_id])


def send_queued_notifications() -> list[str]:
    """Run every queued notification job once, as a worker would; returns their final statuses."""
    statuses = []
    for job in queued(SEND_TASK):
        args = job["args"]
        statuses.append(
            notification_deliver(
                kind=args["kind"],
                object_id=uuid.UUID(args["object_id"]),
                recipient_id=uuid.UUID(args["recipient_id"]),
                data=args.get("data") or {},
            )
        )
        _done(job["id"])
    return statuses


def run_queued_operations() -> list[str]:
    statuses = []
    for job in queued(staff_operations.RUN_TASK):
        statuses.append(staff_operations.staff_operation_execute(operation_id=uuid.UUID(job["args"]["operation_id"])))
        _done(job["id"])
    return statuses
