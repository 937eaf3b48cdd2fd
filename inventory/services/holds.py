"""Holds: a buyer takes seats for a few minutes (chosen ones, or the best available), or lets them go.

A busy seat is a conflict, never a wait: chosen seats are locked with NOWAIT, best-available skips locked rows. An
expired hold (HELD with hold_expires_at <= now) is free for anyone at once. One buyer's hold requests for one event
are serialised by an advisory lock, so parallel requests cannot both pass the per-buyer limit; only that buyer ever
waits for it, and it is taken before any seat lock, so it cannot take part in a deadlock.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from core.errors import NotFound
from core.locking import LockSpace, is_lock_not_available, xact_lock
from inventory import DB_ALIAS
from inventory.contract import HoldLimitExceeded, NotEnoughSeats, SeatInfo, SeatUnavailable
from inventory.selectors import SEAT_COLUMNS, SEAT_TABLE
from inventory.services._shared import (
    FREE,
    TAKE_NEXT_PRICE,
    optional_id,
    positive_int,
    require_id,
    require_ids,
    seats_cursor,
    sorted_infos,
)

# Parameters: holder, expiry, now, now, now. A place taken afresh (free, or someone's lapsed hold) takes the price a
# reprice left for it; the buyer's own live hold, extended, keeps the price it was held at.
_HOLD = (
    f"UPDATE {SEAT_TABLE} SET status = 'HELD', held_by_id = %s, hold_expires_at = %s, updated_at = %s, "  # noqa: S608
    "price = CASE WHEN status = 'HELD' AND hold_expires_at > %s THEN price ELSE COALESCE(next_price, price) END, "
    "next_price = CASE WHEN status = 'HELD' AND hold_expires_at > %s THEN next_price ELSE NULL END "
)
_BEST_ORDER = "section_id, y, row_label, number"  # the front row (smallest y) first, then left to right
_CANDIDATE_WINDOW = 400
_BLOCK_ATTEMPTS = 3


def _check_hold_args(hold_seconds: int, max_per_buyer: int) -> tuple[int, int]:
    return (
        positive_int(hold_seconds, name="hold_seconds", maximum=24 * 3600),
        positive_int(max_per_buyer, name="max_per_buyer", maximum=10_000),
    )


def _check_limit(
    cursor, *, buyer: uuid.UUID, event: uuid.UUID, now: dt.datetime, adding: int, limit: int, exclude=()
) -> None:
    """Refuse if the buyer's unexpired holds for the event (but ``exclude``) + ``adding`` would exceed ``limit``.

    Only meaningful under the buyer's BUYER_HOLDS lock, which keeps a parallel request from counting at once."""
    # Served by the partial index seat_holds_by_buyer_idx (held_by_id WHERE status = 'HELD').
    cursor.execute(
        f"SELECT count(*) FROM {SEAT_TABLE} WHERE held_by_id = %s AND status = 'HELD' "  # noqa: S608 - fixed SQL
        "AND hold_expires_at > %s AND event_id = %s AND deleted_at IS NULL AND NOT (id = ANY(%s))",
        [buyer, now, event, list(exclude)],
    )
    _refuse_over_limit(existing=cursor.fetchone()[0], adding=adding, limit=limit)


def _refuse_over_limit(*, existing: int, adding: int, limit: int) -> None:
    if existing + adding > limit:
        raise HoldLimitExceeded(
            gettext("You can hold at most %(limit)s places for this event; you already hold %(existing)s.")
            % {"limit": limit, "existing": existing},
            limit=limit,
            held=existing,
        )


# --- Chosen seats ------------------------------------------------------------------------------------------------


