"""seats_db: one row per sellable place of an event (the ticket, once sold) and the gate's entry log."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from ticketremaster.db import SoftDeleteModel, TimeStampedModel, choices_check


class SeatStatus(models.TextChoices):
    AVAILABLE = "AVAILABLE", "Available"
    HELD = "HELD", "Held"
    SOLD = "SOLD", "Sold"
    CHECKED_IN = "CHECKED_IN", "Checked in"
    LISTED = "LISTED", "Listed for resale"
    BLOCKED = "BLOCKED", "Blocked"


class Seat(SoftDeleteModel):
    """A numbered seat or one general-admission place of one event; once sold, it is the ticket.

    Every status change happens in inventory.services under ``select_for_update`` or as a compare-and-set UPDATE
    filtered on the expected status. ``event_id``, ``section_id``, ``tier_id``, ``held_by_id``, ``owner_id`` and
    ``order_id`` point into other databases and are plain UUIDs.
    """

    Status = SeatStatus

    event_id = models.UUIDField()
    section_id = models.UUIDField()
    tier_id = models.UUIDField(null=True, blank=True)
    row_label = models.CharField(max_length=16)
    number = models.PositiveIntegerField()
    x = models.IntegerField(default=0)
    y = models.IntegerField(default=0)
    is_accessible = models.BooleanField(default=False)
    is_general_admission = models.BooleanField(default=False)
    price = models.DecimalField(max_digits=10, decimal_places=2, help_text="Price snapshot taken at publishing.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.AVAILABLE)
    held_by_id = models.UUIDField(null=True, blank=True)
    hold_expires_at = models.DateTimeField(null=True, blank=True)
    owner_id = models.UUIDField(null=True, blank=True)
    order_id = models.UUIDField(null=True, blank=True)
    qr_version = models.PositiveIntegerField(default=1)
    checked_in_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["event_id", "section_id", "row_label", "number"]
        constraints = [
            # Never two sellable rows for one physical place of one event.
            models.UniqueConstraint(
                fields=["event_id", "section_id", "row_label", "number"], name="seat_unique_place_per_event"
            ),
            choices_check("status", SeatStatus, "seat_status_valid"),
            models.CheckConstraint(condition=Q(price__gte=0), name="seat_price_not_negative"),
            # A hold always names its holder and its expiry; nothing else carries a holder.
            models.CheckConstraint(
                condition=(
                    Q(status="HELD", held_by_id__isnull=False, hold_expires_at__isnull=False)
                    | (~Q(status="HELD") & Q(held_by_id__isnull=True, hold_expires_at__isnull=True))
                ),
                name="seat_hold_fields_consistent",
            ),
            # A ticket (sold, checked in, listed) always has an owner and an order; a free seat has neither.
            models.CheckConstraint(
                condition=(
                    Q(status__in=["SOLD", "CHECKED_IN", "LISTED"], owner_id__isnull=False, order_id__isnull=False)
                    | (~Q(status__in=["SOLD", "CHECKED_IN", "LISTED"]) & Q(owner_id__isnull=True))
                ),
                name="seat_ticket_has_owner",
            ),
            models.CheckConstraint(
                condition=Q(status="CHECKED_IN", checked_in_at__isnull=False) | ~Q(status="CHECKED_IN"),
                name="seat_checked_in_has_time",
            ),
        ]
        indexes = [
            # Seat map / availability of a section (seed 003 query 1):
            #   SELECT ... FROM seat WHERE event_id = ? AND section_id = ? ORDER BY row_label, number
            # The unique constraint's index (event_id, section_id, row_label, number) serves it.
            # Best available / counts by status:
            #   SELECT ... WHERE event_id = ? AND section_id = ? AND status = 'AVAILABLE' ... FOR UPDATE SKIP LOCKED
            models.Index(fields=["event_id", "section_id", "status"], name="seat_event_section_status_idx"),
            # A buyer's holds (checkout, release, countdown): WHERE held_by_id = ? AND status = 'HELD'
            models.Index(fields=["held_by_id"], condition=Q(status="HELD"), name="seat_holds_by_buyer_idx"),
            # My tickets: WHERE owner_id = ? (only tickets have an owner)
            models.Index(fields=["owner_id"], condition=Q(owner_id__isnull=False), name="seat_owner_idx"),
            # Refunds / recovery: WHERE order_id = ?
            models.Index(fields=["order_id"], condition=Q(order_id__isnull=False), name="seat_order_idx"),
            # Availability of every section and the sales dashboard (inventory.selectors.section_availability and
            # event_sales_summary), both one aggregation over all the event's live seats:
            #   SELECT section_id, CASE WHEN status = 'HELD' AND hold_expires_at <= ? ... END, count(*)
            #     FROM seat WHERE event_id = ? AND deleted_at IS NULL GROUP BY ...
            #   SELECT section_id, tier_id, count(*) FILTER (WHERE status ...), sum(price) FILTER (...)
            #     FROM seat WHERE event_id = ? AND deleted_at IS NULL GROUP BY section_id, tier_id
            # Every column they read is in this index, so both can be index-only scans instead of reading the
            # event's heap rows (80,000 seats: 19 ms against 29-44 ms). The planner picks it when the event is a
            # minority of the table, as in a table holding every event; see docs/PERFORMANCE.md.
            models.Index(
                fields=["event_id", "section_id", "status", "hold_expires_at"],
                include=["tier_id", "price"],
                condition=Q(deleted_at__isnull=True),
                name="seat_live_availability_cov_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.row_label}{self.number}"

    @property
    def label(self) -> str:
        if self.is_general_admission:
            return f"General admission #{self.number}"
        return f"Row {self.row_label}, seat {self.number}"


class EntryLogResult(models.TextChoices):
    SUCCESS = "SUCCESS", "Admitted"
    DUPLICATE = "DUPLICATE", "Already checked in"
    WRONG_EVENT = "WRONG_EVENT", "Ticket for another event"
    NOT_PAID = "NOT_PAID", "Not a paid ticket"
    EXPIRED = "EXPIRED", "Code expired"
    INVALID = "INVALID", "Invalid code"
    NOT_FOUND = "NOT_FOUND", "No such ticket"
    REVOKED = "REVOKED", "Code revoked"


class EntryLog(TimeStampedModel):
    """Every gate scan attempt with its result, including codes that match no seat. Append-only."""

    Result = EntryLogResult

    seat_id = models.UUIDField(null=True, blank=True)
    event_id = models.UUIDField(help_text="The event the gate was scanning for.")
    organization_id = models.UUIDField(null=True, blank=True)
    staff_id = models.UUIDField()
    gate = models.CharField(max_length=64)
    result = models.CharField(max_length=16, choices=Result.choices)
    holder_id = models.UUIDField(null=True, blank=True)
    token_fingerprint = models.CharField(max_length=64, blank=True, help_text="SHA-256 prefix of the scanned code.")
    detail = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            choices_check("result", EntryLogResult, "entrylog_result_valid"),
            # At most one admission per ticket, whatever races the gates run.
            models.UniqueConstraint(fields=["seat_id"], condition=Q(result="SUCCESS"), name="entrylog_one_success"),
        ]
        indexes = [
            # Admin / gate screen: WHERE event_id = ? ORDER BY created_at DESC
            models.Index(fields=["event_id", "-created_at"], name="entrylog_event_recent_idx"),
            models.Index(fields=["seat_id"], name="entrylog_seat_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.result} at {self.gate}"
