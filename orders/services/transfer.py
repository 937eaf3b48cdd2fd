"""Ticket transfers between buyers (SPEC 4.8).

State machine (``Transfer.status``)::

    OFFERED --accept--> ACCEPTED --both codes confirmed--> COMPLETING --> COMPLETED
       |                   |                                   |              |
       |                   |                                   |              +--dispute (staff)--> DISPUTED
       |                   |                                   |                                       |
       |                   |                                   +--> FAILED     REVERSED <--reverse----+
       +-- decline (recipient) --> DECLINED     (from OFFERED or ACCEPTED)
       +-- cancel (owner) -------> CANCELLED    (from OFFERED or ACCEPTED)
       +-- expiry ---------------> EXPIRED      (config transfer_expiry_hours; lazily on read and by the recoverer)

Completion spans three databases and follows docs/ARCHITECTURE.md: COMPLETING is committed in orders_db first,
then, under the transfer's flow lock, credits move recipient -> owner in users_db (idempotent by the transfer id),
``step`` = PAID, ownership moves in seats_db (compare-and-set, bumps the QR version), ``step`` =
OWNERSHIP_MOVED, then COMPLETED/DONE. A domain failure undoes what moved and ends FAILED; a crash leaves
COMPLETING for :func:`transfer_recover`, which drives the same idempotent steps again.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, connections, transaction
from django.db.models import Q
from django.utils import timezone

from accounts import selectors as account_selectors
from accounts import services as account_services
from accounts.errors import InsufficientCredits
from events import selectors as event_selectors
from inventory import selectors as inventory_selectors
from inventory import services as inventory_services
from orders import DB_ALIAS
from orders.models import Order, ResaleListing, Transfer
from ticketremaster import config
from ticketremaster.errors import DomainError, InvalidInput, NotFound
from ticketremaster.faults import fault_point
from ticketremaster.ids import as_uuid
from ticketremaster.locking import FlowBusy, flow_lock

logger = logging.getLogger(__name__)

Status = Transfer.Status
Step = Transfer.Step

MAX_PRICE = Decimal("99999999.99")  # NUMERIC(10,2)
# Organization roles that may see and resolve transfers of their events: the roles that handle orders and refunds
# (ticketremaster.admin_tenancy Capability.ORDERS), since a reversal moves money.
STAFF_ROLES = frozenset({"OWNER", "BOX_OFFICE"})
OTP_PURPOSE = {"sender": "TRANSFER_SENDER", "recipient": "TRANSFER_RECIPIENT"}


# --- Errors --------------------------------------------------------------------------------------------------------


class TransferActive(DomainError):
    code = "TRANSFER_ACTIVE"
    status = 409
    default_detail = "This ticket already has an open transfer offer."


class SelfTransfer(DomainError):
    code = "SELF_TRANSFER"
    status = 400
    default_detail = "You cannot transfer a ticket to yourself."


class UserFlagged(DomainError):
    code = "USER_FLAGGED"
    status = 403
    default_detail = "This account is flagged and cannot transfer or receive tickets until staff clear it."


class RecipientNotVerified(DomainError):
    code = "RECIPIENT_NOT_VERIFIED"
    status = 400
    default_detail = "The recipient has not verified their email address yet."


class RecipientNotFound(DomainError):
    code = "RECIPIENT_NOT_FOUND"
    status = 400
    default_detail = "No account uses that email address."


class TicketNotTransferable(DomainError):
    code = "TICKET_NOT_TRANSFERABLE"
    status = 409
    default_detail = "This ticket cannot be transferred right now (checked in, listed for resale or being refunded)."


class TicketChangingHands(DomainError):
    code = "TICKET_CHANGING_HANDS"
    status = 409
    default_detail = (
        "A ticket of this order is being resold or transferred right now; try the refund again once that is done."
    )


class TransferStateInvalid(DomainError):
    code = "TRANSFER_INVALID_STATE"
    status = 409
    default_detail = "The transfer is not in a state that allows this."


class TransferExpired(DomainError):
    code = "TRANSFER_EXPIRED"
    status = 409
    default_detail = "The transfer offer has expired."


class TransferActionForbidden(DomainError):
    code = "TRANSFER_ACTION_FORBIDDEN"
    status = 403
    default_detail = "Only the other party of this transfer can do that."


class TransferBusy(DomainError):
    code = "TRANSFER_BUSY"
    status = 409
    default_detail = "The transfer is being completed right now; try again in a moment."


class InvalidPrice(DomainError):
    code = "INVALID_PRICE"
    status = 400
    default_detail = "The price must be an amount of credits of at least 0 with at most two decimals."


# --- Data returned to callers ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TransferInfo:
    id: uuid.UUID
    seat_id: uuid.UUID
    event_id: uuid.UUID
    organization_id: uuid.UUID | None
    from_user_id: uuid.UUID
    to_user_id: uuid.UUID
    price: Decimal
    status: str
    step: str
    expires_at: dt.datetime
    accepted_at: dt.datetime | None
    sender_confirmed_at: dt.datetime | None
    recipient_confirmed_at: dt.datetime | None
    completed_at: dt.datetime | None
    failure_code: str
    dispute_reason: str
    created_at: dt.datetime
    updated_at: dt.datetime

    @property
    def is_active(self) -> bool:
        return self.status in Transfer.ACTIVE_STATUSES

    def role_of(self, user_id: uuid.UUID) -> str | None:
        """'sender', 'recipient' or None."""
        if str(user_id) == str(self.from_user_id):
            return "sender"
        if str(user_id) == str(self.to_user_id):
            return "recipient"
        return None


def _info(transfer: Transfer) -> TransferInfo:
    return TransferInfo(
        id=transfer.id,
        seat_id=transfer.seat_id,
        event_id=transfer.event_id,
        organization_id=transfer.organization_id,
        from_user_id=transfer.from_user_id,
        to_user_id=transfer.to_user_id,
        price=transfer.price,
        status=transfer.status,
        step=transfer.step,
        expires_at=transfer.expires_at,
        accepted_at=transfer.accepted_at,
        sender_confirmed_at=transfer.sender_confirmed_at,
        recipient_confirmed_at=transfer.recipient_confirmed_at,
        completed_at=transfer.completed_at,
        failure_code=transfer.failure_code,
        dispute_reason=transfer.dispute_reason,
        created_at=transfer.created_at,
        updated_at=transfer.updated_at,
    )


# --- Helpers shared with resale --------------------------------------------------------------------------------------


def parse_uuid(value: Any, *, field: str) -> uuid.UUID:
    """A UUID from user input, or a 404 (an id that cannot exist names nothing the caller may see)."""
    pk = as_uuid(value)
    if pk is None:
        raise NotFound(f"No such {field}.")
    return pk


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


def seat_advisory_lock(seat_id: uuid.UUID) -> None:
    """Serialize offers and listings of one ticket inside the current orders_db transaction.

    A transfer offer and a resale listing of the same ticket live in two tables; each has its own partial unique
    index, but only this lock stops one of each from being opened at the same moment (the transfer-vs-resale race).
    """
    key = int.from_bytes(uuid.UUID(str(seat_id)).bytes[8:], "big", signed=True)
    with connections[DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])


def ticket_being_refunded(*, order_id: uuid.UUID | None) -> bool:
    """The ticket's order is being (or was) refunded: no new offer or listing may open on it."""
    if order_id is None:
        return False
    return (
        Order.objects.using(DB_ALIAS)
        .filter(pk=order_id)
        .filter(Q(step=Order.Step.REFUNDING) | Q(status=Order.Status.REFUNDED))
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
        .filter(seat_id__in=seats, status__in=ResaleListing.ACTIVE_STATUSES)
        .order_by("pk")
    )
    transfers = list(
        Transfer.objects.using(DB_ALIAS)
        .select_for_update()
        .filter(seat_id__in=seats, status__in=Transfer.ACTIVE_STATUSES)
        .order_by("pk")
    )
    busy = [str(row.seat_id) for row in listings if row.status != ResaleListing.Status.ACTIVE]
    busy += [str(row.seat_id) for row in transfers if row.status == Status.COMPLETING]
    if busy:
        raise TicketChangingHands(seat_ids=sorted(set(busy)))
    now = timezone.now()
    cancelled_listings = (
        ResaleListing.objects.using(DB_ALIAS)
        .filter(pk__in=[row.pk for row in listings], status=ResaleListing.Status.ACTIVE)
        .update(status=ResaleListing.Status.CANCELLED, updated_at=now)
    )
    cancelled_transfers = (
        Transfer.objects.using(DB_ALIAS)
        .filter(pk__in=[row.pk for row in transfers], status__in=[Status.OFFERED, Status.ACCEPTED])
        .update(status=Status.CANCELLED, failure_code="ORDER_REFUNDED", updated_at=now)
    )
    return {"listings": cancelled_listings, "transfers": cancelled_transfers}


