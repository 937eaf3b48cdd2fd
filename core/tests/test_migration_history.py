"""Squashed migrations: a database part-way through the replaced chain is refused, not silently left behind."""

import importlib

import pytest
from django.core.checks import Tags, run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connections
from django.db.migrations.recorder import MigrationRecorder

from core.databases import ALL_DATABASES

SQUASHED = ("orders", "0001_squashed_0012_translatable_names")
REPLACED = importlib.import_module("orders.migrations.0001_squashed_0012_translatable_names").Migration.replaces


def record_part_of_the_old_chain(alias: str) -> None:
    """As a database migrated by a release older than the squash, stopped after the first two orders migrations."""
    recorder = MigrationRecorder(connections[alias])
    for app_label, name in [SQUASHED, *REPLACED]:
        recorder.record_unapplied(app_label, name)
    for app_label, name in REPLACED[:2]:
        recorder.record_applied(app_label, name)


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_a_database_migrated_from_the_squashed_history_passes():
    assert run_checks(databases=["orders"], tags=[Tags.database]) == []


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_a_database_that_applied_the_whole_replaced_chain_before_the_squash_passes():
    recorder = MigrationRecorder(connections["orders"])
    recorder.record_unapplied(*SQUASHED)
    for app_label, name in REPLACED:
        recorder.record_applied(app_label, name)

    assert run_checks(databases=["orders"], tags=[Tags.database]) == []


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_a_database_part_way_through_the_replaced_chain_is_named_with_what_it_lacks():
    record_part_of_the_old_chain("orders")

    errors = run_checks(databases=["orders"], tags=[Tags.database])

    assert [error.id for error in errors] == ["core.E001"]
    assert "'orders'" in errors[0].msg
    assert "orders.0001_squashed_0012_translatable_names" in errors[0].msg
    not_applied = errors[0].msg.split("not applied: ")[1].rstrip(").").split(", ")
    assert not_applied == sorted(name for _app, name in REPLACED[2:])
    assert "migrate_all" in errors[0].hint


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_migrate_all_refuses_such_a_database_before_changing_anything():
    record_part_of_the_old_chain("orders")

    with pytest.raises(SystemCheckError, match="core.E001"):
        call_command("migrate_all", verbosity=0)
