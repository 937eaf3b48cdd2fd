"""PostgreSQL advisory locks, in named key spaces, and the check for a lock that was not available.

Three things are serialised with advisory locks, each in its own key space (``LockSpace``):

- FLOW: one cross-database flow (a purchase, transfer completion, resale or event publishing) runs as several
  short transactions on different databases. While a worker drives it, nobody else (a duplicate request with the
  same idempotency key, the recovery command) may drive it too. The lock is session-level, so it spans those
  transactions, and the server drops it by itself if the worker dies, so recovery can take over at once.
- SEAT: offers and listings of one ticket in orders_db, so a transfer offer and a resale listing of the same ticket
  cannot both open (transaction-level).
- BUYER_HOLDS: one buyer's hold requests for one event in seats_db, so parallel requests cannot both pass the
  per-buyer limit (transaction-level).
- ROOM_ADDRESS: joins of one waiting room from one client address in orders_db, so parallel joins cannot both pass
  the per-address cap (transaction-level; a pair of ints like BUYER_HOLDS, with its own first int).

FLOW and SEAT keys are one signed 64-bit integer each, taken from different halves of the id; BUYER_HOLDS keys are a
pair of 32-bit integers, a key form PostgreSQL never confuses with the 64-bit one. The derivations are stable: the
benchmark replays captured statements by recomputing them, and tests take flow locks by key.
"""

from __future__ import annotations

import contextlib
import enum
import uuid
import zlib
from collections.abc import Iterator

from django.db import DatabaseError, connections

LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL lock_not_available: NOWAIT met a locked row, or lock_timeout ran out
_BUYER_HOLDS_CLASS = 0x5EA7  # first int of every BUYER_HOLDS key
_ROOM_ADDRESS_CLASS = 0x3A17  # first int of every ROOM_ADDRESS key


class LockSpace(enum.Enum):
    FLOW = "flow"  # ids: (flow_id,)
    SEAT = "seat"  # ids: (seat_id,)
    BUYER_HOLDS = "buyer_holds"  # ids: (buyer_id, event_id)
    ROOM_ADDRESS = "room_address"  # ids: (the waiting room's event_id, client address)


class LockBusy(Exception):  # noqa: N818
    """Another session holds this advisory lock."""


class FlowBusy(LockBusy):
    """Another worker is driving this flow right now."""


def _id_bytes(value: uuid.UUID | str) -> bytes:
    return uuid.UUID(str(value)).bytes


def lock_key(space: LockSpace, *ids: uuid.UUID | str) -> tuple[int, ...]:
    """The advisory-lock key of ``ids`` in ``space``: one bigint, or two ints for BUYER_HOLDS."""
    if space is LockSpace.BUYER_HOLDS:
        buyer_id, event_id = ids
        return (_BUYER_HOLDS_CLASS, zlib.crc32(_id_bytes(buyer_id) + _id_bytes(event_id)) - 2**31)
    if space is LockSpace.ROOM_ADDRESS:
        event_id, address = ids
        return (_ROOM_ADDRESS_CLASS, zlib.crc32(_id_bytes(event_id) + str(address).encode()) - 2**31)
    (only_id,) = ids
    half = _id_bytes(only_id)[:8] if space is LockSpace.FLOW else _id_bytes(only_id)[8:]
    return (int.from_bytes(half, "big", signed=True),)


def _call(function: str, key: tuple[int, ...]) -> str:
    return f"SELECT {function}({', '.join(['%s'] * len(key))})"


def xact_lock(space: LockSpace, *ids: uuid.UUID | str, using: str) -> None:
    """Wait for the lock and hold it until the current transaction on ``using`` ends (call inside ``atomic``)."""
    key = lock_key(space, *ids)
    with connections[using].cursor() as cursor:
        cursor.execute(_call("pg_advisory_xact_lock", key), list(key))


@contextlib.contextmanager
def session_lock(
    space: LockSpace, *ids: uuid.UUID | str, using: str, busy: type[LockBusy] = LockBusy
) -> Iterator[None]:
    """Hold the lock on ``using`` for the block, across its transactions, or raise ``busy`` at once (never wait)."""
    key = lock_key(space, *ids)
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute(_call("pg_try_advisory_lock", key), list(key))
        (acquired,) = cursor.fetchone()
    if not acquired:
        raise busy(", ".join(str(value) for value in ids))
    try:
        yield
    finally:
        with contextlib.suppress(DatabaseError), connection.cursor() as cursor:  # a dead connection dropped it
            cursor.execute(_call("pg_advisory_unlock", key), list(key))


def flow_lock_sql(flow_id: uuid.UUID | str) -> tuple[str, list[int]]:
    """The SQL call (and its parameters) that tries the flow's session lock, for a statement that takes the lock
    along with its own work instead of in a round trip of its own; release it with ``flow_lock_taken``."""
    key = lock_key(LockSpace.FLOW, flow_id)
    return _call("pg_try_advisory_lock", key).removeprefix("SELECT "), list(key)


def flow_unlock(flow_id: uuid.UUID | str, *, using: str) -> None:
    """Release the flow's session lock if this session holds it (a dead connection dropped it already)."""
    key = lock_key(LockSpace.FLOW, flow_id)
    with contextlib.suppress(DatabaseError), connections[using].cursor() as cursor:
        cursor.execute(_call("pg_advisory_unlock", key), list(key))


@contextlib.contextmanager
def flow_lock_taken(flow_id: uuid.UUID | str, *, using: str) -> Iterator[None]:
    """Hold, for the block, a flow lock that one of the caller's statements took (``flow_lock_sql``), and release it
    on exit with a statement of its own: an advisory unlock does not wait for the commit of the statement it runs in,
    so releasing in the statement that finishes the flow would let a waiting duplicate read the flow unfinished."""
    try:
        yield
    finally:
        flow_unlock(flow_id, using=using)


def flow_lock(flow_id: uuid.UUID | str, *, using: str) -> contextlib.AbstractContextManager[None]:
    """Hold the flow's lock on ``using`` or raise FlowBusy at once (never wait)."""
    return session_lock(LockSpace.FLOW, flow_id, using=using, busy=FlowBusy)


def is_lock_not_available(exc: BaseException) -> bool:
    """The database refused to wait for a lock: a NOWAIT lock met a locked row, or ``lock_timeout`` ran out."""
    return getattr(exc.__cause__, "sqlstate", None) == LOCK_NOT_AVAILABLE
