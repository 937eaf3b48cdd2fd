"""``python manage.py restore BACKUP [--clean] [--recover]``: restore a backup made by ``manage.py backup`` into the
databases the *_DATABASE_URL variables name (ops/backup.py)."""

from __future__ import annotations

from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ops import backup


class Command(BaseCommand):
    help = "Restore a backup (checksums verified first) into the configured databases; each database all or nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="A backup folder (the one with manifest.json).")
        parser.add_argument(
            "--clean", action="store_true", help="Drop what the target databases hold first (default: refuse them)."
        )
        parser.add_argument(
            "--recover",
            action="store_true",
            help="Then finish or undo the flows in flight at the cut (recover_flows --older-than 0) and audit "
            "everything (check_invariants).",
        )

    def handle(self, *args, source: str, clean: bool, recover: bool, **options) -> None:
        try:
            took = backup.restore(source=Path(source), clean=clean)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        for alias, seconds in took.items():
            self.stdout.write(f"  {alias:<8} restored in {seconds} s")
        if not recover:
            self.stdout.write("Next: manage.py recover_flows --older-than 0, then manage.py check_invariants.")
            return
        call_command("recover_flows", "--older-than", "0", stdout=self.stdout, stderr=self.stderr)
        call_command("check_invariants", stdout=self.stdout, stderr=self.stderr)