def staff_may_manage(*, user_id: uuid.UUID, organization_id: uuid.UUID | None) -> bool:
    """Superusers, and staff with a managing role in the event's organization."""
    try:
        user = account_selectors.user_get(user_id=user_id)
    except NotFound:
        return False
    if not user.is_active or not user.is_staff:
        return False
    if user.is_superuser:
        return True
    if organization_id is None:
        return False
    roles = account_selectors.memberships_for_user(user_id=user_id)
    return roles.get(organization_id) in STAFF_ROLES or roles.get(str(organization_id)) in STAFF_ROLES


# --- Reads -----------------------------------------------------------------------------------------------------------


def transfers_expire_due(*, now: dt.datetime | None = None, seat_id: uuid.UUID | None = None) -> int:
    """Mark every open offer past its expiry EXPIRED (lazy expiry: called on reads and by the recoverer)."""
    now = now or timezone.now()
    due = Transfer.objects.using(DB_ALIAS).filter(status__in=[Status.OFFERED, Status.ACCEPTED], expires_at__lte=now)
    if seat_id is not None:
        due = due.filter(seat_id=seat_id)
    # Compare-and-set on status: a transfer that moved on meanwhile (accepted, completing) is left alone.
    return due.update(status=Status.EXPIRED, updated_at=now)


