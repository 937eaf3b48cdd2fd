import datetime as dt
import uuid

import pytest
from django.utils import timezone

from inventory import DB_ALIAS, selectors, services
from inventory.models import Seat
from inventory.tests.conftest import HOLD, sell
from ticketremaster.errors import InvalidInput, NotFound

pytestmark = pytest.mark.django_db(databases=["default", "seats"])

BUYER = uuid.UUID("00000000-0000-4000-8000-00000000000b")
OTHER = uuid.UUID("00000000-0000-4000-8000-00000000000c")


def row(seat_id) -> Seat:
    return Seat.objects.using(DB_ALIAS).get(pk=seat_id)


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
    Seat.objects.using(DB_ALIAS).filter(pk=venue.ids(1)[0]).update(
        hold_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )

    with pytest.raises(services.HoldExpired) as caught:
        services.seats_sell(buyer_id=BUYER, order_id=uuid.uuid4(), seat_ids=venue.ids(0, 1))

    assert caught.value.context["seat_ids"] == [str(venue.ids(1)[0])]
    assert row(venue.ids(0)[0]).status == "HELD", "the still-held seat was not sold either"


def test_a_hold_taken_over_by_another_buyer_sells_nothing(venue):
    services.seats_hold(event_id=venue.event_id, buyer_id=BUYER, seat_ids=venue.ids(0), **HOLD)
    Seat.objects.using(DB_ALIAS).filter(pk=venue.ids(0)[0]).update(
        hold_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    services.seats_hold(event_id=venue.event_id, buyer_id=OTHER, seat_ids=venue.ids(0), **HOLD)

    with pytest.raises(services.HoldExpired):
        services.seats_sell(buyer_id=BUYER, order_id=uuid.uuid4(), seat_ids=venue.ids(0))


def test_selling_without_seats_is_invalid(venue):
    with pytest.raises(InvalidInput):
        services.seats_sell(buyer_id=BUYER, order_id=uuid.uuid4(), seat_ids=[])


def test_unsell_frees_the_orders_seats_and_kills_their_qr_codes(venue):
    order_id = sell(venue=venue, buyer_id=BUYER, indexes=(0, 1))
    before = row(venue.ids(0)[0]).qr_version

    assert services.seats_unsell(order_id=order_id) == 2
    assert services.seats_unsell(order_id=order_id) == 0, "idempotent"

    seat = row(venue.ids(0)[0])
    assert (seat.status, seat.owner_id, seat.order_id) == ("AVAILABLE", None, None)
    assert seat.qr_version == before + 1


def test_unsell_can_block_the_seats(venue):
    order_id = sell(venue=venue, buyer_id=BUYER)

    services.seats_unsell(order_id=order_id, block=True)

    assert row(venue.ids(0)[0]).status == "BLOCKED"


def test_unsell_includes_listed_tickets(venue):
    order_id = sell(venue=venue, buyer_id=BUYER)
    services.ticket_set_listed(seat_id=venue.ids(0)[0], owner_id=BUYER, listed=True)

    assert services.seats_unsell(order_id=order_id) == 1


def test_unsell_refuses_an_order_with_a_checked_in_ticket(venue):
    order_id = sell(venue=venue, buyer_id=BUYER, indexes=(0, 1))
    Seat.objects.using(DB_ALIAS).filter(pk=venue.ids(1)[0]).update(status="CHECKED_IN", checked_in_at=timezone.now())

    with pytest.raises(services.TicketCheckedIn) as caught:
        services.seats_unsell(order_id=order_id)

    assert caught.value.code == "TICKET_CHECKED_IN"
    assert row(venue.ids(0)[0]).status == "SOLD", "nothing changed"


def test_change_owner_moves_the_ticket_and_bumps_the_qr_version(venue):
    sell(venue=venue, buyer_id=BUYER)
    seat_id = venue.ids(0)[0]

    moved = services.ticket_change_owner(seat_id=seat_id, from_owner_id=BUYER, to_owner_id=OTHER)
    again = services.ticket_change_owner(seat_id=seat_id, from_owner_id=BUYER, to_owner_id=OTHER)

    assert moved.owner_id == OTHER and moved.status == "SOLD"
    assert moved.qr_version == 2
    assert again.qr_version == 2, "idempotent: no second bump"


def test_change_owner_from_listed_when_allowed(venue):
    sell(venue=venue, buyer_id=BUYER)
    seat_id = venue.ids(0)[0]
    services.ticket_set_listed(seat_id=seat_id, owner_id=BUYER, listed=True)

    with pytest.raises(services.TicketNotTransferable):
        services.ticket_change_owner(seat_id=seat_id, from_owner_id=BUYER, to_owner_id=OTHER)
    moved = services.ticket_change_owner(
        seat_id=seat_id, from_owner_id=BUYER, to_owner_id=OTHER, from_statuses=("LISTED",)
    )

    assert (moved.owner_id, moved.status) == (OTHER, "SOLD")


def test_change_owner_refuses_the_wrong_owner_or_a_checked_in_ticket(venue):
    sell(venue=venue, buyer_id=BUYER, indexes=(0, 1))
    Seat.objects.using(DB_ALIAS).filter(pk=venue.ids(1)[0]).update(status="CHECKED_IN", checked_in_at=timezone.now())

    with pytest.raises(services.TicketNotTransferable):
        services.ticket_change_owner(seat_id=venue.ids(0)[0], from_owner_id=OTHER, to_owner_id=uuid.uuid4())
    with pytest.raises(services.TicketNotTransferable):
        services.ticket_change_owner(seat_id=venue.ids(1)[0], from_owner_id=BUYER, to_owner_id=OTHER)
    with pytest.raises(NotFound):
        services.ticket_change_owner(seat_id=uuid.uuid4(), from_owner_id=BUYER, to_owner_id=OTHER)


def test_listing_toggles_between_sold_and_listed(venue):
    sell(venue=venue, buyer_id=BUYER)
    seat_id = venue.ids(0)[0]

    assert services.ticket_set_listed(seat_id=seat_id, owner_id=BUYER, listed=True).status == "LISTED"
    assert services.ticket_set_listed(seat_id=seat_id, owner_id=BUYER, listed=True).status == "LISTED"
    assert services.ticket_set_listed(seat_id=seat_id, owner_id=BUYER, listed=False).status == "SOLD"


def test_listing_refuses_others_and_unsold_seats(venue):
    sell(venue=venue, buyer_id=BUYER)

    with pytest.raises(NotFound):
        services.ticket_set_listed(seat_id=venue.ids(0)[0], owner_id=OTHER, listed=True)
    Seat.objects.using(DB_ALIAS).filter(pk=venue.ids(0)[0]).update(status="CHECKED_IN", checked_in_at=timezone.now())
    with pytest.raises(services.TicketNotTransferable):
        services.ticket_set_listed(seat_id=venue.ids(0)[0], owner_id=BUYER, listed=True)
    with pytest.raises(services.TicketNotTransferable):
        services.ticket_set_listed(seat_id=venue.ids(0)[0], owner_id=BUYER, listed=False)


def test_ticket_reads(venue):
    order_id = sell(venue=venue, buyer_id=BUYER, indexes=(3, 4))

    assert [t.id for t in selectors.tickets_for_owner(owner_id=BUYER)] == venue.ids(3, 4)
    assert selectors.ticket_get(seat_id=venue.ids(3)[0]).order_id == order_id
    assert selectors.tickets_for_owner(owner_id="junk") == []
    with pytest.raises(NotFound):
        selectors.ticket_get(seat_id="not-a-uuid")
    with pytest.raises(NotFound):
        selectors.ticket_get_for_owner(seat_id=venue.ids(3)[0], owner_id=OTHER)
