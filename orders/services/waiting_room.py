"""The virtual waiting room of a high-demand on-sale (docs/WAITING_ROOM.md).

- **Switch**: staff turn a room on for an event (`waiting_room_configure`). The room is an orders_db row; the switch
  the hold/checkout path reads is ``events.Event.waiting_room``, on the event row that path loads anyway, so events
  without a room pay nothing for this feature.
- **Places**: one per verified account (unique index), at most ``per_address_cap`` per client address (an advisory
  lock per room and address makes the count and the insert one step). Arrivals before ``starts_at`` get a random
  ``draw_key`` from ``secrets``; at the start the draw numbers them in key order, so arriving at 09:59:59 is worth
  no more than 09:45. Later arrivals get the next position at once, behind everyone drawn.
- **Admission**: a job every few seconds (`waiting_room_admit_due`) admits what the rate owes since the room's
  ``admission_clock``, under ``SELECT ... FOR UPDATE`` of the room row: one writer whatever the number of workers,
  all in one transaction, so a crash admits a batch wholly or not at all and places never move.
- **Following throughput**: optionally the step's rate is a controller's (`_follow_latency`): it grows while the p95
  of the event's recent holds and checkouts (rows orders.middleware records) is under the staff's target and halves
  when it is over, never above the staff's rate, never past the bound on buyers in flight.
- **Passes**: an admitted buyer gets a pass signed with ``django.core.signing`` (own salt), naming the account, the
  event and the expiry. Checking it reads no database: `waiting_room_pass_check` is what holds and checkout call.
- **Status**: after each tick the job writes ``<event_id>.json`` ("admitted up to N", rate, paused, sold out) to
  ``WAITING_ROOM_STATUS_ROOT``; waiting pages poll that file, which a reverse proxy serves without Django.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import os
import secrets
import tempfile
import uuid
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import DatabaseError, IntegrityError, connections, transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from accounts import selectors as accounts_selectors
from core.audit import audit_record
from core.errors import InvalidInput, NotFound
from core.faults import fault_point
from core.locking import LockSpace, lock_key
from events import selectors as events_selectors
from events import services as events_services
from events.contract import EventInfo
from inventory import selectors as inventory_selectors
from orders import DB_ALIAS
from orders.contract import (
    EmailNotVerified,
    OrderStatus,
    WaitingRoomAddressLimit,
    WaitingRoomClosed,
    WaitingRoomMode,
    WaitingRoomNotOpen,
    WaitingRoomPassRequired,
    WaitingRoomPlace,
)
from orders.models import Order, WaitingRoom, WaitingRoomAdmission, WaitingRoomEntry, WaitingRoomLatencySample

PASS_SALT = "orders.waiting_room.pass"  # noqa: S105 - a signing salt (namespace), not a secret
POSITION_SALT = "orders.waiting_room.position"
PASS_COOKIE_PREFIX = "tr_wr_pass_"  # noqa: S105 - a cookie name
PASS_HEADER = "HTTP_X_WAITING_ROOM_PASS"  # noqa: S105 - a header name
DRAW_KEY_BITS = 62  # a positive bigint
MAX_BURST_MINUTES = 1  # after a pause in the job (a restart), admit at most one minute's worth at once
MAX_RATE_PER_MINUTE = 100_000
MAX_LATENCY_TARGET_MS = 60_000

# Following throughput (docs/WAITING_ROOM.md, "Following measured throughput"): each step reads the p95 of the
# holds and checkouts of the last LATENCY_WINDOW (only those after the last back-off). Under the target the rate grows
# by RATE_GROWTH (at least +1) up to the staff's rate; over it the step admits nobody and halves the rate.
LATENCY_WINDOW = dt.timedelta(seconds=30)
LATENCY_RETENTION = dt.timedelta(minutes=10)
LATENCY_PERCENTILE = 0.95
MIN_LATENCY_SAMPLES = 5
RATE_GROWTH = 1.25
START_RATE_SHARE = 4  # the controller starts at the staff's rate / 4 and earns the rest
# Steps closer together than this (two workers at once, a late run overlapping the next) change the rate once.
CONTROL_INTERVAL = dt.timedelta(seconds=2)

logger = logging.getLogger(__name__)
_ROOMS, _ENTRIES = WaitingRoom._meta.db_table, WaitingRoomEntry._meta.db_table  # for the raw SQL below

# Set by the pass check when a hold or checkout of an event with an active room goes ahead; orders.middleware
# then records the request's duration for that event (no statement for any other request).
latency_event: ContextVar[uuid.UUID | None] = ContextVar("waiting_room_latency_event", default=None)


def room_url(event_id: uuid.UUID) -> str:
    return reverse("orders:waiting_room", kwargs={"event_id": event_id})


def status_url(event_id: uuid.UUID) -> str:
    return f"{settings.WAITING_ROOM_STATUS_URL}{event_id}.json"


# --- Passes: signed, bound to account + event + expiry; checked without a database -----------------------------


def waiting_room_pass_issue(*, event_id: uuid.UUID, user_id: uuid.UUID, expires_at: dt.datetime) -> str:
    return signing.dumps({"e": str(event_id), "u": str(user_id), "x": int(expires_at.timestamp())}, salt=PASS_SALT)


def waiting_room_pass_valid(*, event_id: uuid.UUID, user_id: uuid.UUID, token: str | None) -> bool:
    if not token:
        return False
    try:
        claims = signing.loads(token, salt=PASS_SALT)
    except signing.BadSignature:
        return False
    if not isinstance(claims, dict):
        return False
    return (
        claims.get("e") == str(event_id)
        and claims.get("u") == str(user_id)
        and isinstance(claims.get("x"), int)
        and claims["x"] > timezone.now().timestamp()
    )


def waiting_room_pass_check(*, event: EventInfo, user_id: uuid.UUID, token: str | None) -> None:
    """Refuse a hold or checkout of an event with an active room unless the buyer shows their own, unexpired pass.

    No database statement either way: the switch is on the event row the caller already read.
    """
    if not event.waiting_room:
        return
    if not waiting_room_pass_valid(event_id=event.id, user_id=user_id, token=token):
        raise WaitingRoomPassRequired(waiting_room_url=room_url(event.id))
    latency_event.set(event.id)


def pass_cookie_name(event_id: uuid.UUID) -> str:
    return f"{PASS_COOKIE_PREFIX}{uuid.UUID(str(event_id)).hex}"


def waiting_room_pass_from_request(request: Any, event_id: uuid.UUID | None) -> str | None:
    """The pass a request carries: the ``X-Waiting-Room-Pass`` header (API clients) or the room's cookie (pages)."""
    header = request.META.get(PASS_HEADER)
    if header:
        return header
    if event_id is None:
        return None
    return request.COOKIES.get(pass_cookie_name(event_id))