# Chosen seats in one statement, under the buyer's BUYER_HOLDS lock taken by the statement before it (so this one's
# snapshot, taken after the lock, sees every hold a parallel request of the buyer committed): lock the seats in id
# order with NOWAIT, count the buyer's other unexpired holds of the event (served by the partial index
# seat_holds_by_buyer_idx), and hold the seats only if every one exists, is free or already the buyer's, and the
# limit allows; the first row says why not otherwise. Parameters: ids, event, now, buyer, buyer, now, event, ids,
# then _HOLD's five, then ids, len(ids), len(ids), limit.
_HOLD_CHOSEN = (
    "WITH locked AS MATERIALIZED (SELECT id, status, held_by_id, hold_expires_at "  # noqa: S608 - fixed SQL
    f"FROM {SEAT_TABLE} WHERE id = ANY(%s) AND event_id = %s AND deleted_at IS NULL ORDER BY id FOR UPDATE NOWAIT), "
    "verdict AS MATERIALIZED (SELECT (SELECT count(*) FROM locked) AS found, "
    "(SELECT array_agg(id ORDER BY id) FROM locked WHERE NOT (status = 'AVAILABLE' OR "
    "(status = 'HELD' AND (hold_expires_at <= %s OR held_by_id = %s)))) AS taken, "
    f"(SELECT count(*) FROM {SEAT_TABLE} WHERE held_by_id = %s AND status = 'HELD' AND hold_expires_at > %s "
    "AND event_id = %s AND deleted_at IS NULL AND NOT (id = ANY(%s))) AS existing), "
    f"held AS ({_HOLD}FROM verdict WHERE id = ANY(%s) AND verdict.found = %s AND verdict.taken IS NULL "
    f"AND verdict.existing + %s <= %s RETURNING {SEAT_COLUMNS}) "
    "SELECT verdict.found, verdict.taken, verdict.existing, held.* FROM verdict LEFT JOIN held ON true"
)


def _take_chosen(
    cursor, *, ids: list[uuid.UUID], event: uuid.UUID, buyer: uuid.UUID, now: dt.datetime, expires, limit: int
) -> list[tuple]:
    """Hold the chosen seats (``_HOLD_CHOSEN``), or refuse: NotFound, SeatUnavailable, HoldLimitExceeded."""
    n = len(ids)
    cursor.execute(
        _HOLD_CHOSEN,
        [ids, event, now, buyer, buyer, now, event, ids, buyer, expires, now, now, now, ids, n, n, limit],
    )
    rows = cursor.fetchall()
    found, taken, existing = rows[0][:3]
    if found != n:
        locked = _seats_of_event(cursor, ids=ids, event=event)
        raise NotFound(
            gettext("Some of these seats do not exist for this event."),
            seat_ids=[str(pk) for pk in ids if pk not in locked],
        )
    if taken:
        raise SeatUnavailable(seat_ids=[str(pk) for pk in taken])
    _refuse_over_limit(existing=existing, adding=n, limit=limit)
    return [row[3:] for row in rows]


def _seats_of_event(cursor, *, ids: list[uuid.UUID], event: uuid.UUID) -> set[uuid.UUID]:
    cursor.execute(
        f"SELECT id FROM {SEAT_TABLE} WHERE id = ANY(%s) AND event_id = %s AND deleted_at IS NULL",  # noqa: S608
        [ids, event],
    )
    return {row[0] for row in cursor.fetchall()}


def seats_hold(
    *,
    event_id: uuid.UUID,
    buyer_id: uuid.UUID,
    seat_ids: Iterable[uuid.UUID],
    hold_seconds: int,
    max_per_buyer: int,
) -> list[SeatInfo]:
    """Hold exactly these seats for the buyer, all or nothing.

    A seat another transaction is taking right now is a SeatUnavailable at once, never a wait. A free seat
    (AVAILABLE or anyone's expired hold) is taken; the buyer's own unexpired hold is extended. Errors: NotFound (a
    seat not of this event), SeatUnavailable (context ``seat_ids``), HoldLimitExceeded (unexpired holds for the
    event + new ones > max_per_buyer).
    """
    event = require_id(event_id, name="event_id")
    buyer = require_id(buyer_id, name="buyer_id")
    ids = require_ids(seat_ids, name="seat_ids", empty=gettext("Choose at least one seat."))
    hold_seconds, max_per_buyer = _check_hold_args(hold_seconds, max_per_buyer)
    if len(ids) > max_per_buyer:
        raise HoldLimitExceeded(
            gettext("You can hold at most %(max_per_buyer)s places for this event.") % {"max_per_buyer": max_per_buyer},
            limit=max_per_buyer,
        )
    now = timezone.now()
    try:
        with transaction.atomic(using=DB_ALIAS), seats_cursor() as cursor:
            # The buyer's lock first: taken before any seat lock, so it cannot take part in a deadlock.
            xact_lock(LockSpace.BUYER_HOLDS, buyer, event, using=DB_ALIAS)
            held = _take_chosen(
                cursor,
                ids=ids,
                event=event,
                buyer=buyer,
                now=now,
                expires=now + dt.timedelta(seconds=hold_seconds),
                limit=max_per_buyer,
            )
    except OperationalError as exc:
        if not is_lock_not_available(exc):
            raise
        # Another transaction is taking (or selling) one of these seats right now: a conflict, not a wait.
        raise SeatUnavailable(seat_ids=[str(pk) for pk in ids]) from None
    return sorted_infos(held, now=now)


