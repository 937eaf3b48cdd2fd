"""A refund meets the ticket's other flows: its resale listing, its transfer offer, and a ticket passed on.

Rule (docs/BUYER.md "Refunds and open transfers/listings"): a refund first closes the order's open offers and
listings (ACTIVE listing and OFFERED/ACCEPTED transfer -> CANCELLED) in the same orders_db transaction that records
the refund; a sale or transfer already completing makes it answer 409 TICKET_CHANGING_HANDS (retry once it is done);
a ticket that now belongs to someone else makes it answer 409 TICKET_TRANSFERRED. Either refusal changes nothing.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from accounts.tests.factories import UserFactory
from core import faults
from core.databases import ALL_DATABASES
from inventory import services as inventory_services
from orders import contract, services
from orders.models import Order, ResaleListing, Transfer
from orders.services import resale, transfer
from orders.tests.factories import sold_ticket
from orders.tests.helpers import (
    accepted,
    assert_invariants,
    balance,
    code_for,
    confirm_both,
    ledger_kinds,
    offer,
    race,
    seat_row,
    sender_confirms,
)

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def refund(ticket, **kwargs):
    return services.order_refund(order_id=ticket.order_id, actor_id=None, reason="Customer request", **kwargs)


def order_of(ticket) -> Order:
    return Order.objects.using("orders").get(pk=ticket.order_id)


# --- Listings ---------------------------------------------------------------------------------------------------------


def test_refund_of_a_listed_ticket_cancels_its_listing_first(ticket, owner):
    listing = resale.listing_create(seat_id=ticket.pk, seller_id=owner.pk, price="40.00")

    refunded = refund(ticket)

    assert refunded.status == "REFUNDED"
    assert ResaleListing.objects.using("orders").get(pk=listing.id).status == "CANCELLED"
    assert seat_row(ticket.pk)["status"] == "AVAILABLE"
    assert balance(owner) == Decimal("100.00")
    assert resale.listings_for_event(event_id=ticket.event_id) == []
    assert_invariants()


def test_a_cancelled_listing_of_a_refunded_ticket_cannot_be_bought(ticket, owner, friend):
    listing = resale.listing_create(seat_id=ticket.pk, seller_id=owner.pk, price="40.00")
    refund(ticket)
    with pytest.raises(contract.ListingUnavailable):
        resale.listing_buy(listing_id=listing.id, buyer_id=friend.pk)
    assert balance(friend) == Decimal("100.00")
    assert_invariants()


def test_refund_while_the_listing_is_being_sold_is_refused_and_changes_nothing(ticket, owner, friend):
    listing = resale.listing_create(seat_id=ticket.pk, seller_id=owner.pk, price="40.00")
    with faults.arm("resale.after_claim"), pytest.raises(faults.InjectedFault):
        resale.listing_buy(listing_id=listing.id, buyer_id=friend.pk)

    with pytest.raises(contract.TicketChangingHands) as caught:
        refund(ticket)

    assert (caught.value.code, caught.value.status) == ("TICKET_CHANGING_HANDS", 409)
    assert (order_of(ticket).status, order_of(ticket).step) == ("CONFIRMED", "DONE")
    assert ResaleListing.objects.using("orders").get(pk=listing.id).status == "SELLING"
    assert seat_row(ticket.pk)["status"] == "LISTED"
    assert "PURCHASE_REFUND" not in ledger_kinds(ticket.order_id)


def test_refund_of_a_resold_ticket_is_refused_with_ticket_transferred(ticket, owner, friend):
    listing = resale.listing_create(seat_id=ticket.pk, seller_id=owner.pk, price="40.00")
    resale.listing_buy(listing_id=listing.id, buyer_id=friend.pk)

    with pytest.raises(inventory_services.TicketTransferred) as caught:
        refund(ticket)

    assert (caught.value.code, caught.value.status) == ("TICKET_TRANSFERRED", 409)
    assert order_of(ticket).status == "CONFIRMED"
    assert seat_row(ticket.pk)["status"] == "SOLD" and seat_row(ticket.pk)["owner_id"] == friend.pk
    assert "PURCHASE_REFUND" not in ledger_kinds(ticket.order_id)
    assert_invariants()


# --- Transfers --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("was_accepted", [False, True], ids=["offered", "accepted"])
def test_refund_cancels_an_open_transfer_offer(ticket, owner, friend, was_accepted):
    if was_accepted:
        info = accepted(ticket, owner, friend, price="20.00")
    else:
        info = offer(ticket, owner, friend)

    assert refund(ticket).status == "REFUNDED"

    assert Transfer.objects.using("orders").get(pk=info.id).status == "CANCELLED"
    assert transfer.transfer_active_for_seat(seat_id=ticket.pk) is None
    assert_invariants()


def test_the_recipient_cannot_complete_a_transfer_cancelled_by_a_refund(ticket, owner, friend):
    info = accepted(ticket, owner, friend, price="20.00")
    sender_confirms(info, owner)
    refund(ticket)
    code = code_for(friend, purpose="TRANSFER_RECIPIENT", transfer_id=info.id)
    with pytest.raises(contract.TransferStateInvalid):
        transfer.transfer_confirm(transfer_id=info.id, user_id=friend.pk, code=code)
    assert balance(friend) == Decimal("100.00")
    assert seat_row(ticket.pk)["owner_id"] is None
    assert_invariants()


def test_refund_while_a_transfer_is_completing_is_refused_and_changes_nothing(ticket, owner, friend):
    info = accepted(ticket, owner, friend, price="20.00")
    sender_confirms(info, owner)
    code = code_for(friend, purpose="TRANSFER_RECIPIENT", transfer_id=info.id)
    with faults.arm("transfer.after_payment"), pytest.raises(faults.InjectedFault):
        transfer.transfer_confirm(transfer_id=info.id, user_id=friend.pk, code=code)

    with pytest.raises(contract.TicketChangingHands):
        refund(ticket)

    assert (order_of(ticket).status, order_of(ticket).step) == ("CONFIRMED", "DONE")
    assert Transfer.objects.using("orders").get(pk=info.id).status == "COMPLETING"
    # Once the transfer is finished the ticket is someone else's: the refund is refused for good.
    transfer.transfer_recover(older_than_seconds=0)
    with pytest.raises(inventory_services.TicketTransferred):
        refund(ticket)
    assert_invariants()


def test_refund_of_a_transferred_ticket_is_refused_and_changes_nothing(ticket, owner, friend):
    info = accepted(ticket, owner, friend, price="20.00")
    confirm_both(info, owner, friend)
    before = seat_row(ticket.pk)

    with pytest.raises(inventory_services.TicketTransferred):
        refund(ticket)

    assert seat_row(ticket.pk) == before
    assert (order_of(ticket).status, order_of(ticket).step) == ("CONFIRMED", "DONE")
    # The sender got the price less the platform fee, as a resale seller does (transfers are priced like resale).
    assert (balance(owner), balance(friend)) == (Decimal("69.00"), Decimal("80.00"))
    assert_invariants()


def test_refund_after_a_reversed_transfer_goes_to_the_buyer_who_owns_it_again(ticket, owner, friend):
    staff = UserFactory(is_staff=True, is_superuser=True)
    info = accepted(ticket, owner, friend, price="20.00")
    confirm_both(info, owner, friend)
    transfer.transfer_dispute(transfer_id=info.id, actor_id=staff.pk, reason="Stolen")
    transfer.transfer_reverse(transfer_id=info.id, actor_id=staff.pk, reason="Fraud")

    assert refund(ticket).status == "REFUNDED"
    assert (balance(owner), balance(friend)) == (Decimal("100.00"), Decimal("100.00"))
    assert_invariants()


def test_event_refund_skips_orders_whose_ticket_was_passed_on_and_refunds_the_rest(owner, friend):
    passed = sold_ticket(owner)
    kept = sold_ticket(owner, setup=passed.setup, seat_index=1)
    listing = resale.listing_create(seat_id=kept.pk, seller_id=owner.pk, price="40.00")
    confirm_both(accepted(passed, owner, friend, price="20.00"), owner, friend)

    done, total = services.orders_refund_for_event(event_id=passed.event_id, actor_id=None, reason="Cancelled")

    assert (done, total) == (1, 2)
    assert order_of(kept).status == "REFUNDED" and order_of(passed).status == "CONFIRMED"
    assert ResaleListing.objects.using("orders").get(pk=listing.id).status == "CANCELLED"
    assert seat_row(passed.pk)["owner_id"] == friend.pk
    assert_invariants()


# --- Races ------------------------------------------------------------------------------------------------------------


@pytest.mark.concurrency
@pytest.mark.django_db(databases=ALL_DATABASES, transaction=True)
def test_refund_racing_a_buyer_of_the_listing_has_exactly_one_outcome(owner):
    for round_number in range(3):
        friend = UserFactory(email=f"shopper{round_number}@example.com", credits="100.00")
        ticket = sold_ticket(owner)
        listing = resale.listing_create(seat_id=ticket.pk, seller_id=owner.pk, price="40.00")
        refund_result, buy_result = race(
            lambda t=ticket: refund(t), lambda item=listing, who=friend: _buy(item.id, who)
        )
        state = ResaleListing.objects.using("orders").get(pk=listing.id).status
        if state == "SOLD":
            assert isinstance(refund_result, inventory_services.TicketTransferred | contract.TicketChangingHands)
            assert order_of(ticket).status == "CONFIRMED"
        else:
            assert state == "CANCELLED"
            assert getattr(refund_result, "status", None) == "REFUNDED"
            assert isinstance(buy_result, contract.ListingUnavailable)
        assert_invariants()


@pytest.mark.concurrency
@pytest.mark.django_db(databases=ALL_DATABASES, transaction=True)
def test_refund_racing_a_new_listing_never_leaves_a_listing_of_a_free_seat(owner):
    for _ in range(4):
        ticket = sold_ticket(owner)
        race(
            lambda t=ticket: refund(t),
            lambda t=ticket: resale.listing_create(seat_id=t.pk, seller_id=owner.pk, price=1),
        )
        assert order_of(ticket).status == "REFUNDED"
        assert not ResaleListing.objects.using("orders").filter(seat_id=ticket.pk, status="ACTIVE").exists()
        assert seat_row(ticket.pk)["status"] == "AVAILABLE"
        assert_invariants()


def _buy(listing_id: uuid.UUID, buyer):
    return resale.listing_buy(listing_id=listing_id, buyer_id=buyer.pk)
