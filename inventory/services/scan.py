"""Gate scans: check a scanned code and admit its ticket at most once; every attempt is written to the EntryLog."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import Callable
from typing import Any

from django.core import signing
from django.db import IntegrityError, OperationalError, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from core import config
from core.errors import InvalidInput
from core.locking import is_lock_not_available
from core.observability import note_outcome
from inventory import DB_ALIAS
from inventory.contract import EntryLogResult, PrintedPayload, QrPayload, ScanBusy, ScanResult, SeatInfo, SeatStatus
from inventory.models import EntryLog
from inventory.selectors import SEAT_COLUMNS, SEAT_TABLE, seat_info_from_row, ticket_get
from inventory.services._shared import optional_id, require_id, seats_cursor
from inventory.services.qr import QR_CLOCK_SKEW_SECONDS, printed_token_read, qr_token_read

logger = logging.getLogger(__name__)

# Stored in English in the entry log; gettext_noop puts them in the catalogs, and the gate page shows them translated.
_SCAN_DETAIL = {
    EntryLogResult.SUCCESS: gettext_noop("Admitted."),
    EntryLogResult.DUPLICATE: gettext_noop("Already checked in"),
    EntryLogResult.WRONG_EVENT: gettext_noop("This ticket is for another event."),
    EntryLogResult.NOT_PAID: gettext_noop("This seat is not a paid ticket."),
    EntryLogResult.EXPIRED: gettext_noop("This code has expired; ask the holder to refresh their ticket page."),
    EntryLogResult.INVALID: gettext_noop("This is not a valid TicketRemaster code."),
    EntryLogResult.NOT_FOUND: gettext_noop("No such ticket."),
    EntryLogResult.REVOKED: gettext_noop("This code was replaced (the ticket was transferred, resold or refunded)."),
}
PRINTED_ADMITTED = gettext_noop("Admitted (printed ticket).")
PRINTED_REPRINTED = gettext_noop("This printed ticket was reprinted: only the newest print is valid.")


def _fingerprint(token: Any) -> str:
    raw = token if isinstance(token, str) else repr(token)
    return hashlib.sha256(raw.encode("utf-8", "replace")).hexdigest()[:32]


def ticket_scan(
    *,
    token: Any,
    event_id: uuid.UUID,
    gate: str,
    staff_id: uuid.UUID,
    organization_id: uuid.UUID | None = None,
) -> ScanResult:
    """Check a scanned code at a gate and admit its ticket at most once. Every attempt writes an EntryLog.

    Order of checks: signature (INVALID), age (EXPIRED), seat exists (NOT_FOUND), event (WRONG_EVENT), owner and QR
    version as they are now (REVOKED), status: SOLD -> CHECKED_IN (SUCCESS), CHECKED_IN (DUPLICATE), else NOT_PAID.
    A printed ticket's code (its own signature, no age) is checked the same way against the QR version and the
    print version (an older print: REVOKED, saying it was reprinted).
    ScanBusy (409) if the ticket stays locked by another change for more than 3 s (not logged: scan again).
    """
    event = require_id(event_id, name="event_id")
    staff = require_id(staff_id, name="staff_id")
    organization = optional_id(organization_id, name="organization_id")
    gate = str(gate or "").strip()[:64]
    if not gate:
        raise InvalidInput(gettext("Name the gate."), fields={"gate": [gettext("This field is required.")]})
    log = {
        "event_id": event,
        "organization_id": organization,
        "staff_id": staff,
        "gate": gate,
        "token_fingerprint": _fingerprint(token),
    }
    try:
        payload = qr_token_read(token)
    except signing.BadSignature:
        return _scan_printed(token, event=event, log=log)
    now = timezone.now()
    age = now.timestamp() - payload.issued_at
    if age < -QR_CLOCK_SKEW_SECONDS:
        return _scan_log(
            log, EntryLogResult.INVALID, detail=gettext_noop("This code was issued in the future; check the clocks.")
        )
    if age > config.get("qr_lifetime_seconds"):
        return _scan_log(log, EntryLogResult.EXPIRED, seat_id=payload.seat_id, holder_id=payload.owner_id)
    return _admit_once(
        payload.seat_id,
        match=("owner_id = %s AND qr_version = %s", [payload.owner_id, payload.qr_version]),
        refusal=lambda seat: _refusal(seat, payload, event),
        event=event,
        log=log,
        now=now,
        admitted=_SCAN_DETAIL[EntryLogResult.SUCCESS],
    )


def _scan_printed(token: Any, *, event: uuid.UUID, log: dict[str, Any]) -> ScanResult:
    """A printed ticket: a static code the gate accepts once, while it is the ticket's latest print."""
    try:
        payload = printed_token_read(token)
    except signing.BadSignature:
        return _scan_log(log, EntryLogResult.INVALID)
    return _admit_once(
        payload.seat_id,
        match=("qr_version = %s AND print_version = %s", [payload.qr_version, payload.print_version]),
        refusal=lambda seat: _printed_refusal(seat, payload, event),
        event=event,
        log=log,
        now=timezone.now(),
        admitted=PRINTED_ADMITTED,
    )