def _visible(transfer: Transfer, *, user_id: uuid.UUID) -> bool:
    if str(user_id) in (str(transfer.from_user_id), str(transfer.to_user_id)):
        return True
    return staff_may_manage(user_id=user_id, organization_id=transfer.organization_id)


def transfer_get(*, transfer_id: Any, user_id: uuid.UUID) -> TransferInfo:
    """The transfer if ``user_id`` is a party or manages the event; NotFound otherwise (no existence leak)."""
    transfer_id = parse_uuid(transfer_id, field="transfer")
    transfer = Transfer.objects.using(DB_ALIAS).filter(pk=transfer_id).first()
    if transfer is None or not _visible(transfer, user_id=user_id):
        raise NotFound("No such transfer.")
    if transfer.status in (Status.OFFERED, Status.ACCEPTED) and transfer.expires_at <= timezone.now():
        transfers_expire_due(seat_id=transfer.seat_id)
        transfer.refresh_from_db(using=DB_ALIAS)
    return _info(transfer)


def transfers_for_user(*, user_id: uuid.UUID, direction: str = "all", active_only: bool = False) -> list[TransferInfo]:
    """Offers a user sent ('outgoing'), received ('incoming') or both, newest first."""
    transfers_expire_due()
    queryset = Transfer.objects.using(DB_ALIAS)
    if direction == "incoming":
        queryset = queryset.filter(to_user_id=user_id)
    elif direction == "outgoing":
        queryset = queryset.filter(from_user_id=user_id)
    elif direction == "all":
        queryset = queryset.filter(from_user_id=user_id) | queryset.filter(to_user_id=user_id)
    else:
        raise InvalidInput("direction must be incoming, outgoing or all.", fields={"direction": ["Unknown value."]})
    if active_only:
        queryset = queryset.filter(status__in=Transfer.ACTIVE_STATUSES)
    return [_info(transfer) for transfer in queryset.order_by("-created_at")[:200]]


def transfer_active_for_seat(*, seat_id: uuid.UUID) -> TransferInfo | None:
    transfers_expire_due(seat_id=seat_id)
    transfer = Transfer.objects.using(DB_ALIAS).filter(seat_id=seat_id, status__in=Transfer.ACTIVE_STATUSES).first()
    return _info(transfer) if transfer else None


# --- Offer, accept, decline, cancel ----------------------------------------------------------------------------------


def _check_not_flagged(user, *, who: str) -> None:
    if user.is_flagged:
        detail = (
            "Your account is flagged and cannot transfer tickets until staff clear it."
            if who == "sender"
            else "The recipient's account is flagged and cannot receive tickets until staff clear it."
        )
        raise UserFlagged(detail)


