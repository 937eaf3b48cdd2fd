"""Run a job worker: the queue's jobs, and the periodic ones (flow recovery every minute, expiry, pruning...).

    python manage.py run_jobs [--concurrency N] [--queue NAME ...] [--name NAME]

At start it finishes or undoes interrupted flows and puts back the jobs of workers that died (no heartbeat), so a
crash is repaired as soon as a worker is back. SIGTERM or SIGINT stop it after its running jobs finish; SIGKILL
loses nothing either: its jobs are stalled, and the next worker (or this one restarted) runs them again.
Several workers may run at once, on one machine or many: each job is taken by one of them (FOR UPDATE SKIP LOCKED).
"""

from __future__ import annotations

import asyncio
import socket

from django.core.management.base import BaseCommand, CommandParser

from core.jobs import app
from ops.tasks import flows_recover, stalled_jobs_retry


class Command(BaseCommand):
    help = "Run a job worker (queue jobs and periodic work)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--concurrency", type=int, default=2, help="Jobs run at once by this worker (default 2).")
        parser.add_argument("--queue", action="append", dest="queues", help="Only these queues (default: all).")
        parser.add_argument("--name", default=f"worker@{socket.gethostname()}", help="Shown in logs and the admin.")

    def handle(self, *args, concurrency: int, queues: list[str] | None, name: str, **options) -> None:
        errors = flows_recover()
        if errors:
            self.stderr.write(f"{errors} flow(s) could not be recovered at start; the minutely run tries again.")
        with app.replace_connector(app.connector.get_worker_connector()) as worker_app:
            asyncio.run(self._run(worker_app, concurrency=concurrency, queues=queues, name=name))

    async def _run(self, worker_app, *, concurrency: int, queues: list[str] | None, name: str) -> None:
        async with worker_app.open_async():
            put_back = await stalled_jobs_retry(worker_app.job_manager)
            if put_back:
                self.stderr.write(f"{put_back} job(s) of dead workers queued again.")
            self.stdout.write(f"{name}: running jobs (concurrency {concurrency}, queues {queues or 'all'})")
            self.stdout.flush()
            await worker_app.run_worker_async(
                concurrency=concurrency, queues=queues, name=name, install_signal_handlers=True
            )
