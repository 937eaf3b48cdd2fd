"""Reads of the inventory domain: seats, tickets, holds, availability figures.

Other apps get frozen dataclasses or plain dicts, never model instances. An expired hold is AVAILABLE in every
answer here (status, holder and expiry are reported as if the hold had been released): no sweeper job is needed for
correctness, and what a buyer sees is what a hold would find.

The hot reads (seat map, availability, sales summary) are single SQL statements aggregated in PostgreSQL; see
docs/INVENTORY.md for their plans and timings.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import connections
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from core.errors import NotFound
from core.ids import as_uuid
from core.results import from_row
from core.routers import read_alias
from inventory import DB_ALIAS
from inventory.contract import TICKET_STATUSES, EntryLogResult, SeatInfo, SeatStatus, seat_label
from inventory.models import EntryLog, Seat

# An id as parsed, or raw from a URL: every read here answers a malformed one like an unknown one (empty, NotFound).
AnyId = uuid.UUID | str

SEAT_TABLE = Seat._meta.db_table

# The columns every SeatInfo is built from, in this order (used by raw SELECTs and UPDATE ... RETURNING alike).
SEAT_FIELDS = (
    "id",
    "event_id",
    "section_id",
    "tier_id",
    "row_label",
    "number",
    "x",
    "y",
    "price",
    "status",
    "is_accessible",
    "is_general_admission",
    "held_by_id",
    "hold_expires_at",
    "owner_id",
    "order_id",
    "qr_version",
    "checked_in_at",
)
SEAT_COLUMNS = ", ".join(SEAT_FIELDS)


def seat_info_from_row(row: tuple, *, now: dt.datetime | None = None) -> SeatInfo:
    """A SeatInfo from a row in SEAT_COLUMNS order; an expired hold is reported as AVAILABLE."""
    values = dict(zip(SEAT_FIELDS, row, strict=True))
    expires = values["hold_expires_at"]
    if values["status"] == SeatStatus.HELD and expires is not None and expires <= (now or timezone.now()):
        values.update(status=SeatStatus.AVAILABLE.value, held_by_id=None, hold_expires_at=None)
    label = seat_label(
        row_label=values["row_label"], number=values["number"], is_general_admission=values["is_general_admission"]
    )
    return from_row(SeatInfo, values, label=label)


def _fetch(sql: str, params: Iterable[Any], *, using: str = DB_ALIAS) -> list[tuple]:
    with connections[using].cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.fetchall()


def _fetch_dicts(sql: str, params: Iterable[Any], *, using: str = DB_ALIAS) -> list[dict[str, Any]]:
    """Rows as dicts keyed by the statement's column names (its aliases)."""
    with connections[using].cursor() as cursor:
        cursor.execute(sql, list(params))
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _seats(where: str, params: Iterable[Any], *, order_by: str = "event_id, section_id, row_label, number") -> list:
    now = timezone.now()
    rows = _fetch(
        f"SELECT {SEAT_COLUMNS} FROM {SEAT_TABLE} WHERE deleted_at IS NULL AND {where} ORDER BY {order_by}",  # noqa: S608 - fixed SQL fragments, values are parameters
        params,
    )
    return [seat_info_from_row(row, now=now) for row in rows]


# --- Tickets and holds -----------------------------------------------------------------------------------------


def ticket_get(*, seat_id: AnyId) -> SeatInfo:
    """Any live seat by id (a ticket once sold). NotFound for unknown or malformed ids."""
    pk = as_uuid(seat_id)
    found = _seats("id = %s", [pk]) if pk else []
    if not found:
        raise NotFound(gettext("No such ticket."))
    return found[0]


def seats_get_many(*, seat_ids: Iterable[AnyId]) -> dict[uuid.UUID, SeatInfo]:
    ids = sorted({pk for pk in (as_uuid(value) for value in seat_ids) if pk})
    if not ids:
        return {}
    return {seat.id: seat for seat in _seats("id = ANY(%s)", [ids])}


def tickets_for_owner(*, owner_id: AnyId, event_id: AnyId | None = None) -> list[SeatInfo]:
    """The owner's tickets (SOLD, CHECKED_IN, LISTED), by event then place. Uses the partial index seat_owner_idx."""
    owner = as_uuid(owner_id)
    if owner is None:
        return []
    where, params = "owner_id = %s", [owner]
    if event_id is not None:
        where += " AND event_id = %s"
        params.append(as_uuid(event_id))
    return _seats(where, params)


