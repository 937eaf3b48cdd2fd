"""Staff: turning an event's room on or off with its settings (`waiting_room_configure`), and its pace (pause,
resume, rate). Every change is audited on the event and published in the status file at once.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from core.audit import audit_record
from core.errors import InvalidInput, NotFound
from events import selectors as events_selectors
from events import services as events_services
from orders import DB_ALIAS
from orders.contract import WaitingRoomMode
from orders.models import WaitingRoom
from orders.services.waiting_room.status import waiting_room_publish_status

MAX_RATE_PER_MINUTE = 100_000
MAX_LATENCY_TARGET_MS = 60_000


def _validate(
    *,
    opens_at: dt.datetime,
    starts_at: dt.datetime,
    rate_per_minute: int,
    pass_minutes: int,
    per_address_cap: int,
    max_in_flight: int | None,
    admission_mode: str,
    latency_target_ms: int | None,
):
    errors: dict[str, list[str]] = {}
    if admission_mode not in WaitingRoomMode.values:
        errors["admission_mode"] = [f"One of {', '.join(WaitingRoomMode.values)}."]
    if latency_target_ms is not None and not 1 <= latency_target_ms <= MAX_LATENCY_TARGET_MS:
        errors["latency_target_ms"] = [f"Between 1 and {MAX_LATENCY_TARGET_MS} ms, or empty."]
    if admission_mode == WaitingRoomMode.THROUGHPUT:
        if latency_target_ms is None:
            errors.setdefault("latency_target_ms", ["Following throughput needs a latency target."])
        if max_in_flight is None:
            errors.setdefault("max_in_flight", ["Following throughput needs a bound on buyers in flight."])
    if max_in_flight is not None and not 1 <= max_in_flight <= MAX_RATE_PER_MINUTE:
        errors["max_in_flight"] = [f"Between 1 and {MAX_RATE_PER_MINUTE}, or empty."]
    if opens_at > starts_at:
        errors["opens_at"] = ["The room must open before the on-sale starts."]
    if not 1 <= rate_per_minute <= MAX_RATE_PER_MINUTE:
        errors["rate_per_minute"] = [f"Between 1 and {MAX_RATE_PER_MINUTE}."]
    if not 1 <= pass_minutes <= 24 * 60:
        errors["pass_minutes"] = ["Between 1 and 1440."]
    if not 1 <= per_address_cap <= 1000:
        errors["per_address_cap"] = ["Between 1 and 1000."]
    if errors:
        raise InvalidInput(gettext("Check the waiting room's settings."), fields=errors)


def waiting_room_configure(
    *,
    event_id: uuid.UUID,
    active: bool,
    opens_at: dt.datetime,
    starts_at: dt.datetime,
    rate_per_minute: int,
    pass_minutes: int,
    per_address_cap: int,
    actor_id: uuid.UUID | None,
    max_in_flight: int | None = None,
    admission_mode: str = WaitingRoomMode.RATE,
    latency_target_ms: int | None = None,
) -> WaitingRoom:
    """Create or change an event's room and set the event's switch to match (idempotent: saving again repairs a
    switch a crash left behind). Turning on writes the room first, turning off the switch first, so at no moment is
    the pass required for a room that does not admit anyone."""
    # Whole seconds: the admin form shows and sends back seconds, so saving it again changes nothing.
    opens_at, starts_at = opens_at.replace(microsecond=0), starts_at.replace(microsecond=0)
    pacing = {
        "rate_per_minute": rate_per_minute,
        "pass_minutes": pass_minutes,
        "per_address_cap": per_address_cap,
        "max_in_flight": max_in_flight,
        "admission_mode": admission_mode,
        "latency_target_ms": latency_target_ms,
    }
    _validate(opens_at=opens_at, starts_at=starts_at, **pacing)
    event = events_selectors.event_get(event_id=event_id)
    if not active:
        events_services.event_set_waiting_room(event_id=event.id, active=False)
    with transaction.atomic(using=DB_ALIAS):
        room = WaitingRoom.objects.using(DB_ALIAS).select_for_update().filter(event_id=event.id).first()
        fields = {"is_active": active, "opens_at": opens_at, **pacing}
        if room is None:
            room = WaitingRoom.objects.using(DB_ALIAS).create(
                event_id=event.id, organization_id=event.organization_id, starts_at=starts_at, **fields
            )
        else:
            if room.drawn_at is None:
                fields["starts_at"] = starts_at
            elif starts_at != room.starts_at.replace(microsecond=0):
                raise InvalidInput(
                    gettext("The on-sale has started and places are drawn: its time can no longer change."),
                    fields={"starts_at": [gettext("Places are drawn already.")]},
                )
            if admission_mode != room.admission_mode:
                room.current_rate = None  # a controller switched on starts slow again; switched off, it is unused
            for name, value in fields.items():
                setattr(room, name, value)
            room.save(using=DB_ALIAS)
    if active:
        events_services.event_set_waiting_room(event_id=event.id, active=True)
    _changed(
        room,
        actor_id=actor_id,
        action="waiting_room.configure",
        data={"active": active, "opens_at": opens_at.isoformat(), "starts_at": starts_at.isoformat(), **pacing},
    )
    return room


def waiting_room_set_pace(
    *, room_id: uuid.UUID, paused: bool | None = None, rate_per_minute: int | None = None, actor_id: uuid.UUID | None
) -> WaitingRoom:
    """Pause, resume or change the rate. Resuming restarts the clock, so a pause is never made up in one burst."""
    now = timezone.now()
    with transaction.atomic(using=DB_ALIAS):
        room = WaitingRoom.objects.using(DB_ALIAS).select_for_update().filter(pk=room_id).first()
        if room is None:
            raise NotFound(gettext("No such waiting room."))
        if rate_per_minute is not None:
            if not 1 <= rate_per_minute <= MAX_RATE_PER_MINUTE:
                raise InvalidInput(
                    gettext("The rate must be between 1 and %(max)s per minute.") % {"max": MAX_RATE_PER_MINUTE},
                    fields={"rate_per_minute": [f"Between 1 and {MAX_RATE_PER_MINUTE}."]},
                )
            room.rate_per_minute = rate_per_minute
            if room.current_rate is not None:
                room.current_rate = min(room.current_rate, rate_per_minute)
        if paused is not None and paused != room.is_paused:
            room.is_paused = paused
            if room.admission_clock is not None:
                room.admission_clock = max(room.admission_clock, now)
        room.save(using=DB_ALIAS)
    _changed(
        room,
        actor_id=actor_id,
        action="waiting_room.pace",
        data={"paused": room.is_paused, "rate_per_minute": room.rate_per_minute},
    )
    return room


def _changed(room: WaitingRoom, *, actor_id: uuid.UUID | None, action: str, data: dict) -> None:
    """After a staff change of the room: audit it on the event, and publish the status every waiting page reads."""
    audit_record(
        actor_id=actor_id,
        action=action,
        object_type="event",
        object_id=room.event_id,
        organization_id=room.organization_id,
        data=data,
    )
    waiting_room_publish_status(room_id=room.pk)
