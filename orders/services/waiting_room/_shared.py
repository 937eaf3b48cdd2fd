"""What the waiting room's modules share: the tables of the raw SQL, the room's page, the admission rate in force,
the draw that numbers early arrivals, and the count of buyers in flight."""

from __future__ import annotations

import datetime as dt
import math
import uuid

from django.db import connections
from django.urls import reverse

from orders import DB_ALIAS
from orders.contract import OrderStatus, WaitingRoomMode
from orders.models import Order, WaitingRoom, WaitingRoomEntry

START_RATE_SHARE = 4  # the controller starts at the staff's rate / 4 and earns the rest
ROOMS, ENTRIES = WaitingRoom._meta.db_table, WaitingRoomEntry._meta.db_table  # for the raw SQL of the modules


def room_url(event_id: uuid.UUID) -> str:
    return reverse("orders:waiting_room", kwargs={"event_id": event_id})


def admission_rate(room: WaitingRoom) -> int:
    """Admissions per minute now: the staff's rate, or, following throughput, the controller's (never above it)."""
    if room.admission_mode == WaitingRoomMode.THROUGHPUT:
        return min(room.rate_per_minute, room.current_rate or _start_rate(room))
    return room.rate_per_minute


def _start_rate(room: WaitingRoom) -> int:
    return max(1, math.ceil(room.rate_per_minute / START_RATE_SHARE))


def draw(room: WaitingRoom, now: dt.datetime) -> None:
    """Number the early arrivals in the order of their random keys (caller holds the room row FOR UPDATE)."""
    with connections[DB_ALIAS].cursor() as cursor:
        cursor.execute(
            f"WITH ranked AS (SELECT id, row_number() OVER (ORDER BY draw_key, id) AS n "  # noqa: S608
            f"FROM {ENTRIES} WHERE room_id = %s AND position IS NULL) "
            f"UPDATE {ENTRIES} AS entry SET position = %s + ranked.n, updated_at = %s "
            "FROM ranked WHERE entry.id = ranked.id",
            [room.pk, room.last_position, now],
        )
        drawn = cursor.rowcount
    room.last_position += drawn
    room.drawn_at = now
    room.admission_clock = room.admission_clock or room.starts_at
    room.save(using=DB_ALIAS, update_fields=["last_position", "drawn_at", "admission_clock", "updated_at"])


def in_flight(room: WaitingRoom, now: dt.datetime) -> int:
    """Admitted buyers whose pass is still valid and who have not bought yet: the sale's work in progress."""
    bought = Order.objects.using(DB_ALIAS).filter(event_id=room.event_id, status=OrderStatus.CONFIRMED)
    return (
        WaitingRoomEntry.objects.using(DB_ALIAS)
        .filter(room=room, admitted_at__gt=now - dt.timedelta(minutes=room.pass_minutes))
        .exclude(user_id__in=bought.values("buyer_id"))
        .count()
    )
