"""The demo command builds a realistic data set, and a second run changes nothing."""

import datetime as dt
import io

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connections, router
from django.utils import timezone

from events.demo import WAITING_ROOM_EVENT_SLUG
from events.models import Event
from orders.models import WaitingRoom

ALL = ["default", "seats", "orders", "events"]


def row_counts() -> dict[str, int]:
    counts = {}
    for app_label in ("accounts", "events", "inventory", "orders"):
        for model in apps.get_app_config(app_label).get_models():
            alias = router.db_for_read(model)
            with connections[alias].cursor() as cursor:
                cursor.execute(f'SELECT count(*) FROM "{model._meta.db_table}"')  # noqa: S608 - table names from models
                counts[model._meta.label] = cursor.fetchone()[0]
    return counts


@pytest.mark.integration
@pytest.mark.django_db(databases=ALL, transaction=True)
def test_seed_demo_builds_the_demo_and_a_second_run_changes_nothing(settings, tmp_path):
    settings.WAITING_ROOM_STATUS_ROOT = tmp_path
    output = io.StringIO()
    call_command("seed_demo", stdout=output)
    first = row_counts()
    assert first["inventory.Seat"] >= 2000 + 50000
    assert first["events.Event"] >= 5
    assert first["accounts.OrganizationMembership"] >= 5
    assert first["orders.Order"] == 2
    assert "owner@demo.test" in output.getvalue()
    # The waiting-room demo: a published event whose room is open now and whose on-sale starts in a few minutes.
    presale = Event.objects.get(slug=WAITING_ROOM_EVENT_SLUG)
    room = WaitingRoom.objects.get(event_id=presale.pk)
    now = timezone.now()
    assert presale.status == "PUBLISHED" and presale.waiting_room and room.is_active
    assert room.opens_at <= now < room.starts_at <= now + dt.timedelta(minutes=5)
    assert presale.sales_start == room.starts_at
    assert f"/events/{presale.pk}/waiting-room/" in output.getvalue()

    call_command("seed_demo", stdout=io.StringIO())
    assert row_counts() == first
