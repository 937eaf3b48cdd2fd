"""Races on real threads and real connections: exactly one outcome wins, and balances equal ledger sums."""

from __future__ import annotations

from decimal import Decimal

import pytest

from accounts.tests.factories import UserFactory
from core.databases import ALL_DATABASES
from core.errors import DomainError
from orders.models import ResaleListing, Transfer
from orders.services import resale, transfer
from orders.tests.helpers import (
    accepted,
    assert_invariants,
    balance,
    code_for,
    fee_paid,
    ledger_kinds,
    race,
    seat_row,
    sender_confirms,
)

pytestmark = [pytest.mark.django_db(databases=ALL_DATABASES, transaction=True), pytest.mark.concurrency]


def _errors(results) -> list[str]:
    return sorted(result.code for result in results if isinstance(result, DomainError))


def _unexpected(results) -> list:
    return [result for result in results if isinstance(result, Exception) and not isinstance(result, DomainError)]


def test_both_parties_confirming_at_once_completes_exactly_once(ticket, owner, friend):
    transfer_id = accepted(ticket, owner, friend, price="30.00").id
    sender_code = code_for(owner, purpose="TRANSFER_SENDER", transfer_id=transfer_id)
    recipient_code = code_for(friend, purpose="TRANSFER_RECIPIENT", transfer_id=transfer_id)
    results = race(
        lambda: transfer.transfer_confirm(transfer_id=transfer_id, user_id=owner.pk, code=sender_code),
        lambda: transfer.transfer_confirm(transfer_id=transfer_id, user_id=friend.pk, code=recipient_code),
    )
    assert _unexpected(results) == [] and _errors(results) == []
    assert Transfer.objects.using("orders").get(pk=transfer_id).status == "COMPLETED"
    assert seat_row(ticket.pk)["owner_id"] == friend.pk
    # Transfers for credits are priced like resale: the sender pays the 5 % platform fee (1.50 of 30.00).
    assert ledger_kinds(transfer_id) == fee_paid("TRANSFER", "30.00", "1.50")
    assert (balance(owner), balance(friend)) == (Decimal("78.50"), Decimal("70.00"))
    assert_invariants()


def test_recipient_confirming_twice_at_once_pays_once(ticket, owner, friend):
    info = accepted(ticket, owner, friend, price="30.00")
    transfer_id = info.id
    sender_confirms(info, owner)
    code = code_for(friend, purpose="TRANSFER_RECIPIENT", transfer_id=transfer_id)
    results = race(
        *[lambda: transfer.transfer_confirm(transfer_id=transfer_id, user_id=friend.pk, code=code) for _ in range(2)]
    )
    assert _unexpected(results) == []
    # The code is consumed once: the double click's second request is refused, never a second payment.
    assert len(_errors(results)) == 1
    assert Transfer.objects.using("orders").get(pk=transfer_id).status == "COMPLETED"
    assert (balance(owner), balance(friend)) == (Decimal("78.50"), Decimal("70.00"))  # the sender paid the 1.50 fee
    assert_invariants()


@pytest.mark.parametrize("attempt", range(3))
def test_owner_cancelling_while_the_recipient_confirms_has_one_winner(ticket, owner, friend, attempt):
    info = accepted(ticket, owner, friend, price="30.00")
    transfer_id = info.id
    sender_confirms(info, owner)
    code = code_for(friend, purpose="TRANSFER_RECIPIENT", transfer_id=transfer_id)
    results = race(
        lambda: transfer.transfer_cancel(transfer_id=transfer_id, user_id=owner.pk),
        lambda: transfer.transfer_confirm(transfer_id=transfer_id, user_id=friend.pk, code=code),
    )
    assert _unexpected(results) == []
    status = Transfer.objects.using("orders").get(pk=transfer_id).status
    assert status in ("CANCELLED", "COMPLETED")
    assert _errors(results) == ["TRANSFER_INVALID_STATE"]  # the loser is told, whichever it was
    expected_owner = friend.pk if status == "COMPLETED" else owner.pk
    assert seat_row(ticket.pk)["owner_id"] == expected_owner
    assert balance(friend) == (Decimal("70.00") if status == "COMPLETED" else Decimal("100.00"))
    assert_invariants()


