"""Waiting for tickets: the virtual waiting room of a high-demand on-sale (the room, its entries, the admission log
and the latency samples of its throughput controller) and the waiting list of a sold-out event.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.db import TimeStampedModel, choices_check
from orders.contract import (
    WaitingListStatus,
    WaitingRoomMode,
)


class WaitingRoom(TimeStampedModel):
    """The virtual queue of one high-demand on-sale (orders/services/waiting_room/, docs/WAITING_ROOM.md).

    ``events.Event.waiting_room`` is the switch the hold/checkout path reads; this row is the room's state. The
    admission job is its single writer once the sale starts (it updates it under ``SELECT ... FOR UPDATE``).
    """

    event_id = models.UUIDField(verbose_name=_("event id"), unique=True)
    organization_id = models.UUIDField(verbose_name=_("organization id"))
    is_active = models.BooleanField(verbose_name=_("is active"), default=True)
    is_paused = models.BooleanField(verbose_name=_("is paused"), default=False)
    opens_at = models.DateTimeField(verbose_name=_("opens at"))  # people may join from here on
    # The on-sale: arrivals before it are drawn at random, later ones queue behind.
    starts_at = models.DateTimeField(verbose_name=_("starts at"))
    rate_per_minute = models.PositiveIntegerField(verbose_name=_("rate per minute"), default=100)
    pass_minutes = models.PositiveIntegerField(verbose_name=_("pass minutes"), default=15)
    per_address_cap = models.PositiveIntegerField(verbose_name=_("per address cap"), default=4)
    # Follow throughput: admit only while fewer admitted buyers than this hold a valid pass and have not bought yet
    # (None: the rate alone). Buyers who finish make room for the next ones, so admission tracks the sale's pace.
    max_in_flight = models.PositiveIntegerField(verbose_name=_("max in flight"), null=True, blank=True)
    # RATE: admit at rate_per_minute. THROUGHPUT: the admission job's controller sets current_rate (at most
    # rate_per_minute) from the p95 of recent hold and checkout latency against latency_target_ms.
    admission_mode = models.CharField(
        verbose_name=_("admission mode"), max_length=16, choices=WaitingRoomMode.choices, default=WaitingRoomMode.RATE
    )
    latency_target_ms = models.PositiveIntegerField(verbose_name=_("latency target ms"), null=True, blank=True)
    current_rate = models.PositiveIntegerField(verbose_name=_("current rate"), null=True, blank=True)
    # The last step's measurement, for staff.
    latency_p95_ms = models.PositiveIntegerField(verbose_name=_("latency p95 ms"), null=True, blank=True)
    # How many samples that p95 was taken from.
    latency_samples = models.PositiveIntegerField(verbose_name=_("latency samples"), default=0)
    # The last slow step: older samples are not judged.
    backed_off_at = models.DateTimeField(verbose_name=_("backed off at"), null=True, blank=True)
    # The controller's last change of current_rate.
    controlled_at = models.DateTimeField(verbose_name=_("controlled at"), null=True, blank=True)
    # Early arrivals have their positions.
    drawn_at = models.DateTimeField(verbose_name=_("drawn at"), null=True, blank=True)
    # The last position given out.
    last_position = models.PositiveIntegerField(verbose_name=_("last position"), default=0)
    # Every position <= this is admitted.
    admitted_up_to = models.PositiveIntegerField(verbose_name=_("admitted up to"), default=0)
    # Admissions are owed at rate_per_minute from this instant; it advances by exactly what was admitted.
    admission_clock = models.DateTimeField(verbose_name=_("admission clock"), null=True, blank=True)
    sold_out_at = models.DateTimeField(verbose_name=_("sold out at"), null=True, blank=True)

    class Meta:
        verbose_name = _("waiting room")
        verbose_name_plural = _("waiting rooms")
        constraints = [
            models.CheckConstraint(condition=Q(opens_at__lte=F("starts_at")), name="waiting_room_opens_before_sale"),
            models.CheckConstraint(condition=Q(rate_per_minute__gte=1), name="waiting_room_rate_positive"),
            models.CheckConstraint(condition=Q(pass_minutes__gte=1), name="waiting_room_pass_minutes_positive"),
            models.CheckConstraint(condition=Q(per_address_cap__gte=1), name="waiting_room_address_cap_positive"),
            models.CheckConstraint(
                condition=Q(max_in_flight__isnull=True) | Q(max_in_flight__gte=1),
                name="waiting_room_in_flight_positive",
            ),
            models.CheckConstraint(
                condition=Q(admitted_up_to__lte=F("last_position")), name="waiting_room_admits_given_positions"
            ),
            choices_check("admission_mode", WaitingRoomMode, "waiting_room_mode_valid"),
            # Following throughput needs both of its limits: the latency target and the in-flight bound.
            models.CheckConstraint(
                condition=~Q(admission_mode="throughput") | Q(latency_target_ms__gte=1, max_in_flight__isnull=False),
                name="waiting_room_throughput_has_limits",
            ),
            models.CheckConstraint(
                condition=Q(current_rate__isnull=True) | Q(current_rate__gte=1),
                name="waiting_room_current_rate_positive",
            ),
        ]
        # The admission job's list: SELECT ... FROM orders_waitingroom WHERE is_active
        indexes = [models.Index(fields=["event_id"], condition=Q(is_active=True), name="waiting_room_active_idx")]

    def __str__(self) -> str:
        return f"Waiting room of {self.event_id}"


class WaitingRoomEntry(TimeStampedModel):
    """One verified account's place in one room. Before the draw an early arrival has only its random ``draw_key``
    (``secrets``); the draw gives positions in key order, later arrivals get the next position at once."""

    room = models.ForeignKey(WaitingRoom, verbose_name=_("room"), on_delete=models.PROTECT, related_name="entries")
    user_id = models.UUIDField(verbose_name=_("user id"))
    client_address = models.CharField(verbose_name=_("client address"), max_length=64)
    draw_key = models.BigIntegerField(verbose_name=_("draw key"), null=True, blank=True)
    position = models.PositiveIntegerField(verbose_name=_("position"), null=True, blank=True)
    admitted_at = models.DateTimeField(verbose_name=_("admitted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("waiting room entry")
        verbose_name_plural = _("waiting room entries")
        constraints = [
            # One place per account, whatever the number of tabs or requests.
            models.UniqueConstraint(fields=["room", "user_id"], name="waiting_room_one_place_per_account"),
            # No two people share a position; the admission range query uses this index.
            models.UniqueConstraint(fields=["room", "position"], name="waiting_room_position_unique"),
            models.CheckConstraint(
                condition=Q(draw_key__isnull=False) | Q(position__isnull=False), name="waiting_room_entry_placed"
            ),
            models.CheckConstraint(
                condition=Q(admitted_at__isnull=True) | Q(position__isnull=False),
                name="waiting_room_admits_positioned",
            ),
        ]
        indexes = [
            # The per-address cap at join: SELECT count(*) ... WHERE room_id = ? AND client_address = ?
            models.Index(fields=["room", "client_address"], name="waiting_room_entry_address_idx"),
        ]

    def __str__(self) -> str:
        return f"Place {self.position or '-'} of {str(self.user_id)[:8]}"


class WaitingRoomLatencySample(models.Model):
    """How long one hold or checkout request of an event with an active room took (orders/middleware.py): what the
    admission job's throughput controller reads. Pruned by the job after ``LATENCY_RETENTION``."""

    event_id = models.UUIDField(verbose_name=_("event id"))
    # One of core.metrics.OPERATION_ROUTES: "hold", "purchase".
    operation = models.CharField(verbose_name=_("operation"), max_length=16)
    duration_ms = models.PositiveIntegerField(verbose_name=_("duration ms"))
    recorded_at = models.DateTimeField(verbose_name=_("recorded at"))

    class Meta:
        verbose_name = _("waiting room latency sample")
        verbose_name_plural = _("waiting room latency samples")
        # The controller's window (event, since) and the prune (event, before).
        indexes = [models.Index(fields=["event_id", "recorded_at"], name="waiting_room_latency_idx")]

    def __str__(self) -> str:
        return f"{self.operation} {self.duration_ms} ms"