_ENTRY_TABLE = EntryLog._meta.db_table
_ENTRY_COLUMNS = (
    "id, created_at, updated_at, seat_id, event_id, organization_id, staff_id, gate, result, holder_id, "
    "token_fingerprint, detail"
)
# Bounded wait: another gate admitting this very ticket holds the row lock for a millisecond or two. Set by the
# statement that may wait, in a CTE its locking part reads first, so it costs no round trip of its own.
_LOCK_TIMEOUT = "timeout AS MATERIALIZED (SELECT set_config('lock_timeout', '3s', true))"


def _admission_sql(condition: str) -> str:
    """The admission and its SUCCESS log row in one statement: both or neither. Parameters: now, now, seat, event,
    ``condition``'s, then the log row's id, created_at, updated_at, event, organization, staff, gate,
    fingerprint, detail."""
    return (
        f"WITH {_LOCK_TIMEOUT}, admitted AS (UPDATE {SEAT_TABLE} "  # noqa: S608 - fixed SQL, values are parameters
        "SET status = 'CHECKED_IN', checked_in_at = %s, updated_at = %s FROM timeout "
        f"WHERE id = %s AND event_id = %s AND {condition} AND status = 'SOLD' AND deleted_at IS NULL "
        f"RETURNING {SEAT_COLUMNS}), "
        f"logged AS (INSERT INTO {_ENTRY_TABLE} ({_ENTRY_COLUMNS}) "
        "SELECT %s::uuid, %s::timestamptz, %s::timestamptz, admitted.id, %s::uuid, %s::uuid, %s::uuid, %s::text, "
        "'SUCCESS', admitted.owner_id, %s::text, %s::text FROM admitted) "
        f"SELECT {SEAT_COLUMNS} FROM admitted"
    )


