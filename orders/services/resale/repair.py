"""Make listing and ticket agree again where a crash (or a refund) split them.

listing_create writes the listing, then marks the ticket LISTED; withdrawals and cancellations go the other way. A
crash in between leaves an ACTIVE listing of a SOLD ticket, or a LISTED ticket without a listing by its owner (which
nothing else would ever move: it can be neither relisted nor shown at the gate).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable

from django.utils import timezone

from core.errors import DomainError
from inventory import selectors as inventory_selectors
from inventory import services as inventory_services
from orders import DB_ALIAS
from orders.contract import LISTING_ACTIVE_STATUSES
from orders.contract import ResaleListingStatus as Status
from orders.models import ResaleListing

logger = logging.getLogger(__name__)

SWEEP_BATCH = 500
# LISTED tickets looked at per run, oldest first (a second run picks up any beyond it).
SWEEP_LISTED_LIMIT = 50_000


def listed_tickets_repair(*, seat_ids: Iterable[uuid.UUID], unchanged_since: dt.datetime | None = None) -> int:
    """LISTED tickets among ``seat_ids`` that have no active listing by their owner go back to SOLD; returns how many.

    ``unchanged_since`` makes the change a compare-and-set against any flow that touched the ticket since.
    """
    return _repair_listed(
        list(inventory_selectors.seats_get_many(seat_ids=set(seat_ids)).values()), unchanged_since=unchanged_since
    )


def _repair_listed(tickets: list[inventory_selectors.SeatInfo], *, unchanged_since: dt.datetime | None) -> int:
    tickets = [ticket for ticket in tickets if ticket.status == "LISTED" and ticket.owner_id is not None]
    if not tickets:
        return 0
    active = set(
        ResaleListing.objects.using(DB_ALIAS)
        .filter(seat_id__in=[ticket.id for ticket in tickets], status__in=LISTING_ACTIVE_STATUSES)
        .values_list("seat_id", "seller_id")
    )
    repaired = 0
    for ticket in tickets:
        if (ticket.id, ticket.owner_id) in active:
            continue
        try:
            inventory_services.ticket_set_listed(
                seat_id=ticket.id, owner_id=ticket.owner_id, listed=False, unchanged_since=unchanged_since
            )
        except DomainError:
            continue  # changed meanwhile (a live flow touched it): the next run looks again
        logger.warning("resale repair: ticket %s was LISTED without a listing; back to SOLD", ticket.id)
        repaired += 1
    return repaired


def listings_sweep(cutoff: dt.datetime) -> int:
    """Make listing and ticket agree again where a crash split them. Cheap: batched reads, writes only for mismatches.

    * an ACTIVE listing older than the cutoff whose ticket is not LISTED: still the seller's SOLD ticket -> the
      creation is finished (ticket LISTED; undone again if the listing closed meanwhile); otherwise (refunded,
      passed on, checked in) the listing is CANCELLED;
    * a LISTED ticket untouched since the cutoff without an active listing by its owner -> SOLD.
    """
    repaired = 0
    last_id = None
    while True:
        batch_query = ResaleListing.objects.using(DB_ALIAS).filter(status=Status.ACTIVE, updated_at__lte=cutoff)
        if last_id is not None:
            batch_query = batch_query.filter(pk__gt=last_id)
        batch = list(batch_query.order_by("pk").values_list("id", "seat_id", "seller_id")[:SWEEP_BATCH])
        if not batch:
            break
        last_id = batch[-1][0]
        tickets = inventory_selectors.seats_get_many(seat_ids={seat_id for _, seat_id, _ in batch})
        for listing_id, seat_id, seller_id in batch:
            repaired += _listing_agree(listing_id, seat_id, seller_id, tickets.get(seat_id))
    stale = inventory_services.tickets_listed_before(updated_before=cutoff, limit=SWEEP_LISTED_LIMIT)
    for start in range(0, len(stale), SWEEP_BATCH):
        repaired += _repair_listed(stale[start : start + SWEEP_BATCH], unchanged_since=cutoff)
    return repaired


def _listing_agree(listing_id: uuid.UUID, seat_id: uuid.UUID, seller_id: uuid.UUID, ticket) -> int:
    """One ACTIVE listing against its ticket: 1 if it had to be repaired, else 0."""
    if ticket is not None and ticket.status == "LISTED" and ticket.owner_id == seller_id:
        return 0
    if ticket is not None and ticket.status == "SOLD" and ticket.owner_id == seller_id:
        try:
            inventory_services.ticket_set_listed(seat_id=seat_id, owner_id=seller_id, listed=True)
        except DomainError:
            return 0  # the ticket changed meanwhile: the next run looks again
        if not ResaleListing.objects.using(DB_ALIAS).filter(pk=listing_id, status=Status.ACTIVE).exists():
            # Withdrawn or cancelled while the ticket was being listed: undo that.
            listed_tickets_repair(seat_ids=[seat_id])
        logger.warning("resale repair: listing %s finished (ticket LISTED)", listing_id)
        return 1
    cancelled = (
        ResaleListing.objects.using(DB_ALIAS)
        .filter(pk=listing_id, status=Status.ACTIVE)
        .update(status=Status.CANCELLED, updated_at=timezone.now())
    )
    if not cancelled:
        return 0
    logger.warning("resale repair: listing %s cancelled (ticket no longer the seller's)", listing_id)
    return 1
