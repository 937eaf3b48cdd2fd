"""The router keeps every domain on its own database and refuses relations across them."""

import pytest
from django.apps import apps
from django.db import connections, router

from accounts.models import LedgerEntry, User
from core.models import OutboxMessage
from events.models import Organization, Venue
from inventory.models import Seat
from orders.models import Order

EXPECTED_ALIAS = {
    "accounts": "default",
    "core": "default",
    "auth": "default",
    "admin": "default",
    "sessions": "default",
    "contenttypes": "default",
    "authtoken": "default",
    "inventory": "seats",
    "orders": "orders",
    "events": "events",
    "procrastinate": "orders",  # the job queue lives with the orders it is most often enqueued with
}
ALL = ["default", "seats", "orders", "events"]
# core's outbox is the one table in every database: a domain records its facts in its own transaction.
EVERYWHERE = {OutboxMessage}


def _models(app_label):
    return [model for model in apps.get_app_config(app_label).get_models() if model not in EVERYWHERE]


@pytest.mark.parametrize("app_label, alias", sorted(EXPECTED_ALIAS.items()))
def test_each_app_reads_writes_and_migrates_on_its_own_alias_only(app_label, alias):
    for model in _models(app_label):
        assert router.db_for_read(model) == alias
        assert router.db_for_write(model) == alias
        for other in ALL:
            assert router.allow_migrate_model(other, model) is (other == alias), (model, other)


@pytest.mark.django_db(databases=ALL)
def test_each_table_exists_only_in_its_own_database():
    for app_label, alias in EXPECTED_ALIAS.items():
        for model in _models(app_label):
            for other in ALL:
                tables = connections[other].introspection.table_names()
                assert (model._meta.db_table in tables) is (other == alias), (model._meta.db_table, other)


@pytest.mark.django_db(databases=ALL)
def test_the_outbox_table_exists_in_every_database():
    for alias in ALL:
        assert router.allow_migrate_model(alias, OutboxMessage)
        assert OutboxMessage._meta.db_table in connections[alias].introspection.table_names()


@pytest.mark.django_db(databases=ALL)
def test_rows_land_on_their_own_database(buyer):
    seat = Seat.objects.create(
        event_id=buyer.pk, section_id=buyer.pk, row_label="A", number=1, price="10.00"
    )  # any UUIDs do: there is no foreign key to check
    with connections["seats"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM inventory_seat WHERE id = %s", [seat.pk])
        assert cursor.fetchone()[0] == 1
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM accounts_user WHERE id = %s", [buyer.pk])
        assert cursor.fetchone()[0] == 1
    assert seat._state.db == "seats"
    assert Order.objects.count() == 0


def test_a_relation_across_aliases_is_refused():
    organization = Organization(name="Elsewhere", slug="elsewhere")
    organization._state.db = "seats"  # as if it had been loaded from another database
    venue = Venue(name="Hall")
    venue._state.db = "events"
    assert router.allow_relation(organization, venue) is False
    with pytest.raises(ValueError, match="router prevents this relation"):
        venue.organization = organization


def test_a_relation_between_domains_is_refused():
    user = User(email="x@example.com")
    seat = Seat(row_label="A", number=1)
    assert router.allow_relation(user, seat) is False


def test_a_relation_on_the_same_alias_is_allowed():
    user = User(email="x@example.com")
    user._state.db = "default"
    entry = LedgerEntry(kind="TOPUP", amount=1, balance_after=1, reference="r")
    entry._state.db = "default"
    entry.user = user
    assert router.allow_relation(user, entry) is True