def ticket_owners_for_event(*, event_id: AnyId) -> list[uuid.UUID]:
    """Everyone holding a ticket (SOLD, CHECKED_IN, LISTED) of the event, once each: who hears of its changes."""
    rows = _fetch(
        f"SELECT DISTINCT owner_id FROM {SEAT_TABLE} WHERE event_id = %s AND owner_id IS NOT NULL "  # noqa: S608 - fixed table name
        "AND status IN ('SOLD', 'CHECKED_IN', 'LISTED') AND deleted_at IS NULL ORDER BY owner_id",
        [as_uuid(event_id)],
    )
    return [row[0] for row in rows]


def ticket_get_for_owner(*, seat_id: AnyId, owner_id: AnyId) -> SeatInfo:
    """A ticket of this owner; another person's ticket (or a seat that is no ticket) is NotFound, like an unknown id."""
    ticket = ticket_get(seat_id=seat_id)
    if ticket.owner_id is None or ticket.owner_id != as_uuid(owner_id) or not ticket.is_ticket:
        raise NotFound(gettext("No such ticket."))
    return ticket


def seats_of_order(*, order_id: AnyId) -> list[SeatInfo]:
    order = as_uuid(order_id)
    if order is None:
        return []
    return _seats("order_id = %s", [order])


def holds_for_buyer(*, buyer_id: AnyId, event_id: AnyId | None = None) -> list[SeatInfo]:
    """The buyer's unexpired holds (partial index seat_holds_by_buyer_idx), soonest expiry first."""
    buyer = as_uuid(buyer_id)
    if buyer is None:
        return []
    where, params = "held_by_id = %s AND status = 'HELD' AND hold_expires_at > %s", [buyer, timezone.now()]
    if event_id is not None:
        where += " AND event_id = %s"
        params.append(as_uuid(event_id))
    return _seats(where, params, order_by="hold_expires_at, event_id, section_id, row_label, number")


def tickets_listed_before(*, updated_before: dt.datetime, limit: int = 5000) -> list[SeatInfo]:
    """LISTED tickets untouched since ``updated_before``, oldest first: the resale recoverer checks that each still
    has its active listing. Plain read (the only status-only scan here; LISTED rows are few and recovery is rare)."""
    rows = _fetch(
        f"SELECT {SEAT_COLUMNS} FROM {SEAT_TABLE} WHERE status = 'LISTED' AND updated_at <= %s "  # noqa: S608
        "AND deleted_at IS NULL ORDER BY updated_at LIMIT %s",
        [updated_before, int(limit)],
    )
    return [seat_info_from_row(row) for row in rows]


# --- Availability figures -------------------------------------------------------------------------------------

# An expired hold is AVAILABLE in every figure: the CASE folds it in inside PostgreSQL, so no row reaches Python.
_EFFECTIVE_STATUS = "CASE WHEN status = 'HELD' AND hold_expires_at <= %s THEN 'AVAILABLE' ELSE status END"


def _reads_from(stale_ok: bool) -> str:
    """The seats primary, or its read replica for a page that may show figures a few seconds old (``stale_ok``;
    core.routers.read_alias falls back to the primary when the replica lags or is down). Never for a read a write
    depends on: holds, sales and scans lock and re-check their rows on the primary."""
    return read_alias(DB_ALIAS) if stale_ok else DB_ALIAS


def section_availability(*, event_id: AnyId, stale_ok: bool = False) -> dict[uuid.UUID, dict[str, int]]:
    """section_id -> {status: count} for the event's live seats (statuses with no seat are left out).

    One GROUP BY over the event's rows by (section, stored status), the order of seat_live_availability_cov_idx, so
    PostgreSQL can stream it from that index (no hash of an expression per row); lapsed holds are counted apart in
    the same pass and moved to AVAILABLE here. ``stale_ok``: from the read replica when there is one (at most
    REPLICA_MAX_LAG_SECONDS behind).
    """
    event = as_uuid(event_id)
    if event is None:
        return {}
    rows = _fetch(
        f"SELECT section_id, status, count(*), count(*) FILTER (WHERE hold_expires_at <= %s) FROM {SEAT_TABLE} "  # noqa: S608 - fixed SQL
        "WHERE event_id = %s AND deleted_at IS NULL GROUP BY section_id, status",
        [timezone.now(), event],
        using=_reads_from(stale_ok),
    )
    figures: dict[uuid.UUID, dict[str, int]] = {}
    for section_id, status, count, lapsed in rows:
        counts = figures.setdefault(section_id, {})
        if status == SeatStatus.HELD and lapsed:
            counts[SeatStatus.AVAILABLE.value] = counts.get(SeatStatus.AVAILABLE.value, 0) + lapsed
            count -= lapsed
        if count:
            counts[status] = counts.get(status, 0) + count
    return figures


