"""Bulk inventory of an event: seated and general places, idempotent and resumable, bad specs refused."""

import time
import uuid
from decimal import Decimal

import pytest

from core.errors import InvalidInput
from inventory import DB_ALIAS, services
from inventory.models import Seat
from inventory.tests.factories import ORGANIZATION_ID, seated_section, section_rows

pytestmark = pytest.mark.django_db(databases=["default", "seats"])


def test_creates_seated_and_general_places_with_progress():
    event_id = uuid.uuid4()
    general = services.SectionInventorySpec(
        section_id=uuid.uuid4(), tier_id=None, price=Decimal("10"), kind="GENERAL", capacity=7
    )
    calls = []

    created = services.inventory_create_for_event(
        event_id=event_id,
        organization_id=ORGANIZATION_ID,
        sections=[seated_section(3, 4), general],
        progress=lambda done, total: calls.append((done, total)),
    )

    assert created == 19
    assert calls[0] == (0, 19) and calls[-1] == (19, 19)
    seats = Seat.objects.using(DB_ALIAS).filter(event_id=event_id)
    assert seats.filter(is_general_admission=True, row_label="GA", tier_id__isnull=True).count() == 7
    first = seats.get(row_label="R1", number=1)
    assert first.is_accessible and first.price == Decimal("25.00") and first.status == "AVAILABLE"


def test_creating_twice_inserts_nothing_new():
    event_id = uuid.uuid4()
    sections = [seated_section(2, 5)]

    assert (
        services.inventory_create_for_event(event_id=event_id, organization_id=ORGANIZATION_ID, sections=sections) == 10
    )
    assert (
        services.inventory_create_for_event(event_id=event_id, organization_id=ORGANIZATION_ID, sections=sections) == 0
    )
    assert Seat.objects.using(DB_ALIAS).filter(event_id=event_id).count() == 10


def test_a_partial_run_is_completed_by_the_next_one():
    event_id = uuid.uuid4()
    spec = seated_section(4, 5)
    services.inventory_create_for_event(
        event_id=event_id,
        organization_id=ORGANIZATION_ID,
        sections=[services.SectionInventorySpec(**{**spec.__dict__, "rows": spec.rows[:2]})],
    )

    assert (
        services.inventory_create_for_event(event_id=event_id, organization_id=ORGANIZATION_ID, sections=[spec]) == 10
    )
    assert services.inventory_count_for_event(event_id=event_id) == 20


@pytest.mark.parametrize(
    "spec",
    [
        services.SectionInventorySpec(
            section_id=uuid.uuid4(), tier_id=None, price=Decimal("-1"), rows=section_rows(1, 1)
        ),
        services.SectionInventorySpec(section_id=uuid.uuid4(), tier_id=None, price="abc", rows=section_rows(1, 1)),
        services.SectionInventorySpec(section_id=uuid.uuid4(), tier_id=None, price=Decimal("1"), kind="BOX"),
        services.SectionInventorySpec(
            section_id=uuid.uuid4(), tier_id=None, price=Decimal("1"), rows=[{"label": "", "seats": []}]
        ),
        services.SectionInventorySpec(
            section_id=uuid.uuid4(), tier_id=None, price=Decimal("1"), rows=[{"label": "A", "seats": [{"x": 1}]}]
        ),
        services.SectionInventorySpec(section_id="nope", tier_id=None, price=Decimal("1"), rows=section_rows(1, 1)),
    ],
    ids=["negative-price", "price-not-a-number", "unknown-kind", "blank-row-label", "seat-without-number", "bad-id"],
)
def test_bad_specs_are_refused_before_anything_is_written(spec):
    event_id = uuid.uuid4()

    with pytest.raises(InvalidInput):
        services.inventory_create_for_event(
            event_id=event_id, organization_id=ORGANIZATION_ID, sections=[seated_section(1, 3), spec]
        )

    assert services.inventory_count_for_event(event_id=event_id) == 0


@pytest.mark.integration
def test_eighty_thousand_seats_are_created_in_bulk_and_a_rerun_adds_none():
    event_id = uuid.uuid4()
    sections = [seated_section(100, 100) for _ in range(8)]

    started = time.monotonic()
    created = services.inventory_create_for_event(event_id=event_id, organization_id=ORGANIZATION_ID, sections=sections)
    elapsed = time.monotonic() - started

    assert created == 80_000
    started = time.monotonic()
    assert (
        services.inventory_create_for_event(event_id=event_id, organization_id=ORGANIZATION_ID, sections=sections) == 0
    )
    print(f"80,000 seats: created in {elapsed:.2f} s, idempotent rerun in {time.monotonic() - started:.2f} s")
