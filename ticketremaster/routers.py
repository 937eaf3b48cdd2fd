"""One router for the four domain databases.

Each app's reads, writes and migrations go to the alias named in settings.DATABASE_APPS_MAPPING and nowhere else;
Django's own apps (auth, admin, sessions, contenttypes, authtoken) live in `default` with accounts. A relation is
allowed only between two models on the same alias: across domains a reference is a plain UUID column.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Model


def alias_for_app(app_label: str) -> str:
    return settings.DATABASE_APPS_MAPPING.get(app_label, "default")


def _alias_of(obj: Model) -> str:
    """The database an instance came from, or the one its app lives on if it has not been saved yet."""
    return obj._state.db or alias_for_app(obj._meta.app_label)


class DomainRouter:
    def db_for_read(self, model: type[Model], **hints) -> str:
        return alias_for_app(model._meta.app_label)

    def db_for_write(self, model: type[Model], **hints) -> str:
        return alias_for_app(model._meta.app_label)

    def allow_relation(self, obj1: Model, obj2: Model, **hints) -> bool:
        return _alias_of(obj1) == _alias_of(obj2)

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints) -> bool:
        return alias_for_app(app_label) == db
