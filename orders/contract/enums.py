"""The enums of orders_db: the stored values of the columns they name (statuses, steps, channels, kinds), so
``orders.models`` takes its choices from here and a value or label changes in one place; and the sets of statuses
that hold a ticket or an event.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _


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