def transfer_offer(*, seat_id: Any, from_user_id: uuid.UUID, to_email: str, price: Any = Decimal("0")) -> TransferInfo:
    """The owner of a SOLD ticket offers it to another verified user, free or for ``price`` credits."""
    seat_id = parse_uuid(seat_id, field="ticket")
    amount = parse_price(price, allow_zero=True)
    email = (to_email or "").strip()
    if not email or "@" not in email or len(email) > 254:
        raise InvalidInput("Enter the recipient's email address.", fields={"to_email": ["Enter a valid email."]})

    sender = account_selectors.user_get(user_id=from_user_id)
    _check_not_flagged(sender, who="sender")
    recipient = account_selectors.user_find_by_email(email=email)
    if recipient is None or not recipient.is_active:
        raise RecipientNotFound()
    if recipient.id == sender.id:
        raise SelfTransfer()
    _check_not_flagged(recipient, who="recipient")
    if not recipient.is_verified:
        raise RecipientNotVerified()

    try:
        ticket = inventory_selectors.ticket_get(seat_id=seat_id)
    except NotFound:
        raise NotFound("No such ticket.") from None
    if str(ticket.owner_id) != str(sender.id):
        raise NotFound("No such ticket.")
    if ticket.status != "SOLD" or ticket_being_refunded(order_id=ticket.order_id):
        raise TicketNotTransferable()
    event = event_selectors.event_get(event_id=ticket.event_id)
    if event.status != "PUBLISHED":
        raise TicketNotTransferable("Tickets of an event that is not on (cancelled or ended) cannot be transferred.")

    transfers_expire_due(seat_id=seat_id)
    expires_at = timezone.now() + dt.timedelta(hours=config.get("transfer_expiry_hours"))
    try:
        with transaction.atomic(using=DB_ALIAS):
            seat_advisory_lock(seat_id)
            # Re-checked under the lock a refund takes too: a refund that committed first wins.
            if ticket_being_refunded(order_id=ticket.order_id):
                raise TicketNotTransferable()
            if (
                ResaleListing.objects.using(DB_ALIAS)
                .filter(seat_id=seat_id, status__in=ResaleListing.ACTIVE_STATUSES)
                .exists()
            ):
                raise TicketNotTransferable("This ticket is listed for resale; withdraw the listing first.")
            transfer = Transfer.objects.using(DB_ALIAS).create(
                seat_id=seat_id,
                event_id=ticket.event_id,
                organization_id=event.organization_id,
                from_user_id=sender.id,
                to_user_id=recipient.id,
                price=amount,
                expires_at=expires_at,
            )
    except IntegrityError as exc:
        # The partial unique index is the real guard: two offers racing past every check above end here.
        if "transfer_one_active_per_seat" in str(exc):
            raise TransferActive() from None
        raise
    return _info(transfer)


def _locked(transfer_id: uuid.UUID) -> Transfer:
    transfer = Transfer.objects.using(DB_ALIAS).select_for_update().filter(pk=transfer_id).first()
    if transfer is None:
        raise NotFound("No such transfer.")
    return transfer


def _expire_if_due(transfer: Transfer) -> None:
    """Inside the row lock: an open offer past its expiry becomes EXPIRED (committed by the caller's block)."""
    if transfer.status in (Status.OFFERED, Status.ACCEPTED) and transfer.expires_at <= timezone.now():
        transfer.status = Status.EXPIRED
        transfer.save(using=DB_ALIAS, update_fields=["status", "updated_at"])


def _act(
    *, transfer_id: Any, user_id: uuid.UUID, role: str, allowed: tuple[str, ...], change: dict[str, Any]
) -> TransferInfo:
    """Lock the row, check the actor and the state, apply ``change``. An expired offer answers TRANSFER_EXPIRED."""
    transfer_id = parse_uuid(transfer_id, field="transfer")
    expired = False
    with transaction.atomic(using=DB_ALIAS):
        transfer = _locked(transfer_id)
        actor_role = "sender" if str(user_id) == str(transfer.from_user_id) else None
        if str(user_id) == str(transfer.to_user_id):
            actor_role = "recipient"
        if actor_role is None:
            raise NotFound("No such transfer.")
        if actor_role != role:
            raise TransferActionForbidden()
        _expire_if_due(transfer)
        if transfer.status == Status.EXPIRED and Status.EXPIRED not in allowed:
            expired = True
        elif transfer.status not in allowed:
            raise TransferStateInvalid(f"The transfer is {transfer.get_status_display().lower()}.")
        else:
            for field, value in change.items():
                setattr(transfer, field, value)
            transfer.save(using=DB_ALIAS, update_fields=[*change, "updated_at"])
    if expired:  # raised after the block so the EXPIRED status is committed
        raise TransferExpired()
    return _info(transfer)


def transfer_accept(*, transfer_id: Any, user_id: uuid.UUID) -> TransferInfo:
    """The recipient accepts an offer; both parties are then sent their confirmation codes."""
    recipient = account_selectors.user_get(user_id=user_id)
    _check_not_flagged(recipient, who="recipient")
    transfer = _act(
        transfer_id=transfer_id,
        user_id=user_id,
        role="recipient",
        allowed=(Status.OFFERED,),
        change={"status": Status.ACCEPTED, "accepted_at": timezone.now()},
    )
    # Codes are emailed after the commit, outside any row lock.
    for who in ("sender", "recipient"):
        _issue_code(transfer, who=who)
    return transfer


def transfer_decline(*, transfer_id: Any, user_id: uuid.UUID) -> TransferInfo:
    return _act(
        transfer_id=transfer_id,
        user_id=user_id,
        role="recipient",
        allowed=(Status.OFFERED, Status.ACCEPTED),
        change={"status": Status.DECLINED},
    )