def free_places_by_line(*, event_id: AnyId) -> dict[tuple[uuid.UUID, uuid.UUID | None], int]:
    """(section_id, tier_id) -> how many places are free to take now (AVAILABLE, or a lapsed hold).

    What the waiting list reads to know whether a line is sold out and whether places came back: one GROUP BY over
    the event's free rows (index seat_event_section_status_idx), always on the primary (a write depends on it).
    """
    event = as_uuid(event_id)
    if event is None:
        return {}
    rows = _fetch(
        f"SELECT section_id, tier_id, count(*) FROM {SEAT_TABLE} WHERE event_id = %s AND deleted_at IS NULL "  # noqa: S608
        "AND (status = 'AVAILABLE' OR (status = 'HELD' AND hold_expires_at <= %s)) GROUP BY section_id, tier_id",
        [event, timezone.now()],
    )
    return {(section_id, tier_id): count for section_id, tier_id, count in rows}


def seat_map(*, event_id: AnyId, section_id: AnyId, stale_ok: bool = False) -> list[dict[str, Any]]:
    """The lean rows a seat map draws: id, row, number, x, y, status, tier_id, accessible, price, general_admission.

    Served by the unique index (event_id, section_id, row_label, number), already in map order; about 1-2 ms for
    a 1,000-seat section. Status is the effective one (an expired hold is AVAILABLE); holders are never exposed.
    ``stale_ok``: from the read replica when there is one (at most REPLICA_MAX_LAG_SECONDS behind).
    """
    event, section = as_uuid(event_id), as_uuid(section_id)
    if event is None or section is None:
        return []
    return _fetch_dicts(
        f"SELECT id, row_label AS row, number, x, y, {_EFFECTIVE_STATUS} AS status, tier_id, "  # noqa: S608
        "is_accessible AS accessible, price, is_general_admission AS general_admission "
        f"FROM {SEAT_TABLE} WHERE event_id = %s AND section_id = %s AND deleted_at IS NULL ORDER BY row_label, number",
        [timezone.now(), event, section],
        using=_reads_from(stale_ok),
    )


def seat_changes(
    *, event_id: AnyId, section_ids: Iterable[uuid.UUID], since: dt.datetime, now: dt.datetime
) -> list[dict[str, Any]]:
    """Seats of these sections whose effective status may have changed after ``since``: rows written since then, and
    holds that ran out since then (an expired hold changes no row). [{id, status, held_by_id}], status effective.

    Open seat maps poll this with the version of their last answer. Read from the primary: a replica a few seconds
    behind would hide the change the poll is for. Served by the unique index (event_id, section_id, row_label,
    number): one pass over the sections' rows (docs/PERFORMANCE.md has the cost).
    """
    event = as_uuid(event_id)
    sections = [section for section in (as_uuid(value) for value in section_ids) if section is not None]
    if event is None or not sections:
        return []
    return _fetch_dicts(
        f"SELECT id, {_EFFECTIVE_STATUS} AS status, held_by_id FROM {SEAT_TABLE} "  # noqa: S608 - fixed SQL
        "WHERE event_id = %s AND section_id = ANY(%s) AND deleted_at IS NULL AND (updated_at > %s "
        "OR (status = 'HELD' AND hold_expires_at > %s AND hold_expires_at <= %s))",
        [now, event, sections, since, since, now],
        using=DB_ALIAS,
    )


SeatChange = tuple[uuid.UUID, uuid.UUID, uuid.UUID, str, dt.datetime | None]


