"""Migrate all four databases in one go: `python manage.py migrate_all`."""

from __future__ import annotations

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from core.databases import REPLICA_OF


class Command(BaseCommand):
    help = "Apply migrations to every configured database alias (users, seats, orders, events)."

    def handle(self, *args, **options) -> None:
        verbosity = options["verbosity"]
        primaries = [alias for alias in settings.DATABASES if alias not in REPLICA_OF]  # a replica follows its primary
        # call_command skips migrate's own checks; the database checks (core/checks.py) must run before any change.
        self.check(databases=primaries)
        for alias in primaries:
            self.stdout.write(f"Migrating '{alias}' ({settings.DATABASES[alias]['NAME']})")
            call_command("migrate", database=alias, interactive=False, verbosity=max(verbosity - 1, 0))
        self.stdout.write(self.style.SUCCESS("All databases migrated."))
