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
        for alias in settings.DATABASES:
            if alias in REPLICA_OF:
                continue  # a read replica gets its schema from its primary
            self.stdout.write(f"Migrating '{alias}' ({settings.DATABASES[alias]['NAME']})")
            call_command("migrate", database=alias, interactive=False, verbosity=max(verbosity - 1, 0))
        self.stdout.write(self.style.SUCCESS("All databases migrated."))
