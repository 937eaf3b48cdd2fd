"""What the lower domains' recorded facts (core/outbox.py) turn into: notification jobs.

The relay job hands each fact here; every handler only defers jobs (into orders_db), and each job's effect happens
once (a Notification per kind, object and recipient), so a fact relayed twice after a crash sends nothing twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from django.db import transaction

from core import jobs
from inventory import selectors as inventory_selectors
from orders import DB_ALIAS
from orders.contract import NotificationKind
from orders.notifications import notify

EVENT_CHANGED_FANOUT_TASK = "notifications.event_changed"
FANOUT_BATCH = 500


CARD_CHECKOUT_TASK = "orders.card_checkout_complete"


def topup_settled(payload: dict[str, Any], message_id: uuid.UUID) -> None:
    if payload.get("order_id"):
        # The difference of a checkout was paid (or not): its job finishes the checkout.
        jobs.job_defer(CARD_CHECKOUT_TASK, order_id=payload["order_id"])
    kind = NotificationKind.PAYMENT_RECEIVED if payload.get("succeeded") else NotificationKind.PAYMENT_FAILED
    notify(
        kind=kind,
        object_id=uuid.UUID(payload["topup_id"]),
        recipient_id=uuid.UUID(payload["user_id"]),
        data={key: payload.get(key, "") for key in ("amount", "provider", "reference", "issue")},
    )


def event_changed(payload: dict[str, Any], message_id: uuid.UUID) -> None:
    """One job fans the change out to every ticket holder (an event may have tens of thousands)."""
    jobs.job_defer(EVENT_CHANGED_FANOUT_TASK, change_id=str(message_id), payload=payload)


def event_changed_fanout(*, change_id: uuid.UUID, payload: dict[str, Any]) -> int:
    """Queue the EVENT_CHANGED mail of every ticket holder; the change's id is the notifications' object."""
    owners = inventory_selectors.ticket_owners_for_event(event_id=uuid.UUID(payload["event_id"]))
    data = {"event_id": payload["event_id"], "before": payload.get("before", {})}
    for start in range(0, len(owners), FANOUT_BATCH):
        with transaction.atomic(using=DB_ALIAS):
            for owner_id in owners[start : start + FANOUT_BATCH]:
                notify(kind=NotificationKind.EVENT_CHANGED, object_id=change_id, recipient_id=owner_id, data=data)
    return len(owners)


HANDLERS: dict[str, Callable[[dict[str, Any], uuid.UUID], None]] = {
    "accounts.topup_settled": topup_settled,
    "events.event_changed": event_changed,
}


def fact_handle(topic: str, payload: dict[str, Any], message_id: uuid.UUID) -> None:
    handler = HANDLERS.get(topic)
    if handler is not None:  # a topic nobody listens to (yet) is relayed and dropped
        handler(payload, message_id)