def _seat_changes(where: str, ids: Iterable[uuid.UUID], *params: Any, now: dt.datetime) -> list[SeatChange]:
    """(event_id, section_id, id, effective status at ``now``, hold_expires_at) of the live seats ``where`` says,
    its first parameter being ``ids`` as an array; nothing for no ids."""
    ids = list(ids)
    if not ids:
        return []
    return _fetch(
        f"SELECT event_id, section_id, id, {_EFFECTIVE_STATUS} AS status, hold_expires_at "  # noqa: S608 - fixed SQL
        f"FROM {SEAT_TABLE} WHERE {where} AND deleted_at IS NULL",
        [now, ids, *params],
        using=DB_ALIAS,
    )


def seat_changes_of_events(*, event_ids: Iterable[uuid.UUID], since: dt.datetime, now: dt.datetime) -> list[SeatChange]:
    """Seats of these events written after ``since``, as (event_id, section_id, id, effective status,
    hold_expires_at). What the live-changes feed (orders.live_changes) publishes each tick for every event on sale
    at once.

    Served by seat_recent_changes_idx (event_id, updated_at): the cost follows the writes, not the size of the
    events, so an 80,000-seat event on sale where nothing happens costs one index probe. A hold that runs out writes
    nothing: the feed keeps the expiries it has seen and asks ``seat_statuses`` when they pass.
    """
    return _seat_changes("event_id = ANY(%s) AND updated_at > %s", event_ids, since, now=now)


def seat_statuses(*, seat_ids: Iterable[uuid.UUID], now: dt.datetime) -> list[SeatChange]:
    """These seats as ``seat_changes_of_events`` reports them (by primary key), read at ``now``."""
    return _seat_changes("id = ANY(%s)", seat_ids, now=now)


def seats_held_in_events(*, event_ids: Iterable[uuid.UUID], now: dt.datetime) -> list[SeatChange]:
    """The unexpired holds of these events, in the same shape: where the feed starts tracking expiries. Served by
    seat_holds_by_buyer_idx (every HELD seat: the few in flight, not the events' size)."""
    return _seat_changes("event_id = ANY(%s) AND status = 'HELD' AND held_by_id IS NOT NULL", event_ids, now=now)


def seat_map_json(*, event_id: AnyId, section_id: AnyId, stale_ok: bool = False) -> str:
    """``seat_map()`` as the JSON text the seats API answers, built by PostgreSQL in the same index-ordered pass.

    Objects with id, row, number, x, y, status (effective: an expired hold is AVAILABLE), tier_id, accessible and
    price (a string with two decimals), in map order: exactly what ``SeatMapSeatSerializer`` makes of
    ``seat_map()``. For a 1,000-seat section this skips 1,000 Python rows, UUID and Decimal decoding, the
    serializer and the JSON encoder (about 3 ms instead of 12-15 ms; docs/PERFORMANCE.md). "[]" for no seats.
    """
    event, section = as_uuid(event_id), as_uuid(section_id)
    if event is None or section is None:
        return "[]"
    # json_agg over a row-typed subquery: the keys are the column names, in column order (measured 2.5 ms against
    # 3.3 ms for json_build_object per row, and compact, for 1,000 seats).
    rows = _fetch(
        "SELECT coalesce(json_agg(seat), '[]')::text FROM ("  # noqa: S608 - fixed SQL, values are parameters
        f"SELECT id, row_label AS row, number, x, y, {_EFFECTIVE_STATUS} AS status, tier_id, "
        f"is_accessible AS accessible, price::text AS price FROM {SEAT_TABLE} "
        "WHERE event_id = %s AND section_id = %s AND deleted_at IS NULL ORDER BY row_label, number) AS seat",
        [timezone.now(), event, section],
        using=_reads_from(stale_ok),
    )
    return rows[0][0]


_SUMMARY_KEYS = ("available", "held", "sold", "listed", "checked_in", "blocked", "total")