# The seat under its row lock, to tell why it was not admitted (with the same bounded wait).
_LOG_INSERT = (
    f"INSERT INTO {_ENTRY_TABLE} (id, created_at, updated_at, event_id, organization_id, staff_id, gate, "  # noqa: S608
    "token_fingerprint, seat_id, result, holder_id, detail) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
_LOCKED_SEAT = (
    f"WITH {_LOCK_TIMEOUT} SELECT {SEAT_COLUMNS} FROM {SEAT_TABLE}, timeout "  # noqa: S608 - fixed SQL
    f"WHERE id = %s AND deleted_at IS NULL FOR UPDATE OF {SEAT_TABLE}"
)


def _admit_once(
    seat_id: uuid.UUID,
    *,
    match: tuple[str, list],
    refusal: Callable[[SeatInfo | None], tuple[str, str]],
    event: uuid.UUID,
    log: dict[str, Any],
    now: dt.datetime,
    admitted: str,
) -> ScanResult:
    """Admission is a compare-and-set UPDATE that takes the row lock: a second gate scanning the same ticket waits
    for the first (milliseconds), then sees CHECKED_IN and answers DUPLICATE. The partial unique index
    entrylog_one_success backs "exactly one SUCCESS" in the database itself. ``match``: what the code must still
    agree with (a condition on the row and its parameters).

    The admission and its log row are one statement (on its own, its own transaction: no BEGIN/COMMIT round trip);
    only a refused scan opens a transaction, to read the seat under its lock and log the refusal.
    """
    condition, params = match
    connection = connections[DB_ALIAS]
    try:
        with _statement_scope(connection), seats_cursor() as cursor:
            cursor.execute(
                _admission_sql(condition),
                [now, now, seat_id, event, *params, *_log_params(log, now=now), admitted],
            )
            row = cursor.fetchone()
        if row is not None:
            seat = seat_info_from_row(row, now=now)
            note_outcome(EntryLogResult.SUCCESS)
            return ScanResult(EntryLogResult.SUCCESS, seat, seat.owner_id, admitted, admitted=True)
        with transaction.atomic(using=DB_ALIAS), seats_cursor() as cursor:
            # Not admitted: find out why, under the row lock so the answer matches the state it describes.
            cursor.execute(_LOCKED_SEAT, [seat_id])
            row = cursor.fetchone()
            seat = seat_info_from_row(row, now=now) if row else None
            result, detail = refusal(seat)
            return _scan_log(log, result, seat=seat, detail=detail, holder_id=seat.owner_id if seat else None)
    except OperationalError as exc:
        if not is_lock_not_available(exc):
            raise
        raise ScanBusy() from None
    except IntegrityError:
        # entrylog_one_success refused a second SUCCESS for this seat: it was admitted before, whatever the row
        # says now. The statement (including the status change) was rolled back.
        logger.warning("second SUCCESS refused by entrylog_one_success for seat %s", seat_id)
        seat = ticket_get(seat_id=seat_id)
        return _scan_log(log, EntryLogResult.DUPLICATE, seat=seat, holder_id=seat.owner_id)


def _statement_scope(connection) -> contextlib.AbstractContextManager:
    """Inside a caller's transaction a savepoint keeps a refused statement from breaking it; in autocommit (the
    gate's requests) the statement is its own transaction."""
    return transaction.atomic(using=DB_ALIAS) if connection.in_atomic_block else contextlib.nullcontext()


def _log_params(log: dict[str, Any], *, now: dt.datetime) -> list:
    """A log row's id, created_at, updated_at, event, organization, staff, gate and fingerprint, in that order."""
    return [
        uuid.uuid4(),
        now,
        now,
        log["event_id"],
        log["organization_id"],
        log["staff_id"],
        log["gate"],
        log["token_fingerprint"],
    ]


def _place_refusal(seat: SeatInfo | None, event: uuid.UUID) -> tuple[str, str] | None:
    """No such place, or a place of another event: the same answer for a phone's code and a printed one."""
    if seat is None:
        return EntryLogResult.NOT_FOUND, _SCAN_DETAIL[EntryLogResult.NOT_FOUND]
    if seat.event_id != event:
        return EntryLogResult.WRONG_EVENT, _SCAN_DETAIL[EntryLogResult.WRONG_EVENT]
    return None


def _refusal(seat: SeatInfo | None, payload: QrPayload, event: uuid.UUID) -> tuple[str, str]:
    if (refused := _place_refusal(seat, event)) is not None:
        return refused
    if seat.owner_id != payload.owner_id or seat.qr_version != payload.qr_version:
        return EntryLogResult.REVOKED, _SCAN_DETAIL[EntryLogResult.REVOKED]
    return _status_refusal(seat)


def _printed_refusal(seat: SeatInfo | None, payload: PrintedPayload, event: uuid.UUID) -> tuple[str, str]:
    if (refused := _place_refusal(seat, event)) is not None:
        return refused
    if seat.qr_version != payload.qr_version:
        return EntryLogResult.REVOKED, _SCAN_DETAIL[EntryLogResult.REVOKED]
    if _print_version(seat.id) != payload.print_version:
        return EntryLogResult.REVOKED, PRINTED_REPRINTED
    return _status_refusal(seat)


def _print_version(seat_id: uuid.UUID) -> int:
    with seats_cursor() as cursor:
        cursor.execute(f"SELECT print_version FROM {SEAT_TABLE} WHERE id = %s", [seat_id])  # noqa: S608
        return cursor.fetchone()[0]


def _status_refusal(seat: SeatInfo) -> tuple[str, str]:
    if seat.status == SeatStatus.CHECKED_IN:
        when = timezone.localtime(seat.checked_in_at).strftime("%H:%M:%S") if seat.checked_in_at else "earlier"
        return EntryLogResult.DUPLICATE, f"Already checked in at {when}."
    return EntryLogResult.NOT_PAID, _SCAN_DETAIL[EntryLogResult.NOT_PAID]


def _scan_log(
    log: dict[str, Any],
    result: str,
    *,
    seat: SeatInfo | None = None,
    seat_id: uuid.UUID | None = None,
    holder_id: uuid.UUID | None = None,
    detail: str | None = None,
) -> ScanResult:
    detail = (detail or _SCAN_DETAIL[result])[:255]
    with seats_cursor() as cursor:
        cursor.execute(
            _LOG_INSERT,
            [*_log_params(log, now=timezone.now()), seat.id if seat else seat_id, result, holder_id, detail],
        )
    note_outcome(result)
    return ScanResult(result, seat, holder_id, detail, admitted=False)
