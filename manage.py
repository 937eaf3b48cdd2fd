#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ticketremaster.settings")
    from django.core.management import execute_from_command_line

    from core.startup import COMMANDS_WITHOUT_DATABASE, StartupError, check_databases_reachable

    try:
        import django

        django.setup()
        command = sys.argv[1] if len(sys.argv) > 1 else "help"
        if command not in COMMANDS_WITHOUT_DATABASE and not command.startswith("-"):
            check_databases_reachable()
    except StartupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
