"""Resale listings: the price cap and the platform fee, reads, and the owner's listing and withdrawal of a ticket.

Listing writes the listing in orders_db, then marks the ticket LISTED in seats_db; a withdrawal goes the other way
(WITHDRAWN with step NONE, the ticket back to SOLD, then step DONE). The resale recoverer repairs a crash in between.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts import selectors as account_selectors
from core.errors import DomainError, NotFound
from core.results import from_row
from inventory import selectors as inventory_selectors
from inventory import services as inventory_services
from orders import DB_ALIAS
from orders.contract import (
    InvalidListingPrice,
    ListingActive,
    ListingInfo,
    ListingUnavailable,
    UserFlagged,
)
from orders.contract import ResaleListingStatus as Status
from orders.contract import ResaleListingStep as Step
from orders.models import ResaleListing
from orders.services.ticket_flows import fee_for, parse_price, ticket_lock_for_new_flow, ticket_to_pass_on
from orders.services.transfer.offers import transfers_expire_due

# --- Reads -----------------------------------------------------------------------------------------------------------


def listings_for_event(*, event_id: uuid.UUID) -> list[ListingInfo]:
    """ACTIVE listings of an event, cheapest first (served by listing_event_active_idx)."""
    queryset = ResaleListing.objects.using(DB_ALIAS).filter(event_id=event_id, status=Status.ACTIVE)
    return [from_row(ListingInfo, listing) for listing in queryset.order_by("price", "created_at")[:500]]


def listings_for_seller(*, seller_id: uuid.UUID) -> list[ListingInfo]:
    queryset = ResaleListing.objects.using(DB_ALIAS).filter(seller_id=seller_id)
    return [from_row(ListingInfo, listing) for listing in queryset.order_by("-created_at")[:200]]


def listings_bought_by(*, buyer_id: uuid.UUID) -> list[ListingInfo]:
    queryset = ResaleListing.objects.using(DB_ALIAS).filter(buyer_id=buyer_id, status=Status.SOLD)
    return [from_row(ListingInfo, listing) for listing in queryset.order_by("-sold_at")[:200]]


def listing_get(*, listing_id: uuid.UUID, user_id: uuid.UUID | None = None) -> ListingInfo:
    """An ACTIVE listing is public; any other state only for its seller and buyer."""
    listing = ResaleListing.objects.using(DB_ALIAS).filter(pk=listing_id).first()
    if listing is None:
        raise NotFound(gettext("No such listing."))
    if listing.status != Status.ACTIVE and str(user_id) not in (str(listing.seller_id), str(listing.buyer_id)):
        raise NotFound(gettext("No such listing."))
    return from_row(ListingInfo, listing)


# --- Create and withdraw ---------------------------------------------------------------------------------------------


def listing_create(*, seat_id: uuid.UUID, seller_id: uuid.UUID, price: Any) -> ListingInfo:
    """The owner of a SOLD ticket lists it at ``price`` (> 0, at most the cap); the ticket becomes LISTED."""
    amount = parse_price(price, allow_zero=False, error=InvalidListingPrice)
    seller = account_selectors.user_get(user_id=seller_id)
    if seller.is_flagged:
        raise UserFlagged(gettext("Your account is flagged and cannot sell tickets until staff clear it."))
    ticket, event = ticket_to_pass_on(
        seat_id=seat_id,
        owner_id=seller.id,
        amount=amount,
        refused=gettext("This ticket cannot be listed (checked in or being refunded)."),
        event_refused=gettext("Tickets of an event that is not on (cancelled or ended) cannot be resold."),
        listed_error=ListingActive,
    )

    transfers_expire_due(seat_id=seat_id)
    try:
        with transaction.atomic(using=DB_ALIAS):
            ticket_lock_for_new_flow(
                ticket,
                opening=ResaleListing,
                refused=gettext("This ticket cannot be listed (its order is being refunded)."),
            )
            listing = ResaleListing.objects.using(DB_ALIAS).create(
                seat_id=seat_id,
                event_id=ticket.event_id,
                organization_id=event.organization_id,
                seller_id=seller.id,
                price=amount,
                face_value=ticket.price,
                fee=fee_for(amount),
            )
    except IntegrityError as exc:
        if "listing_one_active_per_seat" in str(exc):
            raise ListingActive() from None
        raise
    try:
        inventory_services.ticket_set_listed(seat_id=seat_id, owner_id=seller.id, listed=True)
    except DomainError:
        # The ticket changed (checked in, refunded) between the check and now: the listing never opened.
        ResaleListing.objects.using(DB_ALIAS).filter(pk=listing.pk, status=Status.ACTIVE).update(
            status=Status.CANCELLED, updated_at=timezone.now()
        )
        raise
    return from_row(ListingInfo, listing)


def listing_withdraw(*, listing_id: uuid.UUID, seller_id: uuid.UUID) -> ListingInfo:
    """The seller takes an unsold listing down; the ticket goes back to SOLD (usable, transferable)."""
    listing = ResaleListing.objects.using(DB_ALIAS).filter(pk=listing_id, seller_id=seller_id).first()
    if listing is None:
        raise NotFound(gettext("No such listing."))
    # Compare-and-set against a buyer's claim: exactly one of them wins.
    with transaction.atomic(using=DB_ALIAS):
        claimed = (
            ResaleListing.objects.using(DB_ALIAS)
            .filter(pk=listing_id, status=Status.ACTIVE)
            .update(status=Status.WITHDRAWN, step=Step.NONE, updated_at=timezone.now())
        )
    if not claimed:
        listing.refresh_from_db(using=DB_ALIAS)
        if listing.status == Status.WITHDRAWN and listing.step == Step.DONE:
            return from_row(ListingInfo, listing)  # a repeated withdraw
        if listing.status != Status.WITHDRAWN:
            raise ListingUnavailable(
                gettext("The listing is %(status)s.") % {"status": listing.get_status_display().lower()}
            )
    withdrawal_finish(listing_id)
    return from_row(ListingInfo, ResaleListing.objects.using(DB_ALIAS).get(pk=listing_id))


def withdrawal_finish(listing_id: uuid.UUID) -> None:
    """Second half of a withdrawal: ticket LISTED -> SOLD, then step DONE (the recoverer repeats it after a crash)."""
    listing = ResaleListing.objects.using(DB_ALIAS).get(pk=listing_id)
    ticket = inventory_selectors.ticket_get(seat_id=listing.seat_id)
    if ticket.status == "LISTED" and str(ticket.owner_id) == str(listing.seller_id):
        inventory_services.ticket_set_listed(seat_id=listing.seat_id, owner_id=listing.seller_id, listed=False)
    ResaleListing.objects.using(DB_ALIAS).filter(pk=listing_id, status=Status.WITHDRAWN, step=Step.NONE).update(
        step=Step.DONE, updated_at=timezone.now()
    )
