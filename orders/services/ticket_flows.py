"""What transfers, resale and refunds share about one ticket: whose it is, the per-ticket lock, whether its order is
being refunded, closing its open offers and listings for a refund, and the price of passing it on.
"""

from __future__ import annotations

import uuid
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import connections
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from core import config
from core.errors import DomainError, NotFound
from core.locking import LockSpace, xact_lock
from core.prices import MAX_AMOUNT
from events import selectors as event_selectors
from inventory import selectors as inventory_selectors
from orders import DB_ALIAS
from orders.contract import (
    LISTING_ACTIVE_STATUSES,
    TRANSFER_ACTIVE_STATUSES,
    InvalidPrice,
    OrderRefundStep,
    OrderStatus,
    OrderStep,
    PriceAboveCap,
    ResaleListingStatus,
    TicketChangingHands,
    TicketNotTransferable,
    TransferStatus,
)
from orders.models import Order, ResaleListing, Transfer

MAX_PRICE = MAX_AMOUNT


def ticket_of_owner(*, seat_id: uuid.UUID, owner_id: uuid.UUID) -> inventory_selectors.SeatInfo:
    """The owner's ticket; NotFound for anyone else's and for unknown ids (no hint that it exists)."""
    try:
        ticket = inventory_selectors.ticket_get(seat_id=seat_id)
    except NotFound:
        raise NotFound(gettext("No such ticket.")) from None
    if str(ticket.owner_id) != str(owner_id):
        raise NotFound(gettext("No such ticket."))
    return ticket


def ticket_event_on(ticket: inventory_selectors.SeatInfo, *, refused: str) -> event_selectors.EventInfo:
    """The ticket's event, which must still be on (published): a cancelled or ended event's tickets stay put."""
    event = event_selectors.event_get(event_id=ticket.event_id)
    if event.status != "PUBLISHED":
        raise TicketNotTransferable(refused)
    return event


def parse_price(value: Any, *, allow_zero: bool, error: type[DomainError] = InvalidPrice) -> Decimal:
    """A non-negative (or positive) credit amount with at most two decimals that fits NUMERIC(10,2)."""
    if isinstance(value, bool) or value is None or value == "":
        if allow_zero and value in (None, ""):
            return Decimal("0.00")
        raise error()
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise error() from None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")) or amount > MAX_PRICE:
        raise error()
    if amount < 0 or (amount == 0 and not allow_zero):
        raise error()
    return amount.quantize(Decimal("0.01"))


CENT = Decimal("0.01")


def fee_for(price: Decimal) -> Decimal:
    """The platform fee kept from a ticket passed on for ``price`` (resale or transfer): config platform_fee_percent,
    rounded to the cent."""
    return (price * config.get("platform_fee_percent") / Decimal(100)).quantize(CENT, rounding=ROUND_HALF_UP)


def price_cap(face_value: Decimal) -> Decimal:
    """The most a ticket may be passed on for (resale or transfer): config resale_price_cap_percent of face value.

    Rounded down: a cap of 100 % never lets a seller ask a cent more than face value."""
    return (face_value * config.get("resale_price_cap_percent") / Decimal(100)).quantize(CENT, rounding=ROUND_DOWN)


def check_price_cap(amount: Decimal, *, face_value: Decimal) -> None:
    """PriceAboveCap (saying the cap) when ``amount`` is more than a ticket of ``face_value`` may be passed on for."""
    cap = price_cap(face_value)
    if amount > cap:
        raise PriceAboveCap(
            gettext("The most you may ask for this ticket is %(cap)s credits.") % {"cap": cap}, cap=str(cap)
        )


def seat_advisory_lock(seat_id: uuid.UUID) -> None:
    """Serialize offers and listings of one ticket inside the current orders_db transaction.

    A transfer offer and a resale listing of the same ticket live in two tables; each has its own partial unique
    index, but only this lock stops one of each from being opened at the same moment (the transfer-vs-resale race).
    """
    xact_lock(LockSpace.SEAT, seat_id, using=DB_ALIAS)


def ticket_to_pass_on(
    *,
    seat_id: uuid.UUID,
    owner_id: uuid.UUID,
    amount: Decimal,
    refused: str | None,
    event_refused: str,
    listed_error: type[DomainError] | None = None,
) -> tuple[inventory_selectors.SeatInfo, event_selectors.EventInfo]:
    """The owner's ticket and its event, checked for what an offer and a listing both need before they open.

    The ticket must be SOLD (not checked in, not listed: ``listed_error`` when given) with its order not being
    refunded (TicketNotTransferable, saying ``refused``), its event still on (saying ``event_refused``), and
    ``amount`` within the price cap.
    """
    ticket = ticket_of_owner(seat_id=seat_id, owner_id=owner_id)
    if ticket.status == "LISTED" and listed_error is not None:
        raise listed_error()
    if ticket.status != "SOLD" or ticket_being_refunded(order_id=ticket.order_id):
        raise TicketNotTransferable(refused)
    event = ticket_event_on(ticket, refused=event_refused)
    check_price_cap(amount, face_value=ticket.price)
    return ticket, event