class WaitingRoomAdmission(TimeStampedModel):
    """Append-only log: each batch of positions the admission job let in (and staff changes of pace)."""

    room = models.ForeignKey(WaitingRoom, verbose_name=_("room"), on_delete=models.PROTECT, related_name="admissions")
    first_position = models.PositiveIntegerField(verbose_name=_("first position"))
    last_position = models.PositiveIntegerField(verbose_name=_("last position"))
    count = models.PositiveIntegerField(verbose_name=_("count"))
    rate_per_minute = models.PositiveIntegerField(verbose_name=_("rate per minute"))

    class Meta(TimeStampedModel.Meta):
        verbose_name = _("waiting room admission")
        verbose_name_plural = _("waiting room admissions")
        constraints = [
            models.CheckConstraint(
                condition=Q(first_position__lte=F("last_position")), name="waiting_room_admission_range"
            ),
            # Two admitters can never log the same positions twice.
            models.UniqueConstraint(fields=["room", "first_position"], name="waiting_room_admission_once"),
        ]

    def __str__(self) -> str:
        return f"Admitted {self.first_position}-{self.last_position}"


class WaitingListEntry(TimeStampedModel):
    """A buyer waiting for ``quantity`` places of a sold-out event (or one section, or one price tier of it).

    The line is per (event, section, tier), first come first served by (created_at, id). When places come back, the
    matching job (orders/services/waiting_list.py) records OFFERING with the offer's expiry, holds the places in
    seats_db in the buyer's name until exactly that expiry, then records OFFERED with the seats: a crash between
    the two is re-driven from the expiry, which names the held places.
    """

    Status = WaitingListStatus

    event_id = models.UUIDField(verbose_name=_("event id"))
    organization_id = models.UUIDField(verbose_name=_("organization id"))
    section_id = models.UUIDField(verbose_name=_("section id"), null=True, blank=True)
    tier_id = models.UUIDField(verbose_name=_("tier id"), null=True, blank=True)
    buyer_id = models.UUIDField(verbose_name=_("buyer id"))
    quantity = models.PositiveSmallIntegerField(verbose_name=_("quantity"))
    status = models.CharField(verbose_name=_("status"), max_length=16, choices=Status.choices, default=Status.WAITING)
    offered_at = models.DateTimeField(verbose_name=_("offered at"), null=True, blank=True)
    offer_expires_at = models.DateTimeField(verbose_name=_("offer expires at"), null=True, blank=True)
    offered_seat_ids = ArrayField(models.UUIDField(), verbose_name=_("offered seat ids"), default=list, blank=True)
    closed_at = models.DateTimeField(verbose_name=_("closed at"), null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("waiting-list entry")
        verbose_name_plural = _("waiting-list entries")
        constraints = [
            # One live entry per buyer per line (an event-wide line has no section and no tier: NULLs are equal).
            models.UniqueConstraint(
                fields=["buyer_id", "event_id", "section_id", "tier_id"],
                condition=Q(status__in=["WAITING", "OFFERING", "OFFERED"]),
                nulls_distinct=False,
                name="waiting_list_one_live_entry_per_line",
            ),
            choices_check("status", WaitingListStatus, "waiting_list_status_valid"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="waiting_list_quantity_positive"),
            models.CheckConstraint(
                condition=~Q(status__in=["OFFERING", "OFFERED"]) | Q(offer_expires_at__isnull=False),
                name="waiting_list_offer_has_expiry",
            ),
        ]
        indexes = [
            # The matching job and "#N in line": WHERE event_id = ? AND status = 'WAITING' ORDER BY created_at, id
            models.Index(
                fields=["event_id", "created_at", "id"], condition=Q(status="WAITING"), name="waiting_list_line_idx"
            ),
            # Offers to settle: WHERE status IN ('OFFERING', 'OFFERED') (few rows)
            models.Index(
                fields=["offer_expires_at"],
                condition=Q(status__in=["OFFERING", "OFFERED"]),
                name="waiting_list_open_offer_idx",
            ),
            # A buyer's entries: WHERE buyer_id = ?
            models.Index(fields=["buyer_id", "-created_at"], name="waiting_list_buyer_idx"),
        ]

    def __str__(self) -> str:
        return f"Waiting list entry {str(self.pk)[:8]} ({self.status})"
