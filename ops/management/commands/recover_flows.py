"""Finish or undo cross-database flows (purchases, transfers, resales) a crash interrupted.

    python manage.py recover_flows [--older-than SECONDS] [--quiet]

Safe to run at any time and as often as you like (cron, a systemd timer, at start-up): a flow that a live worker is
driving holds its flow lock and is skipped, and every step is idempotent, so a second run changes nothing.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core import metrics
from orders.services.flows import RECOVERY_GRACE_SECONDS
from orders.services.recovery import RECOVERERS


class Command(BaseCommand):
    help = "Finish or undo purchases, transfers and resales that a crash left half done."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            type=int,
            default=RECOVERY_GRACE_SECONDS,
            metavar="SECONDS",
            help=f"Only flows untouched for this long (default {RECOVERY_GRACE_SECONDS}); younger ones may be live.",
        )
        parser.add_argument("--quiet", action="store_true", help="Print nothing unless something went wrong.")

    def handle(self, *args, older_than: int, quiet: bool, **options) -> None:
        if older_than < 0:
            raise CommandError("--older-than must be 0 or more seconds.")
        failures = 0
        for recoverer in RECOVERERS:
            report = recoverer(older_than_seconds=older_than)
            fields = dict(report) if isinstance(report, dict) else dict(vars(report))
            name = fields.pop("name", None) or getattr(recoverer, "__name__", "flow")
            errors = list(fields.pop("errors", None) or [])
            values = fields
            failures += len(errors)
            metrics.record_recovery(name, {**values, "errors": len(errors)})
            if not quiet:
                summary = ", ".join(f"{key}={value}" for key, value in values.items())
                self.stdout.write(f"{name}: {summary}")
            for error in errors:
                self.stderr.write(f"{name}: {error}")
        metrics.record_recovery_run()
        if failures:
            raise CommandError(f"{failures} flow(s) could not be recovered; see above. Run again once fixed.")
