"""Holds of chosen seats and of the best available, the per-buyer limit, releases."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from core.errors import InvalidInput, NotFound
from inventory import DB_ALIAS, selectors, services
from inventory.models import Seat
from inventory.tests.factories import BUYER, HOLD, OTHER, Venue, expire_holds, seat_row

pytestmark = pytest.mark.django_db(databases=["default", "seats"])


def test_holding_available_seats_marks_them_held_by_the_buyer(venue):
    held = services.seats_hold(event_id=venue.event_id, buyer_id=BUYER, seat_ids=venue.ids(0, 1), **HOLD)

    assert [seat.id for seat in held] == venue.ids(0, 1)
    assert all(seat.status == "HELD" and seat.held_by_id == BUYER for seat in held)
    assert all(seat.hold_expires_at > timezone.now() + dt.timedelta(seconds=290) for seat in held)
    assert held[0].label == "Row A, seat 1"


def test_a_seat_held_by_another_buyer_is_unavailable_with_its_id(venue):
    services.seats_hold(event_id=venue.event_id, buyer_id=OTHER, seat_ids=venue.ids(1), **HOLD)

    with pytest.raises(services.SeatUnavailable) as caught:
        services.seats_hold(event_id=venue.event_id, buyer_id=BUYER, seat_ids=venue.ids(0, 1), **HOLD)

    assert caught.value.status == 409
    assert caught.value.as_dict()["seat_ids"] == [str(venue.ids(1)[0])]


@pytest.mark.parametrize("seat_ids", [[], ()], ids=["empty list", "empty tuple"])
def test_holding_no_seats_is_refused_saying_so(venue, seat_ids):
    with pytest.raises(InvalidInput) as caught:
        services.seats_hold(event_id=venue.event_id, buyer_id=BUYER, seat_ids=seat_ids, **HOLD)

    assert caught.value.detail == "Choose at least one seat."
    assert caught.value.fields == {"seat_ids": ["Choose at least one seat."]}
    assert selectors.holds_for_buyer(buyer_id=BUYER) == []
    assert seat_row(venue.ids(0)[0]).status == "AVAILABLE", "all or nothing"


def test_an_expired_hold_is_taken_at_once_by_anyone(venue):
    services.seats_hold(event_id=venue.event_id, buyer_id=OTHER, seat_ids=venue.ids(0), **HOLD)
    expire_holds(*venue.ids(0))

    held = services.seats_hold(event_id=venue.event_id, buyer_id=BUYER, seat_ids=venue.ids(0), **HOLD)

    assert held[0].held_by_id == BUYER


def test_the_buyers_own_hold_is_extended_not_refused(venue):
    first = services.seats_hold(
        event_id=venue.event_id, buyer_id=BUYER, seat_ids=venue.ids(0), hold_seconds=60, max_per_buyer=8
    )
    again = services.seats_hold(event_id=venue.event_id, buyer_id=BUYER, seat_ids=venue.ids(0, 1), **HOLD)

    assert again[0].hold_expires_at > first[0].hold_expires_at
    assert len(selectors.holds_for_buyer(buyer_id=BUYER, event_id=venue.event_id)) == 2


def test_sold_and_blocked_seats_cannot_be_held(venue):
    Seat.objects.using(DB_ALIAS).filter(pk=venue.ids(0)[0]).update(status="BLOCKED")
    Seat.objects.using(DB_ALIAS).filter(pk=venue.ids(1)[0]).update(status="SOLD", owner_id=OTHER, order_id=uuid.uuid4())

    with pytest.raises(services.SeatUnavailable) as caught:
        services.seats_hold(event_id=venue.event_id, buyer_id=BUYER, seat_ids=venue.ids(0, 1, 2), **HOLD)

    assert set(caught.value.context["seat_ids"]) == {str(pk) for pk in venue.ids(0, 1)}


def test_the_hold_limit_counts_existing_unexpired_holds(venue):
    services.seats_hold(
        event_id=venue.event_id, buyer_id=BUYER, seat_ids=venue.ids(0, 1, 2), hold_seconds=300, max_per_buyer=4
    )

    with pytest.raises(services.HoldLimitExceeded) as caught:
        services.seats_hold(
            event_id=venue.event_id, buyer_id=BUYER, seat_ids=venue.ids(3, 4), hold_seconds=300, max_per_buyer=4
        )

    assert caught.value.code == "HOLD_LIMIT_EXCEEDED"
    assert caught.value.context["held"] == 3


def test_expired_holds_do_not_count_against_the_limit(venue):
    services.seats_hold(
        event_id=venue.event_id, buyer_id=BUYER, seat_ids=venue.ids(0, 1, 2), hold_seconds=300, max_per_buyer=4
    )
    expire_holds(*venue.ids(0, 1, 2))

    held = services.seats_hold(
        event_id=venue.event_id, buyer_id=BUYER, seat_ids=venue.ids(3, 4), hold_seconds=300, max_per_buyer=4
    )

    assert len(held) == 2


def test_more_seats_than_the_limit_in_one_request_is_refused(venue):
    with pytest.raises(services.HoldLimitExceeded):
        services.seats_hold(event_id=venue.event_id, buyer_id=BUYER, seat_ids=venue.ids(*range(9)), **HOLD)


def test_a_seat_of_another_event_is_not_found(venue):
    elsewhere = Venue(rows=1, per_row=1)

    with pytest.raises(NotFound) as caught:
        services.seats_hold(event_id=venue.event_id, buyer_id=BUYER, seat_ids=elsewhere.ids(0), **HOLD)

    assert caught.value.context["seat_ids"] == [str(elsewhere.ids(0)[0])]


@pytest.mark.parametrize(
    "seat_ids", [[], "not-a-list", ["nonsense"], None], ids=["empty", "string", "malformed", "missing"]
)
def test_bad_seat_id_lists_are_invalid_input(venue, seat_ids):
    with pytest.raises(InvalidInput):
        services.seats_hold(event_id=venue.event_id, buyer_id=BUYER, seat_ids=seat_ids, **HOLD)


def test_a_malformed_event_id_is_invalid_input(venue):
    with pytest.raises(InvalidInput):
        services.seats_hold(event_id="x", buyer_id=BUYER, seat_ids=venue.ids(0), **HOLD)


def test_best_available_prefers_adjacent_seats_in_the_front_row(venue):
    services.seats_hold(event_id=venue.event_id, buyer_id=OTHER, seat_ids=venue.ids(2, 5), **HOLD)

    held = services.seats_hold_best_available(
        event_id=venue.event_id, buyer_id=BUYER, quantity=3, section_id=venue.section_id, **HOLD
    )

    assert [(seat.row_label, seat.number) for seat in held] == [("A", 7), ("A", 8), ("A", 9)]


def test_best_available_falls_back_to_the_next_row_when_no_block_fits(venue):
    services.seats_hold(event_id=venue.event_id, buyer_id=OTHER, seat_ids=venue.ids(1, 3, 5, 7, 9), **HOLD)

    held = services.seats_hold_best_available(event_id=venue.event_id, buyer_id=BUYER, quantity=2, **HOLD)

    assert [(seat.row_label, seat.number) for seat in held] == [("B", 1), ("B", 2)]


def test_best_available_takes_expired_holds(venue):
    small = Venue(rows=1, per_row=2)
    services.seats_hold(event_id=small.event_id, buyer_id=OTHER, seat_ids=small.ids(0, 1), **HOLD)
    expire_holds(*small.ids(0, 1))

    held = services.seats_hold_best_available(event_id=small.event_id, buyer_id=BUYER, quantity=2, **HOLD)

    assert {seat.id for seat in held} == set(small.ids(0, 1))


def test_best_available_reports_not_enough_seats(venue):
    small = Venue(rows=1, per_row=2)

    with pytest.raises(services.NotEnoughSeats) as caught:
        services.seats_hold_best_available(event_id=small.event_id, buyer_id=BUYER, quantity=3, **HOLD)

    assert caught.value.code == "NOT_ENOUGH_SEATS"
    assert not selectors.holds_for_buyer(buyer_id=BUYER)


def test_best_available_respects_tier_and_limit(venue):
    with pytest.raises(services.NotEnoughSeats):
        services.seats_hold_best_available(
            event_id=venue.event_id, buyer_id=BUYER, quantity=1, tier_id=uuid.uuid4(), **HOLD
        )
    services.seats_hold(event_id=venue.event_id, buyer_id=BUYER, seat_ids=venue.ids(*range(7)), **HOLD)
    with pytest.raises(services.HoldLimitExceeded):
        services.seats_hold_best_available(event_id=venue.event_id, buyer_id=BUYER, quantity=2, **HOLD)


def test_best_available_over_the_limit_is_refused_for_the_limit_even_when_nothing_is_free(venue):
    services.seats_hold(event_id=venue.event_id, buyer_id=BUYER, seat_ids=venue.ids(*range(7)), **HOLD)
    for start in range(7, 30, 8):  # everything else held by other buyers, 8 each (their limit)
        others = venue.ids(*range(start, min(start + 8, 30)))
        services.seats_hold(event_id=venue.event_id, buyer_id=uuid.uuid4(), seat_ids=others, **HOLD)
    with pytest.raises(services.HoldLimitExceeded) as caught:
        services.seats_hold_best_available(event_id=venue.event_id, buyer_id=BUYER, quantity=2, **HOLD)
    assert caught.value.context["held"] == 7
    with pytest.raises(services.NotEnoughSeats):
        services.seats_hold_best_available(event_id=venue.event_id, buyer_id=BUYER, quantity=1, **HOLD)


def test_release_frees_only_the_buyers_own_holds(venue):
    services.seats_hold(event_id=venue.event_id, buyer_id=BUYER, seat_ids=venue.ids(0, 1), **HOLD)
    services.seats_hold(event_id=venue.event_id, buyer_id=OTHER, seat_ids=venue.ids(2), **HOLD)

    assert services.seats_release(buyer_id=BUYER, seat_ids=venue.ids(0, 2)) == 1
    assert services.seats_release(buyer_id=BUYER, event_id=venue.event_id) == 1
    assert services.seats_release(buyer_id=BUYER) == 0
    assert seat_row(venue.ids(2)[0]).held_by_id == OTHER


def test_holds_for_buyer_lists_only_unexpired_holds(venue):
    services.seats_hold(event_id=venue.event_id, buyer_id=BUYER, seat_ids=venue.ids(0, 1), **HOLD)
    expire_holds(*venue.ids(0))

    holds = selectors.holds_for_buyer(buyer_id=BUYER, event_id=venue.event_id)

    assert [seat.id for seat in holds] == venue.ids(1)
    assert selectors.holds_for_buyer(buyer_id="junk") == []
