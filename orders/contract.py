"""What orders promises its callers: the result types, the enums and the errors of orders_db.

Callers get these from ``orders.services``, never model
instances (docs/ARCHITECTURE.md: every contract.py).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

from core.errors import Conflict, DomainError

# --- Enums -------------------------------------------------------------------------------------------------------


class WaitingRoomMode(models.TextChoices):
    """How a waiting room's admission job paces itself (docs/WAITING_ROOM.md)."""

    RATE = "rate", gettext_lazy("Fixed rate")
    THROUGHPUT = "throughput", gettext_lazy("Follow throughput")


class OrderStatus(models.TextChoices):
    PENDING = "PENDING", _("Pending")
    CONFIRMED = "CONFIRMED", _("Confirmed")
    FAILED = "FAILED", _("Failed")
    REFUNDED = "REFUNDED", _("Refunded")


class OrderStep(models.TextChoices):
    """How far a purchase got; the recovery command reads it."""

    CREATED = "CREATED", gettext_lazy("Order recorded")
    AWAITING_PAYMENT = "AWAITING_PAYMENT", gettext_lazy("Waiting for the card payment")
    DEBITED = "DEBITED", gettext_lazy("Credits debited")
    SEATS_SOLD = "SEATS_SOLD", gettext_lazy("Seats sold")
    DONE = "DONE", gettext_lazy("Confirmed")
    COMPENSATING = "COMPENSATING", gettext_lazy("Undoing")
    COMPENSATED = "COMPENSATED", gettext_lazy("Undone")
    REFUNDING = "REFUNDING", gettext_lazy("Refunding")
    REFUNDED = "REFUNDED", gettext_lazy("Refunded")


class OrderChannel(models.TextChoices):
    """Where an order was made: online from credits, at the box office for cash or card, or a free comp."""

    ONLINE = "ONLINE", gettext_lazy("Online")
    BOX_OFFICE = "BOX_OFFICE", gettext_lazy("Box office")
    COMP = "COMP", gettext_lazy("Complimentary")


class BoxOfficePayment(models.TextChoices):
    """How the box office took the money of a sale (no credits are involved)."""

    CASH = "CASH", gettext_lazy("Cash")
    CARD_TERMINAL = "CARD_TERMINAL", gettext_lazy("Card terminal")


class OrderRefundStep(models.TextChoices):
    """How far a refund of some tickets of an order got; the recovery command reads it."""

    REFUNDING = "REFUNDING", gettext_lazy("Refunding")
    DONE = "DONE", gettext_lazy("Refunded")
    ABANDONED = "ABANDONED", gettext_lazy("Not refunded (a ticket was used or passed on)")


class TransferStatus(models.TextChoices):
    OFFERED = "OFFERED", _("Offered")
    ACCEPTED = "ACCEPTED", _("Accepted by recipient")
    COMPLETING = "COMPLETING", _("Completing")
    COMPLETED = "COMPLETED", _("Completed")
    DECLINED = "DECLINED", _("Declined")
    CANCELLED = "CANCELLED", _("Cancelled")
    EXPIRED = "EXPIRED", _("Expired")
    FAILED = "FAILED", _("Failed")
    DISPUTED = "DISPUTED", _("Disputed")
    REVERSED = "REVERSED", _("Reversed")


# A transfer in one of these holds its ticket (index transfer_one_active_per_seat).
TRANSFER_ACTIVE_STATUSES: tuple[str, ...] = ("OFFERED", "ACCEPTED", "COMPLETING")


class TransferStep(models.TextChoices):
    NONE = "NONE", gettext_lazy("Not started")
    PAID = "PAID", gettext_lazy("Credits moved")
    OWNERSHIP_MOVED = "OWNERSHIP_MOVED", gettext_lazy("Ownership moved")
    DONE = "DONE", gettext_lazy("Done")
    COMPENSATED = "COMPENSATED", gettext_lazy("Undone")
    REVERSING = "REVERSING", gettext_lazy("Reversing")
    REVERSED = "REVERSED", gettext_lazy("Reversed")


