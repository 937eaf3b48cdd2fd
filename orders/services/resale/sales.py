"""Buying a listing: one step for the buyer, three databases underneath, like a checkout.

A compare-and-set UPDATE claims the listing (ACTIVE -> SELLING with the buyer and a fresh ``sale_attempt_id``; the
loser of a race changes nothing and pays nothing); then, under the attempt's flow lock, credits move buyer -> seller
minus the platform fee (one users_db transaction, idempotent by the attempt id), ``step`` = SELLER_CREDITED,
ownership moves LISTED -> SOLD to the buyer (QR bump), ``step`` = OWNERSHIP_MOVED, then SOLD/DONE. A refused payment
puts the listing back on sale; a ticket that can no longer move refunds the buyer and ends CANCELLED.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts import selectors as account_selectors
from accounts import services as account_services
from accounts.contract import InsufficientCredits, LedgerKind
from core.audit import audit_record
from core.errors import DomainError, NotFound
from core.faults import fault_point
from core.results import from_row
from inventory import services as inventory_services
from orders import DB_ALIAS
from orders.contract import (
    ListingBusy,
    ListingInfo,
    ListingUnavailable,
    NotificationKind,
    OwnListing,
    UserFlagged,
)
from orders.contract import ResaleListingStatus as Status
from orders.contract import ResaleListingStep as Step
from orders.models import ResaleListing
from orders.notifications import notify
from orders.services.blocks import check_not_blocked
from orders.services.flows import FlowStep, flow_advance, flow_drive, flow_steps
from orders.services.resale.listings import fee_for
from orders.services.resale.repair import listed_tickets_repair

logger = logging.getLogger(__name__)


def listing_buy(*, listing_id: uuid.UUID, buyer_id: uuid.UUID) -> ListingInfo:
    """Buy a listing in one step: all or nothing. The loser of a race gets LISTING_UNAVAILABLE and pays nothing."""
    buyer = account_selectors.user_get(user_id=buyer_id)
    if buyer.is_flagged:
        raise UserFlagged(gettext("Your account is flagged and cannot buy resale tickets until staff clear it."))
    listing = ResaleListing.objects.using(DB_ALIAS).filter(pk=listing_id).first()
    if listing is None:
        raise NotFound(gettext("No such listing."))
    if str(listing.seller_id) == str(buyer.id):
        raise OwnListing()
    check_not_blocked(organization_id=listing.organization_id, user_id=buyer.id)
    if listing.status != Status.ACTIVE:
        raise ListingUnavailable()
    if buyer.credit_balance < listing.price:
        raise InsufficientCredits(
            gettext("You need %(price)s credits; top up your wallet first.") % {"price": listing.price}
        )

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
    flow_drive(attempt, lambda: sale_steps(listing_id, attempt), busy=ListingBusy)
    return from_row(ListingInfo, ResaleListing.objects.using(DB_ALIAS).get(pk=listing_id))


def sale_advance(listing_id: uuid.UUID, attempt: uuid.UUID, *, expect_step: str | None = None, **changes: Any) -> bool:
    """Compare-and-set on the attempt's row (still SELLING under this attempt, and at ``expect_step``)."""
    rows = ResaleListing.objects.using(DB_ALIAS).filter(pk=listing_id, status=Status.SELLING, sale_attempt_id=attempt)
    return flow_advance(rows, expect_step=expect_step, **changes)


def sale_steps(listing_id: uuid.UUID, attempt: uuid.UUID) -> None:
    """The attempt's steps from wherever it got to; the caller holds the attempt's flow lock."""
    listing = ResaleListing.objects.using(DB_ALIAS).get(pk=listing_id)
    if listing.status != Status.SELLING or listing.sale_attempt_id != attempt:
        return

    def pay() -> None:
        # Buyer -price, seller +price, seller -fee: one users_db transaction, both rows locked in id order.
        account_services.credits_move(
            payer_id=listing.buyer_id,
            payee_id=listing.seller_id,
            amount=listing.price,
            reference=str(attempt),
            debit_kind=LedgerKind.RESALE_DEBIT,
            credit_kind=LedgerKind.RESALE_CREDIT,
            fee=listing.fee,
            fee_kind=LedgerKind.RESALE_FEE,
            memo=f"Resale {str(listing.id)[:8]}",
        )

    def payment_refused(error: DomainError) -> None:
        # Nothing moved: the listing is for sale again.
        sale_release(listing_id, attempt)

    def hand_over() -> None:
        inventory_services.ticket_change_owner(
            seat_id=listing.seat_id,
            from_owner_id=listing.seller_id,
            to_owner_id=listing.buyer_id,
            from_statuses=("LISTED",),
        )

    def hand_over_refused(error: DomainError) -> None:
        # The ticket is no longer the seller's listed ticket (refunded, event cancelled): undo the payment.
        _refund(listing)
        raise ListingUnavailable(gettext("The ticket could not be handed over; your credits were returned.")) from None

    plan = (
        FlowStep(Step.NONE, Step.SELLER_CREDITED, pay, payment_refused, fault="resale.after_payment"),
        FlowStep(
            Step.SELLER_CREDITED, Step.OWNERSHIP_MOVED, hand_over, hand_over_refused, fault="resale.after_ownership"
        ),
    )
    reached = flow_steps(
        listing.step, plan, record=lambda at, then: sale_advance(listing_id, attempt, expect_step=at, step=then)
    )
    if reached == Step.OWNERSHIP_MOVED:
        with transaction.atomic(using=DB_ALIAS):
            sold = sale_advance(
                listing_id,
                attempt,
                expect_step=Step.OWNERSHIP_MOVED,
                status=Status.SOLD,
                step=Step.DONE,
                sold_at=timezone.now(),
            )
            if sold:  # the seller's notice, queued with the sale itself
                notify(kind=NotificationKind.RESALE_SOLD, object_id=listing_id, recipient_id=listing.seller_id)


def sale_release(listing_id: uuid.UUID, attempt: uuid.UUID) -> None:
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
        kind=LedgerKind.RESALE_REFUND,
        reference=reference,
        memo=f"Resale {str(listing.id)[:8]} could not complete",
    )
    net = listing.price - listing.fee
    reversal = LedgerKind.TRANSFER_REVERSAL_DEBIT
    if net > 0 and not account_selectors.ledger_entry_exists(kind=reversal, reference=reference):
        try:
            account_services.credits_debit(
                user_id=listing.seller_id,
                amount=net,
                kind=reversal,
                reference=reference,
                memo=f"Resale {str(listing.id)[:8]} undone",
            )
        except DomainError as exc:
            logger.error("resale %s: seller proceeds could not be taken back: %s", listing.id, exc.code)
            audit_record(
                actor_id=None,
                action="resale.reversal_failed",
                object_type="resale_listing",
                object_id=str(listing.id),
                organization_id=listing.organization_id,
                reason=f"Seller proceeds of {net} could not be taken back ({exc.code}).",
            )
    sale_advance(listing.id, listing.sale_attempt_id, status=Status.CANCELLED, step=Step.COMPENSATED)
    # Should the ticket still be the seller's LISTED ticket (it could not move for another reason), it must not stay
    # LISTED without a listing: back to SOLD.
    listed_tickets_repair(seat_ids=[listing.seat_id])
