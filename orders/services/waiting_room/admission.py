"""Admission: the job that, every few seconds (`waiting_room_admit_due`), admits what the rate owes since the
room's ``admission_clock``, under ``SELECT ... FOR UPDATE`` of the room row: one writer whatever the number of
workers, all in one transaction, so a crash admits a batch wholly or not at all. Following throughput, the step's
rate is a controller's (`_follow_latency`) fed by the hold and checkout durations orders.middleware records.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import uuid

from django.db import DatabaseError, connections, transaction
from django.utils import timezone

from core.faults import fault_point
from inventory import selectors as inventory_selectors
from orders import DB_ALIAS
from orders.contract import WaitingRoomMode
from orders.models import WaitingRoom, WaitingRoomAdmission, WaitingRoomEntry, WaitingRoomLatencySample
from orders.services.waiting_room._shared import admission_rate, draw, in_flight
from orders.services.waiting_room.status import waiting_room_publish_status

MAX_BURST_MINUTES = 1  # after a pause in the job (a restart), admit at most one minute's worth at once

# Following throughput (docs/WAITING_ROOM.md, "Following measured throughput"): each step reads the p95 of the
# holds and checkouts of the last LATENCY_WINDOW (only those after the last back-off). Under the target the rate grows
# by RATE_GROWTH (at least +1) up to the staff's rate; over it the step admits nobody and halves the rate.
LATENCY_WINDOW = dt.timedelta(seconds=30)
LATENCY_RETENTION = dt.timedelta(minutes=10)
LATENCY_PERCENTILE = 0.95
MIN_LATENCY_SAMPLES = 5
RATE_GROWTH = 1.25
# Steps closer together than this (two workers at once, a late run overlapping the next) change the rate once.
CONTROL_INTERVAL = dt.timedelta(seconds=2)

logger = logging.getLogger(__name__)


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
            draw(room, now)
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
        count = min(count, max(0, room.max_in_flight - in_flight(room, now)))
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