# --- Best available ----------------------------------------------------------------------------------------------


def _pick_block(candidates: list[tuple], quantity: int, excluded: set[uuid.UUID]) -> list[uuid.UUID]:
    """Choose ``quantity`` seats from candidates ordered best first: prefer adjacent numbers in the best row,
    then any seats of one row, then the best seats anywhere. Candidates are (id, section_id, row_label, number)."""
    if excluded:
        candidates = [candidate for candidate in candidates if candidate[0] not in excluded]
    # Keyed by the section's UUID as an int: hashing a UUID calls Python code, an int's does not (400 candidates on
    # every best-available hold).
    rows: dict[tuple, list[tuple]] = {}
    for candidate in candidates:
        key = (candidate[1].int, candidate[2])
        group = rows.get(key)
        if group is None:
            rows[key] = [candidate]
        else:
            group.append(candidate)
    for seats in rows.values():
        length, previous = 0, None
        for index, seat in enumerate(seats):
            length = length + 1 if length and seat[3] == previous + 1 else 1
            previous = seat[3]
            if length == quantity:
                return [s[0] for s in seats[index + 1 - quantity : index + 1]]
    for seats in rows.values():
        if len(seats) >= quantity:
            return [s[0] for s in seats[:quantity]]
    return [c[0] for c in candidates[:quantity]]


class _PartialBlock(Exception):
    def __init__(self, lost: set[uuid.UUID]):
        self.lost = lost


@dataclass(frozen=True)
class _Wanted:
    """One best-available request: who, how many, where (``scope`` with its parameters), and when."""

    buyer: uuid.UUID
    quantity: int
    scope: str
    scope_params: list
    now: dt.datetime
    expires: dt.datetime

    def take_sql(self, where: str) -> str:
        return (
            f"{_HOLD}WHERE id IN (SELECT id FROM {SEAT_TABLE} WHERE {where} FOR UPDATE SKIP LOCKED) "  # noqa: S608
            f"RETURNING {SEAT_COLUMNS}"
        )

    @property
    def hold_params(self) -> list:
        return [self.buyer, self.expires, self.now, self.now, self.now]


# The buyer's unexpired holds of the event, as a column of the first window of candidates (the limit checked without
# a round trip of its own). Parameters: buyer, now, event.
_EXISTING_HOLDS = (
    f"(SELECT count(*) FROM {SEAT_TABLE} WHERE held_by_id = %s AND status = 'HELD' "  # noqa: S608 - fixed SQL
    "AND hold_expires_at > %s AND event_id = %s AND deleted_at IS NULL)"
)


