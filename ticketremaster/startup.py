"""Start-up checks that turn bad configuration into one readable line instead of a traceback."""

from __future__ import annotations

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

    for alias in settings.DATABASES:
        try:
            connections[alias].ensure_connection()
        except OperationalError as exc:
            variable = settings.DATABASE_URL_VARIABLES.get(alias, ("?",))[0]
            config = settings.DATABASES[alias]
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
            raise StartupError(
                f"database '{alias}' ({variable} → {config.get('HOST')}:{config.get('PORT')}/{config.get('NAME')}) "
                f"is unreachable: {reason}"
            ) from exc
        finally:
            connections[alias].close()