# --- Position tokens: what a waiting page keeps while it polls the status file -------------------------------------


def position_token(*, event_id: uuid.UUID, user_id: uuid.UUID, position: int) -> str:
    return signing.dumps({"e": str(event_id), "u": str(user_id), "p": position}, salt=POSITION_SALT)


# --- Staff: the switch and the pace -------------------------------------------------------------------------------


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
    # How the room admits: checked, saved on the room and recorded in the audit log as given.
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


# --- Buyers: joining and their place -------------------------------------------------------------------------------


def _draw(room: WaitingRoom, now: dt.datetime) -> None:
    """Number the early arrivals in the order of their random keys (caller holds the room row FOR UPDATE)."""
    with connections[DB_ALIAS].cursor() as cursor:
        cursor.execute(
            f"WITH ranked AS (SELECT id, row_number() OVER (ORDER BY draw_key, id) AS n "  # noqa: S608
            f"FROM {_ENTRIES} WHERE room_id = %s AND position IS NULL) "
            f"UPDATE {_ENTRIES} AS entry SET position = %s + ranked.n, updated_at = %s "
            "FROM ranked WHERE entry.id = ranked.id",
            [room.pk, room.last_position, now],
        )
        drawn = cursor.rowcount
    room.last_position += drawn
    room.drawn_at = now
    room.admission_clock = room.admission_clock or room.starts_at
    room.save(using=DB_ALIAS, update_fields=["last_position", "drawn_at", "admission_clock", "updated_at"])


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
            f"SELECT * FROM {_ROOMS} WHERE event_id = %s AND is_active FOR {mode}",  # noqa: S608
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
                    _draw(room, now)
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
            f"FROM {_ROOMS} AS room LEFT JOIN {_ENTRIES} AS entry "
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
            f"WITH room AS (SELECT id FROM {_ROOMS} WHERE id = %s AND is_active AND drawn_at IS NULL "  # noqa: S608
            f"FOR SHARE), "
            f"taken AS (SELECT count(*) AS n FROM {_ENTRIES} WHERE room_id = %s AND client_address = %s), "
            f"inserted AS (INSERT INTO {_ENTRIES} ({_ENTRY_COLUMNS}) "
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
            f"WITH taken AS (SELECT count(*) AS n FROM {_ENTRIES} "  # noqa: S608
            f"WHERE room_id = %s AND client_address = %s), "
            f"room AS (UPDATE {_ROOMS} SET last_position = last_position + 1, updated_at = %s "
            f"WHERE id = %s AND is_active AND drawn_at IS NOT NULL AND (SELECT n FROM taken) < per_address_cap "
            f"RETURNING id, last_position), "
            f"inserted AS (INSERT INTO {_ENTRIES} ({_ENTRY_COLUMNS}) "
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