def _take_best_block(cursor, wanted: _Wanted, *, limit: int | None = None) -> list[tuple] | None:
    """Read a window of free seats without locks, choose a block, take it with SKIP LOCKED inside a savepoint.

    If another buyer took part of the block meanwhile, the savepoint is rolled back (releasing the rest) and another
    block chosen. None when every try lost seats that way; NotEnoughSeats when too few places are free at all.
    ``limit``: the buyer's per-event limit, checked (HoldLimitExceeded, before NotEnoughSeats) with the first window,
    under the BUYER_HOLDS lock the caller holds.
    """
    excluded: set[uuid.UUID] = set()
    for attempt in range(_BLOCK_ATTEMPTS):
        checking = limit is not None and attempt == 0
        existing = f", {_EXISTING_HOLDS}" if checking else ""
        cursor.execute(
            f"SELECT id, section_id, row_label, number{existing} FROM {SEAT_TABLE} "  # noqa: S608
            f"WHERE {wanted.scope} AND {FREE} ORDER BY {_BEST_ORDER} LIMIT %s",
            [
                *([wanted.buyer, wanted.now, wanted.scope_params[0]] if checking else []),
                *wanted.scope_params,
                wanted.now,
                _CANDIDATE_WINDOW + len(excluded),
            ],
        )
        candidates = cursor.fetchall()
        if checking and candidates:
            _refuse_over_limit(existing=candidates[0][4], adding=wanted.quantity, limit=limit)
        elif checking:  # no candidate row, no count: the limit is asked on its own (nothing is free anyway)
            event = wanted.scope_params[0]
            _check_limit(cursor, buyer=wanted.buyer, event=event, now=wanted.now, adding=wanted.quantity, limit=limit)
        block = _pick_block(candidates, wanted.quantity, excluded)
        if len(block) < wanted.quantity:
            raise NotEnoughSeats(
                gettext("Only %(count)s places are available.") % {"count": len(block)}, available=len(block)
            )
        try:
            with transaction.atomic(using=DB_ALIAS):
                cursor.execute(wanted.take_sql(f"id = ANY(%s) AND {FREE}"), [*wanted.hold_params, block, wanted.now])
                rows = cursor.fetchall()
                if len(rows) < wanted.quantity:
                    raise _PartialBlock(set(block) - {row[0] for row in rows})
                return rows
        except _PartialBlock as partial:
            excluded |= partial.lost
    return None


def _take_any_free(cursor, wanted: _Wanted) -> list[tuple]:
    """Heavy contention: any free seats in best order, skipping whatever others are locking right now."""
    cursor.execute(
        wanted.take_sql(f"{wanted.scope} AND {FREE} ORDER BY {_BEST_ORDER} LIMIT %s"),
        [*wanted.hold_params, *wanted.scope_params, wanted.now, wanted.quantity],
    )
    rows = cursor.fetchall()
    if len(rows) < wanted.quantity:
        raise NotEnoughSeats(
            gettext("Only %(count)s places are available right now.") % {"count": len(rows)}, available=len(rows)
        )
    return rows


def _scope(event: uuid.UUID, section_id: object, tier_id: object) -> tuple[str, list]:
    """The WHERE clause (and its parameters) of the event's live places, in one section and/or tier if given."""
    scope, params = "event_id = %s AND deleted_at IS NULL", [event]
    section = optional_id(section_id, name="section_id")
    tier = optional_id(tier_id, name="tier_id")
    if section:
        scope += " AND section_id = %s"
        params.append(section)
    if tier:
        scope += " AND tier_id = %s"
        params.append(tier)
    return scope, params


def seats_hold_best_available(
    *,
    event_id: uuid.UUID,
    buyer_id: uuid.UUID,
    quantity: int,
    section_id: uuid.UUID | None = None,
    tier_id: uuid.UUID | None = None,
    hold_seconds: int,
    max_per_buyer: int,
) -> list[SeatInfo]:
    """Hold the best ``quantity`` free places (optionally in one section and/or tier), preferring adjacent seats.

    Racing buyers never get the same seat and never wait for each other: a block is taken with SKIP LOCKED, chosen
    again a few times if others took part of it, and after that any free seats in best order are taken.
    NotEnoughSeats (409) when too few places are free.
    """
    event = require_id(event_id, name="event_id")
    buyer = require_id(buyer_id, name="buyer_id")
    hold_seconds, max_per_buyer = _check_hold_args(hold_seconds, max_per_buyer)
    quantity = positive_int(quantity, name="quantity")
    if quantity > max_per_buyer:
        raise HoldLimitExceeded(
            gettext("You can hold at most %(max_per_buyer)s places for this event.") % {"max_per_buyer": max_per_buyer},
            limit=max_per_buyer,
        )
    scope, scope_params = _scope(event, section_id, tier_id)
    now = timezone.now()
    wanted = _Wanted(buyer, quantity, scope, scope_params, now, now + dt.timedelta(seconds=hold_seconds))
    with transaction.atomic(using=DB_ALIAS), seats_cursor() as cursor:
        xact_lock(LockSpace.BUYER_HOLDS, buyer, event, using=DB_ALIAS)
        rows = _take_best_block(cursor, wanted, limit=max_per_buyer) or _take_any_free(cursor, wanted)
    return sorted_infos(rows, now=now)