def transfer_cancel(*, transfer_id: Any, user_id: uuid.UUID) -> TransferInfo:
    """The owner withdraws the offer; refused once completion has started (the row lock orders the race)."""
    return _act(
        transfer_id=transfer_id,
        user_id=user_id,
        role="sender",
        allowed=(Status.OFFERED, Status.ACCEPTED),
        change={"status": Status.CANCELLED},
    )


# --- Codes and confirmation ------------------------------------------------------------------------------------------


def _issue_code(transfer: TransferInfo, *, who: str, resend: bool = False) -> None:
    user_id = transfer.from_user_id if who == "sender" else transfer.to_user_id
    # A resend goes through the accounts cooldown (429 OTP_RESEND_TOO_SOON) so the button cannot spam a mailbox.
    issue = account_services.otp_resend if resend else account_services.otp_issue
    issue(user_id=user_id, purpose=OTP_PURPOSE[who], object_id=transfer.id)


def transfer_send_code(*, transfer_id: Any, user_id: uuid.UUID) -> TransferInfo:
    """(Re)send the caller's confirmation code for an accepted transfer they have not confirmed yet."""
    transfer = transfer_get(transfer_id=transfer_id, user_id=user_id)
    who = transfer.role_of(user_id)
    if who is None:
        raise NotFound("No such transfer.")
    if transfer.status == Status.EXPIRED:
        raise TransferExpired()
    if transfer.status != Status.ACCEPTED:
        raise TransferStateInvalid("Codes are sent once the recipient has accepted the offer.")
    if (who == "sender" and transfer.sender_confirmed_at) or (who == "recipient" and transfer.recipient_confirmed_at):
        raise TransferStateInvalid("You have already confirmed this transfer.")
    _issue_code(transfer, who=who, resend=True)
    return transfer


def transfer_confirm(*, transfer_id: Any, user_id: uuid.UUID, code: str) -> TransferInfo:
    """A party confirms with their one-time code; the second confirmation completes the transfer.

    The code is bound to this transfer (object_id) and to the caller's side (purpose), so a code for one transfer
    never confirms another, and the sender's code never stands in for the recipient's.
    """
    transfer_id = parse_uuid(transfer_id, field="transfer")
    code = (code or "").strip()
    if not code:
        raise InvalidInput("Enter the code we emailed you.", fields={"code": ["This field is required."]})
    current = transfer_get(transfer_id=transfer_id, user_id=user_id)
    who = current.role_of(user_id)
    if who is None:
        raise NotFound("No such transfer.")
    if current.status == Status.EXPIRED:
        raise TransferExpired()
    if current.status != Status.ACCEPTED:
        raise TransferStateInvalid(f"The transfer is {Status(current.status).label.lower()}.")
    if who == "recipient" and current.price > 0:
        recipient = account_selectors.user_get(user_id=user_id)
        if recipient.credit_balance < current.price:
            raise InsufficientCredits(
                f"You need {current.price} credits to accept this ticket; top up your wallet first."
            )

    account_services.otp_verify(user_id=user_id, purpose=OTP_PURPOSE[who], code=code, object_id=transfer_id)

    expired = False
    start = False
    with transaction.atomic(using=DB_ALIAS):
        # The row lock orders this confirmation against the other party's and against a cancel/decline: whichever
        # commits first decides, the other re-reads the state it left.
        transfer = _locked(transfer_id)
        _expire_if_due(transfer)
        if transfer.status == Status.EXPIRED:
            expired = True
        elif transfer.status != Status.ACCEPTED:
            raise TransferStateInvalid(f"The transfer is {transfer.get_status_display().lower()}.")
        else:
            now = timezone.now()
            field = "sender_confirmed_at" if who == "sender" else "recipient_confirmed_at"
            if getattr(transfer, field) is None:
                setattr(transfer, field, now)
            if transfer.sender_confirmed_at and transfer.recipient_confirmed_at:
                # The plan is recorded before any other database is touched (ARCHITECTURE.md step 1).
                transfer.status = Status.COMPLETING
                transfer.step = Step.NONE
                start = True
            transfer.save(using=DB_ALIAS)
    if expired:
        raise TransferExpired()
    if start:
        return _drive_completion(transfer.id)
    return _info(transfer)


# --- Completion (cross-database) -------------------------------------------------------------------------------------


def _set(transfer_id: uuid.UUID, *, expect_status: str, expect_step: str | None = None, **changes: Any) -> bool:
    """Compare-and-set on (status, step); False when another worker moved the flow on."""
    query = Transfer.objects.using(DB_ALIAS).filter(pk=transfer_id, status=expect_status)
    if expect_step is not None:
        query = query.filter(step=expect_step)
    with transaction.atomic(using=DB_ALIAS):
        return query.update(**changes, updated_at=timezone.now()) == 1


