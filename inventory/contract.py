"""What inventory promises its callers: the result types, the enums and the errors of seats_db.

Callers get these from ``inventory.selectors`` and ``inventory.services``, never model
instances (docs/ARCHITECTURE.md: every contract.py).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy

from core.errors import Conflict, DomainError

# --- Enums -------------------------------------------------------------------------------------------------------


class SeatStatus(models.TextChoices):
    AVAILABLE = "AVAILABLE", gettext_lazy("Available")
    HELD = "HELD", gettext_lazy("Held")
    SOLD = "SOLD", gettext_lazy("Sold")
    CHECKED_IN = "CHECKED_IN", gettext_lazy("Checked in")
    LISTED = "LISTED", gettext_lazy("Listed for resale")
    BLOCKED = "BLOCKED", gettext_lazy("Blocked")


# A seat in one of these is a ticket: it has an owner and an order (CHECK seat_ticket_has_owner).
TICKET_STATUSES: tuple[str, ...] = (SeatStatus.SOLD.value, SeatStatus.CHECKED_IN.value, SeatStatus.LISTED.value)


class EntryLogResult(models.TextChoices):
    SUCCESS = "SUCCESS", gettext_lazy("Admitted")
    DUPLICATE = "DUPLICATE", gettext_lazy("Already checked in")
    WRONG_EVENT = "WRONG_EVENT", gettext_lazy("Ticket for another event")
    NOT_PAID = "NOT_PAID", gettext_lazy("Not a paid ticket")
    EXPIRED = "EXPIRED", gettext_lazy("Code expired")
    INVALID = "INVALID", gettext_lazy("Invalid code")
    NOT_FOUND = "NOT_FOUND", gettext_lazy("No such ticket")
    REVOKED = "REVOKED", gettext_lazy("Code revoked")


def seat_label(*, row_label: str, number: int, is_general_admission: bool) -> str:
    if is_general_admission:
        return f"General admission #{number}"
    return f"Row {row_label}, seat {number}"


# --- Result types ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeatInfo:
    """A seat (the ticket, once sold). An expired hold is reported as AVAILABLE with no holder."""

    id: uuid.UUID
    event_id: uuid.UUID
    section_id: uuid.UUID
    tier_id: uuid.UUID | None
    row_label: str
    number: int
    label: str
    x: int
    y: int
    price: Decimal
    status: str
    is_accessible: bool
    is_general_admission: bool
    held_by_id: uuid.UUID | None
    hold_expires_at: dt.datetime | None
    owner_id: uuid.UUID | None
    order_id: uuid.UUID | None
    qr_version: int
    checked_in_at: dt.datetime | None

    @property
    def is_ticket(self) -> bool:
        return self.status in TICKET_STATUSES


@dataclass(frozen=True)
class PrintedPayload:
    """What a printed ticket's code says: which seat, for which sale (QR version) and which print of it."""

    seat_id: uuid.UUID
    qr_version: int
    print_version: int


@dataclass(frozen=True)
class PrintedTicket:
    """One ticket on paper: the seat and the static code printed on it (valid until the next print)."""

    seat: SeatInfo
    print_version: int
    token: str


@dataclass(frozen=True)
class ScanResult:
    """The answer to one gate scan; ``seat`` is None when the code names no seat (or is not a code at all)."""

    result: str  # an EntryLogResult value
    seat: SeatInfo | None
    holder_id: uuid.UUID | None
    detail: str
    admitted: bool = field(default=False)


@dataclass(frozen=True)
class QrPayload:
    """What a signed QR token says: whose ticket, which QR version, issued when (epoch seconds)."""

    seat_id: uuid.UUID
    owner_id: uuid.UUID
    qr_version: int
    issued_at: int


@dataclass(frozen=True)
class SectionInventorySpec:
    """What to create for one section of an event: numbered seats from ``rows`` (SEATED) or ``capacity`` places
    (GENERAL). rows: [{"label": "A", "seats": [{"number": 1, "x": 0, "y": 0, "accessible": False}, ...]}, ...]."""

    section_id: uuid.UUID
    tier_id: uuid.UUID | None
    price: Decimal
    kind: str = "SEATED"  # or "GENERAL"
    rows: list[dict] = field(default_factory=list)
    capacity: int = 0


# --- Errors ------------------------------------------------------------------------------------------------------


class SeatUnavailable(Conflict):
    code = "SEAT_UNAVAILABLE"
    status = 409
    default_detail = gettext_lazy("One or more of these seats are no longer available.")


class HoldLimitExceeded(Conflict):
    code = "HOLD_LIMIT_EXCEEDED"
    status = 409
    default_detail = gettext_lazy("You already hold the most places allowed for this event.")


class NotEnoughSeats(Conflict):
    code = "NOT_ENOUGH_SEATS"
    status = 409
    default_detail = gettext_lazy("Not enough places are available.")


class HoldExpired(Conflict):
    code = "HOLD_EXPIRED"
    status = 409
    default_detail = gettext_lazy("Your hold on these seats expired or was lost; choose seats again.")


class TicketCheckedIn(Conflict):
    code = "TICKET_CHECKED_IN"
    status = 409
    default_detail = gettext_lazy("This ticket was already used at the gate.")


class TicketTransferred(Conflict):
    code = "TICKET_TRANSFERRED"
    status = 409
    default_detail = gettext_lazy(
        "A ticket of this order now belongs to someone else (transferred or resold); the order cannot be refunded."
    )


class TicketNotTransferable(Conflict):
    code = "TICKET_NOT_TRANSFERABLE"
    status = 409
    default_detail = gettext_lazy("This ticket cannot change hands in its current state.")


class QrUnavailable(Conflict):
    code = "TICKET_LISTED"
    status = 409
    default_detail = gettext_lazy("This ticket is listed for resale; withdraw the listing to use it at the gate.")


class ScanBusy(Conflict):
    code = "SCAN_BUSY"
    status = 409
    default_detail = gettext_lazy("This ticket is being changed right now; scan it again.")


# The domain errors of inventory, for callers that catch "any refusal of the seats" in one clause.
INVENTORY_ERRORS: tuple[type[DomainError], ...] = (
    SeatUnavailable,
    HoldLimitExceeded,
    NotEnoughSeats,
    HoldExpired,
    TicketCheckedIn,
    TicketNotTransferable,
    TicketTransferred,
    QrUnavailable,
    ScanBusy,
)
