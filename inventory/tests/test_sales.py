"""Sales: held seats become tickets of an order, and an order's tickets become seats again."""

import uuid

import pytest

from core.errors import InvalidInput
from inventory import selectors, services
from inventory.tests.factories import BUYER, HOLD, OTHER, check_in, expire_holds, seat_row, sell

pytestmark = pytest.mark.django_db(databases=["default", "seats"])


def test_selling_held_seats_makes_them_tickets_of_the_order(venue):
    order_id = uuid.uuid4()
    services.seats_hold(event_id=venue.event_id, buyer_id=BUYER, seat_ids=venue.ids(0, 1), **HOLD)

    sold = services.seats_sell(buyer_id=BUYER, order_id=order_id, seat_ids=venue.ids(0, 1))

    assert [(seat.status, seat.owner_id, seat.order_id) for seat in sold] == [("SOLD", BUYER, order_id)] * 2
    assert sold[0].held_by_id is None and sold[0].hold_expires_at is None
    assert [seat.id for seat in selectors.seats_of_order(order_id=order_id)] == venue.ids(0, 1)


def test_selling_again_for_the_same_order_is_idempotent(venue):
    order_id = sell(venue=venue, buyer_id=BUYER, indexes=(0, 1))

    again = services.seats_sell(buyer_id=BUYER, order_id=order_id, seat_ids=venue.ids(0, 1))

    assert {seat.order_id for seat in again} == {order_id}


def test_an_expired_hold_sells_nothing(venue):
    services.seats_hold(event_id=venue.event_id, buyer_id=BUYER, seat_ids=venue.ids(0, 1), **HOLD)
    expire_holds(venue.ids(1)[0])

    with pytest.raises(services.HoldExpired) as caught:
        services.seats_sell(buyer_id=BUYER, order_id=uuid.uuid4(), seat_ids=venue.ids(0, 1))

    assert caught.value.context["seat_ids"] == [str(venue.ids(1)[0])]
    assert seat_row(venue.ids(0)[0]).status == "HELD", "the still-held seat was not sold either"


def test_a_hold_taken_over_by_another_buyer_sells_nothing(venue):
    services.seats_hold(event_id=venue.event_id, buyer_id=BUYER, seat_ids=venue.ids(0), **HOLD)
    expire_holds(venue.ids(0)[0])
    services.seats_hold(event_id=venue.event_id, buyer_id=OTHER, seat_ids=venue.ids(0), **HOLD)

    with pytest.raises(services.HoldExpired):
        services.seats_sell(buyer_id=BUYER, order_id=uuid.uuid4(), seat_ids=venue.ids(0))


def test_selling_without_seats_is_invalid(venue):
    with pytest.raises(InvalidInput) as caught:
        services.seats_sell(buyer_id=BUYER, order_id=uuid.uuid4(), seat_ids=[])

    assert caught.value.fields == {"seat_ids": ["No seats to sell."]}


def test_unsell_frees_the_orders_seats_and_kills_their_qr_codes(venue):
    order_id = sell(venue=venue, buyer_id=BUYER, indexes=(0, 1))
    before = seat_row(venue.ids(0)[0]).qr_version

    assert services.seats_unsell(order_id=order_id) == 2
    assert services.seats_unsell(order_id=order_id) == 0, "idempotent"

    seat = seat_row(venue.ids(0)[0])
    assert (seat.status, seat.owner_id, seat.order_id) == ("AVAILABLE", None, None)
    assert seat.qr_version == before + 1


def test_unsell_can_block_the_seats(venue):
    order_id = sell(venue=venue, buyer_id=BUYER)

    services.seats_unsell(order_id=order_id, block=True)

    assert seat_row(venue.ids(0)[0]).status == "BLOCKED"


def test_unsell_includes_listed_tickets(venue):
    order_id = sell(venue=venue, buyer_id=BUYER)
    services.ticket_set_listed(seat_id=venue.ids(0)[0], owner_id=BUYER, listed=True)

    assert services.seats_unsell(order_id=order_id) == 1


def test_unsell_refuses_an_order_with_a_checked_in_ticket(venue):
    order_id = sell(venue=venue, buyer_id=BUYER, indexes=(0, 1))
    check_in(venue.ids(1)[0])

    with pytest.raises(services.TicketCheckedIn) as caught:
        services.seats_unsell(order_id=order_id)

    assert caught.value.code == "TICKET_CHECKED_IN"
    assert seat_row(venue.ids(0)[0]).status == "SOLD", "nothing changed"
