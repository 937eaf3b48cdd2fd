"""Buyers: joining a room and their place in it. One place per verified account (unique index), at most
``per_address_cap`` per client address (an advisory lock per room and address makes the count and the insert one
step). Arrivals before ``starts_at`` get a random ``draw_key`` from ``secrets``; at the start the draw numbers them
in key order; later arrivals get the next position at once, behind everyone drawn.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Any

from django.db import IntegrityError, connections, transaction
from django.utils import timezone

from accounts import selectors as accounts_selectors
from core.locking import LockSpace, lock_key
from orders import DB_ALIAS
from orders.contract import (
    EmailNotVerified,
    WaitingRoomAddressLimit,
    WaitingRoomClosed,
    WaitingRoomNotOpen,
    WaitingRoomPlace,
)
from orders.models import WaitingRoom, WaitingRoomEntry
from orders.services.waiting_room._shared import ENTRIES, ROOMS, admission_rate, draw, room_url

DRAW_KEY_BITS = 62  # a positive bigint


def _place(room: WaitingRoom, entry: WaitingRoomEntry) -> WaitingRoomPlace:
    expires = entry.admitted_at + dt.timedelta(minutes=room.pass_minutes) if entry.admitted_at else None
    return WaitingRoomPlace(
        event_id=room.event_id,
        user_id=entry.user_id,
        position=entry.position,
        admitted_up_to=room.admitted_up_to,
        rate_per_minute=admission_rate(room),
        is_admitted=entry.admitted_at is not None,
        is_paused=room.is_paused,
        is_sold_out=room.sold_out_at is not None,
        starts_at=room.starts_at,
        pass_expires_at=expires,
    )


def _room_locked(event_id: uuid.UUID, *, exclusive: bool) -> WaitingRoom:
    """The event's active room, locked until the transaction ends: FOR SHARE lets early joins run side by side
    and still makes the draw (FOR UPDATE) wait for them, so no early arrival is left out of it."""
    mode = "UPDATE" if exclusive else "SHARE"
    rooms = list(
        WaitingRoom.objects.db_manager(DB_ALIAS).raw(
            f"SELECT * FROM {ROOMS} WHERE event_id = %s AND is_active FOR {mode}",  # noqa: S608
            [event_id],
        )
    )
    if not rooms:
        raise WaitingRoomClosed(waiting_room_url=room_url(event_id))
    return rooms[0]


def waiting_room_join(*, event_id: uuid.UUID, user_id: uuid.UUID, client_address: str) -> WaitingRoomPlace:
    """Take a place (or find the one this account has). Verified accounts only; ``per_address_cap`` places per
    client address. Idempotent per account: more tabs or retries never give a second place.

    Two statements in one orders_db transaction: the room, this account's place and the address lock, then the cap's
    count and the insert (docs/WAITING_ROOM.md, "Joining in two statements").
    """
    buyer = accounts_selectors.user_get(user_id=user_id)
    if not buyer.is_verified:
        raise EmailNotVerified()
    address = (client_address or "unknown")[:64]
    now = timezone.now()
    try:
        with transaction.atomic(using=DB_ALIAS):
            room, existing = _room_and_place(event_id=event_id, user_id=user_id, address=address)
            if existing is not None:
                return _place(room, existing)
            if now < room.opens_at:
                raise WaitingRoomNotOpen(opens_at=room.opens_at.isoformat())
            entry = WaitingRoomEntry(
                id=uuid.uuid4(), room=room, user_id=user_id, client_address=address, created_at=now, updated_at=now
            )
            if room.drawn_at is None and now < room.starts_at and _insert_early(room, entry):
                return _place(room, entry)
            # After the start (or the draw happened since the first statement): behind everyone drawn.
            if room.drawn_at is None:
                room = _room_locked(event_id, exclusive=True)
                if room.drawn_at is None:
                    draw(room, now)
            _insert_late(room, entry)
            room.last_position = entry.position
            return _place(room, entry)
    except IntegrityError:
        # The same account joined in a parallel request: its one place is the answer.
        with transaction.atomic(using=DB_ALIAS):
            room = _room_locked(event_id, exclusive=False)
            entry = WaitingRoomEntry.objects.using(DB_ALIAS).get(room=room, user_id=user_id)
            return _place(room, entry)


# A new entry's own values come first, in the order _entry_values gives them; the statement adds the rest.
_ENTRY_COLUMNS = "id, created_at, updated_at, user_id, client_address, room_id, draw_key, position, admitted_at"


def _entry_values(entry: WaitingRoomEntry) -> list:
    """The new entry's own values, for the first columns of _ENTRY_COLUMNS."""
    return [entry.id, entry.created_at, entry.updated_at, entry.user_id, entry.client_address]


