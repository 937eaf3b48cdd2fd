"""``python manage.py backup [--output DIR]``: dump the four databases at one consistent cut (ops/backup.py)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ops import backup


class Command(BaseCommand):
    help = "Dump the four databases at one consistent cut, with a manifest (sizes, checksums, versions, commit)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            default=settings.BACKUP_DIR,
            help="Folder that receives a new <UTC time>/ folder per backup (default BACKUP_DIR: %(default)s).",
        )

    def handle(self, *args, output: str, **options) -> None:
        try:
            folder, manifest = backup.backup(output=Path(output))
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        cut = manifest["consistent_cut"]
        self.stdout.write(f"Backup {folder} (cut at {manifest['cut_at']}; flows frozen {cut['freeze_ms']} ms):")
        for alias, entry in manifest["databases"].items():
            point = f", restore point {entry['restore_point']}" if entry["restore_point"] else ""
            self.stdout.write(
                f"  {alias:<8} {entry['database']:<24} {entry['bytes']:>12,} bytes  sha256 {entry['sha256'][:16]}…  "
                f"PostgreSQL {entry['server_version']}, {entry['dump_seconds']} s{point}"
            )