# --- Admission: the job, one writer per room -------------------------------------------------------------------------


def _sold_out(event_id: uuid.UUID) -> bool:
    totals = inventory_selectors.event_sales_summary(event_id=event_id)["totals"]
    return totals["total"] > 0 and totals["available"] == 0 and totals["held"] == 0


def waiting_room_admit(*, room_id: uuid.UUID, now: dt.datetime | None = None) -> int:
    """Admit what the rate owes since the room's clock; returns how many were admitted.

    The room row is locked FOR UPDATE for the whole step, so two workers (or a job and a join that draws) take
    turns and the second finds the clock already advanced: no position is admitted twice. The batch, the room's
    new figures and the log row commit together: a crash admits all of the batch or none of it.
    """
    now = now or timezone.now()
    with transaction.atomic(using=DB_ALIAS):
        room = WaitingRoom.objects.using(DB_ALIAS).select_for_update().filter(pk=room_id, is_active=True).first()
        if room is None or now < room.starts_at or room.sold_out_at is not None:
            return 0
        if room.drawn_at is None:
            _draw(room, now)
        if _sold_out(room.event_id):
            room.sold_out_at = now
            room.save(using=DB_ALIAS, update_fields=["sold_out_at", "updated_at"])
            count = 0
        else:
            count = _admit_owed(room, now)
    WaitingRoomLatencySample.objects.using(DB_ALIAS).filter(
        event_id=room.event_id, recorded_at__lt=now - LATENCY_RETENTION
    ).delete()
    waiting_room_publish_status(room_id=room_id)
    return count


def admission_rate(room: WaitingRoom) -> int:
    """Admissions per minute now: the staff's rate, or, following throughput, the controller's (never above it)."""
    if room.admission_mode == WaitingRoomMode.THROUGHPUT:
        return min(room.rate_per_minute, room.current_rate or _start_rate(room))
    return room.rate_per_minute


def _start_rate(room: WaitingRoom) -> int:
    return max(1, math.ceil(room.rate_per_minute / START_RATE_SHARE))


_CONTROLLER_FIELDS = ["current_rate", "latency_p95_ms", "latency_samples", "backed_off_at", "controlled_at"]


