"""Start-up checks that turn bad configuration into one readable line instead of a traceback."""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured


class StartupError(ImproperlyConfigured):
    """Configuration that cannot work; its message is printed alone, as one line."""


# Commands that never touch a database, so an unreachable server must not stop them.
COMMANDS_WITHOUT_DATABASE = {
    "makemigrations",
    "check",
    "help",
    "version",
    "collectstatic",
    "spectacular",
    "diffsettings",
}


def check_databases_reachable() -> None:
    """Open one connection per alias, with the short connect timeout from settings, and name the first failure."""
    from django.conf import settings
    from django.db import connections
    from django.db.utils import OperationalError

    from core.databases import REPLICA_OF

    for alias in settings.DATABASES:
        if alias in REPLICA_OF:
            continue  # a replica that is down only sends its reads back to the primary (core.routers.read_alias)
        try:
            connections[alias].ensure_connection()
        except OperationalError as exc:
            variable = settings.DATABASE_URL_VARIABLES.get(alias, ("?",))[0]
            config = settings.DATABASES[alias]
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
            if getattr(settings, "EMBEDDED_DATABASE", False) and not os.environ.get(variable):
                reason += " (the embedded server is not running: start it with `python -m core.embedded_db start`)"
            raise StartupError(
                f"database '{alias}' ({variable} → {config.get('HOST')}:{config.get('PORT')}/{config.get('NAME')}) "
                f"is unreachable: {reason}"
            ) from exc
        finally:
            connections[alias].close()
