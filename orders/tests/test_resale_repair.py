"""The resale recoverer makes listing and ticket agree again where a crash (or a refund) split them.

listing_create writes the listing in orders_db, then marks the ticket LISTED in seats_db; withdrawals and
cancellations go the other way. A crash between the two leaves an ACTIVE listing of a SOLD ticket, or a LISTED ticket
without a listing (LISTING_WITHOUT_LISTED_TICKET / LISTED_WITHOUT_LISTING in the invariant checker).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import OperationalError

from core.databases import ALL_DATABASES
from inventory import services as inventory_services
from ops import invariants
from orders import services
from orders.models import Order, OrderLine, ResaleListing
from orders.services import resale
from orders.services.purchase import refunds
from orders.tests.factories import sold_ticket
from orders.tests.helpers import assert_invariants, balance, seat_row

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def checks() -> set[str]:
    return set(invariants.check_all().counts)


def set_seat(ticket, **values) -> None:
    type(ticket).objects.using("seats").filter(pk=ticket.pk).update(**values)


def listing_status(listing_id) -> str:
    return ResaleListing.objects.using("orders").get(pk=listing_id).status


def crash_before_the_ticket_is_listed(monkeypatch, ticket, seller):
    """listing_create with seats_db lost right after the listing committed (a killed worker, a dropped link)."""
    real = inventory_services.ticket_set_listed

    def lost(**kwargs):
        if kwargs.get("listed"):
            raise OperationalError("server closed the connection unexpectedly")
        return real(**kwargs)

    monkeypatch.setattr(inventory_services, "ticket_set_listed", lost)
    with pytest.raises(OperationalError):
        resale.listing_create(seat_id=ticket.pk, seller_id=seller.pk, price="40.00")
    monkeypatch.setattr(inventory_services, "ticket_set_listed", real)
    return ResaleListing.objects.using("orders").get(seat_id=ticket.pk, status="ACTIVE")


def test_a_listing_whose_ticket_was_never_marked_listed_is_finished_by_recovery(monkeypatch, ticket, seller, shopper):
    listing = crash_before_the_ticket_is_listed(monkeypatch, ticket, seller)
    assert seat_row(ticket.pk)["status"] == "SOLD"
    assert checks() == {"LISTING_WITHOUT_LISTED_TICKET"}

    report = resale.resale_recover(older_than_seconds=0)

    assert (report.repaired, report.errors) == (1, [])
    assert seat_row(ticket.pk)["status"] == "LISTED" and listing_status(listing.pk) == "ACTIVE"
    assert_invariants()
    resale.listing_buy(listing_id=listing.pk, buyer_id=shopper.pk)
    assert seat_row(ticket.pk)["owner_id"] == shopper.pk
    assert_invariants()


def test_an_active_listing_of_a_ticket_that_is_no_longer_the_sellers_is_cancelled(ticket, seller):
    listing = resale.listing_create(seat_id=ticket.pk, seller_id=seller.pk, price="40.00")
    # What refunds did before they closed listings: the ticket freed under an ACTIVE listing.
    set_seat(ticket, status="AVAILABLE", owner_id=None, order_id=None)
    Order.objects.using("orders").filter(pk=ticket.order_id).update(status="FAILED")
    assert "LISTING_WITHOUT_LISTED_TICKET" in checks()

    report = resale.resale_recover(older_than_seconds=0)

    assert report.repaired == 1
    assert listing_status(listing.id) == "CANCELLED"
    assert "LISTING_WITHOUT_LISTED_TICKET" not in checks()


def test_a_listed_ticket_without_an_active_listing_goes_back_to_sold(ticket, seller):
    listing = resale.listing_create(seat_id=ticket.pk, seller_id=seller.pk, price="40.00")
    ResaleListing.objects.using("orders").filter(pk=listing.id).update(status="CANCELLED")
    assert checks() == {"LISTED_WITHOUT_LISTING"}

    report = resale.resale_recover(older_than_seconds=0)

    assert report.repaired == 1
    assert seat_row(ticket.pk)["status"] == "SOLD"
    assert_invariants()
    again = resale.resale_recover(older_than_seconds=0)
    assert again.repaired == 0


def test_young_mismatches_are_left_to_their_live_flow(monkeypatch, ticket, seller):
    crash_before_the_ticket_is_listed(monkeypatch, ticket, seller)
    other = sold_ticket(seller, setup=ticket.setup, seat_index=1)
    other_listing = resale.listing_create(seat_id=other.pk, seller_id=seller.pk, price="40.00")
    ResaleListing.objects.using("orders").filter(pk=other_listing.id).update(status="CANCELLED")

    report = resale.resale_recover(older_than_seconds=3600)

    assert report.repaired == 0
    assert seat_row(ticket.pk)["status"] == "SOLD" and seat_row(other.pk)["status"] == "LISTED"


def test_recover_flows_repairs_listings_and_says_so(monkeypatch, ticket, seller, capsys):
    crash_before_the_ticket_is_listed(monkeypatch, ticket, seller)
    call_command("recover_flows", "--older-than", "0")
    assert "repaired=1" in capsys.readouterr().out
    assert_invariants()


def test_a_refund_refused_after_closing_a_listing_puts_the_ticket_back_on_sale_terms(monkeypatch, seller):
    """A gate admits the order's other ticket between the refund's checks and seats_unsell: the refund is refused,
    the listing it closed stays closed, and the listed ticket is an ordinary SOLD ticket again (not LISTED)."""
    listed = sold_ticket(seller)
    listing = resale.listing_create(seat_id=listed.pk, seller_id=seller.pk, price="40.00")
    scanned = listed.setup.seats[1]

    OrderLine.objects.using("orders").create(order_id=listed.order_id, seat_id=scanned.pk, price=Decimal("0.00"))
    type(scanned).objects.using("seats").filter(pk=scanned.pk).update(
        status="SOLD", owner_id=seller.pk, order_id=listed.order_id
    )
    real = refunds.ticket_flows_close_for_refund

    def close_then_gate_scans(**kwargs):
        closed = real(**kwargs)
        type(scanned).objects.using("seats").filter(pk=scanned.pk).update(
            status="CHECKED_IN", checked_in_at=listed.setup.event.starts_at
        )
        return closed

    monkeypatch.setattr(refunds, "ticket_flows_close_for_refund", close_then_gate_scans)
    with pytest.raises(inventory_services.TicketCheckedIn):
        services.order_refund(order_id=listed.order_id, actor_id=None, reason="Customer request")

    order = Order.objects.using("orders").get(pk=listed.order_id)
    assert (order.status, order.step) == ("CONFIRMED", "DONE")
    assert listing_status(listing.id) == "CANCELLED"
    assert seat_row(listed.pk)["status"] == "SOLD"
    assert balance(seller) == Decimal("50.00")
    assert_invariants()