def _drive_completion(transfer_id: uuid.UUID) -> TransferInfo:
    """Run (or resume) the completion of a COMPLETING transfer. Every step is idempotent."""
    try:
        with flow_lock(transfer_id, using=DB_ALIAS):
            _complete_steps(transfer_id)
    except FlowBusy:
        raise TransferBusy() from None
    return _info(Transfer.objects.using(DB_ALIAS).get(pk=transfer_id))


def _complete_steps(transfer_id: uuid.UUID) -> None:
    transfer = Transfer.objects.using(DB_ALIAS).get(pk=transfer_id)
    if transfer.status != Status.COMPLETING:
        return
    reference = str(transfer.id)

    if transfer.step == Step.NONE:
        try:
            # Both user rows are locked in sorted id order inside accounts; a retry finds the (kind, reference)
            # rows and changes nothing. A free transfer moves no money (amount 0 is a no-op).
            account_services.credits_move(
                payer_id=transfer.to_user_id,
                payee_id=transfer.from_user_id,
                amount=transfer.price,
                reference=reference,
                debit_kind="TRANSFER_DEBIT",
                credit_kind="TRANSFER_CREDIT",
                memo=f"Ticket transfer {reference[:8]}",
            )
        except DomainError as exc:
            # Nothing moved (credits_move is one users_db transaction): the transfer simply fails.
            _set(transfer.id, expect_status=Status.COMPLETING, status=Status.FAILED, failure_code=exc.code)
            raise
        _set(transfer.id, expect_status=Status.COMPLETING, expect_step=Step.NONE, step=Step.PAID)
        transfer.step = Step.PAID

    fault_point("transfer.after_payment")

    if transfer.step == Step.PAID:
        try:
            inventory_services.ticket_change_owner(
                seat_id=transfer.seat_id,
                from_owner_id=transfer.from_user_id,
                to_owner_id=transfer.to_user_id,
                from_statuses=("SOLD",),
            )
        except DomainError as exc:
            # The ticket was checked in, refunded or listed meanwhile: give the recipient their credits back.
            _compensate(transfer, failure_code=exc.code)
            raise
        _set(transfer.id, expect_status=Status.COMPLETING, expect_step=Step.PAID, step=Step.OWNERSHIP_MOVED)
        transfer.step = Step.OWNERSHIP_MOVED

    fault_point("transfer.after_ownership")

    if transfer.step == Step.OWNERSHIP_MOVED:
        _set(
            transfer.id,
            expect_status=Status.COMPLETING,
            expect_step=Step.OWNERSHIP_MOVED,
            status=Status.COMPLETED,
            step=Step.DONE,
            completed_at=timezone.now(),
        )


def _compensate(transfer: Transfer, *, failure_code: str) -> None:
    """Undo a completion that cannot finish: ownership back if it moved, credits back, FAILED."""
    ticket = inventory_selectors.ticket_get(seat_id=transfer.seat_id)
    if str(ticket.owner_id) == str(transfer.to_user_id):
        inventory_services.ticket_change_owner(
            seat_id=transfer.seat_id, from_owner_id=transfer.to_user_id, to_owner_id=transfer.from_user_id
        )
    _money_back(transfer)
    _set(
        transfer.id,
        expect_status=Status.COMPLETING,
        status=Status.FAILED,
        step=Step.COMPENSATED,
        failure_code=failure_code[:64],
    )


def _money_back(transfer: Transfer) -> None:
    """Return the recipient's payment, if one was taken (idempotent by the reversal kinds and the transfer id)."""
    if transfer.price <= 0:
        return
    if not account_selectors.ledger_entry_exists(kind="TRANSFER_DEBIT", reference=str(transfer.id)):
        return
    account_services.credits_move(
        payer_id=transfer.from_user_id,
        payee_id=transfer.to_user_id,
        amount=transfer.price,
        reference=str(transfer.id),
        debit_kind="TRANSFER_REVERSAL_DEBIT",
        credit_kind="TRANSFER_REVERSAL_CREDIT",
        memo=f"Transfer {str(transfer.id)[:8]} undone",
    )


# --- Disputes and reversal (staff) -----------------------------------------------------------------------------------


def _staff_transfer(transfer_id: Any, actor_id: uuid.UUID) -> Transfer:
    transfer_id = parse_uuid(transfer_id, field="transfer")
    transfer = Transfer.objects.using(DB_ALIAS).filter(pk=transfer_id).first()
    if transfer is None or not staff_may_manage(user_id=actor_id, organization_id=transfer.organization_id):
        raise NotFound("No such transfer.")
    return transfer


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("A reason is required.", fields={"reason": ["This field is required."]})
    return reason[:2000]


