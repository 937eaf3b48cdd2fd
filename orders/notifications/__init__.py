"""Emails to buyers and staff, sent by jobs after the change they describe has committed (docs/JOBS.md).

``notify`` defers the ``notifications.send`` job on the queue database's current transaction: called inside the
orders transaction that makes the change, the mail is queued exactly when the change commits. The job
(orders/tasks.py) runs ``delivery.notification_deliver``, which sends each (kind, object, recipient) at most once.
"""

from __future__ import annotations

import uuid
from typing import Any

from core import jobs
from orders.contract import NotificationKind

SEND_TASK = "notifications.send"
MAIL_QUEUE = "mail"

__all__ = ["MAIL_QUEUE", "SEND_TASK", "NotificationKind", "notify", "notify_on_statement"]


def _arguments(kind: str, object_id: uuid.UUID, recipient_id: uuid.UUID, data: dict[str, Any] | None) -> dict:
    return {"kind": str(kind), "object_id": str(object_id), "recipient_id": str(recipient_id), "data": data or {}}


def notify(*, kind: str, object_id: uuid.UUID, recipient_id: uuid.UUID, data: dict[str, Any] | None = None) -> None:
    """Queue one notification: one INSERT into the job queue, on the current orders transaction."""
    jobs.job_defer(SEND_TASK, **_arguments(kind, object_id, recipient_id, data))


def notify_on_statement(
    update_sql: str,
    params: list[Any],
    *,
    kind: str,
    object_id: uuid.UUID,
    recipient_id: uuid.UUID,
    data: dict[str, Any] | None = None,
) -> bool:
    """UPDATE one orders_db row (``update_sql``, written as SQL without RETURNING) and queue the notification if it
    changed, in one statement (hot paths; core.jobs.job_defer_with_statement). False, and nothing queued, when it
    matched no row."""
    arguments = _arguments(kind, object_id, recipient_id, data)
    return jobs.job_defer_with_statement(update_sql, params, SEND_TASK, **arguments) > 0
