"""events.services: seat-grid generation, publishing (bulk inventory, idempotent), cancelling (resumable refunds)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from accounts.models import LedgerEntry, OrganizationMembership
from accounts.tests.factories import MembershipFactory, StaffFactory, UserFactory
from core.databases import ALL_DATABASES
from core.errors import InvalidInput, NotFound
from core.models import AuditLog
from events.contract import EventNotCancellable, EventNotPublishable, SectionInUse
from events.models import Event, Section
from events.services import build_grid_layout, parse_seat_refs, row_labels, section_generate_grid
from events.tests.factories import (
    EventFactory,
    EventSectionFactory,
    GeneralSectionFactory,
    SectionFactory,
)
from events.tests.staff_world import buy
from inventory.models import Seat
from orders.models import Order
from orders.services import event_cancel, event_publish


@pytest.fixture
def manager(db):
    return StaffFactory(email="manager@example.com")


def _draft_event_with(section, *, price="40.00"):
    event = EventFactory(venue=section.venue, organization=section.venue.organization, status=Event.Status.DRAFT)
    EventSectionFactory(event=event, section=section, tier__price=Decimal(price))
    return event


# --- seat grid ---------------------------------------------------------------------------------------------------
def test_row_labels_continue_after_z_spreadsheet_style():
    labels = row_labels(28)
    assert labels[:3] == ["A", "B", "C"] and labels[25:] == ["Z", "AA", "AB"]
    assert row_labels(3, "numbers") == ["1", "2", "3"]


def test_grid_numbers_right_to_left_with_an_aisle_and_accessible_seats():
    layout = build_grid_layout(
        rows=2, seats_per_row=6, direction="RTL", aisles_after=[3], accessible={("A", 1), ("B", 6)}
    )
    row_a = {seat["number"]: seat for seat in layout["rows"][0]["seats"]}
    # Seat 1 is on the right; the aisle after seat 3 sits between seats 3 and 4.
    assert row_a[1]["x"] > row_a[6]["x"]
    assert row_a[3]["x"] - row_a[4]["x"] > row_a[2]["x"] - row_a[3]["x"]
    assert row_a[1]["accessible"] and not row_a[2]["accessible"]
    assert layout["rows"][1]["seats"][5]["accessible"]  # B6
    assert layout["generator"]["direction"] == "RTL"


def test_grid_left_to_right_places_the_aisle_gap():
    layout = build_grid_layout(rows=1, seats_per_row=4, aisles_after=[2])
    xs = [seat["x"] for seat in layout["rows"][0]["seats"]]
    assert xs[1] - xs[0] < xs[2] - xs[1]


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"rows": 0, "seats_per_row": 5}, "rows"),
        ({"rows": 5, "seats_per_row": 501}, "seats_per_row"),
        ({"rows": 200, "seats_per_row": 500}, "rows"),
        ({"rows": 2, "seats_per_row": 5, "aisles_after": [5]}, "aisles_after"),
        ({"rows": 2, "seats_per_row": 5, "accessible": {("Z", 1)}}, "accessible"),
        ({"rows": 2, "seats_per_row": 5, "direction": "UP"}, "direction"),
    ],
)
def test_invalid_grids_are_refused_with_the_field_named(kwargs, field):
    with pytest.raises(InvalidInput) as err:
        build_grid_layout(**kwargs)
    assert field in err.value.fields


def test_seat_references_parse_letters_and_numbered_rows():
    assert parse_seat_refs("A1, a2 B10; 3:7") == {("A", 1), ("A", 2), ("B", 10), ("3", 7)}
    with pytest.raises(InvalidInput):
        parse_seat_refs("12")


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_section_generate_grid_writes_layout_capacity_and_an_audit_row(manager):
    section = SectionFactory(rows=1, seats_per_row=1)
    info = section_generate_grid(
        section_id=section.pk, rows=4, seats_per_row=10, accessible={("A", 1)}, actor_id=manager.pk
    )
    section.refresh_from_db()
    assert (info.capacity, info.rows, info.accessible) == (40, 4, 1)
    assert section.capacity == 40 and len(section.layout["rows"]) == 4
    assert AuditLog.objects.filter(action="section.generate_grid", object_id=str(section.pk)).exists()


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_section_can_become_general_admission(manager):
    section = SectionFactory()
    section_generate_grid(section_id=section.pk, general_capacity=500, actor_id=manager.pk)
    section.refresh_from_db()
    assert section.kind == Section.Kind.GENERAL and section.capacity == 500 and "rows" not in section.layout


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_section_of_a_published_event_cannot_be_regenerated(manager):
    section = SectionFactory()
    event = _draft_event_with(section)
    event_publish(event_id=event.pk, actor_id=manager.pk)
    with pytest.raises(SectionInUse):
        section_generate_grid(section_id=section.pk, rows=2, seats_per_row=2, actor_id=manager.pk)


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_unknown_section_is_not_found(manager):
    with pytest.raises(NotFound):
        section_generate_grid(section_id=uuid.uuid4(), rows=2, seats_per_row=2, actor_id=manager.pk)


# --- publishing --------------------------------------------------------------------------------------------------
@pytest.mark.django_db(databases=ALL_DATABASES)
def test_publish_creates_one_seat_per_place_and_puts_the_event_on_sale(manager):
    seated = SectionFactory(rows=3, seats_per_row=4)
    event = _draft_event_with(seated, price="30.00")
    standing = GeneralSectionFactory(venue=seated.venue, capacity=25)
    EventSectionFactory(event=event, section=standing, tier__price=Decimal("15.00"), capacity_override=10)
    calls = []
    result = event_publish(event_id=event.pk, actor_id=manager.pk, progress=lambda done, total: calls.append(done))
    event.refresh_from_db()
    assert result.total == 22 and result.created == 22
    assert event.status == Event.Status.PUBLISHED and event.published_at is not None
    assert event.inventory_status == Event.InventoryStatus.READY
    assert (event.inventory_created, event.inventory_total) == (22, 22)
    assert Seat.objects.filter(event_id=event.pk, section_id=seated.pk, price=Decimal("30.00")).count() == 12
    assert Seat.objects.filter(event_id=event.pk, is_general_admission=True).count() == 10
    assert Seat.objects.filter(event_id=event.pk, is_accessible=True).count() == 2  # the factory's row A, seats 1-2
    assert calls and calls[-1] == 22
    assert AuditLog.objects.filter(action="event.publish", object_id=str(event.pk)).count() == 1


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_publishing_twice_creates_no_duplicates(manager):
    event = _draft_event_with(SectionFactory(rows=5, seats_per_row=5))
    first = event_publish(event_id=event.pk, actor_id=manager.pk)
    second = event_publish(event_id=event.pk, actor_id=manager.pk)
    assert (first.created, second.created) == (25, 0)
    assert Seat.objects.filter(event_id=event.pk).count() == 25


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_republishing_adds_only_a_section_attached_later(manager):
    section = SectionFactory(rows=2, seats_per_row=5)
    event = _draft_event_with(section)
    event_publish(event_id=event.pk, actor_id=manager.pk)
    EventSectionFactory(event=event, section=SectionFactory(venue=section.venue, rows=1, seats_per_row=3))
    result = event_publish(event_id=event.pk, actor_id=manager.pk)
    assert (result.created, result.total) == (3, 13)
    assert Seat.objects.filter(event_id=event.pk).count() == 13


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_publish_refuses_an_event_without_sections_or_seats(manager):
    event = EventFactory(status=Event.Status.DRAFT)
    with pytest.raises(EventNotPublishable):
        event_publish(event_id=event.pk, actor_id=manager.pk)
    empty = SectionFactory(layout={}, capacity=0)
    event = _draft_event_with(empty)
    with pytest.raises(EventNotPublishable, match="no seats"):
        event_publish(event_id=event.pk, actor_id=manager.pk)
    event.refresh_from_db()
    assert event.status == Event.Status.DRAFT and not Seat.objects.filter(event_id=event.pk).exists()


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_cancelled_event_cannot_be_published(manager):
    event = _draft_event_with(SectionFactory())
    Event.objects.filter(pk=event.pk).update(status=Event.Status.CANCELLED)
    with pytest.raises(EventNotPublishable):
        event_publish(event_id=event.pk, actor_id=manager.pk)


# --- cancelling --------------------------------------------------------------------------------------------------
@pytest.fixture
def owner_and_event(db):
    section = SectionFactory(rows=2, seats_per_row=5)
    event = _draft_event_with(section, price="25.00")
    owner = StaffFactory(email="owner@example.com")
    MembershipFactory(user=owner, organization_id=event.organization_id, role=OrganizationMembership.Role.OWNER)
    event_publish(event_id=event.pk, actor_id=owner.pk)
    return owner, event


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_cancel_requires_a_reason(owner_and_event):
    owner, event = owner_and_event
    with pytest.raises(InvalidInput):
        event_cancel(event_id=event.pk, actor_id=owner.pk, reason="  ")
    event.refresh_from_db()
    assert event.status == Event.Status.PUBLISHED


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_cancel_refunds_every_order_and_records_progress(owner_and_event):
    owner, event = owner_and_event
    seats = list(Seat.objects.filter(event_id=event.pk).values_list("pk", flat=True))
    buyers = [UserFactory(credits="100.00") for _ in range(3)]
    for n, buyer in enumerate(buyers):
        buy(buyer=buyer, event_id=event.pk, seat_ids=seats[2 * n : 2 * n + 2])
    result = event_cancel(event_id=event.pk, actor_id=owner.pk, reason="Storm warning")
    event.refresh_from_db()
    assert (result.refunded, result.total) == (3, 3) and result.complete
    assert event.status == Event.Status.CANCELLED and event.cancelled_at is not None
    assert (event.refunds_done, event.refunds_total) == (3, 3)
    assert set(Order.objects.filter(event_id=event.pk).values_list("status", flat=True)) == {"REFUNDED"}
    for buyer in buyers:
        buyer.refresh_from_db()
        assert buyer.credit_balance == Decimal("100.00")
    assert LedgerEntry.objects.filter(kind="PURCHASE_REFUND").count() == 3
    assert AuditLog.objects.filter(action="event.cancel", reason="Storm warning").count() == 1
    # Resuming a finished cancellation changes nothing.
    again = event_cancel(event_id=event.pk, actor_id=owner.pk, reason="Storm warning")
    assert (again.refunded, again.total) == (3, 3)
    assert LedgerEntry.objects.filter(kind="PURCHASE_REFUND").count() == 3


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_ended_event_cannot_be_cancelled(owner_and_event):
    owner, event = owner_and_event
    Event.objects.filter(pk=event.pk).update(status=Event.Status.ENDED)
    with pytest.raises(EventNotCancellable):
        event_cancel(event_id=event.pk, actor_id=owner.pk, reason="late")
