"""The result types callers get instead of model instances: orders and their lines, transfers and listings, staff
operations on events and their results, the recovery reports, box-office sales, waiting-room places and
waiting-list entries.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from orders.contract.enums import (
    STAFF_OPERATION_LIVE_STATUSES,
    TRANSFER_ACTIVE_STATUSES,
    WAITING_LIST_LIVE_STATUSES,
    OrderStatus,
)


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