def ticket_lock_for_new_flow(
    ticket: inventory_selectors.SeatInfo, *, opening: type[Transfer] | type[ResaleListing], refused: str | None
) -> None:
    """Inside the orders_db transaction that opens an offer or a listing (``opening``): take the per-ticket lock,
    then check again that the order is not being refunded and that no flow of the other kind is open.

    A refund takes the same lock (``ticket_flows_close_for_refund``), so one that committed first wins and one that
    comes later finds the new offer or listing and cancels it; and an offer and a listing of one ticket, which live
    in two tables with a partial unique index each, never both open.
    """
    seat_advisory_lock(ticket.id)
    if ticket_being_refunded(order_id=ticket.order_id):
        raise TicketNotTransferable(refused)
    if opening is ResaleListing:
        if Transfer.objects.using(DB_ALIAS).filter(seat_id=ticket.id, status__in=TRANSFER_ACTIVE_STATUSES).exists():
            raise TicketNotTransferable(gettext("This ticket has an open transfer offer; cancel it first."))
    elif ResaleListing.objects.using(DB_ALIAS).filter(seat_id=ticket.id, status__in=LISTING_ACTIVE_STATUSES).exists():
        raise TicketNotTransferable(gettext("This ticket is listed for resale; withdraw the listing first."))


def ticket_being_refunded(*, order_id: uuid.UUID | None) -> bool:
    """The ticket's order is being (or was) refunded: no new offer or listing may open on it."""
    if order_id is None:
        return False
    return (
        Order.objects.using(DB_ALIAS)
        .filter(pk=order_id)
        .filter(
            Q(step=OrderStep.REFUNDING)
            | Q(status=OrderStatus.REFUNDED)
            # A refund of some of its tickets is running: the whole order waits, whichever tickets it takes.
            | Q(refunds__step=OrderRefundStep.REFUNDING)
        )
        .exists()
    )


def ticket_flows_close_for_refund(*, seat_ids: list[uuid.UUID]) -> dict[str, int]:
    """Close the open offers and listings of tickets about to be refunded; call it inside the orders_db
    transaction that records the refund (step REFUNDING), so both commit together or not at all.

    Takes the per-ticket advisory locks (sorted) that ``transfer_offer`` and ``listing_create`` take, so an offer or
    listing racing the refund either committed first (and is cancelled here) or sees REFUNDING under its lock and is
    refused. The rows are locked FOR UPDATE in id order: a buyer's claim of a listing (ACTIVE -> SELLING) and the
    second confirmation of a transfer (ACCEPTED -> COMPLETING) are compare-and-sets on the same rows, so each race
    has one winner. A sale or completion already under way cannot be cancelled: TicketChangingHands (409), and the
    caller's transaction rolls back (nothing changes). Returns how many listings and transfers were cancelled.
    """
    if not connections[DB_ALIAS].in_atomic_block:
        raise RuntimeError("ticket_flows_close_for_refund must run inside the refund's orders_db transaction")
    seats = sorted({uuid.UUID(str(seat_id)) for seat_id in seat_ids})
    if not seats:
        return {"listings": 0, "transfers": 0}
    for seat_id in seats:
        seat_advisory_lock(seat_id)
    listings = list(
        ResaleListing.objects.using(DB_ALIAS)
        .select_for_update()
        .filter(seat_id__in=seats, status__in=LISTING_ACTIVE_STATUSES)
        .order_by("pk")
    )
    transfers = list(
        Transfer.objects.using(DB_ALIAS)
        .select_for_update()
        .filter(seat_id__in=seats, status__in=TRANSFER_ACTIVE_STATUSES)
        .order_by("pk")
    )
    busy = [str(row.seat_id) for row in listings if row.status != ResaleListingStatus.ACTIVE]
    busy += [str(row.seat_id) for row in transfers if row.status == TransferStatus.COMPLETING]
    if busy:
        raise TicketChangingHands(seat_ids=sorted(set(busy)))
    now = timezone.now()
    cancelled_listings = (
        ResaleListing.objects.using(DB_ALIAS)
        .filter(pk__in=[row.pk for row in listings], status=ResaleListingStatus.ACTIVE)
        .update(status=ResaleListingStatus.CANCELLED, updated_at=now)
    )
    cancelled_transfers = (
        Transfer.objects.using(DB_ALIAS)
        .filter(pk__in=[row.pk for row in transfers], status__in=[TransferStatus.OFFERED, TransferStatus.ACCEPTED])
        .update(status=TransferStatus.CANCELLED, failure_code="ORDER_REFUNDED", updated_at=now)
    )
    return {"listings": cancelled_listings, "transfers": cancelled_transfers}
