"""System checks of the ground floor.

``squashed_history_complete``: each app's migrations were squashed into one (``0001_squashed_…``) and the
migrations it replaces were removed. A database that applied every one of them is recorded as having the squashed
one; a new database runs it. A database stopped part-way through the old chain would otherwise see no migrations
for that app at all and silently stay behind, so ``migrate`` (which runs the database checks) refuses it instead.
"""

from __future__ import annotations

from django.core.checks import Error, Tags, register
from django.db import DatabaseError, connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

# The last commit whose migrations a database may stop at before the squash; docs/DEPLOYMENT.md says how to use it.
RELEASE_BEFORE_SQUASH = "0de9f83"


@register(Tags.database)
def squashed_history_complete(app_configs=None, databases=None, **kwargs) -> list[Error]:
    errors = []
    if not databases:
        return errors
    replacing = {
        key: set(migration.replaces)
        for key, migration in MigrationLoader(None, ignore_no_migrations=True).disk_migrations.items()
        if migration.replaces
    }
    for alias in databases:
        connection = connections[alias]
        try:
            recorder = MigrationRecorder(connection)
            if not recorder.has_table():
                continue
            applied = set(recorder.applied_migrations())
        except DatabaseError:
            continue  # an unreachable database is reported by the start-up check and by migrate itself
        for (app_label, name), replaced in sorted(replacing.items()):
            done = replaced & applied
            if done and done != replaced and (app_label, name) not in applied:
                missing = ", ".join(sorted(name for _app, name in replaced - done))
                errors.append(
                    Error(
                        f"The database {alias!r} stopped part-way through the migrations that "
                        f"{app_label}.{name} replaces (not applied: {missing}).",
                        hint=(
                            f"Migrate it with commit {RELEASE_BEFORE_SQUASH} first (git checkout "
                            f"{RELEASE_BEFORE_SQUASH} && python manage.py migrate_all), then with this release."
                        ),
                        id="core.E001",
                    )
                )
    return errors