def _follow_latency(room: WaitingRoom, now: dt.datetime) -> int:
    """The controller: the rate for this step (0: admit nobody). One statement: the window's count and p95.

    Fast (p95 within the target): the rate grows by RATE_GROWTH up to the staff's rate. Slow: nobody is admitted
    this step and the rate halves; the samples that showed it are not judged again (the window restarts after the
    back-off), so one slow spell halves the rate once, not at every step while it stays in the window. Too few
    samples to judge (the sale's first seconds, a quiet room): the rate stays as it is. Steps less than
    CONTROL_INTERVAL after the last change keep the rate (a second worker's step does not change it twice).
    """
    rate = admission_rate(room)
    if room.controlled_at is not None and now - room.controlled_at < CONTROL_INTERVAL:
        return rate
    since = now - LATENCY_WINDOW
    if room.backed_off_at is not None:
        since = max(since, room.backed_off_at)
    samples = WaitingRoomLatencySample._meta.db_table
    with connections[DB_ALIAS].cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), percentile_disc(%s) WITHIN GROUP (ORDER BY duration_ms) FROM {samples} "  # noqa: S608
            "WHERE event_id = %s AND recorded_at > %s AND recorded_at <= %s",
            [LATENCY_PERCENTILE, room.event_id, since, now],
        )
        count, p95 = cursor.fetchone()
    room.latency_samples = count
    room.controlled_at = now
    if count >= MIN_LATENCY_SAMPLES:
        room.latency_p95_ms = p95
        if p95 > room.latency_target_ms:
            room.current_rate = max(1, rate // 2)
            room.backed_off_at = now
            return 0
        rate = min(room.rate_per_minute, max(rate + 1, math.ceil(rate * RATE_GROWTH)))
    room.current_rate = rate
    return rate


def _admit_owed(room: WaitingRoom, now: dt.datetime) -> int:
    """The admission step proper; the caller holds the room row FOR UPDATE."""
    clock = room.admission_clock or room.starts_at
    following = room.admission_mode == WaitingRoomMode.THROUGHPUT
    if room.is_paused:
        room.admission_clock = max(clock, now)
        room.save(using=DB_ALIAS, update_fields=["admission_clock", "updated_at"])
        return 0
    rate = _follow_latency(room, now) if following else room.rate_per_minute
    controller = _CONTROLLER_FIELDS if following else []
    if rate == 0:
        room.admission_clock = now  # time spent backing off is not saved up
        room.save(using=DB_ALIAS, update_fields=["admission_clock", "updated_at", *controller])
        return 0
    clock = max(clock, now - dt.timedelta(minutes=MAX_BURST_MINUTES))
    owed = max(0, math.floor((now - clock).total_seconds() * rate / 60))
    waiting = room.last_position - room.admitted_up_to
    count = min(owed, waiting)
    if room.max_in_flight is not None and count > 0:
        count = min(count, max(0, room.max_in_flight - _in_flight(room, now)))
    if count == owed:
        room.admission_clock = clock + dt.timedelta(seconds=count * 60 / rate)
    else:
        # Nobody left to admit, or the in-flight bound is reached: time that admitted nobody is not saved up.
        room.admission_clock = now
    if count > 0:
        first, last = room.admitted_up_to + 1, room.admitted_up_to + count
        WaitingRoomEntry.objects.using(DB_ALIAS).filter(
            room=room, position__gte=first, position__lte=last, admitted_at__isnull=True
        ).update(admitted_at=now, updated_at=now)
        fault_point("waiting_room.after_admit")  # a crash here must leave the whole batch unadmitted
        WaitingRoomAdmission.objects.using(DB_ALIAS).create(
            room=room, first_position=first, last_position=last, count=count, rate_per_minute=rate
        )
        room.admitted_up_to = last
    room.save(using=DB_ALIAS, update_fields=["admission_clock", "admitted_up_to", "updated_at", *controller])
    return count


def _in_flight(room: WaitingRoom, now: dt.datetime) -> int:
    """Admitted buyers whose pass is still valid and who have not bought yet: the sale's work in progress."""
    bought = Order.objects.using(DB_ALIAS).filter(event_id=room.event_id, status=OrderStatus.CONFIRMED)
    return (
        WaitingRoomEntry.objects.using(DB_ALIAS)
        .filter(room=room, admitted_at__gt=now - dt.timedelta(minutes=room.pass_minutes))
        .exclude(user_id__in=bought.values("buyer_id"))
        .count()
    )


def waiting_room_latency_record(*, event_id: uuid.UUID, operation: str, seconds: float) -> None:
    """One hold or checkout duration for the throughput controller: one INSERT, in autocommit, after the answer was
    computed. A failure loses the sample, never the buyer's request."""
    try:
        WaitingRoomLatencySample.objects.using(DB_ALIAS).create(
            event_id=event_id, operation=operation, duration_ms=round(seconds * 1000), recorded_at=timezone.now()
        )
    except DatabaseError:
        logger.warning("waiting room latency sample of %s lost", event_id, exc_info=True)


def waiting_room_admit_due(*, now: dt.datetime | None = None) -> int:
    """The periodic job's body: one admission step for every active room whose sale has started."""
    now = now or timezone.now()
    rooms = WaitingRoom.objects.using(DB_ALIAS).filter(is_active=True, starts_at__lte=now)
    admitted = 0
    for room_id in rooms.values_list("pk", flat=True):
        admitted += waiting_room_admit(room_id=room_id, now=now)
    return admitted


# --- The status file the waiting pages poll ---------------------------------------------------------------------------


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


# --- Staff view: live counts ---------------------------------------------------------------------------------------


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
    counts["in_flight"] = _in_flight(room, now)
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
