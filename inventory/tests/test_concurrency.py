"""Races on real connections: real threads, each with its own PostgreSQL connection, released at the barrier."""

import datetime as dt
import uuid
from collections import Counter

import pytest
from django.utils import timezone

from core.testing import race_timed
from inventory import DB_ALIAS, services
from inventory.models import Seat
from inventory.tests.factories import HOLD, Venue

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.django_db(databases=["default", "seats"], transaction=True),
]


def race(functions):
    """Run the callables at the same instant; returns [(result or exception, seconds taken)] in order."""
    return race_timed(functions, connect=DB_ALIAS)


def test_twenty_buyers_racing_for_one_seat_exactly_one_holds_it_the_rest_are_refused_at_once():
    venue = Venue(rows=1, per_row=3)
    buyers = [uuid.uuid4() for _ in range(20)]
    seat_id = venue.ids(1)[0]

    outcomes = race(
        [
            lambda buyer=buyer: services.seats_hold(event_id=venue.event_id, buyer_id=buyer, seat_ids=[seat_id], **HOLD)
            for buyer in buyers
        ]
    )

    winners = [result for result, _ in outcomes if isinstance(result, list)]
    losers = [result for result, _ in outcomes if not isinstance(result, list)]
    assert len(winners) == 1
    assert len(losers) == 19 and all(isinstance(error, services.SeatUnavailable) for error in losers), losers
    assert max(seconds for _, seconds in outcomes) < 2, "nobody waited for the winner"
    seat = Seat.objects.using(DB_ALIAS).get(pk=seat_id)
    assert seat.status == "HELD" and seat.held_by_id == winners[0][0].held_by_id


def test_best_available_racers_never_get_the_same_seat():
    venue = Venue(rows=4, per_row=10)
    buyers = [uuid.uuid4() for _ in range(16)]

    outcomes = race(
        [
            lambda buyer=buyer: services.seats_hold_best_available(
                event_id=venue.event_id, buyer_id=buyer, quantity=3, section_id=venue.section_id, **HOLD
            )
            for buyer in buyers
        ]
    )

    held = [result for result, _ in outcomes if isinstance(result, list)]
    refused = [result for result, _ in outcomes if not isinstance(result, list)]
    assert all(isinstance(error, services.NotEnoughSeats) for error in refused), refused
    assert len(held) == 13, "40 seats give 13 blocks of 3"
    seat_ids = [seat.id for seats in held for seat in seats]
    assert len(seat_ids) == len(set(seat_ids)) == 39
    by_holder = Counter(Seat.objects.using(DB_ALIAS).filter(status="HELD").values_list("held_by_id", flat=True))
    assert sorted(by_holder.values()) == [3] * 13


def _sale_against_a_hold_grab(*, first_hold_expired: bool):
    """One seat held by a first buyer (its hold run out a moment ago, or live); that buyer's sale raced against a
    second buyer's hold of the seat. Returns the seat, (first, second, order id) and (sale, hold) outcomes."""
    venue = Venue(rows=1, per_row=1)
    first, second, order_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    seat_id = venue.ids(0)[0]
    services.seats_hold(event_id=venue.event_id, buyer_id=first, seat_ids=[seat_id], **HOLD)
    if first_hold_expired:
        Seat.objects.using(DB_ALIAS).filter(pk=seat_id).update(
            hold_expires_at=timezone.now() - dt.timedelta(milliseconds=1)
        )
    (sale, _), (hold, _) = race(
        [
            lambda: services.seats_sell(buyer_id=first, order_id=order_id, seat_ids=[seat_id]),
            lambda: services.seats_hold(event_id=venue.event_id, buyer_id=second, seat_ids=[seat_id], **HOLD),
        ]
    )
    return seat_id, (first, second, order_id), (sale, hold)


def test_a_sale_racing_a_hold_expiry_ends_with_exactly_one_owner():
    """The first buyer's hold has just run out; they check out while a second buyer grabs the seat."""
    for _round in range(10):
        seat_id, (first, second, _order_id), (sale, hold) = _sale_against_a_hold_grab(first_hold_expired=True)

        # The hold ran out before the sale: the sale must fail whoever wins the race.
        assert isinstance(sale, services.HoldExpired), sale
        seat = Seat.objects.using(DB_ALIAS).get(pk=seat_id)
        assert seat.owner_id is None and seat.order_id is None
        if isinstance(hold, list):
            assert seat.status == "HELD" and seat.held_by_id == second
        else:
            assert isinstance(hold, services.SeatUnavailable), hold


def test_a_sale_racing_a_hold_grab_of_a_live_hold_keeps_the_seat_with_its_buyer():
    for _round in range(10):
        seat_id, (first, _second, order_id), (sale, hold) = _sale_against_a_hold_grab(first_hold_expired=False)

        assert isinstance(sale, list), sale
        assert isinstance(hold, services.SeatUnavailable), hold
        seat = Seat.objects.using(DB_ALIAS).get(pk=seat_id)
        assert (seat.status, seat.owner_id, seat.order_id) == ("SOLD", first, order_id)


def test_one_buyer_racing_themself_cannot_exceed_the_hold_limit():
    venue = Venue(rows=1, per_row=10)
    buyer = uuid.uuid4()

    outcomes = race(
        [
            lambda i=i: services.seats_hold(
                event_id=venue.event_id,
                buyer_id=buyer,
                seat_ids=venue.ids(2 * i, 2 * i + 1),
                hold_seconds=300,
                max_per_buyer=4,
            )
            for i in range(5)
        ]
    )

    assert sum(isinstance(result, list) for result, _ in outcomes) == 2
    assert Seat.objects.using(DB_ALIAS).filter(held_by_id=buyer).count() == 4