def event_sales_summary(*, event_id: AnyId) -> dict[str, Any]:
    """Sales figures per (section, tier) and in total, aggregated in one statement.

    ``{"sections": [{"section_id", "tier_id", "available", "held", "sold", "listed", "checked_in", "blocked",
    "total", "revenue"}], "totals": {... same keys ...}}``. Revenue is the face value (price snapshot) of every
    ticket (SOLD, LISTED, CHECKED_IN); "sold" counts SOLD only, so sold + listed + checked_in is tickets issued.
    """
    event = as_uuid(event_id)
    totals: dict[str, Any] = dict.fromkeys(_SUMMARY_KEYS, 0) | {"revenue": Decimal("0.00")}
    if event is None:
        return {"sections": [], "totals": totals}
    rows = _fetch(
        "SELECT section_id, tier_id, status, count(*), count(*) FILTER (WHERE hold_expires_at <= %s), "  # noqa: S608
        f"coalesce(sum(price), 0) FROM {SEAT_TABLE} WHERE event_id = %s AND deleted_at IS NULL "
        "GROUP BY section_id, tier_id, status",
        [timezone.now(), event],
    )
    # A few rows per (section, tier): one per stored status. Lapsed holds count as available; revenue is the face
    # value of the tickets.
    by_line: dict[tuple, dict[str, Any]] = {}
    for section_id, tier_id, status, count, lapsed, amount in rows:
        entry = by_line.get((section_id, tier_id))
        if entry is None:
            entry = by_line[(section_id, tier_id)] = {"section_id": section_id, "tier_id": tier_id}
            entry.update(dict.fromkeys(_SUMMARY_KEYS, 0))
            entry["revenue"] = Decimal("0.00")
        entry["total"] += count
        if status == SeatStatus.HELD:
            entry["available"] += lapsed
            entry["held"] += count - lapsed
        elif (key := _SUMMARY_KEY_OF_STATUS.get(status)) is not None:
            entry[key] += count
        if status in TICKET_STATUSES:
            entry["revenue"] += amount
    sections = [by_line[key] for key in sorted(by_line, key=_line_order)]
    for entry in sections:
        entry["revenue"] = Decimal(entry["revenue"]).quantize(Decimal("0.01"))
        for key in _SUMMARY_KEYS:
            totals[key] += entry[key]
        totals["revenue"] += entry["revenue"]
    return {"sections": sections, "totals": totals}


_SUMMARY_KEY_OF_STATUS = {
    SeatStatus.AVAILABLE.value: "available",
    SeatStatus.SOLD.value: "sold",
    SeatStatus.LISTED.value: "listed",
    SeatStatus.CHECKED_IN.value: "checked_in",
    SeatStatus.BLOCKED.value: "blocked",
}


def _line_order(line: tuple) -> tuple:
    """(section_id, tier_id) as ORDER BY section_id, tier_id would sort them (NULL last)."""
    section_id, tier_id = line
    return (section_id is None, section_id or uuid.UUID(int=0), tier_id is None, tier_id or uuid.UUID(int=0))


def event_places_kept_off_sale(*, event_id: AnyId) -> list[tuple[str, int]]:
    """``[(kept for, places)]`` of the event's blocked places, by name ("" = blocked by a refund), most first."""
    event = as_uuid(event_id)
    if event is None:
        return []
    rows = _fetch(
        f"SELECT kept_for, count(*) FROM {SEAT_TABLE} WHERE event_id = %s AND status = 'BLOCKED' "  # noqa: S608
        "AND deleted_at IS NULL GROUP BY kept_for ORDER BY count(*) DESC, kept_for",
        [event],
    )
    return [(name, int(count)) for name, count in rows]


ENTRY_BUCKET_MINUTES = 5


def event_seat_sections_and_tiers(*, event_id: AnyId) -> dict[str, tuple[uuid.UUID, uuid.UUID | None]]:
    """Each place of an event (its id as text) -> (its section, its price tier), for the dashboard's charts.

    Only the few distinct sections and tiers become UUIDs: 80,000 UUID objects were most of the charts' CPU."""
    event = as_uuid(event_id)
    if event is None:
        return {}
    sql = f"SELECT id::text, section_id::text, tier_id::text FROM {SEAT_TABLE} WHERE event_id = %s"  # noqa: S608
    rows = _fetch(sql, [event])
    ids = {text: uuid.UUID(text) for text in {text for row in rows for text in row[1:] if text}} | {None: None}
    return {seat: (ids[section], ids[tier]) for seat, section, tier in rows}


