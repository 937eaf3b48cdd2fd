"""Mutual exclusion for a cross-database flow, held across its local transactions.

A purchase, transfer completion or resale runs as several short transactions on different databases. While a
worker drives one flow, nobody else (a duplicate request with the same idempotency key, the recovery command)
may drive it too. A session-level PostgreSQL advisory lock keyed by the flow's id gives exactly that, and the
server drops it by itself if the worker dies, so recovery can take over a crashed flow at once.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

from django.db import DatabaseError, connections


def _key(flow_id: uuid.UUID | str) -> int:
    # Advisory locks take a signed 64-bit key: the first 8 bytes of the UUID.
    return int.from_bytes(uuid.UUID(str(flow_id)).bytes[:8], "big", signed=True)


class FlowBusy(Exception):  # noqa: N818
    """Another worker is driving this flow right now."""


@contextlib.contextmanager
def flow_lock(flow_id: uuid.UUID | str, *, using: str) -> Iterator[None]:
    """Hold the flow's advisory lock on ``using`` or raise FlowBusy at once (never wait)."""
    key = _key(flow_id)
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        (acquired,) = cursor.fetchone()
    if not acquired:
        raise FlowBusy(str(flow_id))
    try:
        yield
    finally:
        with contextlib.suppress(DatabaseError), connection.cursor() as cursor:  # a dead connection dropped it
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
