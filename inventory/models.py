"""seats_db: one row per sellable place of an event (the ticket, once sold) and the gate's entry log."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.db import SoftDeleteModel, TimeStampedModel, choices_check
from inventory.contract import TICKET_STATUSES, EntryLogResult, SeatStatus, seat_label


class Seat(SoftDeleteModel):
    """A numbered seat or one general-admission place of one event; once sold, it is the ticket.

    Every status change happens in inventory.services under ``select_for_update`` or as a compare-and-set UPDATE
    filtered on the expected status. ``event_id``, ``section_id``, ``tier_id``, ``held_by_id``, ``owner_id`` and
    ``order_id`` point into other databases and are plain UUIDs.
    """

    Status = SeatStatus

    event_id = models.UUIDField(verbose_name=_("event id"))
    organization_id = models.UUIDField(
        verbose_name=_("organization id"),
        null=True,
        blank=True,
        help_text=_("The event's organization (staff scoping)."),
    )
    section_id = models.UUIDField(verbose_name=_("section id"))
    tier_id = models.UUIDField(verbose_name=_("tier id"), null=True, blank=True)
    row_label = models.CharField(verbose_name=_("row label"), max_length=16)
    number = models.PositiveIntegerField(verbose_name=_("number"))
    x = models.IntegerField(verbose_name=_("x"), default=0)
    y = models.IntegerField(verbose_name=_("y"), default=0)
    is_accessible = models.BooleanField(verbose_name=_("is accessible"), default=False)
    is_general_admission = models.BooleanField(verbose_name=_("is general admission"), default=False)
    price = models.DecimalField(
        verbose_name=_("price"),
        max_digits=10,
        decimal_places=2,
        help_text=_("What this place costs now (or what it was held or sold at)."),
    )
    # Set by a reprice while the place is held or sold: the price it takes when it is next free (released, lapsed,
    # refunded), so a held place keeps the price it was held at and nothing returns to sale at a stale price.
    next_price = models.DecimalField(
        verbose_name=_("next price"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    status = models.CharField(verbose_name=_("status"), max_length=16, choices=Status.choices, default=Status.AVAILABLE)
    held_by_id = models.UUIDField(verbose_name=_("held by id"), null=True, blank=True)
    hold_expires_at = models.DateTimeField(verbose_name=_("hold expires at"), null=True, blank=True)
    owner_id = models.UUIDField(verbose_name=_("owner id"), null=True, blank=True)
    order_id = models.UUIDField(verbose_name=_("order id"), null=True, blank=True)
    qr_version = models.PositiveIntegerField(verbose_name=_("qr version"), default=1)
    checked_in_at = models.DateTimeField(verbose_name=_("checked in at"), null=True, blank=True)
    # The version of the printed ticket (0: never printed). Reprinting bumps it, so an older printed code is refused.
    print_version = models.PositiveIntegerField(verbose_name=_("print version"), default=0, db_default=0)
    kept_for = models.CharField(
        verbose_name=_("kept for"),
        max_length=64,
        blank=True,
        db_default="",  # the bulk INSERT of a publish names only the columns it sets
        help_text=_("Why staff keep this place off sale (production, cameras, VIP...): released by that name."),
    )

    class Meta:
        ordering = ["event_id", "section_id", "row_label", "number"]
        verbose_name = _("seat")
        verbose_name_plural = _("seats")
        constraints = [
            # Never two sellable rows for one physical place of one event.
            models.UniqueConstraint(
                fields=["event_id", "section_id", "row_label", "number"], name="seat_unique_place_per_event"
            ),
            choices_check("status", SeatStatus, "seat_status_valid"),
            models.CheckConstraint(condition=Q(price__gte=0), name="seat_price_not_negative"),
            models.CheckConstraint(
                condition=Q(next_price__isnull=True) | Q(next_price__gte=0), name="seat_next_price_not_negative"
            ),
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
                    Q(status__in=list(TICKET_STATUSES), owner_id__isnull=False, order_id__isnull=False)
                    | (~Q(status__in=list(TICKET_STATUSES)) & Q(owner_id__isnull=True))
                ),
                name="seat_ticket_has_owner",
            ),
            models.CheckConstraint(
                condition=Q(status="CHECKED_IN", checked_in_at__isnull=False) | ~Q(status="CHECKED_IN"),
                name="seat_checked_in_has_time",
            ),
            # Only a blocked place is kept for something; returning it to sale forgets why.
            models.CheckConstraint(condition=Q(kept_for="") | Q(status="BLOCKED"), name="seat_kept_only_when_blocked"),
        ]
        indexes = [
            # Seat map / availability of a section:
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
            # Production holds of an event and their release: WHERE event_id = ? AND status = 'BLOCKED' (few rows)
            models.Index(
                fields=["event_id", "kept_for"], condition=Q(status="BLOCKED"), name="seat_blocked_by_event_idx"
            ),
            # Availability of every section and the sales dashboard (inventory.selectors.section_availability and
            # event_sales_summary), both one aggregation over all the event's live seats:
            #   SELECT section_id, CASE WHEN status = 'HELD' AND hold_expires_at <= ? ... END, count(*)
            #     FROM seat WHERE event_id = ? AND deleted_at IS NULL GROUP BY ...
            #   SELECT section_id, tier_id, count(*) FILTER (WHERE status ...), sum(price) FILTER (...)
            #     FROM seat WHERE event_id = ? AND deleted_at IS NULL GROUP BY section_id, tier_id
            # Every column they read is in this index, so both can be index-only scans instead of reading the
            # event's heap rows (80,000 seats: 19 ms against 29-44 ms). The planner picks it when the event is a
            # minority of the table, as in a table holding every event; see docs/PERFORMANCE.md.
            # Open seat maps' live changes (orders.live_changes): the seats of the events on sale written since the
            # last tick, twice a second:  WHERE event_id = ANY(?) AND updated_at > ? AND deleted_at IS NULL
            models.Index(
                fields=["event_id", "updated_at"], condition=Q(deleted_at__isnull=True), name="seat_recent_changes_idx"
            ),
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
        return seat_label(row_label=self.row_label, number=self.number, is_general_admission=self.is_general_admission)


class EntryLog(TimeStampedModel):
    """Every gate scan attempt with its result, including codes that match no seat. Append-only."""

    Result = EntryLogResult

    seat_id = models.UUIDField(verbose_name=_("seat id"), null=True, blank=True)
    event_id = models.UUIDField(verbose_name=_("event id"), help_text=_("The event the gate was scanning for."))
    organization_id = models.UUIDField(verbose_name=_("organization id"), null=True, blank=True)
    staff_id = models.UUIDField(verbose_name=_("staff id"))
    gate = models.CharField(verbose_name=_("gate"), max_length=64)
    result = models.CharField(verbose_name=_("result"), max_length=16, choices=Result.choices)
    holder_id = models.UUIDField(verbose_name=_("holder id"), null=True, blank=True)
    token_fingerprint = models.CharField(
        verbose_name=_("token fingerprint"),
        max_length=64,
        blank=True,
        help_text=_("SHA-256 prefix of the scanned code."),
    )
    detail = models.CharField(verbose_name=_("detail"), max_length=255, blank=True)

    class Meta(TimeStampedModel.Meta):
        verbose_name = _("entry log")
        verbose_name_plural = _("entry logs")
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
