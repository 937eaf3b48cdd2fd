"""Reads of a room: the status file the waiting pages poll (``<event_id>.json``, written after each admission step
and each staff change to ``WAITING_ROOM_STATUS_ROOT``, which a reverse proxy serves without Django), and the live
counts of the staff page.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from inventory import selectors as inventory_selectors
from orders import DB_ALIAS
from orders.contract import OrderStatus
from orders.models import Order, WaitingRoom, WaitingRoomEntry
from orders.services.waiting_room._shared import admission_rate, in_flight


def status_url(event_id: uuid.UUID) -> str:
    return f"{settings.WAITING_ROOM_STATUS_URL}{event_id}.json"


def waiting_room_status(room: WaitingRoom) -> dict[str, Any]:
    return {
        "event_id": str(room.event_id),
        "active": room.is_active,
        "drawn": room.drawn_at is not None,
        "admitted_up_to": room.admitted_up_to,
        "last_position": room.last_position,
        "rate_per_minute": admission_rate(room),
        "paused": room.is_paused,
        "sold_out": room.sold_out_at is not None,
        "starts_at": room.starts_at.isoformat(),
        "updated_at": timezone.now().isoformat(),
    }


def status_path(event_id: uuid.UUID) -> Path:
    return Path(settings.WAITING_ROOM_STATUS_ROOT) / f"{uuid.UUID(str(event_id))}.json"


def waiting_room_publish_status(*, room_id: uuid.UUID) -> dict[str, Any] | None:
    """Write the room's status file atomically (a temp file renamed over the old one: a poll never reads half)."""
    room = WaitingRoom.objects.using(DB_ALIAS).filter(pk=room_id).first()
    if room is None:
        return None
    status = waiting_room_status(room)
    target = status_path(room.event_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".status-", suffix=".json")
    with os.fdopen(handle, "w") as file:
        json.dump(status, file, separators=(",", ":"))
    os.chmod(temporary, 0o644)  # noqa: S103 - public by design: the reverse proxy serves it
    os.replace(temporary, target)
    return status


def waiting_room_read_status(*, event_id: uuid.UUID) -> dict[str, Any] | None:
    try:
        return json.loads(status_path(event_id).read_text())
    except (FileNotFoundError, ValueError):
        return None


def waiting_room_counts(*, room: WaitingRoom) -> dict[str, Any]:
    """Waiting, admitted, passes in use, purchases by admitted buyers and the event's sell-through."""
    now = timezone.now()
    entries = WaitingRoomEntry.objects.using(DB_ALIAS).filter(room=room)
    valid_since = now - dt.timedelta(minutes=room.pass_minutes)
    counts = entries.aggregate(
        waiting=Count("pk", filter=Q(admitted_at__isnull=True)),
        admitted=Count("pk", filter=Q(admitted_at__isnull=False)),
        passes_in_use=Count("pk", filter=Q(admitted_at__gt=valid_since)),
    )
    admitted_buyers = entries.filter(admitted_at__isnull=False).values("user_id")
    counts["purchases"] = (
        Order.objects.using(DB_ALIAS)
        .filter(event_id=room.event_id, status=OrderStatus.CONFIRMED, buyer_id__in=admitted_buyers)
        .count()
    )
    counts["in_flight"] = in_flight(room, now)
    counts["admission_mode"] = room.admission_mode
    counts["rate_now"] = admission_rate(room)
    counts["latency_p95_ms"] = room.latency_p95_ms
    totals = inventory_selectors.event_sales_summary(event_id=room.event_id)["totals"]
    issued = totals["sold"] + totals["listed"] + totals["checked_in"]
    sellable = totals["total"] - totals["blocked"]
    counts["sold"] = issued
    counts["sellable"] = sellable
    counts["sell_through"] = round(100 * issued / sellable, 1) if sellable else 0.0
    return counts
