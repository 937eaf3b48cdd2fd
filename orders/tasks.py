"""The orders layer's jobs (procrastinate tasks, discovered by procrastinate's Django app): notifications, staff
operations, the outbox relay, and expiry of transfer offers. Periodic ones say their schedule in ``cron``.

Each task body is a thin call into a service that does its work once however often it runs (docs/JOBS.md).
"""

from __future__ import annotations

import logging
import uuid

from procrastinate import JobContext

from core import jobs
from core.databases import ALL_DATABASES
from core.outbox import outbox_relay
from orders.notifications import MAIL_QUEUE, SEND_TASK
from orders.notifications.delivery import notification_deliver
from orders.notifications.facts import (
    CARD_CHECKOUT_TASK,
    EVENT_CHANGED_FANOUT_TASK,
    event_changed_fanout,
    fact_handle,
)
from orders.services import purchase, staff_operations
from orders.services.transfer import transfers_expire_due
from orders.services.waiting_list import waiting_list_match_due
from orders.services.waiting_list_nudge import MATCH_NOW_LOCK, MATCH_NOW_TASK
from orders.services.waiting_room import waiting_room_admit_due

logger = logging.getLogger(__name__)
app = jobs.app


@app.task(name=SEND_TASK, queue=MAIL_QUEUE, retry=jobs.RETRY)
def notification_send(*, kind: str, object_id: str, recipient_id: str, data: dict | None = None) -> str:
    return notification_deliver(
        kind=kind, object_id=uuid.UUID(object_id), recipient_id=uuid.UUID(recipient_id), data=data or {}
    )


@app.task(name=EVENT_CHANGED_FANOUT_TASK, queue=MAIL_QUEUE, retry=jobs.RETRY)
def event_changed_notify(*, change_id: str, payload: dict) -> int:
    return event_changed_fanout(change_id=uuid.UUID(change_id), payload=payload)


@app.task(name=staff_operations.RUN_TASK, queue=staff_operations.OPERATIONS_QUEUE, retry=jobs.RETRY, pass_context=True)
def staff_operation_run(context: JobContext, *, operation_id: str) -> str:
    """The last allowed attempt that fails leaves the operation FAILED (not live), so staff can start it again."""
    try:
        return staff_operations.staff_operation_execute(operation_id=uuid.UUID(operation_id))
    except Exception as exc:
        last = context.job.attempts + 1 >= (jobs.RETRY.max_attempts or 0)
        staff_operations.staff_operation_note_error(operation_id=uuid.UUID(operation_id), error=exc, final=last)
        raise


@app.task(name=CARD_CHECKOUT_TASK, retry=jobs.RETRY)
def card_checkout_complete(*, order_id: str) -> str:
    """A checkout's card payment settled: finish it (idempotent; a busy order is retried by the queue)."""
    order = purchase.card_checkout_complete(order_id=uuid.UUID(order_id))
    return order.status if order else "unknown"


@app.task(name=jobs.OUTBOX_RELAY_TASK, retry=jobs.RETRY)
def outbox_relay_now(*, alias: str) -> int:
    """Nudged right after a fact commits (core/outbox.py)."""
    return outbox_relay(using=alias, handle=fact_handle)


@app.periodic(cron="* * * * *", periodic_id="outbox-relay")
@app.task(name="outbox.relay_every_minute", queueing_lock="outbox-relay-periodic")
def outbox_relay_periodic(timestamp: int) -> int:
    """Facts whose nudge was lost (the queue was unreachable right after their commit)."""
    return sum(outbox_relay(using=alias, handle=fact_handle) for alias in ALL_DATABASES)


@app.periodic(cron="* * * * *", periodic_id="transfers-expire")
@app.task(name="transfers.expire", queueing_lock="transfers-expire")
def transfers_expire(timestamp: int) -> int:
    """Offers past their expiry become EXPIRED and their senders are told (reads expire them lazily too)."""
    return transfers_expire_due()


@app.periodic(cron="* * * * * */5", periodic_id="waiting-room-admit")
@app.task(name="waiting_room.admit", queueing_lock="waiting-room-admit")
def waiting_room_admit(timestamp: int) -> int:
    """Every 5 s: each active room admits what its rate owes. Single writer per room by the room's row lock, so
    more workers (or a late run overlapping the next) never admit a place twice (docs/WAITING_ROOM.md)."""
    return waiting_room_admit_due()


@app.periodic(cron="* * * * * */15", periodic_id="waiting-list-match")
@app.task(name="waiting_list.match", queueing_lock="waiting-list-match")
def waiting_list_match(timestamp: int) -> int:
    """Every 15 s: settle waiting-list offers (bought, run out) and offer free places to the next in line. One
    matcher per event at a time by an advisory lock, so a late run overlapping the next never offers a place twice."""
    return waiting_list_match_due()


@app.task(name=MATCH_NOW_TASK, queueing_lock=MATCH_NOW_LOCK)
def waiting_list_match_now() -> int:
    """Nudged after places come back (a refund, released holds, places returned to sale) so the next in line need
    not wait for the periodic run."""
    return waiting_list_match_due()