# --- Waiting-list offers -------------------------------------------------------------------------------------------


def seats_hold_for_offer(
    *,
    event_id: uuid.UUID,
    buyer_id: uuid.UUID,
    quantity: int,
    expires_at: dt.datetime,
    section_id: uuid.UUID | None = None,
    tier_id: uuid.UUID | None = None,
) -> list[SeatInfo]:
    """Hold the best ``quantity`` free places (in a section and/or tier) for a waiting-list offer until
    ``expires_at``; [] when too few are free, with none of them kept.

    Idempotent by (buyer, event, ``expires_at``): the buyer's holds of the event that expire at exactly that
    instant are this offer's, so a rerun after a crash between the hold and the offer's record finds them and
    takes only what is missing. No per-buyer limit: the waiting list bounded the quantity when the buyer joined.
    """
    event = require_id(event_id, name="event_id")
    buyer = require_id(buyer_id, name="buyer_id")
    quantity = positive_int(quantity, name="quantity")
    scope, scope_params = _scope(event, section_id, tier_id)
    now = timezone.now()
    with transaction.atomic(using=DB_ALIAS), seats_cursor() as cursor:
        xact_lock(LockSpace.BUYER_HOLDS, buyer, event, using=DB_ALIAS)
        cursor.execute(
            f"SELECT {SEAT_COLUMNS} FROM {SEAT_TABLE} WHERE event_id = %s AND held_by_id = %s "  # noqa: S608
            "AND status = 'HELD' AND hold_expires_at = %s AND deleted_at IS NULL ORDER BY id FOR UPDATE",
            [event, buyer, expires_at],
        )
        mine = cursor.fetchall()
        missing = quantity - len(mine)
        if missing <= 0 or expires_at <= now:
            return sorted_infos(mine[:quantity], now=now) if expires_at > now else []
        wanted = _Wanted(buyer, missing, scope, scope_params, now, expires_at)
        try:
            with transaction.atomic(using=DB_ALIAS):
                taken = _take_best_block(cursor, wanted) or _take_any_free(cursor, wanted)
        except NotEnoughSeats:
            if mine:
                cursor.execute(
                    f"UPDATE {SEAT_TABLE} SET status = 'AVAILABLE', held_by_id = NULL, "  # noqa: S608
                    f"hold_expires_at = NULL, {TAKE_NEXT_PRICE}, updated_at = %s WHERE id = ANY(%s)",
                    [now, [row[0] for row in mine]],
                )
            return []
    return sorted_infos(mine + taken, now=now)


# --- Release -----------------------------------------------------------------------------------------------------


def seats_release(
    *, buyer_id: uuid.UUID, event_id: uuid.UUID | None = None, seat_ids: Iterable[uuid.UUID] | None = None
) -> int:
    """Release the buyer's own unexpired holds (all, one event's, or the listed seats). Returns how many."""
    buyer = require_id(buyer_id, name="buyer_id")
    where, params = "held_by_id = %s AND status = 'HELD' AND hold_expires_at > %s", [buyer, timezone.now()]
    if event_id is not None:
        where += " AND event_id = %s"
        params.append(require_id(event_id, name="event_id"))
    if seat_ids is not None:
        ids = require_ids(seat_ids, name="seat_ids")
        if not ids:
            return 0
        where += " AND id = ANY(%s)"
        params.append(ids)
    with transaction.atomic(using=DB_ALIAS), seats_cursor() as cursor:
        cursor.execute(
            f"UPDATE {SEAT_TABLE} SET status = 'AVAILABLE', held_by_id = NULL, hold_expires_at = NULL, "  # noqa: S608
            f"{TAKE_NEXT_PRICE}, updated_at = %s WHERE {where}",
            [timezone.now(), *params],
        )
        return cursor.rowcount
