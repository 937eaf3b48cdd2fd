"""Facts a domain records for work in another database, relayed into the job queue.

A domain that changes its own database and wants a job for it (a payment's receipt, an event moved) calls
``outbox_emit`` inside its own transaction: the fact is a row of that database's outbox table, committed or rolled
back with the change. After the commit the relay is asked to run at once; it also runs every minute, so a fact is
relayed even if that nudge was lost. The relay hands each fact to the upper layer's handler (which defers jobs),
then marks it relayed: a crash in between relays it again, so handlers defer jobs whose effect happens once.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError, connections, transaction
from django.utils import timezone

from core import jobs
from core.models import OutboxMessage

logger = logging.getLogger(__name__)

RELAY_BATCH = 200


def outbox_emit(*, using: str, topic: str, payload: dict[str, Any]) -> uuid.UUID:
    """Record a fact on ``using``'s current transaction; the caller must be inside ``transaction.atomic(using)``."""
    if not connections[using].in_atomic_block:
        raise RuntimeError("outbox_emit must run inside the transaction of the change it describes")
    message_id = uuid.uuid4()
    OutboxMessage.objects.using(using).create(id=message_id, topic=topic, payload=payload, created_at=timezone.now())
    transaction.on_commit(lambda: _nudge_relay(using), using=using)
    return message_id


def _nudge_relay(using: str) -> None:
    """Ask for a relay run now. Best effort: the minutely run relays the fact anyway if the queue is away."""
    try:
        jobs.job_defer(jobs.OUTBOX_RELAY_TASK, queueing_lock=f"outbox-relay:{using}", alias=using)
    except DatabaseError:
        logger.warning("outbox relay nudge for %s failed; the periodic relay will pick the fact up", using)


def outbox_relay(*, using: str, handle: Callable[[str, dict[str, Any], uuid.UUID], None]) -> int:
    """Hand every unrelayed fact of ``using`` to ``handle(topic, payload, message_id)``, oldest first.

    Rows are locked with SKIP LOCKED, so two relays never hand over the same fact at once. Returns how many.
    """
    relayed = 0
    while True:
        with transaction.atomic(using=using):
            batch = list(
                OutboxMessage.objects.using(using)
                .select_for_update(skip_locked=True)
                .filter(relayed_at__isnull=True)
                .order_by("created_at")[:RELAY_BATCH]
            )
            for message in batch:
                handle(message.topic, message.payload, message.id)
            OutboxMessage.objects.using(using).filter(pk__in=[m.pk for m in batch]).update(relayed_at=timezone.now())
        relayed += len(batch)
        if len(batch) < RELAY_BATCH:
            return relayed


def outbox_prune(*, using: str, older_than: Any) -> int:
    """Delete relayed facts older than ``older_than`` (a datetime)."""
    deleted, _ = OutboxMessage.objects.using(using).filter(relayed_at__lt=older_than).delete()
    return deleted
