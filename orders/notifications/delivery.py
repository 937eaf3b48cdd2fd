"""Sending one notification, once: the body of the ``notifications.send`` job.

The Notification row (unique per kind, object and recipient) is both the outbox staff read and the job's
idempotency key. A run that finds it SENT or SKIPPED does nothing; otherwise it renders the mail from live data,
marks the row SENDING (one more attempt), hands the mail to the server and marks it SENT. A refusal or timeout
marks it RETRYING and raises, so the queue runs the job again later with backoff: a server that is down delays
mail and loses none. The one window left is a worker killed after the server accepted the mail and before the
row said SENT; the rerun sends it again with the same Message-ID (docs/JOBS.md).
"""

from __future__ import annotations

import logging
import smtplib
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from accounts import selectors as accounts_selectors
from accounts.contract import WALK_IN_EMAIL_DOMAIN, ProfileInfo
from core.errors import NotFound
from orders import DB_ALIAS
from orders.contract import ESSENTIAL_NOTIFICATIONS, NotificationStatus
from orders.models import Notification
from orders.notifications import notify
from orders.notifications.render import BUILDERS, Email

logger = logging.getLogger(__name__)

Status = NotificationStatus
DONE = (Status.SENT, Status.SKIPPED)


class DeliveryFailed(Exception):
    """The mail server refused or did not answer; the job is retried later."""


def _row(kind: str, object_id: uuid.UUID, recipient_id: uuid.UUID) -> Notification:
    found = Notification.objects.using(DB_ALIAS).filter(kind=kind, object_id=object_id, recipient_id=recipient_id)
    row = found.first()
    if row is not None:
        return row
    try:
        with transaction.atomic(using=DB_ALIAS):
            return Notification.objects.using(DB_ALIAS).create(
                kind=kind, object_id=object_id, recipient_id=recipient_id
            )
    except IntegrityError:  # a twin job made it a moment ago
        return found.get()


def _update(row: Notification, **fields) -> None:
    fields["updated_at"] = timezone.now()
    Notification.objects.using(DB_ALIAS).filter(pk=row.pk).update(**fields)
    for name, value in fields.items():
        setattr(row, name, value)


def _message_id(row: Notification) -> str:
    host = urlsplit(settings.SITE_URL).hostname or "ticketremaster.local"
    return f"<{row.pk}.{row.kind.lower()}@{host}>"


def _in_language_of(recipient: ProfileInfo):
    """Mail is written in the recipient's chosen language (the site's default when they chose none)."""
    return translation.override(recipient.preferred_language or settings.LANGUAGE_CODE)


def _message(row: Notification, email: Email, to: str) -> EmailMultiAlternatives:
    context = {**email.context, "recipient_email": to}
    text = render_to_string(f"orders/email/{email.template}.txt", context)
    html = render_to_string(f"orders/email/{email.template}.html", context)
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={"Message-ID": row.message_id},
        connection=get_connection(timeout=settings.EMAIL_TIMEOUT),
    )
    message.attach_alternative(html, "text/html")
    for filename, content, mimetype in email.attachments:
        message.attach(filename, content, mimetype)
    return message


def render_message(
    *, kind: str, object_id: uuid.UUID, recipient_id: uuid.UUID, data: dict | None = None
) -> EmailMultiAlternatives:
    """The mail as it would go out now (previews, tests, the documentation's screenshot); nothing is recorded."""
    recipient = accounts_selectors.user_profile(user_id=recipient_id)
    row = Notification(kind=kind, object_id=object_id, recipient_id=recipient_id, id=uuid.uuid4())
    row.message_id = _message_id(row)
    with _in_language_of(recipient):
        return _message(row, BUILDERS[kind](object_id, recipient, data or {}), recipient.email)


def notification_deliver(*, kind: str, object_id: uuid.UUID, recipient_id: uuid.UUID, data: dict | None = None) -> str:
    """Send the notification unless it went already; returns the row's final status. Raises DeliveryFailed."""
    row = _row(kind, object_id, recipient_id)
    if row.status in DONE:
        return row.status
    try:
        recipient = accounts_selectors.user_profile(user_id=recipient_id)
    except NotFound:
        _update(row, status=Status.SKIPPED, last_error="No such account.")
        return row.status
    if recipient.email.endswith(WALK_IN_EMAIL_DOMAIN):
        _update(
            row, status=Status.SKIPPED, email=recipient.email, last_error="A walk-in sale: the tickets are printed."
        )
        return row.status
    if kind not in ESSENTIAL_NOTIFICATIONS and recipient.preferences.get("essential_emails_only"):
        _update(row, status=Status.SKIPPED, email=recipient.email, last_error="The recipient turned these off.")
        return row.status
    row.message_id = row.message_id or _message_id(row)
    with _in_language_of(recipient):
        email = BUILDERS[kind](object_id, recipient, data or {})
        message = _message(row, email, recipient.email)
    _update(
        row,
        status=Status.SENDING,
        attempts=row.attempts + 1,
        email=recipient.email,
        subject=email.subject[:255],
        organization_id=email.organization_id,
        message_id=row.message_id,
    )
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as exc:
        _update(row, status=Status.RETRYING, last_error=f"{type(exc).__name__}: {exc}"[:2000])
        raise DeliveryFailed(str(exc)) from exc
    _update(row, status=Status.SENT, sent_at=timezone.now(), last_error="")
    return row.status


def notifications_requeue(*, notification_ids: list[uuid.UUID]) -> int:
    """Queue the job again for notifications not yet SENT or SKIPPED (support's "send again"); returns how many."""
    waiting = Notification.objects.using(DB_ALIAS).filter(pk__in=notification_ids).exclude(status__in=DONE)
    count = 0
    with transaction.atomic(using=DB_ALIAS):
        for row in waiting:
            notify(kind=row.kind, object_id=row.object_id, recipient_id=row.recipient_id)
            count += 1
    return count
