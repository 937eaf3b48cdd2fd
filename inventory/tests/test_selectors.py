"""The hot reads: availability, seat map and sales summary, with an expired hold counted as available."""

from decimal import Decimal

import pytest
from django.utils import timezone

from inventory import DB_ALIAS, selectors, services
from inventory.models import Seat
from inventory.tests.factories import BUYER, HOLD, check_in, expire_holds, sell

pytestmark = pytest.mark.django_db(databases=["default", "seats"])


def test_availability_counts_expired_holds_as_available(venue):
    services.seats_hold(event_id=venue.event_id, buyer_id=BUYER, seat_ids=venue.ids(0, 1, 2), **HOLD)
    expire_holds(venue.ids(0)[0])
    sell(venue=venue, buyer_id=BUYER, indexes=(5,))

    figures = selectors.section_availability(event_id=venue.event_id)

    assert figures == {venue.section_id: {"AVAILABLE": 27, "HELD": 2, "SOLD": 1}}


def test_availability_ignores_soft_deleted_seats_and_bad_ids(venue):
    Seat.objects.using(DB_ALIAS).filter(pk=venue.ids(0)[0]).update(deleted_at=timezone.now())

    assert selectors.section_availability(event_id=venue.event_id)[venue.section_id]["AVAILABLE"] == 29
    assert selectors.section_availability(event_id="nonsense") == {}


def test_seat_map_is_in_row_order_with_effective_status(venue):
    services.seats_hold(event_id=venue.event_id, buyer_id=BUYER, seat_ids=venue.ids(1, 2), **HOLD)
    expire_holds(venue.ids(2)[0])

    seats = selectors.seat_map(event_id=venue.event_id, section_id=venue.section_id)

    assert len(seats) == 30
    assert [(s["row"], s["number"]) for s in seats[:2]] == [("A", 1), ("A", 2)]
    assert [s["status"] for s in seats[:3]] == ["AVAILABLE", "HELD", "AVAILABLE"]
    assert set(seats[0]) == {
        "id",
        "row",
        "number",
        "x",
        "y",
        "status",
        "tier_id",
        "accessible",
        "price",
        "general_admission",
    }
    assert "held_by_id" not in seats[1], "a map never exposes who holds a seat"
    assert selectors.seat_map(event_id=venue.event_id, section_id="junk") == []


def test_sales_summary_per_section_and_tier(venue):
    sell(venue=venue, buyer_id=BUYER, indexes=(0, 1, 2))
    services.ticket_set_listed(seat_id=venue.ids(2)[0], owner_id=BUYER, listed=True)
    check_in(venue.ids(1)[0])
    Seat.objects.using(DB_ALIAS).filter(pk=venue.ids(9)[0]).update(status="BLOCKED")
    services.seats_hold(event_id=venue.event_id, buyer_id=BUYER, seat_ids=venue.ids(3, 4), **HOLD)

    summary = selectors.event_sales_summary(event_id=venue.event_id)

    (section,) = summary["sections"]
    assert section["section_id"] == venue.section_id and section["tier_id"] == venue.tier_id
    expected = {"sold": 1, "checked_in": 1, "listed": 1, "held": 2, "blocked": 1, "available": 24, "total": 30}
    assert {key: section[key] for key in expected} == expected
    assert section["revenue"] == Decimal("120.00")
    assert summary["totals"]["revenue"] == Decimal("120.00")
    assert selectors.event_sales_summary(event_id="junk")["sections"] == []