class ResaleListingStatus(models.TextChoices):
    ACTIVE = "ACTIVE", _("For sale")
    SELLING = "SELLING", _("Being sold")
    SOLD = "SOLD", _("Sold")
    WITHDRAWN = "WITHDRAWN", _("Withdrawn")
    CANCELLED = "CANCELLED", _("Cancelled")


# A listing in one of these holds its ticket (index listing_one_active_per_seat).
LISTING_ACTIVE_STATUSES: tuple[str, ...] = ("ACTIVE", "SELLING")


class ResaleListingStep(models.TextChoices):
    NONE = "NONE", gettext_lazy("Not started")
    BUYER_DEBITED = "BUYER_DEBITED", gettext_lazy("Buyer debited")
    SELLER_CREDITED = "SELLER_CREDITED", gettext_lazy("Seller credited")
    OWNERSHIP_MOVED = "OWNERSHIP_MOVED", gettext_lazy("Ownership moved")
    DONE = "DONE", gettext_lazy("Done")
    COMPENSATED = "COMPENSATED", gettext_lazy("Undone")


class NotificationKind(models.TextChoices):
    """Every email the product sends besides one-time codes (templates in orders/templates/orders/email/)."""

    ORDER_CONFIRMED = "ORDER_CONFIRMED", gettext_lazy("Order confirmation")
    ORDER_REFUNDED = "ORDER_REFUNDED", gettext_lazy("Refund")
    EVENT_CANCELLED = "EVENT_CANCELLED", gettext_lazy("Event cancelled and refunded")
    EVENT_CHANGED = "EVENT_CHANGED", gettext_lazy("Event changed")
    TRANSFER_OFFERED = "TRANSFER_OFFERED", gettext_lazy("Transfer offered")
    TRANSFER_ACCEPTED = "TRANSFER_ACCEPTED", gettext_lazy("Transfer accepted")
    TRANSFER_COMPLETED = "TRANSFER_COMPLETED", gettext_lazy("Transfer completed")
    TRANSFER_DECLINED = "TRANSFER_DECLINED", gettext_lazy("Transfer declined")
    TRANSFER_EXPIRED = "TRANSFER_EXPIRED", gettext_lazy("Transfer expired")
    RESALE_SOLD = "RESALE_SOLD", gettext_lazy("Resale listing sold")
    PAYMENT_RECEIVED = "PAYMENT_RECEIVED", gettext_lazy("Payment received")
    PAYMENT_FAILED = "PAYMENT_FAILED", gettext_lazy("Payment failed")
    STAFF_SUMMARY = "STAFF_SUMMARY", gettext_lazy("Staff operation finished")
    TICKETS_REFUNDED = "TICKETS_REFUNDED", gettext_lazy("Refund of some tickets")
    WAITING_LIST_OFFER = "WAITING_LIST_OFFER", gettext_lazy("Waiting list: places held for you")


# Sent whatever the buyer's notice settings say: what they paid, what they got back, and when or whether the event
# happens (a buyer who turned notices off must still learn that their event moved).
ESSENTIAL_NOTIFICATIONS: frozenset[str] = frozenset(
    {
        NotificationKind.ORDER_CONFIRMED,
        NotificationKind.ORDER_REFUNDED,
        NotificationKind.TICKETS_REFUNDED,
        NotificationKind.EVENT_CANCELLED,
        NotificationKind.EVENT_CHANGED,
        NotificationKind.STAFF_SUMMARY,
        # Asked for by joining the list, and useless once late: places are held for the buyer for minutes only.
        NotificationKind.WAITING_LIST_OFFER,
    }
)


class NotificationStatus(models.TextChoices):
    PENDING = "PENDING", gettext_lazy("Waiting to be sent")
    SENDING = "SENDING", gettext_lazy("Being sent")
    RETRYING = "RETRYING", gettext_lazy("Mail server refused; will retry")
    SENT = "SENT", gettext_lazy("Sent")
    SKIPPED = "SKIPPED", gettext_lazy("Not sent (the recipient turned these off)")


class StaffOperationKind(models.TextChoices):
    PUBLISH = "PUBLISH", gettext_lazy("Publish")
    CANCEL = "CANCEL", gettext_lazy("Cancel and refund")
    REPRICE = "REPRICE", gettext_lazy("Reprice a tier")


