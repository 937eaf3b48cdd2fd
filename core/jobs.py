"""The job queue: procrastinate on PostgreSQL, its tables in orders_db (docs/JOBS.md).

Jobs are deferred through Django's own connection to ``JOBS_DATABASE``, so a job deferred inside
``transaction.atomic(using=JOBS_DATABASE)`` exists exactly when that transaction commits: "the order is confirmed"
and "its confirmation email is queued" are one commit. Changes in the other databases record a fact in their own
outbox instead (core/outbox.py), which the relay job turns into jobs.

Every task is declared with ``RETRY`` (exponential backoff) unless it says why not, and does its work once
whatever the number of runs: its arguments name the one effect it has (a notification's (kind, object,
recipient), a staff operation's id), and that effect is guarded by a unique row.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.db import connections, transaction
from procrastinate import RetryStrategy
from procrastinate.contrib.django import app
from procrastinate.contrib.django.django_connector import DjangoConnector
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.manager import JobManager
from procrastinate.tasks import configure_task

from core.databases import JOBS_DATABASE

logger = logging.getLogger(__name__)

__all__ = [
    "JOBS_DATABASE",
    "RETRY",
    "app",
    "job_defer",
    "job_defer_with_statement",
    "job_in_transaction",
]

# 2, 4, 8 ... 4096 s between attempts: about 2.3 hours of retries before a job is left failed (and shown as
# such in the admin, where staff can retry it).
RETRY = RetryStrategy(max_attempts=12, exponential_wait=2)

# Names by which a lower layer defers a task an upper layer defines (the upper one registers it under this name).
OUTBOX_RELAY_TASK = "outbox.relay"


def job_in_transaction() -> bool:
    """True inside a transaction on the queue's database: a job deferred now commits or rolls back with it."""
    return connections[JOBS_DATABASE].in_atomic_block


def _django_job_manager() -> JobManager:
    """Defers through Django's connection to the queue database, even inside a worker.

    The worker process swaps the app's connector for its own async one; a job deferred by a running job (a
    refund's mail, queued with the refund) must still go through Django's connection, inside the ORM transaction
    it belongs to.
    """
    return JobManager(DjangoConnector(alias=JOBS_DATABASE))


def job_defer(task_name: str, *, queueing_lock: str | None = None, lock: str | None = None, **kwargs: Any) -> int:
    """Defer a task by its name: one INSERT into the queue, on the queue database's current transaction.

    The task's own queue and lock apply unless given. With a ``queueing_lock``, a job already waiting under that
    lock makes this one unnecessary: its id is not known then and 0 is returned.
    """
    app.perform_import_paths()
    task = app.tasks.get(task_name)
    deferrer = configure_task(
        name=task_name,
        job_manager=_django_job_manager(),
        queue=task.queue if task else None,
        lock=lock or (task.lock if task else None),
        queueing_lock=queueing_lock or (task.queueing_lock if task else None),
    )
    if not deferrer.job.queueing_lock:
        return deferrer.defer(**kwargs)
    try:
        # A savepoint: the refused INSERT must not abort the caller's transaction.
        with transaction.atomic(using=JOBS_DATABASE):
            return deferrer.defer(**kwargs)
    except AlreadyEnqueued:
        return 0


def job_defer_with_statement(update_sql: str, update_params: list[Any], task_name: str, **kwargs: Any) -> int:
    """Run ``update_sql`` (an UPDATE written as SQL, without RETURNING, on a table of ``JOBS_DATABASE``) and defer
    ``task_name`` for each row it changed, in one statement.

    For hot paths: instead of BEGIN, UPDATE, the queue's INSERT and COMMIT, one ``WITH changed AS (UPDATE ...
    RETURNING 1) SELECT procrastinate_defer_jobs_v1(...) FROM changed``, atomic by itself, so the job exists exactly
    when the row changed (a compare-and-set that matches nothing defers nothing). Meant for an UPDATE of one row.
    Returns how many rows changed. Tasks with a queueing lock are refused: a refused job would undo the update.
    """
    app.perform_import_paths()
    task = app.tasks.get(task_name)
    if task is not None and task.queueing_lock:
        raise ValueError(f"{task_name} has a queueing lock; use job_defer inside a transaction")
    statement = (
        f"WITH changed AS ({update_sql} RETURNING 1) "  # noqa: S608 - Django's compiled UPDATE, parameters apart
        "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(%s, %s, %s, %s, NULL, %s::jsonb, NULL)"
        "::procrastinate_job_to_defer_v1])) FROM changed"
    )
    params = [
        *update_params,
        task.queue if task else "default",
        task_name,
        task.priority if task else 0,
        task.lock if task else None,
        json.dumps(kwargs),
    ]
    with connections[JOBS_DATABASE].cursor() as cursor:
        cursor.execute(statement, params)
        return len(cursor.fetchall())
