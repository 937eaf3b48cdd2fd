"""Periodic upkeep over every domain, run by the job queue (schedule in each ``cron``; listed in docs/JOBS.md).

``run_jobs`` (ops/management/commands/run_jobs.py) also runs flow recovery and the stalled-job check once when a
worker starts, so work a crash interrupted resumes without waiting for the next minute.
"""

from __future__ import annotations

import datetime as dt
import logging

from asgiref.sync import sync_to_async
from django.conf import settings
from django.utils import timezone
from procrastinate import JobContext

from accounts import services as accounts_services
from core import jobs
from core.databases import ALL_DATABASES
from core.outbox import outbox_prune
from orders.services.flows import RECOVERY_GRACE_SECONDS
from orders.services.recovery import RECOVERERS

logger = logging.getLogger(__name__)
app = jobs.app

FINISHED_JOBS_KEPT_HOURS = 7 * 24
OUTBOX_KEPT = dt.timedelta(days=7)


def flows_recover() -> int:
    """Finish or undo purchases, transfers and resales a crash interrupted; returns how many errors were left."""
    errors = 0
    for recoverer in RECOVERERS:
        report = recoverer(older_than_seconds=RECOVERY_GRACE_SECONDS)
        fields = dict(report) if isinstance(report, dict) else dict(vars(report))
        for error in fields.get("errors") or []:
            errors += 1
            logger.error("flow recovery: %s", error)
    return errors


async def stalled_jobs_retry(job_manager) -> int:
    """Jobs whose worker died (no heartbeat) go back to the queue: each runs again, with the same idempotency."""
    stalled = list(await job_manager.get_stalled_jobs(seconds_since_heartbeat=settings.JOBS_STALLED_AFTER_SECONDS))
    for job in stalled:
        logger.warning("job %s (%s) was left by a dead worker: queued again", job.id, job.task_name)
        await job_manager.retry_job(job)
    return len(stalled)


@app.periodic(cron="* * * * *", periodic_id="flows-recover")
@app.task(name="flows.recover", queueing_lock="flows-recover")
def flows_recover_periodic(timestamp: int) -> int:
    return flows_recover()


@app.periodic(cron="* * * * *", periodic_id="jobs-stalled")
@app.task(name="jobs.retry_stalled", queueing_lock="jobs-stalled", pass_context=True)
async def stalled_jobs_periodic(context: JobContext, timestamp: int) -> int:
    return await stalled_jobs_retry(context.app.job_manager)


@app.periodic(cron="17 * * * *", periodic_id="prune")
@app.task(name="ops.prune", queueing_lock="prune", pass_context=True)
async def prune_periodic(context: JobContext, timestamp: int) -> dict[str, int]:
    """Used one-time codes, old failed logins, relayed outbox facts, and finished jobs older than a week."""
    counts = await sync_to_async(rows_prune)()
    await context.app.job_manager.delete_old_jobs(nb_hours=FINISHED_JOBS_KEPT_HOURS, include_failed=False)
    return counts


def rows_prune() -> dict[str, int]:
    cutoff = timezone.now() - OUTBOX_KEPT
    return {
        "one_time_codes": accounts_services.one_time_codes_prune(),
        "login_attempts": accounts_services.login_attempts_prune(),
        "outbox": sum(outbox_prune(using=alias, older_than=cutoff) for alias in ALL_DATABASES),
    }
