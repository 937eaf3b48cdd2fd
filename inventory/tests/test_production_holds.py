"""Places staff keep off sale (production, VIP) and return to sale by name: only free places are taken, a buyer's
hold or ticket never is, and nothing a buyer does can take a kept place."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from accounts.tests.factories import UserFactory
from core.errors import InvalidInput
from core.models import AuditLog
from core.testing import race_timed
from inventory import DB_ALIAS, services
from inventory.contract import NotEnoughSeats, SeatUnavailable
from inventory.models import Seat
from inventory.selectors import event_places_kept_off_sale
from inventory.tests.factories import HOLD, Venue, expire_holds, seat_row, sell

pytestmark = pytest.mark.django_db(databases=["default", "seats"])


@pytest.fixture
def staff(db) -> uuid.UUID:
    """The staff member the actions are audited under (a real account: the audit log points at it)."""
    return UserFactory(is_staff=True).pk


def _keep(venue, staff, *indexes, kept_for="Production"):
    return services.seats_keep_off_sale(
        event_id=venue.event_id, seat_ids=venue.ids(*indexes), kept_for=kept_for, actor_id=staff
    )


def test_free_places_are_kept_and_held_sold_or_other_events_places_are_left_alone(venue, staff):
    buyer = uuid.uuid4()
    services.seats_hold(event_id=venue.event_id, buyer_id=buyer, seat_ids=venue.ids(1), **HOLD)
    sell(venue=venue, buyer_id=buyer, indexes=(2,))
    services.seats_hold(event_id=venue.event_id, buyer_id=buyer, seat_ids=venue.ids(3), **HOLD)
    expire_holds(*venue.ids(3))
    other = Venue(rows=1, per_row=2)

    result = services.seats_keep_off_sale(
        event_id=venue.event_id,
        seat_ids=[*venue.ids(0, 1, 2, 3), *other.ids(0)],
        kept_for="  Cameras  ",
        actor_id=staff,
    )

    assert result.changed == sorted(venue.ids(0, 3))  # free, and a hold that had run out
    assert set(result.skipped) == {*venue.ids(1, 2), *other.ids(0)}
    kept = seat_row(venue.ids(3)[0])
    assert (kept.status, kept.kept_for, kept.held_by_id, kept.hold_expires_at) == ("BLOCKED", "Cameras", None, None)
    assert seat_row(venue.ids(1)[0]).status == "HELD" and seat_row(venue.ids(2)[0]).status == "SOLD"
    assert seat_row(other.ids(0)[0]).status == "AVAILABLE"
    assert event_places_kept_off_sale(event_id=venue.event_id) == [("Cameras", 2)]
    audit = AuditLog.objects.get(action="seats.keep_off_sale")
    assert (audit.actor_id, audit.reason, audit.data["places"], audit.data["skipped"]) == (staff, "Cameras", 2, 3)


def test_buyers_cannot_hold_a_kept_place_nor_get_it_as_best_available(venue, staff):
    small = Venue(rows=1, per_row=2)
    services.seats_keep_off_sale(event_id=small.event_id, seat_ids=small.ids(0, 1), kept_for="VIP", actor_id=staff)
    with pytest.raises(SeatUnavailable):
        services.seats_hold(event_id=small.event_id, buyer_id=uuid.uuid4(), seat_ids=small.ids(0), **HOLD)
    with pytest.raises(NotEnoughSeats):
        services.seats_hold_best_available(
            event_id=small.event_id, buyer_id=uuid.uuid4(), section_id=small.section_id, quantity=1, **HOLD
        )


def test_returning_by_name_frees_only_that_name_and_takes_a_pending_new_price(venue, staff):
    _keep(venue, staff, 0, 1, kept_for="Production")
    _keep(venue, staff, 2, kept_for="VIP")
    Seat.objects.using(DB_ALIAS).filter(pk=venue.ids(0)[0]).update(next_price=Decimal("55.00"))

    result = services.seats_return_to_sale(event_id=venue.event_id, kept_for="Production", actor_id=staff)

    assert result.changed == sorted(venue.ids(0, 1)) and result.skipped == []
    first = seat_row(venue.ids(0)[0])
    assert (first.status, first.kept_for, first.price, first.next_price) == ("AVAILABLE", "", Decimal("55.00"), None)
    assert event_places_kept_off_sale(event_id=venue.event_id) == [("VIP", 1)]
    services.seats_hold(event_id=venue.event_id, buyer_id=uuid.uuid4(), seat_ids=venue.ids(0), **HOLD)
    assert AuditLog.objects.filter(action="seats.return_to_sale").count() == 1


def test_returning_chosen_places_includes_those_a_refund_blocked_and_skips_free_ones(venue, staff):
    buyer = uuid.uuid4()
    order = sell(venue=venue, buyer_id=buyer, indexes=(4,))
    services.seats_unsell(order_id=order, block=True)
    _keep(venue, staff, 5)

    result = services.seats_return_to_sale(event_id=venue.event_id, seat_ids=venue.ids(4, 5, 6), actor_id=staff)

    assert result.changed == sorted(venue.ids(4, 5)) and result.skipped == venue.ids(6)
    assert {seat_row(pk).status for pk in venue.ids(4, 5, 6)} == {"AVAILABLE"}


def test_a_name_is_required_and_a_kept_name_needs_a_blocked_place(venue, staff):
    for bad in ("", "   ", "x" * 65):
        with pytest.raises(InvalidInput):
            _keep(venue, staff, 0, kept_for=bad)
    with pytest.raises(InvalidInput):
        services.seats_return_to_sale(event_id=venue.event_id, actor_id=staff)
    with pytest.raises(IntegrityError), transaction.atomic(using=DB_ALIAS):
        Seat.objects.using(DB_ALIAS).filter(pk=venue.ids(0)[0]).update(kept_for="Production")


@pytest.mark.concurrency
@pytest.mark.django_db(databases=["default", "seats"], transaction=True)
def test_staff_keeping_a_row_while_buyers_race_for_it_never_take_a_place_from_a_buyer(staff):
    venue = Venue(rows=1, per_row=10)
    buyers = [uuid.uuid4() for _ in range(6)]

    def keep():
        return services.seats_keep_off_sale(
            event_id=venue.event_id, seat_ids=venue.ids(*range(10)), kept_for="Production", actor_id=staff
        )

    def buyer_holds(buyer, index):
        return lambda: services.seats_hold(
            event_id=venue.event_id, buyer_id=buyer, seat_ids=venue.ids(index, index + 1), **HOLD
        )

    pairs = list(zip(range(0, 10, 2), buyers, strict=False))
    outcomes = race_timed([keep, *(buyer_holds(b, i) for i, b in pairs)], connect=DB_ALIAS)

    kept = outcomes[0][0]
    assert not isinstance(kept, Exception)
    status = dict(Seat.objects.using(DB_ALIAS).filter(event_id=venue.event_id).values_list("id", "status"))
    held = {pk for pk, value in status.items() if value == "HELD"}
    blocked = {pk for pk, value in status.items() if value == "BLOCKED"}
    assert set(kept.changed) == blocked and not held & blocked
    assert held <= set(kept.skipped)  # a place a buyer was taking is skipped, never taken from the buyer
    assert {status[pk] for pk in set(venue.ids(*range(10))) - held - blocked} <= {"AVAILABLE"}
    for (index, _buyer), (outcome, _seconds) in zip(pairs, outcomes[1:], strict=True):
        pair = set(venue.ids(index, index + 1))
        assert pair <= held if not isinstance(outcome, Exception) else isinstance(outcome, SeatUnavailable)
