"""After a transfer, a resale or a reversal, every QR code the previous holder had is refused at the gate."""

from __future__ import annotations

import pytest

from accounts.tests.factories import MembershipFactory
from core.databases import ALL_DATABASES
from inventory import services as inventory_services
from orders import contract
from orders.services import resale, transfer
from orders.tests.helpers import accepted, confirm_both

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def scan(ticket, token):
    gate = MembershipFactory(organization_id=ticket.setup.event.organization_id, role="GATE").user
    return inventory_services.ticket_scan(
        token=token,
        event_id=ticket.event_id,
        gate="North",
        staff_id=gate.pk,
        organization_id=ticket.setup.event.organization_id,
    ).result


def test_old_owners_qr_is_revoked_after_a_transfer_and_the_new_owners_admits(ticket, owner, friend):
    old_token, _ = inventory_services.ticket_qr(seat_id=ticket.pk, owner_id=owner.pk)
    done = confirm_both(accepted(ticket, owner, friend), owner, friend)
    assert done.status == "COMPLETED"
    assert scan(ticket, old_token) == "REVOKED"
    new_token, _ = inventory_services.ticket_qr(seat_id=ticket.pk, owner_id=friend.pk)
    assert scan(ticket, new_token) == "SUCCESS"


def test_sellers_qr_is_revoked_after_a_resale(ticket, owner, friend):
    old_token, _ = inventory_services.ticket_qr(seat_id=ticket.pk, owner_id=owner.pk)
    listing = resale.listing_create(seat_id=ticket.pk, seller_id=owner.pk, price="40.00")
    resale.listing_buy(listing_id=listing.id, buyer_id=friend.pk)
    assert scan(ticket, old_token) == "REVOKED"
    new_token, _ = inventory_services.ticket_qr(seat_id=ticket.pk, owner_id=friend.pk)
    assert scan(ticket, new_token) == "SUCCESS"


def test_recipients_qr_is_revoked_after_staff_reverse_the_transfer(ticket, owner, friend):
    done = confirm_both(accepted(ticket, owner, friend), owner, friend)
    assert done.status == "COMPLETED"
    recipient_token, _ = inventory_services.ticket_qr(seat_id=ticket.pk, owner_id=friend.pk)
    manager = MembershipFactory(organization_id=ticket.setup.event.organization_id, role="BOX_OFFICE").user
    transfer.transfer_dispute(transfer_id=done.id, actor_id=manager.pk, reason="Stolen account")
    transfer.transfer_reverse(transfer_id=done.id, actor_id=manager.pk, reason="Stolen account")
    assert scan(ticket, recipient_token) == "REVOKED"


def test_a_checked_in_ticket_cannot_be_offered_afterwards(ticket, owner, friend):
    token, _ = inventory_services.ticket_qr(seat_id=ticket.pk, owner_id=owner.pk)
    assert scan(ticket, token) == "SUCCESS"
    with pytest.raises(contract.TicketNotTransferable):
        transfer.transfer_offer(seat_id=ticket.pk, from_user_id=owner.pk, to_email=friend.email)