class StaffOperationStatus(models.TextChoices):
    QUEUED = "QUEUED", gettext_lazy("Queued")
    RUNNING = "RUNNING", gettext_lazy("Running")
    SUCCEEDED = "SUCCEEDED", gettext_lazy("Finished")
    FAILED = "FAILED", gettext_lazy("Failed")


# An operation in one of these is the event's one live operation (index staff_operation_one_live_per_event).
STAFF_OPERATION_LIVE_STATUSES: tuple[str, ...] = ("QUEUED", "RUNNING")


# --- Result types ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderLineInfo:
    seat_id: uuid.UUID
    price: Decimal
    is_active: bool


@dataclass(frozen=True)
class OrderInfo:
    id: uuid.UUID
    buyer_id: uuid.UUID
    event_id: uuid.UUID
    organization_id: uuid.UUID | None
    status: str
    step: str
    total: Decimal
    idempotency_key: str
    failure_code: str
    created_at: dt.datetime
    confirmed_at: dt.datetime | None
    refunded_at: dt.datetime | None
    refund_reason: str
    lines: tuple[OrderLineInfo, ...]
    # Paid back by refunds of some of its tickets (the order stays CONFIRMED while any ticket is left).
    refunded_amount: Decimal = Decimal("0")
    # True when the call found an order made earlier with the same idempotency key (the API answers 200, not 201).
    is_replay: bool = False
    # Paying the difference by card: where the buyer pays the shortfall (only on the answer that started it).
    pay_url: str = ""
    # ONLINE (credits), BOX_OFFICE (paid at the counter by payment_method) or COMP (free).
    channel: str = "ONLINE"
    payment_method: str = ""

    @property
    def status_label(self) -> str:
        """The status in the page's language (``status`` stays the stable code the API answers)."""
        return str(OrderStatus(self.status).label)


@dataclass(frozen=True)
class TicketFlowInfo:
    """What a transfer and a listing say first: the flow, and the ticket (seat) of which event it passes on."""

    id: uuid.UUID
    seat_id: uuid.UUID
    event_id: uuid.UUID
    organization_id: uuid.UUID | None


@dataclass(frozen=True)
class TransferInfo(TicketFlowInfo):
    from_user_id: uuid.UUID
    to_user_id: uuid.UUID | None
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
    to_email: str = ""
    fee: Decimal = Decimal("0.00")

    @property
    def is_active(self) -> bool:
        return self.status in TRANSFER_ACTIVE_STATUSES

    def role_of(self, user_id: uuid.UUID) -> str | None:
        """'sender', 'recipient' or None."""
        if str(user_id) == str(self.from_user_id):
            return "sender"
        if str(user_id) == str(self.to_user_id):
            return "recipient"
        return None


@dataclass(frozen=True)
class ListingInfo(TicketFlowInfo):
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


@dataclass(frozen=True)
class RepriceInfo:
    """A tier repriced: its price before and after, and how many places took the new price now or will later."""

    event_id: uuid.UUID
    tier_id: uuid.UUID
    tier_name: str
    old_price: Decimal
    new_price: Decimal
    repriced: int
    deferred: int


@dataclass(frozen=True)
class PublishResult:
    event_id: uuid.UUID
    created: int  # rows inserted by this run (0 when everything existed already)
    total: int  # sellable places the event has


@dataclass(frozen=True)
class CancelResult:
    event_id: uuid.UUID
    refunded: int
    total: int

    @property
    def complete(self) -> bool:
        return self.refunded >= self.total