def _room_and_place(*, event_id: uuid.UUID, user_id: uuid.UUID, address: str) -> tuple[WaitingRoom, Any]:
    """The event's active room and this account's place (or None), and the address lock held to the transaction's
    end (so the cap's count in the next statement sees every join from this address that went before)."""
    key = lock_key(LockSpace.ROOM_ADDRESS, event_id, address)
    rows = list(
        WaitingRoom.objects.db_manager(DB_ALIAS).raw(
            f"SELECT room.*, entry.id AS entry_id, entry.position AS entry_position, "  # noqa: S608
            f"entry.admitted_at AS entry_admitted_at, pg_advisory_xact_lock(%s, %s) IS NULL AS locked "
            f"FROM {ROOMS} AS room LEFT JOIN {ENTRIES} AS entry "
            f"ON entry.room_id = room.id AND entry.user_id = %s "
            f"WHERE room.event_id = %s AND room.is_active",
            [*key, user_id, event_id],
        )
    )
    if not rows:
        raise WaitingRoomClosed(waiting_room_url=room_url(event_id))
    room = rows[0]
    if room.entry_id is None:
        return room, None
    existing = WaitingRoomEntry(
        id=room.entry_id, room=room, user_id=user_id, position=room.entry_position, admitted_at=room.entry_admitted_at
    )
    return room, existing


def _insert_early(room: WaitingRoom, entry: WaitingRoomEntry) -> bool:
    """Insert an early arrival with its random key, holding the room FOR SHARE so the draw (FOR UPDATE) waits for
    it; False if the room was drawn meanwhile (the caller joins at the back). WAITING_ROOM_ADDRESS_LIMIT at the cap."""
    entry.draw_key = secrets.randbits(DRAW_KEY_BITS)
    with connections[DB_ALIAS].cursor() as cursor:
        cursor.execute(
            f"WITH room AS (SELECT id FROM {ROOMS} WHERE id = %s AND is_active AND drawn_at IS NULL "  # noqa: S608
            f"FOR SHARE), "
            f"taken AS (SELECT count(*) AS n FROM {ENTRIES} WHERE room_id = %s AND client_address = %s), "
            f"inserted AS (INSERT INTO {ENTRIES} ({_ENTRY_COLUMNS}) "
            f"SELECT %s, %s, %s, %s, %s, room.id, %s, NULL, NULL FROM room, taken WHERE taken.n < %s RETURNING id) "
            f"SELECT (SELECT count(*) FROM room), (SELECT n FROM taken), (SELECT count(*) FROM inserted)",
            [room.pk, room.pk, entry.client_address, *_entry_values(entry), entry.draw_key, room.per_address_cap],
        )
        open_, taken, inserted = cursor.fetchone()
    if inserted:
        return True
    if open_ and taken >= room.per_address_cap:
        raise WaitingRoomAddressLimit(limit=room.per_address_cap)
    entry.draw_key = None
    return False


def _insert_late(room: WaitingRoom, entry: WaitingRoomEntry) -> None:
    """Give a late arrival the next position: the room's counter and the insert in one statement (the UPDATE locks
    the room row, so late joins take turns)."""
    with connections[DB_ALIAS].cursor() as cursor:
        cursor.execute(
            f"WITH taken AS (SELECT count(*) AS n FROM {ENTRIES} "  # noqa: S608
            f"WHERE room_id = %s AND client_address = %s), "
            f"room AS (UPDATE {ROOMS} SET last_position = last_position + 1, updated_at = %s "
            f"WHERE id = %s AND is_active AND drawn_at IS NOT NULL AND (SELECT n FROM taken) < per_address_cap "
            f"RETURNING id, last_position), "
            f"inserted AS (INSERT INTO {ENTRIES} ({_ENTRY_COLUMNS}) "
            f"SELECT %s, %s, %s, %s, %s, room.id, NULL, room.last_position, NULL FROM room RETURNING position) "
            f"SELECT (SELECT n FROM taken), (SELECT position FROM inserted)",
            [room.pk, entry.client_address, entry.updated_at, room.pk, *_entry_values(entry)],
        )
        taken, position = cursor.fetchone()
    if position is None:
        if taken >= room.per_address_cap:
            raise WaitingRoomAddressLimit(limit=room.per_address_cap)
        raise WaitingRoomClosed(waiting_room_url=room_url(room.event_id))
    entry.position = position


def waiting_room_place(*, event_id: uuid.UUID, user_id: uuid.UUID) -> WaitingRoomPlace | None:
    """The account's place in the event's active room, or None if it has none (WAITING_ROOM_CLOSED: no room)."""
    room = WaitingRoom.objects.using(DB_ALIAS).filter(event_id=event_id, is_active=True).first()
    if room is None:
        raise WaitingRoomClosed(waiting_room_url=room_url(event_id))
    entry = WaitingRoomEntry.objects.using(DB_ALIAS).filter(room=room, user_id=user_id).first()
    return _place(room, entry) if entry else None


def waiting_room_get(*, event_id: uuid.UUID) -> WaitingRoom | None:
    return WaitingRoom.objects.using(DB_ALIAS).filter(event_id=event_id).first()
