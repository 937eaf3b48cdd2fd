"""Resale listings (SPEC 4.9): an owner lists a ticket under the price cap; a buyer buys it in one step.

Listing states: ACTIVE --buy claims--> SELLING --> SOLD, or ACTIVE --withdraw--> WITHDRAWN, or SELLING -->
ACTIVE (the payment was refused, nothing moved) / CANCELLED (the ticket could not move; the buyer was refunded).

A purchase spans three databases like a checkout (docs/ARCHITECTURE.md): a compare-and-set UPDATE claims the listing
(ACTIVE -> SELLING with the buyer and a fresh ``sale_attempt_id``; the loser of a race changes nothing and pays
nothing), then under the attempt's flow lock credits move buyer -> seller minus the platform fee (one users_db
transaction, idempotent by the attempt id), ``step`` = SELLER_CREDITED, ownership moves LISTED -> SOLD to the buyer
(QR bump), ``step`` = OWNERSHIP_MOVED, then SOLD/DONE. :func:`resale_recover` finishes or undoes a crashed attempt.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import selectors as account_selectors
from accounts import services as account_services
from accounts.errors import InsufficientCredits
from events import selectors as event_selectors
from inventory import selectors as inventory_selectors
from inventory import services as inventory_services
from orders import DB_ALIAS
from orders.models import ResaleListing, Transfer
from orders.services.transfer import (
    TicketNotTransferable,
    UserFlagged,
    parse_price,
    parse_uuid,
    seat_advisory_lock,
    ticket_being_refunded,
    tickets_describe,
    transfers_expire_due,
)
from ticketremaster import config
from ticketremaster.errors import DomainError, NotFound
from ticketremaster.faults import fault_point
from ticketremaster.locking import FlowBusy, flow_lock

logger = logging.getLogger(__name__)

Status = ResaleListing.Status
Step = ResaleListing.Step
CENT = Decimal("0.01")


class PriceAboveCap(DomainError):
    code = "PRICE_ABOVE_CAP"
    status = 400
    default_detail = "The asking price is above the resale cap for this ticket."


class InvalidListingPrice(DomainError):
    code = "INVALID_PRICE"
    status = 400
    default_detail = "The asking price must be more than 0 credits, with at most two decimals."


class ListingActive(DomainError):
    code = "LISTING_ACTIVE"
    status = 409
    default_detail = "This ticket is already listed for resale."


class ListingUnavailable(DomainError):
    code = "LISTING_UNAVAILABLE"
    status = 409
    default_detail = "This listing is no longer for sale."


class OwnListing(DomainError):
    code = "OWN_LISTING"
    status = 400
    default_detail = "You cannot buy your own listing."


class ListingBusy(DomainError):
    code = "LISTING_BUSY"
    status = 409
    default_detail = "This listing is being sold right now; try again in a moment."


@dataclass(frozen=True)
class ListingInfo:
    id: uuid.UUID
    seat_id: uuid.UUID
    event_id: uuid.UUID
    organization_id: uuid.UUID | None
    seller_id: uuid.UUID
    price: Decimal
    face_value: Decimal
    fee: Decimal
    status: str
    step: str
    buyer_id: uuid.UUID | None
    sale_attempt_id: uuid.UUID | None
    sold_at: dt.datetime | None
    created_at: dt.datetime

    @property
    def seller_receives(self) -> Decimal:
        return self.price - fee_for(self.price)


def _info(listing: ResaleListing) -> ListingInfo:
    return ListingInfo(
        id=listing.id,
        seat_id=listing.seat_id,
        event_id=listing.event_id,
        organization_id=listing.organization_id,
        seller_id=listing.seller_id,
        price=listing.price,
        face_value=listing.face_value,
        fee=listing.fee,
        status=listing.status,
        step=listing.step,
        buyer_id=listing.buyer_id,
        sale_attempt_id=listing.sale_attempt_id,
        sold_at=listing.sold_at,
        created_at=listing.created_at,
    )


def fee_for(price: Decimal) -> Decimal:
    """The platform fee kept from a sale at ``price``: config platform_fee_percent, rounded to the cent."""
    return (price * config.get("platform_fee_percent") / Decimal(100)).quantize(CENT, rounding=ROUND_HALF_UP)


def price_cap(face_value: Decimal) -> Decimal:
    # Rounded down: a cap of 100 % never lets a seller ask a cent more than face value.
    return (face_value * config.get("resale_price_cap_percent") / Decimal(100)).quantize(CENT, rounding="ROUND_DOWN")


# --- Reads -----------------------------------------------------------------------------------------------------------


def listings_for_event(*, event_id: Any) -> list[ListingInfo]:
    """ACTIVE listings of an event, cheapest first (served by listing_event_active_idx)."""
    event_id = parse_uuid(event_id, field="event")
    queryset = ResaleListing.objects.using(DB_ALIAS).filter(event_id=event_id, status=Status.ACTIVE)
    return [_info(listing) for listing in queryset.order_by("price", "created_at")[:500]]


def listings_for_seller(*, seller_id: uuid.UUID) -> list[ListingInfo]:
    queryset = ResaleListing.objects.using(DB_ALIAS).filter(seller_id=seller_id)
    return [_info(listing) for listing in queryset.order_by("-created_at")[:200]]


def listings_bought_by(*, buyer_id: uuid.UUID) -> list[ListingInfo]:
    queryset = ResaleListing.objects.using(DB_ALIAS).filter(buyer_id=buyer_id, status=Status.SOLD)
    return [_info(listing) for listing in queryset.order_by("-sold_at")[:200]]


def listing_get(*, listing_id: Any, user_id: uuid.UUID | None = None) -> ListingInfo:
    """An ACTIVE listing is public; any other state only for its seller and buyer."""
    listing_id = parse_uuid(listing_id, field="listing")
    listing = ResaleListing.objects.using(DB_ALIAS).filter(pk=listing_id).first()
    if listing is None:
        raise NotFound("No such listing.")
    if listing.status != Status.ACTIVE and str(user_id) not in (str(listing.seller_id), str(listing.buyer_id)):
        raise NotFound("No such listing.")
    return _info(listing)


def listing_active_for_seat(*, seat_id: uuid.UUID) -> ListingInfo | None:
    listing = (
        ResaleListing.objects.using(DB_ALIAS).filter(seat_id=seat_id, status__in=ResaleListing.ACTIVE_STATUSES).first()
    )
    return _info(listing) if listing else None


# --- Create and withdraw ---------------------------------------------------------------------------------------------


def listing_create(*, seat_id: Any, seller_id: uuid.UUID, price: Any) -> ListingInfo:
    """The owner of a SOLD ticket lists it at ``price`` (> 0, at most the cap); the ticket becomes LISTED."""
    seat_id = parse_uuid(seat_id, field="ticket")
    amount = parse_price(price, allow_zero=False, error=InvalidListingPrice)
    seller = account_selectors.user_get(user_id=seller_id)
    if seller.is_flagged:
        raise UserFlagged("Your account is flagged and cannot sell tickets until staff clear it.")
    try:
        ticket = inventory_selectors.ticket_get(seat_id=seat_id)
    except NotFound:
        raise NotFound("No such ticket.") from None
    if str(ticket.owner_id) != str(seller.id):
        raise NotFound("No such ticket.")
    if ticket.status == "LISTED":
        raise ListingActive()
    if ticket.status != "SOLD" or ticket_being_refunded(order_id=ticket.order_id):
        raise TicketNotTransferable("This ticket cannot be listed (checked in or being refunded).")
    event = event_selectors.event_get(event_id=ticket.event_id)
    if event.status != "PUBLISHED":
        raise TicketNotTransferable("Tickets of an event that is not on (cancelled or ended) cannot be resold.")
    cap = price_cap(ticket.price)
    if amount > cap:
        raise PriceAboveCap(f"The most you may ask for this ticket is {cap} credits.", cap=str(cap))

    transfers_expire_due(seat_id=seat_id)
    try:
        with transaction.atomic(using=DB_ALIAS):
            # Same per-ticket lock as transfer_offer: an offer and a listing of one ticket never both open.
            seat_advisory_lock(seat_id)
            # Re-checked under the lock a refund takes too (transfer.ticket_flows_close_for_refund): a refund that
            # committed first wins; one that comes later finds this listing and cancels it.
            if ticket_being_refunded(order_id=ticket.order_id):
                raise TicketNotTransferable("This ticket cannot be listed (its order is being refunded).")
            if Transfer.objects.using(DB_ALIAS).filter(seat_id=seat_id, status__in=Transfer.ACTIVE_STATUSES).exists():
                raise TicketNotTransferable("This ticket has an open transfer offer; cancel it first.")
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
    return _info(listing)


def listing_withdraw(*, listing_id: Any, seller_id: uuid.UUID) -> ListingInfo:
    """The seller takes an unsold listing down; the ticket goes back to SOLD (usable, transferable)."""
    listing_id = parse_uuid(listing_id, field="listing")
    listing = ResaleListing.objects.using(DB_ALIAS).filter(pk=listing_id, seller_id=seller_id).first()
    if listing is None:
        raise NotFound("No such listing.")
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
            return _info(listing)  # a repeated withdraw
        if listing.status != Status.WITHDRAWN:
            raise ListingUnavailable(f"The listing is {listing.get_status_display().lower()}.")
    _unlist(listing_id)
    return _info(ResaleListing.objects.using(DB_ALIAS).get(pk=listing_id))


def _unlist(listing_id: uuid.UUID) -> None:
    """Second half of a withdrawal: ticket LISTED -> SOLD, then step DONE (the recoverer repeats it after a crash)."""
    listing = ResaleListing.objects.using(DB_ALIAS).get(pk=listing_id)
    ticket = inventory_selectors.ticket_get(seat_id=listing.seat_id)
    if ticket.status == "LISTED" and str(ticket.owner_id) == str(listing.seller_id):
        inventory_services.ticket_set_listed(seat_id=listing.seat_id, owner_id=listing.seller_id, listed=False)
    ResaleListing.objects.using(DB_ALIAS).filter(pk=listing_id, status=Status.WITHDRAWN, step=Step.NONE).update(
        step=Step.DONE, updated_at=timezone.now()
    )


# --- Buy (cross-database) --------------------------------------------------------------------------------------------


def listing_buy(*, listing_id: Any, buyer_id: uuid.UUID) -> ListingInfo:
    """Buy a listing in one step: all or nothing. The loser of a race gets LISTING_UNAVAILABLE and pays nothing."""
    listing_id = parse_uuid(listing_id, field="listing")
    buyer = account_selectors.user_get(user_id=buyer_id)
    if buyer.is_flagged:
        raise UserFlagged("Your account is flagged and cannot buy resale tickets until staff clear it.")
    listing = ResaleListing.objects.using(DB_ALIAS).filter(pk=listing_id).first()
    if listing is None:
        raise NotFound("No such listing.")
    if str(listing.seller_id) == str(buyer.id):
        raise OwnListing()
    if listing.status != Status.ACTIVE:
        raise ListingUnavailable()
    if buyer.credit_balance < listing.price:
        raise InsufficientCredits(f"You need {listing.price} credits; top up your wallet first.")

    attempt = uuid.uuid4()
    fee = fee_for(listing.price)
    with transaction.atomic(using=DB_ALIAS):
        # The claim: one compare-and-set UPDATE. Two buyers racing both run it; exactly one matches ACTIVE.
        claimed = (
            ResaleListing.objects.using(DB_ALIAS)
            .filter(pk=listing_id, status=Status.ACTIVE)
            .exclude(seller_id=buyer.id)
            .update(
                status=Status.SELLING,
                step=Step.NONE,
                buyer_id=buyer.id,
                sale_attempt_id=attempt,
                fee=fee,
                updated_at=timezone.now(),
            )
        )
    if not claimed:
        raise ListingUnavailable()
    fault_point("resale.after_claim")
    try:
        with flow_lock(attempt, using=DB_ALIAS):
            _sale_steps(listing_id, attempt)
    except FlowBusy:
        raise ListingBusy() from None
    return _info(ResaleListing.objects.using(DB_ALIAS).get(pk=listing_id))


def _set(listing_id: uuid.UUID, attempt: uuid.UUID, *, expect_step: str | None = None, **changes: Any) -> bool:
    query = ResaleListing.objects.using(DB_ALIAS).filter(pk=listing_id, status=Status.SELLING, sale_attempt_id=attempt)
    if expect_step is not None:
        query = query.filter(step=expect_step)
    with transaction.atomic(using=DB_ALIAS):
        return query.update(**changes, updated_at=timezone.now()) == 1


def _sale_steps(listing_id: uuid.UUID, attempt: uuid.UUID) -> None:
    listing = ResaleListing.objects.using(DB_ALIAS).get(pk=listing_id)
    if listing.status != Status.SELLING or listing.sale_attempt_id != attempt:
        return
    reference = str(attempt)

    if listing.step == Step.NONE:
        try:
            # Buyer -price, seller +price, seller -fee: one users_db transaction, both rows locked in id order.
            account_services.credits_move(
                payer_id=listing.buyer_id,
                payee_id=listing.seller_id,
                amount=listing.price,
                reference=reference,
                debit_kind="RESALE_DEBIT",
                credit_kind="RESALE_CREDIT",
                fee=listing.fee,
                fee_kind="RESALE_FEE",
                memo=f"Resale {str(listing.id)[:8]}",
            )
        except DomainError:
            # Nothing moved: the listing is for sale again.
            _release(listing_id, attempt)
            raise
        _set(listing_id, attempt, expect_step=Step.NONE, step=Step.SELLER_CREDITED)
        listing.step = Step.SELLER_CREDITED

    fault_point("resale.after_payment")

    if listing.step == Step.SELLER_CREDITED:
        try:
            inventory_services.ticket_change_owner(
                seat_id=listing.seat_id,
                from_owner_id=listing.seller_id,
                to_owner_id=listing.buyer_id,
                from_statuses=("LISTED",),
            )
        except DomainError:
            # The ticket is no longer the seller's listed ticket (refunded, event cancelled): undo the payment.
            _refund(listing)
            raise ListingUnavailable("The ticket could not be handed over; your credits were returned.") from None
        _set(listing_id, attempt, expect_step=Step.SELLER_CREDITED, step=Step.OWNERSHIP_MOVED)
        listing.step = Step.OWNERSHIP_MOVED

    fault_point("resale.after_ownership")

    if listing.step == Step.OWNERSHIP_MOVED:
        _set(
            listing_id,
            attempt,
            expect_step=Step.OWNERSHIP_MOVED,
            status=Status.SOLD,
            step=Step.DONE,
            sold_at=timezone.now(),
        )


def _release(listing_id: uuid.UUID, attempt: uuid.UUID) -> None:
    """A claim whose payment never happened: back to ACTIVE for the next buyer."""
    with transaction.atomic(using=DB_ALIAS):
        ResaleListing.objects.using(DB_ALIAS).filter(
            pk=listing_id, status=Status.SELLING, sale_attempt_id=attempt, step=Step.NONE
        ).update(status=Status.ACTIVE, buyer_id=None, sale_attempt_id=None, updated_at=timezone.now())


def _refund(listing: ResaleListing) -> None:
    """Undo a paid attempt whose ticket cannot move: buyer refunded in full, seller's net proceeds taken back.

    The buyer is refunded first and unconditionally (credits_credit cannot fail for lack of funds); the seller's
    reversal can fail only if they already spent the proceeds, which is logged and audited for staff rather than
    leaving the buyer out of pocket. Both are idempotent by the attempt id. The listing ends CANCELLED: the ticket
    is no longer a listed ticket of the seller's.
    """
    reference = str(listing.sale_attempt_id)
    account_services.credits_credit(
        user_id=listing.buyer_id,
        amount=listing.price,
        kind="RESALE_REFUND",
        reference=reference,
        memo=f"Resale {str(listing.id)[:8]} could not complete",
    )
    net = listing.price - listing.fee
    if net > 0 and not account_selectors.ledger_entry_exists(kind="TRANSFER_REVERSAL_DEBIT", reference=reference):
        try:
            account_services.credits_debit(
                user_id=listing.seller_id,
                amount=net,
                kind="TRANSFER_REVERSAL_DEBIT",
                reference=reference,
                memo=f"Resale {str(listing.id)[:8]} undone",
            )
        except DomainError as exc:
            logger.error("resale %s: seller proceeds could not be taken back: %s", listing.id, exc.code)
            account_services.audit_record(
                actor_id=None,
                action="resale.reversal_failed",
                object_type="resale_listing",
                object_id=str(listing.id),
                organization_id=listing.organization_id,
                reason=f"Seller proceeds of {net} could not be taken back ({exc.code}).",
            )
    _set(listing.id, listing.sale_attempt_id, status=Status.CANCELLED, step=Step.COMPENSATED)
    # Should the ticket still be the seller's LISTED ticket (it could not move for another reason), it must not stay
    # LISTED without a listing: back to SOLD.
    listed_tickets_repair(seat_ids=[listing.seat_id])


# --- Recovery --------------------------------------------------------------------------------------------------------


@dataclass
class ResaleRecoveryReport:
    name: str = "resale"
    examined: int = 0
    finished: int = 0
    undone: int = 0
    busy: int = 0
    # Listing/ticket pairs that disagreed (see _sweep_listings): listings completed or cancelled, tickets unlisted.
    repaired: int = 0
    errors: list[str] = field(default_factory=list)


SWEEP_BATCH = 500
# LISTED tickets looked at per run, oldest first (a second run picks up any beyond it).
SWEEP_LISTED_LIMIT = 50_000


def listed_tickets_repair(*, seat_ids: Iterable[uuid.UUID], unchanged_since: dt.datetime | None = None) -> int:
    """LISTED tickets among ``seat_ids`` that have no active listing by their owner go back to SOLD; returns how many.

    Such a ticket cannot be relisted (listing needs SOLD) nor shown at the gate, so nothing but this repair moves
    it; ``unchanged_since`` makes the change a compare-and-set against any flow that touched it since.
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
        .filter(seat_id__in=[ticket.id for ticket in tickets], status__in=ResaleListing.ACTIVE_STATUSES)
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


