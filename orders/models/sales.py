"""Sales and what surrounds them: orders with their lines and refunds, the flows that pass a ticket on (transfers
between buyers, resale listings), the emails sent about them, long staff operations on an event, and the blocks an
organization puts on buyers.

Each flow spans databases. Its ``step`` column is the recorded plan: it is written before the next database is
touched, so the recovery command can finish or undo a flow a crash interrupted.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from core.db import TimeStampedModel, choices_check
from orders.contract import (
    LISTING_ACTIVE_STATUSES,
    STAFF_OPERATION_LIVE_STATUSES,
    TRANSFER_ACTIVE_STATUSES,
    BoxOfficePayment,
    NotificationKind,
    NotificationStatus,
    OrderChannel,
    OrderRefundStep,
    OrderStatus,
    OrderStep,
    ResaleListingStatus,
    ResaleListingStep,
    StaffOperationKind,
    StaffOperationStatus,
    TransferStatus,
    TransferStep,
)


class Order(TimeStampedModel):
    Status = OrderStatus

    Step = OrderStep

    buyer_id = models.UUIDField(verbose_name=_("buyer id"))
    event_id = models.UUIDField(verbose_name=_("event id"))
    organization_id = models.UUIDField(verbose_name=_("organization id"), null=True, blank=True)
    status = models.CharField(verbose_name=_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    step = models.CharField(verbose_name=_("step"), max_length=16, choices=Step.choices, default=Step.CREATED)
    total = models.DecimalField(verbose_name=_("total"), max_digits=10, decimal_places=2)
    idempotency_key = models.CharField(verbose_name=_("idempotency key"), max_length=100)
    failure_code = models.CharField(verbose_name=_("failure code"), max_length=64, blank=True)
    confirmed_at = models.DateTimeField(verbose_name=_("confirmed at"), null=True, blank=True)
    refunded_at = models.DateTimeField(verbose_name=_("refunded at"), null=True, blank=True)
    refund_reason = models.CharField(verbose_name=_("refund reason"), max_length=255, blank=True)
    # Paying the difference by card: the top-up (users_db) whose webhook completes this checkout.
    card_topup_id = models.UUIDField(verbose_name=_("card topup id"), null=True, blank=True)
    # Paid back so far by refunds of some of its tickets (OrderRefund rows DONE); the order stays CONFIRMED.
    refunded_amount = models.DecimalField(verbose_name=_("refunded amount"), max_digits=10, decimal_places=2, default=0)
    # Online orders are paid from credits; box-office orders at the counter (method and amount taken, no credits);
    # comps are free. db_default: rows written before the channel existed were online.
    channel = models.CharField(
        verbose_name=_("channel"),
        max_length=16,
        choices=OrderChannel.choices,
        default=OrderChannel.ONLINE,
        db_default=OrderChannel.ONLINE,
    )
    payment_method = models.CharField(
        verbose_name=_("payment method"),
        max_length=16,
        choices=BoxOfficePayment.choices,
        blank=True,
        default="",
        db_default="",
    )
    amount_taken = models.DecimalField(
        verbose_name=_("amount taken"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    # The staff member who sold or gave the tickets (box office, comps).
    issued_by_id = models.UUIDField(verbose_name=_("issued by id"), null=True, blank=True)

    class Meta(TimeStampedModel.Meta):
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            choices_check("channel", OrderChannel, "order_channel_valid"),
            # A box-office sale records how it was paid and took exactly its total; nothing else records a payment.
            models.CheckConstraint(
                condition=(
                    Q(
                        channel=OrderChannel.BOX_OFFICE,
                        payment_method__in=list(BoxOfficePayment.values),
                        amount_taken=F("total"),
                    )
                    | (~Q(channel=OrderChannel.BOX_OFFICE) & Q(payment_method="", amount_taken__isnull=True))
                ),
                name="order_box_office_payment_recorded",
            ),
            models.CheckConstraint(condition=~Q(channel=OrderChannel.COMP) | Q(total=0), name="order_comp_is_free"),
            # Box-office sales and comps take no credits and no card top-up; staff always issue them.
            models.CheckConstraint(
                condition=Q(channel=OrderChannel.ONLINE) | Q(card_topup_id__isnull=True, issued_by_id__isnull=False),
                name="order_staff_channel_no_credits",
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__gte=0) & Q(refunded_amount__lte=F("total")),
                name="order_refunded_amount_within_total",
            ),
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
    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.CASCADE, related_name="lines")
    seat_id = models.UUIDField(verbose_name=_("seat id"))
    price = models.DecimalField(verbose_name=_("price"), max_digits=10, decimal_places=2)
    # True while the order may still own the seat (pending or confirmed); cleared when it fails or is refunded.
    is_active = models.BooleanField(verbose_name=_("is active"), default=True)
    # The refund of some of the order's tickets that took this one back (set when that refund is recorded).
    refund = models.ForeignKey(
        "OrderRefund", verbose_name=_("refund"), on_delete=models.PROTECT, null=True, blank=True, related_name="lines"
    )

    class Meta:
        ordering = ["order", "seat_id"]
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
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


class OrderRefund(TimeStampedModel):
    """Staff refund some tickets of a confirmed order: those seats are freed, their price goes back to the buyer.

    A recorded flow like the whole-order refund: written at step REFUNDING with its lines (OrderLine.refund) before
    seats_db and users_db are touched; the credit's ledger reference is ``<order id>:refund:<id>``, so the order's
    money is found under the order. Recovery finishes one a crash left at REFUNDING.
    """

    Step = OrderRefundStep

    order = models.ForeignKey(Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="refunds")
    organization_id = models.UUIDField(verbose_name=_("organization id"), null=True, blank=True)
    actor_id = models.UUIDField(verbose_name=_("actor id"), null=True, blank=True)
    amount = models.DecimalField(verbose_name=_("amount"), max_digits=10, decimal_places=2)
    reason = models.CharField(verbose_name=_("reason"), max_length=255)
    block_seats = models.BooleanField(verbose_name=_("block seats"), default=False)
    step = models.CharField(verbose_name=_("step"), max_length=16, choices=Step.choices, default=Step.REFUNDING)
    done_at = models.DateTimeField(verbose_name=_("done at"), null=True, blank=True)

    class Meta(TimeStampedModel.Meta):
        verbose_name = _("order refund")
        verbose_name_plural = _("order refunds")
        constraints = [
            # One refund of an order runs at a time (the flow lock serialises them; this makes it a fact).
            models.UniqueConstraint(
                fields=["order"], condition=Q(step="REFUNDING"), name="order_refund_one_running_per_order"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="order_refund_amount_not_negative"),
            models.CheckConstraint(condition=~Q(step="DONE") | Q(done_at__isnull=False), name="order_refund_done_time"),
            choices_check("step", OrderRefundStep, "order_refund_step_valid"),
        ]
        indexes = [
            # Recovery: WHERE step = 'REFUNDING' (few rows)
            models.Index(fields=["updated_at"], condition=Q(step="REFUNDING"), name="order_refund_running_idx"),
        ]

    def ledger_reference(self) -> str:
        return f"{self.order_id}:refund:{self.pk}"

    def __str__(self) -> str:
        return f"Refund {str(self.pk)[:8]} of order {str(self.order_id)[:8]} ({self.step})"


class TicketFlow(TimeStampedModel):
    """A flow that passes one ticket (a seat of seats_db) on: which one, of which event and organization."""

    seat_id = models.UUIDField(verbose_name=_("seat id"))
    event_id = models.UUIDField(verbose_name=_("event id"))
    organization_id = models.UUIDField(verbose_name=_("organization id"), null=True, blank=True)

    class Meta(TimeStampedModel.Meta):
        abstract = True


class Transfer(TicketFlow):
    """An owner passes a ticket to another user, free or for credits."""

    Status = TransferStatus

    ACTIVE_STATUSES = TRANSFER_ACTIVE_STATUSES

    Step = TransferStep

    from_user_id = models.UUIDField(verbose_name=_("from user id"))
    # Empty when the address names no account that may receive tickets (none, inactive, unverified, flagged): the
    # sender is told nothing different, and the offer simply never becomes acceptable and expires.
    to_user_id = models.UUIDField(verbose_name=_("to user id"), null=True, blank=True)
    to_email = models.EmailField(verbose_name=_("to email"), max_length=254, blank=True)
    price = models.DecimalField(verbose_name=_("price"), max_digits=10, decimal_places=2, default=0)
    # The platform fee kept from the sender's proceeds (as for resale), fixed when the offer is made.
    fee = models.DecimalField(verbose_name=_("fee"), max_digits=10, decimal_places=2, default=0)
    status = models.CharField(verbose_name=_("status"), max_length=16, choices=Status.choices, default=Status.OFFERED)
    step = models.CharField(verbose_name=_("step"), max_length=16, choices=Step.choices, default=Step.NONE)
    expires_at = models.DateTimeField(verbose_name=_("expires at"))
    accepted_at = models.DateTimeField(verbose_name=_("accepted at"), null=True, blank=True)
    sender_confirmed_at = models.DateTimeField(verbose_name=_("sender confirmed at"), null=True, blank=True)
    recipient_confirmed_at = models.DateTimeField(verbose_name=_("recipient confirmed at"), null=True, blank=True)
    completed_at = models.DateTimeField(verbose_name=_("completed at"), null=True, blank=True)
    failure_code = models.CharField(verbose_name=_("failure code"), max_length=64, blank=True)
    dispute_reason = models.TextField(verbose_name=_("dispute reason"), blank=True)

    class Meta(TicketFlow.Meta):
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        constraints = [
            # One active transfer per ticket.
            models.UniqueConstraint(
                fields=["seat_id"],
                condition=Q(status__in=["OFFERED", "ACCEPTED", "COMPLETING"]),
                name="transfer_one_active_per_seat",
            ),
            models.CheckConstraint(condition=~Q(from_user_id=F("to_user_id")), name="transfer_not_to_self"),
            models.CheckConstraint(condition=Q(price__gte=0), name="transfer_price_not_negative"),
            models.CheckConstraint(condition=Q(fee__gte=0, fee__lte=F("price")), name="transfer_fee_within_price"),
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


class ResaleListing(TicketFlow):
    """A ticket offered for sale by its owner; bought in one all-or-nothing step."""

    Status = ResaleListingStatus

    ACTIVE_STATUSES = LISTING_ACTIVE_STATUSES

    Step = ResaleListingStep

    seller_id = models.UUIDField(verbose_name=_("seller id"))
    price = models.DecimalField(verbose_name=_("price"), max_digits=10, decimal_places=2)
    face_value = models.DecimalField(verbose_name=_("face value"), max_digits=10, decimal_places=2)
    fee = models.DecimalField(verbose_name=_("fee"), max_digits=10, decimal_places=2, default=0)
    status = models.CharField(verbose_name=_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    step = models.CharField(verbose_name=_("step"), max_length=16, choices=Step.choices, default=Step.NONE)
    buyer_id = models.UUIDField(verbose_name=_("buyer id"), null=True, blank=True)
    # A sale attempt's own id: the ledger reference of its money movements, fresh for every attempt.
    sale_attempt_id = models.UUIDField(verbose_name=_("sale attempt id"), null=True, blank=True)
    sold_at = models.DateTimeField(verbose_name=_("sold at"), null=True, blank=True)

    class Meta(TicketFlow.Meta):
        verbose_name = _("resale listing")
        verbose_name_plural = _("resale listings")
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


class Notification(TimeStampedModel):
    """One email to one person about one object: the outbox support staff read, and the send's idempotency key.

    The unique (kind, object, recipient) makes a retried or duplicated job send nothing twice: the job that finds
    the row SENT stops there.
    """

    Kind = NotificationKind
    Status = NotificationStatus

    kind = models.CharField(verbose_name=_("kind"), max_length=32, choices=Kind.choices)
    object_id = models.UUIDField(verbose_name=_("object id"))
    recipient_id = models.UUIDField(verbose_name=_("recipient id"))
    organization_id = models.UUIDField(verbose_name=_("organization id"), null=True, blank=True)
    email = models.CharField(verbose_name=_("email"), max_length=254, blank=True)
    subject = models.CharField(verbose_name=_("subject"), max_length=255, blank=True)
    status = models.CharField(verbose_name=_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(verbose_name=_("attempts"), default=0)
    last_error = models.TextField(verbose_name=_("last error"), blank=True)
    message_id = models.CharField(verbose_name=_("message id"), max_length=255, blank=True)
    sent_at = models.DateTimeField(verbose_name=_("sent at"), null=True, blank=True)

    class Meta(TimeStampedModel.Meta):
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id", "recipient_id"], name="notification_once"),
            choices_check("kind", NotificationKind, "notification_kind_valid"),
            choices_check("status", NotificationStatus, "notification_status_valid"),
            models.CheckConstraint(
                condition=~Q(status="SENT") | Q(sent_at__isnull=False), name="notification_sent_has_time"
            ),
        ]
        indexes = [
            # Outbox admin: WHERE organization_id IN (...) ORDER BY created_at DESC
            models.Index(fields=["organization_id", "-created_at"], name="notification_org_idx"),
            # Support looks a buyer up: WHERE recipient_id = ?
            models.Index(fields=["recipient_id", "-created_at"], name="notification_recipient_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.email or self.recipient_id} ({self.status})"


class StaffOperation(TimeStampedModel):
    """A long staff operation on an event (publish, reprice a tier, cancel and refund), run by a job, with its
    progress."""

    Kind = StaffOperationKind
    Status = StaffOperationStatus

    kind = models.CharField(verbose_name=_("kind"), max_length=16, choices=Kind.choices)
    event_id = models.UUIDField(verbose_name=_("event id"))
    organization_id = models.UUIDField(verbose_name=_("organization id"))
    actor_id = models.UUIDField(verbose_name=_("actor id"), null=True, blank=True)
    reason = models.CharField(verbose_name=_("reason"), max_length=255, blank=True)
    status = models.CharField(verbose_name=_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    done = models.PositiveIntegerField(verbose_name=_("done"), default=0)
    total = models.PositiveIntegerField(verbose_name=_("total"), default=0)
    errors = models.PositiveIntegerField(verbose_name=_("errors"), default=0)
    error_detail = models.TextField(verbose_name=_("error detail"), blank=True)
    result = models.JSONField(verbose_name=_("result"), default=dict, blank=True)
    # What the operation works with beyond the event (a reprice: the tier and its new price).
    params = models.JSONField(verbose_name=_("params"), default=dict, blank=True)
    started_at = models.DateTimeField(verbose_name=_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(verbose_name=_("finished at"), null=True, blank=True)

    class Meta(TimeStampedModel.Meta):
        verbose_name = _("staff operation")
        verbose_name_plural = _("staff operations")
        constraints = [
            # Two staff members pressing the button (or one pressing twice) start one operation per event.
            models.UniqueConstraint(
                fields=["event_id"],
                condition=Q(status__in=list(STAFF_OPERATION_LIVE_STATUSES)),
                name="staff_operation_one_live_per_event",
            ),
            choices_check("kind", StaffOperationKind, "staff_operation_kind_valid"),
            choices_check("status", StaffOperationStatus, "staff_operation_status_valid"),
        ]
        indexes = [
            # The event's operations, newest first: WHERE event_id = ? ORDER BY created_at DESC
            models.Index(fields=["event_id", "-created_at"], name="staff_operation_event_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {str(self.event_id)[:8]} ({self.status})"


class BuyerBlock(TimeStampedModel):
    """An organization blocks a buyer from its own events: no holds, no checkout, no resale buy of its tickets.

    The organization's decision only, about its events only: the buyer's account, wallet and other organizations'
    events are untouched (a platform-wide flag is platform staff's, in the accounts admin).
    """

    organization_id = models.UUIDField(verbose_name=_("organization id"))
    user_id = models.UUIDField(verbose_name=_("user id"))
    reason = models.CharField(verbose_name=_("reason"), max_length=255)
    created_by_id = models.UUIDField(verbose_name=_("created by id"), null=True, blank=True)

    class Meta(TimeStampedModel.Meta):
        verbose_name = _("buyer block")
        verbose_name_plural = _("buyer blocks")
        constraints = [
            models.UniqueConstraint(fields=["organization_id", "user_id"], name="buyer_block_once_per_organization"),
        ]
        # The unique constraint's index (organization_id, user_id) serves the check at every hold and checkout:
        #   SELECT 1 FROM orders_buyerblock WHERE organization_id = ? AND user_id = ?

    def __str__(self) -> str:
        return f"Block {str(self.user_id)[:8]} at {str(self.organization_id)[:8]}"
