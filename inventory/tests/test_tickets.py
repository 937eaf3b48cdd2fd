"""Tickets changing hands (new owner, listing for resale) and the ticket reads."""

import uuid

import pytest

from core.errors import NotFound
from inventory import selectors, services
from inventory.tests.factories import BUYER, OTHER, check_in, sell

pytestmark = pytest.mark.django_db(databases=["default", "seats"])


def test_change_owner_moves_the_ticket_and_bumps_the_qr_version(venue):
    sell(venue=venue, buyer_id=BUYER)
    seat_id = venue.ids(0)[0]

    moved = services.ticket_change_owner(seat_id=seat_id, from_owner_id=BUYER, to_owner_id=OTHER)
    again = services.ticket_change_owner(seat_id=seat_id, from_owner_id=BUYER, to_owner_id=OTHER)

    assert moved.owner_id == OTHER and moved.status == "SOLD"
    assert moved.qr_version == 2
    assert again.qr_version == 2, "idempotent: no second bump"


@pytest.mark.parametrize("since", ["CHECKED_IN", "LISTED"])
def test_a_move_resumed_after_the_new_owner_used_or_listed_the_ticket_is_done_not_refused(venue, since):
    """A flow killed between the move and its record resumes; the recipient may have been admitted meanwhile."""
    sell(venue=venue, buyer_id=BUYER)
    seat_id = venue.ids(0)[0]
    services.ticket_change_owner(seat_id=seat_id, from_owner_id=BUYER, to_owner_id=OTHER)
    if since == "CHECKED_IN":
        check_in(seat_id)
    else:
        services.ticket_set_listed(seat_id=seat_id, owner_id=OTHER, listed=True)

    again = services.ticket_change_owner(seat_id=seat_id, from_owner_id=BUYER, to_owner_id=OTHER)

    assert (again.owner_id, again.status, again.qr_version) == (OTHER, since, 2)


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
    check_in(venue.ids(1)[0])

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
    check_in(venue.ids(0)[0])
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