def _sweep_listings(cutoff: dt.datetime) -> int:
    """Make listing and ticket agree again where a crash split them (listing_create writes the listing, then the
    ticket; withdraw and cancellations the other way round). Cheap: batched reads, and writes only for mismatches.

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
            ticket = tickets.get(seat_id)
            if ticket is not None and ticket.status == "LISTED" and ticket.owner_id == seller_id:
                continue
            if ticket is not None and ticket.status == "SOLD" and ticket.owner_id == seller_id:
                try:
                    inventory_services.ticket_set_listed(seat_id=seat_id, owner_id=seller_id, listed=True)
                except DomainError:
                    continue  # the ticket changed meanwhile: the next run looks again
                if not ResaleListing.objects.using(DB_ALIAS).filter(pk=listing_id, status=Status.ACTIVE).exists():
                    # Withdrawn or cancelled while the ticket was being listed: undo that.
                    listed_tickets_repair(seat_ids=[seat_id])
                logger.warning("resale repair: listing %s finished (ticket LISTED)", listing_id)
            else:
                cancelled = (
                    ResaleListing.objects.using(DB_ALIAS)
                    .filter(pk=listing_id, status=Status.ACTIVE)
                    .update(status=Status.CANCELLED, updated_at=timezone.now())
                )
                if not cancelled:
                    continue
                logger.warning("resale repair: listing %s cancelled (ticket no longer the seller's)", listing_id)
            repaired += 1
    stale = inventory_services.tickets_listed_before(updated_before=cutoff, limit=SWEEP_LISTED_LIMIT)
    for start in range(0, len(stale), SWEEP_BATCH):
        repaired += _repair_listed(stale[start : start + SWEEP_BATCH], unchanged_since=cutoff)
    return repaired


def resale_recover(*, older_than_seconds: int = 60) -> ResaleRecoveryReport:
    """Finish or undo every sale attempt a crash left SELLING, and finish interrupted withdrawals.

    The truth is read from users_db: no RESALE_DEBIT row for the attempt means no money moved, so the listing is
    released to ACTIVE; a debit means the attempt rolls forward (ownership moves, SOLD), or is refunded and
    CANCELLED if the ticket can no longer move. Busy attempts (their flow lock is held) are skipped.
    """
    report = ResaleRecoveryReport()
    cutoff = timezone.now() - dt.timedelta(seconds=older_than_seconds)
    selling = ResaleListing.objects.using(DB_ALIAS).filter(status=Status.SELLING, updated_at__lte=cutoff)
    for listing_id, attempt in selling.values_list("id", "sale_attempt_id"):
        report.examined += 1
        try:
            with flow_lock(attempt, using=DB_ALIAS):
                listing = ResaleListing.objects.using(DB_ALIAS).get(pk=listing_id)
                if listing.status != Status.SELLING or listing.sale_attempt_id != attempt:
                    continue
                if listing.step == Step.NONE:
                    if account_selectors.ledger_entry_exists(kind="RESALE_DEBIT", reference=str(attempt)):
                        # Paid before the crash, step not yet recorded: record it and roll forward.
                        _set(listing_id, attempt, expect_step=Step.NONE, step=Step.SELLER_CREDITED)
                    else:
                        _release(listing_id, attempt)
                        report.undone += 1
                        continue
                _sale_steps(listing_id, attempt)
        except FlowBusy:
            report.busy += 1
            continue
        except DomainError as exc:
            failure = exc.code
        else:
            failure = ""
        status = ResaleListing.objects.using(DB_ALIAS).get(pk=listing_id).status
        if status == Status.SOLD:
            report.finished += 1
        elif status in (Status.CANCELLED, Status.ACTIVE):
            report.undone += 1  # settled: refunded or released
        elif failure:
            report.errors.append(f"listing {listing_id}: {failure}")

    withdrawing = ResaleListing.objects.using(DB_ALIAS).filter(
        status=Status.WITHDRAWN, step=Step.NONE, updated_at__lte=cutoff
    )
    for listing_id in withdrawing.values_list("id", flat=True):
        report.examined += 1
        try:
            _unlist(listing_id)
            report.finished += 1
        except DomainError as exc:
            report.errors.append(f"listing {listing_id}: {exc.code}")
    report.repaired = _sweep_listings(cutoff)
    return report


# --- Presentation helper for pages and API (reads only) --------------------------------------------------------------


def listings_describe(*, listings: list[ListingInfo], viewer_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    tickets = tickets_describe(seat_ids=[listing.seat_id for listing in listings])
    rows = []
    for listing in listings:
        ticket = tickets.get(listing.seat_id, {})
        rows.append(
            {
                **{name: getattr(listing, name) for name in ListingInfo.__dataclass_fields__},
                "status_label": Status(listing.status).label,
                "event_title": ticket.get("event_title", ""),
                "ticket_label": ticket.get("label", ""),
                "starts_at": ticket.get("starts_at"),
                "venue_name": ticket.get("venue_name", ""),
                "seller_receives": listing.price - listing.fee
                if listing.status != Status.ACTIVE
                else listing.seller_receives,
                "is_yours": viewer_id is not None and str(viewer_id) == str(listing.seller_id),
                "can_withdraw": viewer_id is not None
                and str(viewer_id) == str(listing.seller_id)
                and listing.status == Status.ACTIVE,
                "can_buy": listing.status == Status.ACTIVE
                and (viewer_id is None or str(viewer_id) != str(listing.seller_id)),
            }
        )
    return rows