def test_two_offers_of_one_ticket_racing_open_exactly_one(ticket, owner, friend):
    other = UserFactory(email="other@example.com")
    results = race(
        lambda: transfer.transfer_offer(seat_id=ticket.pk, from_user_id=owner.pk, to_email=friend.email),
        lambda: transfer.transfer_offer(seat_id=ticket.pk, from_user_id=owner.pk, to_email=other.email),
    )
    assert _unexpected(results) == []
    assert _errors(results) == ["TRANSFER_ACTIVE"]
    assert Transfer.objects.using("orders").filter(seat_id=ticket.pk, status="OFFERED").count() == 1


def test_two_buyers_racing_for_one_listing_one_wins_and_the_other_pays_nothing(ticket, owner, friend):
    rival = UserFactory(email="rival@example.com", credits="100.00")
    listing = resale.listing_create(seat_id=ticket.pk, seller_id=owner.pk, price="40.00")
    results = race(
        lambda: resale.listing_buy(listing_id=listing.id, buyer_id=friend.pk),
        lambda: resale.listing_buy(listing_id=listing.id, buyer_id=rival.pk),
    )
    assert _unexpected(results) == []
    assert _errors(results) == ["LISTING_UNAVAILABLE"]
    after = ResaleListing.objects.using("orders").get(pk=listing.id)
    winner, loser = (friend, rival) if after.buyer_id == friend.pk else (rival, friend)
    assert after.status == "SOLD" and seat_row(ticket.pk)["owner_id"] == winner.pk
    assert balance(winner) == Decimal("60.00") and balance(loser) == Decimal("100.00")
    assert_invariants()


def test_a_transfer_offer_racing_a_resale_listing_of_the_same_ticket_opens_only_one(ticket, owner, friend):
    results = race(
        lambda: transfer.transfer_offer(seat_id=ticket.pk, from_user_id=owner.pk, to_email=friend.email),
        lambda: resale.listing_create(seat_id=ticket.pk, seller_id=owner.pk, price="40.00"),
    )
    assert _unexpected(results) == []
    assert len(_errors(results)) == 1 and _errors(results)[0] in ("TICKET_NOT_TRANSFERABLE", "LISTING_ACTIVE")
    open_transfers = Transfer.objects.using("orders").filter(seat_id=ticket.pk, status__in=Transfer.ACTIVE_STATUSES)
    open_listings = ResaleListing.objects.using("orders").filter(seat_id=ticket.pk, status="ACTIVE")
    assert open_transfers.count() + open_listings.count() == 1
    assert seat_row(ticket.pk)["status"] == ("LISTED" if open_listings.exists() else "SOLD")
    assert_invariants()


def test_a_transfer_completing_while_the_ticket_is_bought_on_resale_ends_with_one_new_owner(ticket, owner, friend):
    """The owner accepted a transfer, then (via a stale tab) the ticket is listed and bought at the same moment as
    the transfer's last confirmation. Whatever the interleaving, the ticket has exactly one new owner and every
    credit that moved for the losing flow is returned."""
    rival = UserFactory(email="rival@example.com", credits="100.00")
    info = accepted(ticket, owner, friend, price="30.00")
    transfer_id = info.id
    sender_confirms(info, owner)
    # A listing that slipped in (written directly: the services refuse it while the transfer is open).
    type(ticket).objects.using("seats").filter(pk=ticket.pk).update(status="LISTED")
    listing = ResaleListing.objects.using("orders").create(
        seat_id=ticket.pk,
        event_id=ticket.event_id,
        seller_id=owner.pk,
        price=Decimal("40.00"),
        face_value=Decimal("50.00"),
    )
    code = code_for(friend, purpose="TRANSFER_RECIPIENT", transfer_id=transfer_id)
    results = race(
        lambda: transfer.transfer_confirm(transfer_id=transfer_id, user_id=friend.pk, code=code),
        lambda: resale.listing_buy(listing_id=listing.id, buyer_id=rival.pk),
    )
    assert _unexpected(results) == []
    transfer_status = Transfer.objects.using("orders").get(pk=transfer_id).status
    listing_status = ResaleListing.objects.using("orders").get(pk=listing.id).status
    # The ticket was LISTED, so the transfer (which moves only SOLD tickets) fails and is undone; the sale wins.
    assert (transfer_status, listing_status) == ("FAILED", "SOLD")
    assert seat_row(ticket.pk)["owner_id"] == rival.pk
    assert balance(friend) == Decimal("100.00")
    assert_invariants()