def transfer_dispute(*, transfer_id: Any, actor_id: uuid.UUID, reason: str) -> TransferInfo:
    """Staff mark a completed transfer DISPUTED while they investigate (audited)."""
    reason = _reason(reason)
    transfer = _staff_transfer(transfer_id, actor_id)
    if not _set(transfer.id, expect_status=Status.COMPLETED, status=Status.DISPUTED, dispute_reason=reason):
        raise TransferStateInvalid("Only a completed transfer can be disputed.")
    account_services.audit_record(
        actor_id=actor_id,
        action="transfer.dispute",
        object_type="transfer",
        object_id=str(transfer.id),
        organization_id=transfer.organization_id,
        reason=reason,
    )
    return _info(Transfer.objects.using(DB_ALIAS).get(pk=transfer.id))


def transfer_reverse(*, transfer_id: Any, actor_id: uuid.UUID, reason: str) -> TransferInfo:
    """Staff undo a disputed transfer: ownership back to the sender (QR bumps), credits back to the recipient."""
    reason = _reason(reason)
    transfer = _staff_transfer(transfer_id, actor_id)
    if transfer.status == Status.REVERSED:
        return _info(transfer)
    if transfer.status != Status.DISPUTED:
        raise TransferStateInvalid("Mark the transfer disputed before reversing it.")
    if not _set(transfer.id, expect_status=Status.DISPUTED, expect_step=Step.DONE, step=Step.REVERSING):
        if transfer.step != Step.REVERSING:
            raise TransferStateInvalid()
    try:
        with flow_lock(transfer.id, using=DB_ALIAS):
            _reverse_steps(transfer.id)
    except FlowBusy:
        raise TransferBusy() from None
    account_services.audit_record(
        actor_id=actor_id,
        action="transfer.reverse",
        object_type="transfer",
        object_id=str(transfer.id),
        organization_id=transfer.organization_id,
        reason=reason,
        data={"price": str(transfer.price)},
    )
    return _info(Transfer.objects.using(DB_ALIAS).get(pk=transfer.id))


def _reverse_steps(transfer_id: uuid.UUID) -> None:
    transfer = Transfer.objects.using(DB_ALIAS).get(pk=transfer_id)
    if transfer.status != Status.DISPUTED or transfer.step != Step.REVERSING:
        return
    paid_back = transfer.price <= 0 or account_selectors.ledger_entry_exists(
        kind="TRANSFER_REVERSAL_DEBIT", reference=str(transfer.id)
    )
    if not paid_back:
        sender = account_selectors.user_get(user_id=transfer.from_user_id)
        if sender.credit_balance < transfer.price:
            _set(transfer.id, expect_status=Status.DISPUTED, expect_step=Step.REVERSING, step=Step.DONE)
            raise InsufficientCredits(
                "The original owner no longer has the credits to refund; adjust their balance first."
            )
    try:
        inventory_services.ticket_change_owner(
            seat_id=transfer.seat_id, from_owner_id=transfer.to_user_id, to_owner_id=transfer.from_user_id
        )
    except DomainError:
        # Checked in, listed or refunded since: nothing moved, the dispute stays open for staff.
        _set(transfer.id, expect_status=Status.DISPUTED, expect_step=Step.REVERSING, step=Step.DONE)
        raise
    if not paid_back:
        try:
            _money_back(transfer)
        except DomainError:
            # The sender spent the credits in the meantime: put the ticket back where it was, keep the dispute open.
            inventory_services.ticket_change_owner(
                seat_id=transfer.seat_id, from_owner_id=transfer.from_user_id, to_owner_id=transfer.to_user_id
            )
            _set(transfer.id, expect_status=Status.DISPUTED, expect_step=Step.REVERSING, step=Step.DONE)
            raise
    _set(
        transfer.id,
        expect_status=Status.DISPUTED,
        expect_step=Step.REVERSING,
        status=Status.REVERSED,
        step=Step.REVERSED,
    )


# --- Recovery --------------------------------------------------------------------------------------------------------


@dataclass
class TransferRecoveryReport:
    name: str = "transfers"
    examined: int = 0
    finished: int = 0
    undone: int = 0
    expired: int = 0
    busy: int = 0
    errors: list[str] = field(default_factory=list)


