"""Scenes the waiting-room tests share: an on-sale event with a room, and moving the room's clock."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from orders.models import WaitingRoom
from orders.services import waiting_room as rooms
from orders.tests.factories import EventSetup, make_event


def configure_room(
    event_id,
    *,
    starts_at: dt.datetime,
    opens_at: dt.datetime | None = None,
    rate: int = 60,
    pass_minutes: int = 15,
    cap: int = 4,
    active: bool = True,
    **extra,
) -> WaitingRoom:
    """The staff form's save: a room for ``event_id`` admitting from ``starts_at`` (open an hour before, unless
    ``opens_at`` says otherwise); ``extra`` for the throughput-mode fields."""
    return rooms.waiting_room_configure(
        event_id=event_id,
        active=active,
        opens_at=opens_at or starts_at - dt.timedelta(hours=1),
        starts_at=starts_at,
        rate_per_minute=rate,
        pass_minutes=pass_minutes,
        per_address_cap=cap,
        actor_id=None,
        **extra,
    )


def room_event(
    *, starts_in: dt.timedelta = dt.timedelta(hours=1), rate: int = 60, pass_minutes: int = 15, cap: int = 4, **kw
) -> tuple[EventSetup, WaitingRoom]:
    """An on-sale event whose waiting room is open now and admits from ``now + starts_in``."""
    setup = make_event(**kw)
    starts = timezone.now() + starts_in
    room = configure_room(
        setup.event.pk,
        starts_at=starts,
        opens_at=min(starts, timezone.now()) - dt.timedelta(minutes=5),
        rate=rate,
        pass_minutes=pass_minutes,
        cap=cap,
    )
    return setup, room


def start_sale(room: WaitingRoom, *, ago: dt.timedelta = dt.timedelta(seconds=0)) -> WaitingRoom:
    """Move the on-sale to ``ago`` before now (the room opened earlier still)."""
    starts = timezone.now() - ago
    WaitingRoom.objects.using("orders").filter(pk=room.pk).update(
        starts_at=starts, opens_at=starts - dt.timedelta(minutes=30)
    )
    return WaitingRoom.objects.using("orders").get(pk=room.pk)


def admit_all(room: WaitingRoom) -> int:
    """Admit everyone in the room now (a rate high enough, one step a minute after the start)."""
    WaitingRoom.objects.using("orders").filter(pk=room.pk).update(rate_per_minute=rooms.MAX_RATE_PER_MINUTE)
    room = start_sale(room, ago=dt.timedelta(minutes=1))
    return rooms.waiting_room_admit(room_id=room.pk)
