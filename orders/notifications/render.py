"""What each notification says: its recipient, subject, templates and their context, built from live data.

One builder per kind. Each reads what it needs through the domains' selectors (the event and its venue's time
zone, the seats and their sections, the people), so a mail sent after a retry says what is true when it goes.
Times are in the venue's time zone with its abbreviation; every seat is named with its section.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from accounts import selectors as accounts_selectors
from accounts.contract import ProfileInfo
from core import moneyfmt
from core.timefmt import venue_clock, venue_time
from events import selectors as events_selectors
from events.contract import EventInfo
from inventory import selectors as inventory_selectors
from orders import DB_ALIAS
from orders.contract import NotificationKind, OrderChannel
from orders.models import Order, OrderRefund, ResaleListing, StaffOperation, Transfer, WaitingListEntry
from orders.notifications.calendar import ICS_CONTENT_TYPE, event_ics

Kind = NotificationKind


@dataclass(frozen=True)
class Email:
    subject: str
    template: str  # orders/email/<template>.txt and .html
    context: dict[str, Any]
    organization_id: uuid.UUID | None
    attachments: tuple[tuple[str, str, str], ...] = field(default=())  # (filename, content, mimetype)


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def event_context(event: EventInfo) -> dict[str, Any]:
    zone = events_selectors.venue_timezones(venue_ids=[event.venue_id]).get(event.venue_id, "UTC")
    return {
        "title": event.title,
        "venue": event.venue_name,
        "starts": venue_time(event.starts_at, zone),
        "doors": venue_clock(event.doors_at, zone),
        "zone": zone,
        "url": absolute(reverse("orders:event", kwargs={"event_id": event.id})),
    }


def seat_lines(seat_ids: list[uuid.UUID]) -> list[dict[str, Any]]:
    """Every seat with its section, in section then row then number order."""
    seats = list(inventory_selectors.seats_get_many(seat_ids=seat_ids).values())
    sections = events_selectors.section_names(section_ids={seat.section_id for seat in seats})
    lines = [
        {
            "section": sections.get(seat.section_id, "Section"),
            "row": seat.row_label,
            "number": seat.number,
            "label": seat.label,
            "general": seat.is_general_admission,
            "accessible": seat.is_accessible,
            "price": seat.price,
        }
        for seat in seats
    ]
    return sorted(lines, key=lambda line: (line["section"], line["row"], line["number"]))


def _order(order_id: uuid.UUID) -> tuple[Order, list[uuid.UUID]]:
    order = Order.objects.using(DB_ALIAS).get(pk=order_id)
    seat_ids = list(order.lines.values_list("seat_id", flat=True))
    return order, seat_ids


def order_confirmed(object_id: uuid.UUID, recipient: ProfileInfo, data: dict) -> Email:
    order, seat_ids = _order(object_id)
    event = events_selectors.event_get(event_id=order.event_id)
    context = {
        "event": event_context(event),
        "order_ref": str(order.pk)[:8].upper(),
        "seats": seat_lines(seat_ids),
        "total": order.total,
        "tickets_url": absolute(reverse("orders:ticket_list")),
        "order_url": absolute(reverse("orders:detail", kwargs={"order_id": order.pk})),
        "channel": order.channel,
        "payment_method": order.get_payment_method_display().lower(),
        "email": recipient.email,
        "claim_url": absolute(reverse("accounts:password_reset")),
    }
    ics = event_ics(
        uid=order.pk,
        title=event.title,
        starts_at=event.starts_at,
        ends_at=None,
        venue=event.venue_name,
        description=gettext("Your tickets: %(url)s") % {"url": context["tickets_url"]},
        url=context["event"]["url"],
        now=timezone.now(),
    )
    names = {"title": event.title, "ref": context["order_ref"]}
    subject = gettext("Your tickets for %(title)s (order %(ref)s)") % names
    if order.channel == OrderChannel.COMP:
        subject = gettext("Your complimentary tickets for %(title)s") % {"title": event.title}
    return Email(
        subject=subject,
        template="order_confirmed",
        context=context,
        organization_id=order.organization_id,
        attachments=(("event.ics", ics, ICS_CONTENT_TYPE),),
    )


def _refund_email(object_id: uuid.UUID, *, template: str, subject: Callable[[EventInfo, str], str]) -> Email:
    order = Order.objects.using(DB_ALIAS).get(pk=object_id)
    # Tickets refunded earlier on their own had their own mail: this one is about the rest.
    seat_ids = list(order.lines.filter(refund__isnull=True).values_list("seat_id", flat=True))
    event = events_selectors.event_get(event_id=order.event_id)
    ref = str(order.pk)[:8].upper()
    context = {
        "event": event_context(event),
        "order_ref": ref,
        "seats": seat_lines(seat_ids),
        "total": order.total - order.refunded_amount,
        "reason": order.refund_reason,
        "wallet_url": absolute(reverse("accounts:wallet")),
        "channel": order.channel,
    }
    return Email(
        subject=str(subject(event, ref)), template=template, context=context, organization_id=order.organization_id
    )


def tickets_refunded(object_id: uuid.UUID, recipient: ProfileInfo, data: dict) -> Email:
    """Some tickets of an order refunded by staff (object: the OrderRefund)."""
    refund = OrderRefund.objects.using(DB_ALIAS).select_related("order").get(pk=object_id)
    order = refund.order
    event = events_selectors.event_get(event_id=order.event_id)
    ref = str(order.pk)[:8].upper()
    context = {
        "event": event_context(event),
        "order_ref": ref,
        "seats": seat_lines(list(refund.lines.values_list("seat_id", flat=True))),
        "total": refund.amount,
        "reason": refund.reason,
        "wallet_url": absolute(reverse("accounts:wallet")),
        "channel": order.channel,
    }
    return Email(
        subject=gettext("Refund of tickets of order %(ref)s: %(title)s") % {"ref": ref, "title": event.title},
        template="tickets_refunded",
        context=context,
        organization_id=order.organization_id,
    )


def order_refunded(object_id: uuid.UUID, recipient: ProfileInfo, data: dict) -> Email:
    return _refund_email(
        object_id,
        template="order_refunded",
        subject=lambda event, ref: gettext("Refund of order %(ref)s: %(title)s") % {"ref": ref, "title": event.title},
    )


def event_cancelled(object_id: uuid.UUID, recipient: ProfileInfo, data: dict) -> Email:
    return _refund_email(
        object_id,
        template="event_cancelled",
        subject=lambda event, ref: (
            gettext("%(title)s is cancelled: your order %(ref)s is refunded") % {"title": event.title, "ref": ref}
        ),
    )


def event_changed(object_id: uuid.UUID, recipient: ProfileInfo, data: dict) -> Email:
    event = events_selectors.event_get(event_id=uuid.UUID(data["event_id"]))
    context = event_context(event)
    before = data.get("before", {})
    zone = context["zone"]
    was = {
        "starts": venue_time(dt.datetime.fromisoformat(before["starts_at"]), zone) if before.get("starts_at") else "",
        "venue": before.get("venue_name", ""),
    }
    seat_ids = [seat.id for seat in inventory_selectors.tickets_for_owner(owner_id=recipient.id, event_id=event.id)]
    return Email(
        subject=gettext("%(title)s has changed: %(starts)s") % {"title": event.title, "starts": context["starts"]},
        template="event_changed",
        context={"event": context, "was": was, "seats": seat_lines(seat_ids)},
        organization_id=event.organization_id,
    )


def _transfer_email(object_id: uuid.UUID, recipient: ProfileInfo, *, template: str, subject: str) -> Email:
    transfer = Transfer.objects.using(DB_ALIAS).get(pk=object_id)
    event = events_selectors.event_get(event_id=transfer.event_id)
    users = accounts_selectors.user_get_many(user_ids=[transfer.from_user_id, transfer.to_user_id])
    people = {user_id: user.display_name for user_id, user in users.items()}
    event_fields = event_context(event)
    context = {
        "event": event_fields,
        "seats": seat_lines([transfer.seat_id]),
        "price": transfer.price,
        "sender": people.get(transfer.from_user_id, gettext("the sender")),
        "recipient": people.get(transfer.to_user_id, gettext("the recipient")),
        "expires": venue_time(transfer.expires_at, event_fields["zone"]),
        "is_recipient": recipient.id == transfer.to_user_id,
        "transfer_url": absolute(reverse("transfers:detail", kwargs={"transfer_id": transfer.pk})),
        "tickets_url": absolute(reverse("orders:ticket_list")),
    }
    return Email(
        subject=str(subject) % {"title": event.title, "sender": context["sender"], "recipient": context["recipient"]},
        template=template,
        context=context,
        organization_id=transfer.organization_id,
    )


# What a transfer's mail says at each step; the template is named after the kind (orders/email/transfer_*.txt).
TRANSFER_SUBJECTS: dict[str, Any] = {
    Kind.TRANSFER_OFFERED: gettext_lazy("%(sender)s offers you a ticket for %(title)s"),
    Kind.TRANSFER_ACCEPTED: gettext_lazy("%(recipient)s accepted your ticket for %(title)s"),
    Kind.TRANSFER_COMPLETED: gettext_lazy("Transfer complete: %(title)s"),
    Kind.TRANSFER_DECLINED: gettext_lazy("%(recipient)s declined your ticket for %(title)s"),
    Kind.TRANSFER_EXPIRED: gettext_lazy("Your transfer offer for %(title)s expired"),
}


def _transfer_builder(kind: str) -> Callable[[uuid.UUID, ProfileInfo, dict], Email]:
    def build(object_id: uuid.UUID, recipient: ProfileInfo, data: dict) -> Email:
        return _transfer_email(object_id, recipient, template=kind.lower(), subject=TRANSFER_SUBJECTS[kind])

    return build


def resale_sold(object_id: uuid.UUID, recipient: ProfileInfo, data: dict) -> Email:
    listing = ResaleListing.objects.using(DB_ALIAS).get(pk=object_id)
    event = events_selectors.event_get(event_id=listing.event_id)
    context = {
        "event": event_context(event),
        "seats": seat_lines([listing.seat_id]),
        "price": listing.price,
        "fee": listing.fee,
        "amount": listing.price - listing.fee,
        "wallet_url": absolute(reverse("accounts:wallet")),
    }
    return Email(
        subject=gettext("Sold: your ticket for %(title)s") % {"title": event.title},
        template="resale_sold",
        context=context,
        organization_id=listing.organization_id,
    )


def payment_received(object_id: uuid.UUID, recipient: ProfileInfo, data: dict) -> Email:
    context = {
        "amount": Decimal(str(data.get("amount", "0"))),
        "provider": data.get("provider", ""),
        "reference": data.get("reference", ""),
        "balance": recipient.credit_balance,
        "wallet_url": absolute(reverse("accounts:wallet")),
    }
    return Email(
        subject=gettext("Payment received: %(credits)s added") % {"credits": moneyfmt.credits(context["amount"])},
        template="payment_received",
        context=context,
        organization_id=None,
    )


def payment_failed(object_id: uuid.UUID, recipient: ProfileInfo, data: dict) -> Email:
    context = {
        "amount": Decimal(str(data.get("amount", "0"))),
        "provider": data.get("provider", ""),
        "reference": data.get("reference", ""),
        "issue": data.get("issue") or gettext("The payment provider declined the payment."),
        "wallet_url": absolute(reverse("accounts:wallet")),
    }
    return Email(
        subject=gettext("Your payment did not go through"),
        template="payment_failed",
        context=context,
        organization_id=None,
    )


def staff_summary(object_id: uuid.UUID, recipient: ProfileInfo, data: dict) -> Email:
    operation = StaffOperation.objects.using(DB_ALIAS).get(pk=object_id)
    event = events_selectors.event_get(event_id=operation.event_id)
    context = {
        "event": event_context(event),
        "operation": operation,
        "kind": operation.get_kind_display(),
        "status": operation.get_status_display(),
        "result": operation.result,
        "progress_url": absolute(
            reverse("admin:events_event_operation", kwargs={"object_id": event.id, "operation_id": operation.pk})
        ),
    }
    return Email(
        subject=gettext("%(kind)s of %(title)s: %(status)s")
        % {"kind": context["kind"], "title": event.title, "status": str(context["status"]).lower()},
        template="staff_summary",
        context=context,
        organization_id=operation.organization_id,
    )


def waiting_list_offer(object_id: uuid.UUID, recipient: ProfileInfo, data: dict) -> Email:
    entry = WaitingListEntry.objects.using(DB_ALIAS).get(pk=object_id)
    event = events_selectors.event_get(event_id=entry.event_id)
    event_fields = event_context(event)
    context = {
        "event": event_fields,
        "seats": seat_lines(list(entry.offered_seat_ids)),
        "expires": venue_time(entry.offer_expires_at, event_fields["zone"]),
        "offer_url": absolute(reverse("orders:waiting_list_offer", kwargs={"entry_id": entry.pk})),
    }
    return Email(
        subject=gettext("Places for %(title)s are held for you") % {"title": event.title},
        template="waiting_list_offer",
        context=context,
        organization_id=entry.organization_id,
    )


BUILDERS: dict[str, Callable[[uuid.UUID, ProfileInfo, dict], Email]] = {
    Kind.ORDER_CONFIRMED: order_confirmed,
    Kind.ORDER_REFUNDED: order_refunded,
    Kind.TICKETS_REFUNDED: tickets_refunded,
    Kind.EVENT_CANCELLED: event_cancelled,
    Kind.EVENT_CHANGED: event_changed,
    **{kind: _transfer_builder(kind) for kind in TRANSFER_SUBJECTS},
    Kind.RESALE_SOLD: resale_sold,
    Kind.PAYMENT_RECEIVED: payment_received,
    Kind.PAYMENT_FAILED: payment_failed,
    Kind.STAFF_SUMMARY: staff_summary,
    Kind.WAITING_LIST_OFFER: waiting_list_offer,
}