def event_entries_timeline(*, event_id: AnyId) -> list[tuple[dt.datetime, str, int]]:
    """Admissions of an event per five minutes and gate: ``[(bucket start (UTC), gate, count)]``, oldest first.

    One GROUP BY over the event's SUCCESS rows (entrylog_event_recent_idx); refused and duplicate scans do not count.
    """
    event = as_uuid(event_id)
    if event is None:
        return []
    return _fetch(
        "SELECT date_bin(%s::interval, created_at, TIMESTAMPTZ '2000-01-01 00:00+00') AS bucket, gate, count(*) "  # noqa: S608 - fixed SQL, values are parameters
        f"FROM {EntryLog._meta.db_table} WHERE event_id = %s AND result = %s GROUP BY 1, 2 ORDER BY 1, 2",
        [f"{ENTRY_BUCKET_MINUTES} minutes", event, EntryLogResult.SUCCESS.value],
    )


def entry_logs_for_seat(*, seat_id: AnyId) -> list[dict[str, Any]]:
    """A ticket's scan history (newest first), for the ticket page and staff."""
    pk = as_uuid(seat_id)
    if pk is None:
        return []
    return list(
        EntryLog.objects.using(DB_ALIAS)
        .filter(seat_id=pk)
        .order_by("-created_at")
        .values("id", "created_at", "gate", "result", "detail")[:20]
    )


def entry_logs_at_gate(*, event_id: uuid.UUID, gate: str, limit: int = 8) -> list[dict[str, Any]]:
    """The latest scans at one gate of an event (newest first), for the gate page's "recent" list."""
    labels = dict(EntryLogResult.choices)
    rows = (
        EntryLog.objects.using(DB_ALIAS)
        .filter(event_id=event_id, gate=gate)
        .order_by("-created_at")
        .values("created_at", "result", "detail", "seat_id")[:limit]
    )
    return [{**row, "result_label": labels.get(row["result"], row["result"])} for row in rows]


def inventory_count_for_event(*, event_id: AnyId) -> int:
    """How many places the event has, soft-deleted ones included (what a rerun of the bulk creation would skip)."""
    event = as_uuid(event_id)
    if event is None:
        return 0
    return Seat.all_objects.using(DB_ALIAS).filter(event_id=event).count()


def seat_labels(*, seat_ids: Iterable[uuid.UUID] | None) -> dict[uuid.UUID, str]:
    """seat id -> "Row A, seat 3" (or "General admission #12"), for staff pages that name places (entry logs)."""
    ids = list(seat_ids or ())
    if not ids:
        return {}
    rows = (
        Seat.all_objects.using(DB_ALIAS)
        .filter(pk__in=ids)
        .values_list("id", "row_label", "number", "is_general_admission")
    )
    return {pk: seat_label(row_label=row, number=number, is_general_admission=ga) for pk, row, number, ga in rows}


# --- Exports: keyset pages, so a long export reads a bounded batch at a time -----------------------------------


def tickets_of_event_page(
    *, event_id: uuid.UUID, after: tuple[uuid.UUID, str, int] | None = None, limit: int = 2000
) -> list[SeatInfo]:
    """The event's tickets (sold, listed, checked in) by section, row and number, ``limit`` after ``after`` (the
    last seat's (section_id, row_label, number)); unique per event, so the keyset never skips or repeats a seat."""
    where = "event_id = %s AND status IN ('SOLD', 'LISTED', 'CHECKED_IN')"
    params: list[Any] = [event_id]
    if after is not None:
        where += " AND (section_id, row_label, number) > (%s, %s, %s)"
        params += list(after)
    return _seats(where, params, order_by=f"section_id, row_label, number LIMIT {int(limit)}")


def entry_logs_page(
    *, event_id: uuid.UUID, after: tuple[dt.datetime, uuid.UUID] | None = None, limit: int = 2000
) -> list[dict[str, Any]]:
    """The event's gate scans, oldest first, ``limit`` after ``after`` (the last row's (created_at, id))."""
    rows = EntryLog.objects.using(DB_ALIAS).filter(event_id=event_id)
    if after is not None:
        created_at, pk = after
        rows = rows.filter(Q(created_at__gt=created_at) | Q(created_at=created_at, id__gt=pk))
    return list(
        rows.order_by("created_at", "id").values(
            "id", "created_at", "gate", "result", "detail", "seat_id", "staff_id", "holder_id"
        )[:limit]
    )