@dataclass(frozen=True)
class StaffOperationInfo:
    """A long staff operation on an event, run by a job: what its progress page shows."""

    id: uuid.UUID
    kind: str
    event_id: uuid.UUID
    organization_id: uuid.UUID
    actor_id: uuid.UUID | None
    status: str
    done: int
    total: int
    errors: int
    error_detail: str
    result: dict
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    updated_at: dt.datetime
    params: dict

    @property
    def is_live(self) -> bool:
        return self.status in STAFF_OPERATION_LIVE_STATUSES

    @property
    def percent(self) -> int:
        if self.status == "SUCCEEDED":
            return 100
        return min(100, int(self.done * 100 / self.total)) if self.total else 0

    @property
    def elapsed_seconds(self) -> float:
        if self.started_at is None:
            return 0.0
        end = self.finished_at or self.updated_at
        return max(0.0, (end - self.started_at).total_seconds())

    @property
    def rate(self) -> float:
        """Items per second since the start."""
        elapsed = self.elapsed_seconds
        return self.done / elapsed if elapsed > 0 else 0.0

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left at the rate so far; None before there is a rate or once finished."""
        if not self.is_live or self.rate <= 0:
            return None
        return max(0.0, (self.total - self.done) / self.rate)


# What ``python manage.py recover_flows`` prints, one line per report: its name, then every counter in field order.


@dataclass
class PurchaseRecoveryReport:
    name: str = "purchase"
    examined: int = 0
    confirmed: int = 0
    undone: int = 0
    refunds_finished: int = 0
    busy: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return self.confirmed + self.undone + self.refunds_finished


@dataclass
class TransferRecoveryReport:
    name: str = "transfers"
    examined: int = 0
    finished: int = 0
    undone: int = 0
    expired: int = 0
    busy: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class ResaleRecoveryReport:
    name: str = "resale"
    examined: int = 0
    finished: int = 0
    undone: int = 0
    busy: int = 0
    # Listing/ticket pairs that disagreed (a crash between the two databases): listings finished or cancelled,
    # tickets unlisted.
    repaired: int = 0
    errors: list[str] = field(default_factory=list)


# --- Errors: purchase and refunds --------------------------------------------------------------------------------


class StepUpRequired(DomainError):
    code = "STEP_UP_REQUIRED"
    status = 428
    default_detail = gettext_lazy("Confirm this purchase with the one-time code we email you, then pay again.")


class EmailNotVerified(DomainError):
    code = "EMAIL_NOT_VERIFIED"
    status = 403
    default_detail = gettext_lazy("Verify your email address before buying tickets.")


class IdempotencyConflict(Conflict):
    code = "IDEMPOTENCY_IN_PROGRESS"
    status = 409
    default_detail = gettext_lazy(
        "A request with this idempotency key is being processed right now; retry in a moment."
    )


class IdempotencyKeyReused(DomainError):
    code = "IDEMPOTENCY_KEY_REUSED"
    status = 422
    default_detail = gettext_lazy("This idempotency key was already used for a different purchase.")


class NoHolds(Conflict):
    code = "NO_ACTIVE_HOLDS"
    status = 409
    default_detail = gettext_lazy(
        "You hold no seats for this event (holds expire after a few minutes); pick seats again."
    )


class OrderInProgress(Conflict):
    code = "ORDER_IN_PROGRESS"
    status = 409
    default_detail = gettext_lazy(
        "Another checkout of these seats is still in progress; wait a moment and look at your orders."
    )


class OrderFailed(Conflict):
    code = "ORDER_FAILED"
    status = 409
    default_detail = gettext_lazy("This purchase failed and was undone; nothing was charged. Start a new checkout.")


class OrderNotRefundable(Conflict):
    code = "ORDER_NOT_REFUNDABLE"
    status = 409
    default_detail = gettext_lazy("Only a confirmed order can be refunded.")


class RefundNotAllowed(DomainError):
    code = "REFUND_NOT_ALLOWED"
    status = 403
    default_detail = gettext_lazy(
        "Only box-office staff, managers and owners of the event's organization can refund it."
    )


# --- Errors: transfers and resale --------------------------------------------------------------------------------


class TransferActive(DomainError):
    code = "TRANSFER_ACTIVE"
    status = 409
    default_detail = gettext_lazy("This ticket already has an open transfer offer.")


class SelfTransfer(DomainError):
    code = "SELF_TRANSFER"
    status = 400
    default_detail = gettext_lazy("You cannot transfer a ticket to yourself.")


class UserFlagged(DomainError):
    code = "USER_FLAGGED"
    status = 403
    default_detail = gettext_lazy(
        "This account is flagged and cannot transfer or receive tickets until staff clear it."
    )


class RecipientNotVerified(DomainError):
    code = "RECIPIENT_NOT_VERIFIED"
    status = 400
    default_detail = gettext_lazy("The recipient has not verified their email address yet.")


class RecipientNotFound(DomainError):
    code = "RECIPIENT_NOT_FOUND"
    status = 400
    default_detail = gettext_lazy("No account uses that email address.")


class TicketNotTransferable(DomainError):
    code = "TICKET_NOT_TRANSFERABLE"
    status = 409
    default_detail = gettext_lazy(
        "This ticket cannot be transferred right now (checked in, listed for resale or being refunded)."
    )


class TicketChangingHands(DomainError):
    code = "TICKET_CHANGING_HANDS"
    status = 409
    default_detail = gettext_lazy(
        "A ticket of this order is being resold or transferred right now; try the refund again once that is done."
    )


class TransferStateInvalid(DomainError):
    code = "TRANSFER_INVALID_STATE"
    status = 409
    default_detail = gettext_lazy("The transfer is not in a state that allows this.")


class TransferExpired(DomainError):
    code = "TRANSFER_EXPIRED"
    status = 409
    default_detail = gettext_lazy("The transfer offer has expired.")


class TransferActionForbidden(DomainError):
    code = "TRANSFER_ACTION_FORBIDDEN"
    status = 403
    default_detail = gettext_lazy("Only the other party of this transfer can do that.")


class TransferBusy(DomainError):
    code = "TRANSFER_BUSY"
    status = 409
    default_detail = gettext_lazy("The transfer is being completed right now; try again in a moment.")


class InvalidPrice(DomainError):
    code = "INVALID_PRICE"
    status = 400
    default_detail = gettext_lazy("The price must be an amount of credits of at least 0 with at most two decimals.")


class InvalidListingPrice(DomainError):
    code = "INVALID_PRICE"
    status = 400
    default_detail = gettext_lazy("The asking price must be more than 0 credits, with at most two decimals.")


class PriceAboveCap(DomainError):
    code = "PRICE_ABOVE_CAP"
    status = 400
    default_detail = gettext_lazy("The asking price is above the resale cap for this ticket.")


class ListingActive(DomainError):
    code = "LISTING_ACTIVE"
    status = 409
    default_detail = gettext_lazy("This ticket is already listed for resale.")


class ListingUnavailable(DomainError):
    code = "LISTING_UNAVAILABLE"
    status = 409
    default_detail = gettext_lazy("This listing is no longer for sale.")


class OwnListing(DomainError):
    code = "OWN_LISTING"
    status = 400
    default_detail = gettext_lazy("You cannot buy your own listing.")


class ListingBusy(DomainError):
    code = "LISTING_BUSY"
    status = 409
    default_detail = gettext_lazy("This listing is being sold right now; try again in a moment.")


# --- Errors: whole events and the gate ---------------------------------------------------------------------------


class BuyerBlocked(DomainError):
    code = "BUYER_BLOCKED"
    status = 403
    default_detail = gettext_lazy(
        "The organizer of this event does not sell to this account. Contact them if this is a mistake."
    )


class EventBusy(Conflict):
    code = "EVENT_BUSY"
    default_detail = gettext_lazy("This event is being published or cancelled right now; try again in a moment.")


class ScanForbidden(DomainError):
    code = "SCAN_FORBIDDEN"
    status = 403
    default_detail = gettext_lazy("You are not gate staff of this event's organization.")


class CardPaymentFailed(DomainError):
    code = "CARD_PAYMENT_FAILED"
    status = 402
    default_detail = gettext_lazy(
        "The card payment did not go through, so the order was not placed. Your holds were released."
    )


class ExportNotAllowed(DomainError):
    code = "EXPORT_NOT_ALLOWED"
    status = 403
    default_detail = gettext_lazy("Only staff of the event's organization with access to this data can export it.")


# --- Waiting room (orders/services/waiting_room.py) -------------------------------------------------------------


@dataclass(frozen=True)
class WaitingRoomPlace:
    """A buyer's place in an event's waiting room. ``position`` is None until the on-sale draw orders early arrivals."""

    event_id: uuid.UUID
    user_id: uuid.UUID
    position: int | None
    admitted_up_to: int
    rate_per_minute: int
    is_admitted: bool
    is_paused: bool
    is_sold_out: bool
    starts_at: dt.datetime
    pass_expires_at: dt.datetime | None

    @property
    def ahead(self) -> int | None:
        """How many people are before this buyer and not yet admitted."""
        if self.position is None:
            return None
        return max(0, self.position - self.admitted_up_to - 1)


class WaitingRoomPassRequired(DomainError):
    code = "WAITING_ROOM_PASS_REQUIRED"
    status = 403
    default_detail = gettext_lazy(
        "This on-sale admits buyers from its waiting room: join the room, and you can hold seats once it is your turn."
    )


class WaitingRoomClosed(DomainError):
    code = "WAITING_ROOM_CLOSED"
    status = 409
    default_detail = gettext_lazy("This event has no open waiting room.")


class WaitingRoomNotOpen(DomainError):
    code = "WAITING_ROOM_NOT_OPEN"
    status = 409
    default_detail = gettext_lazy("The waiting room for this event is not open yet.")


class WaitingRoomAddressLimit(DomainError):
    code = "WAITING_ROOM_ADDRESS_LIMIT"
    status = 429
    default_detail = gettext_lazy("Too many places in this waiting room were taken from your network address.")


class BoxOfficeForbidden(DomainError):
    code = "BOX_OFFICE_FORBIDDEN"
    status = 403
    default_detail = gettext_lazy("You are not box-office staff of this event's organization.")


@dataclass(frozen=True)
class BoxOfficeSale:
    """A sale or a comp made by staff: the order, whom its tickets went to, and whether they were printed."""

    order: OrderInfo
    buyer_email: str  # empty for a walk-in sale (printed tickets only)
    account_created: bool  # a new account was opened for the address: its holder claims it with an emailed code
    printed: bool


@dataclass(frozen=True)
class GuestListResult:
    """What issuing comps to a guest list did: the comps made, and the guests refused with the reason."""

    issued: tuple[BoxOfficeSale, ...]
    refused: tuple[tuple[str, str], ...]  # (guest's email, why)


# --- Waiting list of a sold-out event (orders/services/waiting_list.py) ----------------------------------------------


class WaitingListStatus(models.TextChoices):
    WAITING = "WAITING", gettext_lazy("Waiting")
    OFFERING = (
        "OFFERING",
        gettext_lazy("Offer being made"),
    )  # recorded before places are held: a crash here is re-driven
    OFFERED = "OFFERED", gettext_lazy("Places held")
    CLAIMED = "CLAIMED", gettext_lazy("Bought")
    LAPSED = "LAPSED", gettext_lazy("Offer not taken")
    LEFT = "LEFT", gettext_lazy("Left the list")
    CLOSED = "CLOSED", gettext_lazy("Closed")


WAITING_LIST_LIVE_STATUSES: tuple[str, ...] = ("WAITING", "OFFERING", "OFFERED")


@dataclass(frozen=True)
class WaitingListEntryInfo:
    """One buyer's entry in a waiting list, with its place in line (``position``, 1 = next) while it waits."""

    id: uuid.UUID
    event_id: uuid.UUID
    section_id: uuid.UUID | None
    tier_id: uuid.UUID | None
    buyer_id: uuid.UUID
    quantity: int
    status: str
    position: int | None
    created_at: dt.datetime
    offer_expires_at: dt.datetime | None
    offered_seat_ids: tuple[uuid.UUID, ...]

    @property
    def is_live(self) -> bool:
        return self.status in WAITING_LIST_LIVE_STATUSES

    @property
    def has_open_offer(self) -> bool:
        return self.status == "OFFERED"


class WaitingListNotSoldOut(DomainError):
    code = "WAITING_LIST_NOT_SOLD_OUT"
    status = 409
    default_detail = gettext_lazy("Places are still on sale here: hold them instead of joining the waiting list.")


class WaitingListAlreadyJoined(DomainError):
    code = "WAITING_LIST_ALREADY_JOINED"
    status = 409
    default_detail = gettext_lazy("You are already on this waiting list.")


class WaitingListEntryClosed(DomainError):
    code = "WAITING_LIST_ENTRY_CLOSED"
    status = 409
    default_detail = gettext_lazy("This waiting-list entry is no longer live.")
