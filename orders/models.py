"""orders_db: orders and their lines, transfers between buyers, resale listings.

Each of these drives a flow that spans databases. Its ``step`` column is the recorded plan: it is written before
the next database is touched, so the recovery command can finish or undo a flow a crash interrupted.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from ticketremaster.db import TimeStampedModel, choices_check


class OrderStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    CONFIRMED = "CONFIRMED", "Confirmed"
    FAILED = "FAILED", "Failed"
    REFUNDED = "REFUNDED", "Refunded"


class OrderStep(models.TextChoices):
    """How far a purchase got; the recovery command reads it (SPEC 4.5)."""

    CREATED = "CREATED", "Order recorded"
    DEBITED = "DEBITED", "Credits debited"
    SEATS_SOLD = "SEATS_SOLD", "Seats sold"
    DONE = "DONE", "Confirmed"
    COMPENSATING = "COMPENSATING", "Undoing"
    COMPENSATED = "COMPENSATED", "Undone"
    REFUNDING = "REFUNDING", "Refunding"
    REFUNDED = "REFUNDED", "Refunded"


class Order(TimeStampedModel):
    Status = OrderStatus

    Step = OrderStep

    buyer_id = models.UUIDField()
    event_id = models.UUIDField()
    organization_id = models.UUIDField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    step = models.CharField(max_length=16, choices=Step.choices, default=Step.CREATED)
    total = models.DecimalField(max_digits=10, decimal_places=2)
    idempotency_key = models.CharField(max_length=100)
    failure_code = models.CharField(max_length=64, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    refund_reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # A client retry with the same key finds this order instead of making a second one.
            models.UniqueConstraint(fields=["buyer_id", "idempotency_key"], name="order_idempotency_key_per_buyer"),
            choices_check("status", OrderStatus, "order_status_valid"),
            choices_check("step", OrderStep, "order_step_valid"),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
            models.CheckConstraint(
                condition=~Q(status="CONFIRMED") | Q(confirmed_at__isnull=False), name="order_confirmed_has_time"
            ),
        ]
        indexes = [
            # Recovery: WHERE status = 'PENDING' (few rows; partial keeps the index tiny)
            models.Index(fields=["created_at"], condition=Q(status="PENDING"), name="order_pending_idx"),
            # My orders: WHERE buyer_id = ? ORDER BY created_at DESC
            models.Index(fields=["buyer_id", "-created_at"], name="order_buyer_idx"),
            # Dashboard revenue / event cancellation: WHERE event_id = ? AND status = ?
            models.Index(fields=["event_id", "status"], name="order_event_status_idx"),
        ]

    def __str__(self) -> str:
        return f"Order {str(self.pk)[:8]} ({self.status})"


class OrderLine(TimeStampedModel):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    seat_id = models.UUIDField()
    price = models.DecimalField(max_digits=10, decimal_places=2)
    # True while the order may still own the seat (pending or confirmed); cleared when it fails or is refunded.
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order", "seat_id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "seat_id"], name="orderline_seat_once_per_order"),
            # No seat in two live orders, whatever the seat database says.
            models.UniqueConstraint(
                fields=["seat_id"], condition=Q(is_active=True), name="orderline_one_active_per_seat"
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="orderline_price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.seat_id} @ {self.price}"


class TransferStatus(models.TextChoices):
    OFFERED = "OFFERED", "Offered"
    ACCEPTED = "ACCEPTED", "Accepted by recipient"
    COMPLETING = "COMPLETING", "Completing"
    COMPLETED = "COMPLETED", "Completed"
    DECLINED = "DECLINED", "Declined"
    CANCELLED = "CANCELLED", "Cancelled"
    EXPIRED = "EXPIRED", "Expired"
    FAILED = "FAILED", "Failed"
    DISPUTED = "DISPUTED", "Disputed"
    REVERSED = "REVERSED", "Reversed"


class TransferStep(models.TextChoices):
    NONE = "NONE", "Not started"
    PAID = "PAID", "Credits moved"
    OWNERSHIP_MOVED = "OWNERSHIP_MOVED", "Ownership moved"
    DONE = "DONE", "Done"
    COMPENSATED = "COMPENSATED", "Undone"
    REVERSING = "REVERSING", "Reversing"
    REVERSED = "REVERSED", "Reversed"


class Transfer(TimeStampedModel):
    """An owner passes a ticket to another user, free or for credits."""

    Status = TransferStatus

    ACTIVE_STATUSES = ("OFFERED", "ACCEPTED", "COMPLETING")

    Step = TransferStep

    seat_id = models.UUIDField()
    event_id = models.UUIDField()
    organization_id = models.UUIDField(null=True, blank=True)
    from_user_id = models.UUIDField()
    to_user_id = models.UUIDField()
    price = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OFFERED)
    step = models.CharField(max_length=16, choices=Step.choices, default=Step.NONE)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    sender_confirmed_at = models.DateTimeField(null=True, blank=True)
    recipient_confirmed_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    failure_code = models.CharField(max_length=64, blank=True)
    dispute_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One active transfer per ticket.
            models.UniqueConstraint(
                fields=["seat_id"],
                condition=Q(status__in=["OFFERED", "ACCEPTED", "COMPLETING"]),
                name="transfer_one_active_per_seat",
            ),
            models.CheckConstraint(condition=~Q(from_user_id=F("to_user_id")), name="transfer_not_to_self"),
            models.CheckConstraint(condition=Q(price__gte=0), name="transfer_price_not_negative"),
            choices_check("status", TransferStatus, "transfer_status_valid"),
            choices_check("step", TransferStep, "transfer_step_valid"),
        ]
        indexes = [
            # Inbox / history: WHERE to_user_id = ? / WHERE from_user_id = ?
            models.Index(fields=["to_user_id", "-created_at"], name="transfer_to_idx"),
            models.Index(fields=["from_user_id", "-created_at"], name="transfer_from_idx"),
            # Recovery: WHERE status = 'COMPLETING'
            models.Index(fields=["updated_at"], condition=Q(status="COMPLETING"), name="transfer_completing_idx"),
        ]

    def __str__(self) -> str:
        return f"Transfer {str(self.pk)[:8]} ({self.status})"


class ResaleListingStatus(models.TextChoices):
    ACTIVE = "ACTIVE", "For sale"
    SELLING = "SELLING", "Being sold"
    SOLD = "SOLD", "Sold"
    WITHDRAWN = "WITHDRAWN", "Withdrawn"
    CANCELLED = "CANCELLED", "Cancelled"


class ResaleListingStep(models.TextChoices):
    NONE = "NONE", "Not started"
    BUYER_DEBITED = "BUYER_DEBITED", "Buyer debited"
    SELLER_CREDITED = "SELLER_CREDITED", "Seller credited"
    OWNERSHIP_MOVED = "OWNERSHIP_MOVED", "Ownership moved"
    DONE = "DONE", "Done"
    COMPENSATED = "COMPENSATED", "Undone"


class ResaleListing(TimeStampedModel):
    """A ticket offered for sale by its owner; bought in one all-or-nothing step."""

    Status = ResaleListingStatus

    ACTIVE_STATUSES = ("ACTIVE", "SELLING")

    Step = ResaleListingStep

    seat_id = models.UUIDField()
    event_id = models.UUIDField()
    organization_id = models.UUIDField(null=True, blank=True)
    seller_id = models.UUIDField()
    price = models.DecimalField(max_digits=10, decimal_places=2)
    face_value = models.DecimalField(max_digits=10, decimal_places=2)
    fee = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    step = models.CharField(max_length=16, choices=Step.choices, default=Step.NONE)
    buyer_id = models.UUIDField(null=True, blank=True)
    # A sale attempt's own id: the ledger reference of its money movements, fresh for every attempt.
    sale_attempt_id = models.UUIDField(null=True, blank=True)
    sold_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One active listing per ticket.
            models.UniqueConstraint(
                fields=["seat_id"], condition=Q(status__in=["ACTIVE", "SELLING"]), name="listing_one_active_per_seat"
            ),
            models.CheckConstraint(condition=Q(price__gt=0), name="listing_price_positive"),
            models.CheckConstraint(condition=Q(fee__gte=0) & Q(fee__lte=F("price")), name="listing_fee_within_price"),
            models.CheckConstraint(
                condition=~Q(status__in=["SELLING", "SOLD"]) | Q(buyer_id__isnull=False), name="listing_sale_has_buyer"
            ),
            models.CheckConstraint(condition=~Q(buyer_id=F("seller_id")), name="listing_not_bought_by_seller"),
            choices_check("status", ResaleListingStatus, "listing_status_valid"),
            choices_check("step", ResaleListingStep, "listing_step_valid"),
        ]
        indexes = [
            # Browse listings of an event: WHERE event_id = ? AND status = 'ACTIVE' ORDER BY price
            models.Index(fields=["event_id", "price"], condition=Q(status="ACTIVE"), name="listing_event_active_idx"),
            models.Index(fields=["seller_id", "-created_at"], name="listing_seller_idx"),
            models.Index(fields=["updated_at"], condition=Q(status="SELLING"), name="listing_selling_idx"),
        ]

    def __str__(self) -> str:
        return f"Listing {str(self.pk)[:8]} ({self.status})"
