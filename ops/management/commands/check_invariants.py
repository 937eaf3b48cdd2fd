"""``python manage.py check_invariants [--json] [--grace-seconds N]``: audit the domain databases; exit 1 on any
violation. See ops/invariants/__init__.py for the list of checks."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from ops import invariants


class Command(BaseCommand):
    # An auditor must run even when some other part of the project (a URL module, an admin) is broken.
    requires_system_checks: list = []
    help = "Audit money, seats, orders, transfers, resale and gate logs across the four databases; exit 1 if broken."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")
        parser.add_argument(
            "--grace-seconds",
            type=float,
            default=0.0,
            help="Leave out flows touched within this many seconds (in flight on a live system). Default 0: strict.",
        )
        parser.add_argument(
            "--limit", type=int, default=1000, help="Violations listed per check (all are counted). Default 1000."
        )

    def handle(self, *args, **options) -> None:
        if options["grace_seconds"] < 0 or options["limit"] < 1:
            raise CommandError("--grace-seconds must be >= 0 and --limit >= 1")
        report = invariants.check_all(grace_seconds=options["grace_seconds"], limit_per_check=options["limit"])
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2, sort_keys=True))
        else:
            self._print(report)
        if not report.ok:
            # BaseCommand turns SystemExit into the process exit status; CommandError would print a traceback-free
            # message but exit with 1 as well, with the report already printed above.
            raise SystemExit(1)

    def _print(self, report: invariants.Report) -> None:
        examined = ", ".join(f"{count} {name}" for name, count in report.examined.items())
        self.stdout.write(f"Examined {examined} in {report.elapsed_s:.2f} s.")
        for check, reason in report.skipped.items():
            self.stdout.write(self.style.WARNING(f"skipped {check}: {reason}"))
        if report.ok:
            self.stdout.write(self.style.SUCCESS(f"All {len(invariants.CHECKS)} invariants hold."))
            return
        for violation in report.violations:
            ids = " ".join(f"{key}={value}" for key, value in violation.ids.items())
            self.stdout.write(f"{violation.check}: {violation.detail} [{ids}]")
        for check, count in sorted(report.counts.items()):
            shown = min(count, report.limit_per_check)
            more = f" ({count - shown} more not listed)" if count > shown else ""
            self.stdout.write(self.style.ERROR(f"{check}: {count} violation(s){more} - {invariants.CHECKS[check]}"))
        self.stdout.write(self.style.ERROR(f"{sum(report.counts.values())} violation(s)."))