def transfer_recover(*, older_than_seconds: int = 60) -> TransferRecoveryReport:
    """Finish (or undo) every transfer a crash left COMPLETING or mid-reversal, and expire stale offers.

    Completion rolls forward: both parties confirmed, so the same idempotent steps run again; a step that cannot
    succeed any more (the ticket was refunded meanwhile) undoes what moved and ends FAILED. Flows another worker
    is driving right now (their flow lock is held) are skipped. Running it twice changes nothing.
    """
    report = TransferRecoveryReport()
    report.expired = transfers_expire_due()
    cutoff = timezone.now() - dt.timedelta(seconds=older_than_seconds)
    stuck = list(
        Transfer.objects.using(DB_ALIAS)
        .filter(updated_at__lte=cutoff)
        .filter(status=Status.COMPLETING)
        .values_list("id", flat=True)
    ) + list(
        Transfer.objects.using(DB_ALIAS)
        .filter(updated_at__lte=cutoff, status=Status.DISPUTED, step=Step.REVERSING)
        .values_list("id", flat=True)
    )
    for transfer_id in stuck:
        report.examined += 1
        try:
            with flow_lock(transfer_id, using=DB_ALIAS):
                before = Transfer.objects.using(DB_ALIAS).get(pk=transfer_id).status
                if before == Status.COMPLETING:
                    _complete_steps(transfer_id)
                else:
                    _reverse_steps(transfer_id)
        except FlowBusy:
            report.busy += 1
            continue
        except DomainError as exc:
            failure = exc.code
        else:
            failure = ""
        after = Transfer.objects.using(DB_ALIAS).get(pk=transfer_id)
        if after.status in (Status.COMPLETED, Status.REVERSED):
            report.finished += 1
        elif after.status == Status.FAILED:
            report.undone += 1  # a settled outcome (e.g. the recipient could no longer pay), not an error
        elif failure:
            # Still unfinished (a reversal staff must unblock): reported so the command exits non-zero.
            report.errors.append(f"transfer {transfer_id}: {failure}")
    return report


# --- Presentation helpers for pages and API (reads only) -------------------------------------------------------------


def ticket_for_owner(*, seat_id: Any, owner_id: uuid.UUID):
    """The owner's ticket (inventory SeatInfo); NotFound for anyone else's, unknown or malformed ids."""
    seat_id = parse_uuid(seat_id, field="ticket")
    ticket = inventory_selectors.ticket_get(seat_id=seat_id)
    if str(ticket.owner_id) != str(owner_id):
        raise NotFound("No such ticket.")
    return ticket


def event_describe(*, event_id: Any):
    """The event (events EventInfo) for page headings; NotFound for unknown or malformed ids."""
    return event_selectors.event_get(event_id=parse_uuid(event_id, field="event"))


def tickets_describe(*, seat_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """seat id -> {"label", "event_id", "event_title", "starts_at", "venue_name"} for display."""
    described: dict[uuid.UUID, dict[str, Any]] = {}
    tickets = inventory_selectors.seats_get_many(seat_ids=set(seat_ids)) if seat_ids else {}
    events = event_selectors.events_get_many(event_ids={ticket.event_id for ticket in tickets.values()})
    for seat_id, ticket in tickets.items():
        event = events.get(ticket.event_id)
        described[seat_id] = {
            "label": ticket.label,
            "event_id": ticket.event_id,
            "event_title": event.title if event else "",
            "starts_at": event.starts_at if event else None,
            "venue_name": event.venue_name if event else "",
        }
    return described


def transfers_describe(*, transfers: list[TransferInfo], viewer_id: uuid.UUID) -> list[dict[str, Any]]:
    """Transfers as dicts with the ticket, event and the parties' emails, and the viewer's role and next actions."""
    users = account_selectors.user_get_many(
        user_ids={t.from_user_id for t in transfers} | {t.to_user_id for t in transfers}
    )
    tickets = tickets_describe(seat_ids=[t.seat_id for t in transfers])
    rows = []
    for transfer in transfers:
        role = transfer.role_of(viewer_id)
        ticket = tickets.get(transfer.seat_id, {})
        sender, recipient = users.get(transfer.from_user_id), users.get(transfer.to_user_id)
        confirmed = (role == "sender" and transfer.sender_confirmed_at is not None) or (
            role == "recipient" and transfer.recipient_confirmed_at is not None
        )
        rows.append(
            {
                **{name: getattr(transfer, name) for name in TransferInfo.__dataclass_fields__},
                "status_label": Status(transfer.status).label,
                "event_title": ticket.get("event_title", ""),
                "ticket_label": ticket.get("label", ""),
                "starts_at": ticket.get("starts_at"),
                "from_email": sender.email if sender else "",
                "from_name": sender.display_name if sender else "",
                "to_email": recipient.email if recipient else "",
                "to_name": recipient.display_name if recipient else "",
                "your_role": role,
                "you_confirmed": confirmed,
                "can_accept": role == "recipient" and transfer.status == Status.OFFERED,
                "can_decline": role == "recipient" and transfer.status in (Status.OFFERED, Status.ACCEPTED),
                "can_cancel": role == "sender" and transfer.status in (Status.OFFERED, Status.ACCEPTED),
                "can_confirm": role is not None and transfer.status == Status.ACCEPTED and not confirmed,
            }
        )
    return rows
