"""Business operations of the inventory domain: holds, sales, tickets, QR codes, gate scans, bulk inventory.

Every seat status change here is either a compare-and-set UPDATE filtered on the expected state (and its row count
checked) or happens under ``SELECT ... FOR UPDATE`` taken in sorted id order. A busy seat is a conflict, never a
wait: explicit holds lock with NOWAIT, best-available skips locked rows. An expired hold (status HELD with
hold_expires_at <= now) is available to anyone at once, in every statement below.

Other apps get SeatInfo dataclasses (inventory.selectors) and DomainError subclasses, never models.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import uuid
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import segno
from django.conf import settings
from django.core import signing
from django.db import IntegrityError, OperationalError, connections, transaction
from django.utils import timezone

from inventory import DB_ALIAS
from inventory.models import EntryLog, Seat
from inventory.selectors import (  # re-exported: callers may use either module for reads
    SEAT_COLUMNS,
    SEAT_TABLE,
    TICKET_STATUSES,
    SeatInfo,
    as_uuid,
    event_sales_summary,
    holds_for_buyer,
    seat_info_from_row,
    seat_map,
    seats_of_order,
    section_availability,
    ticket_get,
    ticket_get_for_owner,
    tickets_for_owner,
)
from ticketremaster import config
from ticketremaster.errors import Conflict, DomainError, InvalidInput, NotFound

__all__ = [
    "EntryResult",
    "HoldExpired",
    "HoldLimitExceeded",
    "NotEnoughSeats",
    "QrUnavailable",
    "ScanBusy",
    "ScanResult",
    "SeatInfo",
    "SeatUnavailable",
    "SectionInventorySpec",
    "TicketCheckedIn",
    "TicketNotTransferable",
    "TicketTransferred",
    "event_sales_summary",
    "holds_for_buyer",
    "inventory_create_for_event",
    "seat_map",
    "seats_hold",
    "seats_hold_best_available",
    "seats_of_order",
    "seats_release",
    "seats_sell",
    "seats_unsell",
    "section_availability",
    "ticket_change_owner",
    "ticket_get",
    "ticket_qr",
    "ticket_qr_svg",
    "ticket_scan",
    "ticket_set_listed",
    "tickets_for_owner",
    "tickets_listed_before",
]

logger = logging.getLogger(__name__)

EntryResult = EntryLog.Result
Status = Seat.Status


# --- Errors ----------------------------------------------------------------------------------------------------


class SeatUnavailable(Conflict):
    code = "SEAT_UNAVAILABLE"
    status = 409
    default_detail = "One or more of these seats are no longer available."


class HoldLimitExceeded(Conflict):
    code = "HOLD_LIMIT_EXCEEDED"
    status = 409
    default_detail = "You already hold the most places allowed for this event."


class NotEnoughSeats(Conflict):
    code = "NOT_ENOUGH_SEATS"
    status = 409
    default_detail = "Not enough places are available."


class HoldExpired(Conflict):
    code = "HOLD_EXPIRED"
    status = 409
    default_detail = "Your hold on these seats expired or was lost; choose seats again."


class TicketCheckedIn(Conflict):
    code = "TICKET_CHECKED_IN"
    status = 409
    default_detail = "This ticket was already used at the gate."


class TicketTransferred(Conflict):
    code = "TICKET_TRANSFERRED"
    status = 409
    default_detail = (
        "A ticket of this order now belongs to someone else (transferred or resold); the order cannot be refunded."
    )


class TicketNotTransferable(Conflict):
    code = "TICKET_NOT_TRANSFERABLE"
    status = 409
    default_detail = "This ticket cannot change hands in its current state."


class QrUnavailable(Conflict):
    code = "TICKET_LISTED"
    status = 409
    default_detail = "This ticket is listed for resale; withdraw the listing to use it at the gate."


class ScanBusy(Conflict):
    code = "SCAN_BUSY"
    status = 409
    default_detail = "This ticket is being changed right now; scan it again."


# --- Helpers ---------------------------------------------------------------------------------------------------

_LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL lock_not_available: NOWAIT met a locked row, or lock_timeout ran out
_BUYER_LOCK_NAMESPACE = 0x5EA7  # first key of the two-int advisory lock serialising one buyer's holds per event


def _lock_not_available(exc: OperationalError) -> bool:
    return getattr(exc.__cause__, "sqlstate", None) == _LOCK_NOT_AVAILABLE


def _uuid(value: Any, *, name: str) -> uuid.UUID:
    pk = as_uuid(value)
    if pk is None:
        raise InvalidInput(f"{name} is not a valid id.", fields={name: ["Not a valid id."]})
    return pk


def _uuid_list(values: Iterable | None, *, name: str) -> list[uuid.UUID]:
    if values is None or isinstance(values, str | bytes):
        raise InvalidInput(f"{name} must be a list of ids.", fields={name: ["Expected a list."]})
    return sorted({_uuid(value, name=name) for value in values})


def _positive_int(value: Any, *, name: str, maximum: int = 10_000) -> int:
    if isinstance(value, bool):
        raise InvalidInput(f"{name} must be a whole number.", fields={name: ["A whole number is required."]})
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a whole number.", fields={name: ["A whole number is required."]}) from None
    if not 1 <= number <= maximum:
        raise InvalidInput(f"{name} must be between 1 and {maximum}.", fields={name: [f"1 to {maximum}."]})
    return number


def _cursor():
    return connections[DB_ALIAS].cursor()


def _lock_buyer(cursor, *, buyer_id: uuid.UUID, event_id: uuid.UUID) -> None:
    """Serialise one buyer's hold requests for one event, so two parallel requests cannot both pass the limit.

    Only the same buyer (or a rare hash collision) ever waits here, and only for another short hold transaction;
    seats are never waited for. Taken before any seat lock, so it cannot take part in a deadlock.
    """
    key = zlib.crc32(buyer_id.bytes + event_id.bytes) - 2**31  # a signed int4
    cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_BUYER_LOCK_NAMESPACE, key])


def _active_holds(cursor, *, buyer_id: uuid.UUID, event_id: uuid.UUID, now: dt.datetime, exclude=()) -> int:
    # Served by the partial index seat_holds_by_buyer_idx (held_by_id WHERE status = 'HELD').
    cursor.execute(
        f"SELECT count(*) FROM {SEAT_TABLE} WHERE held_by_id = %s AND status = 'HELD' "  # noqa: S608 - fixed SQL
        "AND hold_expires_at > %s AND event_id = %s AND deleted_at IS NULL AND NOT (id = ANY(%s))",
        [buyer_id, now, event_id, list(exclude)],
    )
    return cursor.fetchone()[0]


def _check_hold_args(hold_seconds: Any, max_per_buyer: Any) -> tuple[int, int]:
    return (
        _positive_int(hold_seconds, name="hold_seconds", maximum=24 * 3600),
        _positive_int(max_per_buyer, name="max_per_buyer", maximum=10_000),
    )


# "Free" = AVAILABLE, or a hold that has run out (anyone's). Used in every statement that takes a seat.
_FREE = "(status = 'AVAILABLE' OR (status = 'HELD' AND hold_expires_at <= %s))"


# --- Holds -----------------------------------------------------------------------------------------------------


def seats_hold(*, event_id, buyer_id, seat_ids: Iterable, hold_seconds: int, max_per_buyer: int) -> list[SeatInfo]:
    """Hold exactly these seats for the buyer, all or nothing.

    Locks the rows in sorted id order with NOWAIT: a seat another transaction is taking right now is a
    SeatUnavailable at once, never a wait. A free seat (AVAILABLE or anyone's expired hold) is taken; the buyer's own
    unexpired hold is extended. Errors: NotFound (a seat not of this event), SeatUnavailable (context
    ``seat_ids``), HoldLimitExceeded (unexpired holds for the event + new ones > max_per_buyer).
    """
    event = _uuid(event_id, name="event_id")
    buyer = _uuid(buyer_id, name="buyer_id")
    ids = _uuid_list(seat_ids, name="seat_ids")
    if not ids:
        raise InvalidInput("Choose at least one seat.", fields={"seat_ids": ["Choose at least one seat."]})
    hold_seconds, max_per_buyer = _check_hold_args(hold_seconds, max_per_buyer)
    if len(ids) > max_per_buyer:
        raise HoldLimitExceeded(f"You can hold at most {max_per_buyer} places for this event.", limit=max_per_buyer)
    now = timezone.now()
    try:
        with transaction.atomic(using=DB_ALIAS), _cursor() as cursor:
            _lock_buyer(cursor, buyer_id=buyer, event_id=event)
            cursor.execute(
                f"SELECT id, status, held_by_id, hold_expires_at FROM {SEAT_TABLE} "  # noqa: S608 - fixed SQL
                "WHERE id = ANY(%s) AND event_id = %s AND deleted_at IS NULL ORDER BY id FOR UPDATE NOWAIT",
                [ids, event],
            )
            rows = cursor.fetchall()
            if len(rows) != len(ids):
                found = {row[0] for row in rows}
                missing = [str(pk) for pk in ids if pk not in found]
                raise NotFound("Some of these seats do not exist for this event.", seat_ids=missing)
            taken = [
                str(pk)
                for pk, status, held_by, expires in rows
                if not (status == Status.AVAILABLE or (status == Status.HELD and (expires <= now or held_by == buyer)))
            ]
            if taken:
                raise SeatUnavailable(seat_ids=taken)
            existing = _active_holds(cursor, buyer_id=buyer, event_id=event, now=now, exclude=ids)
            if existing + len(ids) > max_per_buyer:
                raise HoldLimitExceeded(
                    f"You can hold at most {max_per_buyer} places for this event; you already hold {existing}.",
                    limit=max_per_buyer,
                    held=existing,
                )
            cursor.execute(
                f"UPDATE {SEAT_TABLE} SET status = 'HELD', held_by_id = %s, hold_expires_at = %s, updated_at = %s "  # noqa: S608
                f"WHERE id = ANY(%s) RETURNING {SEAT_COLUMNS}",
                [buyer, now + dt.timedelta(seconds=hold_seconds), now, ids],
            )
            held = cursor.fetchall()
    except OperationalError as exc:
        if not _lock_not_available(exc):
            raise
        # Another transaction is taking (or selling) one of these seats right now: a conflict, not a wait.
        raise SeatUnavailable(seat_ids=[str(pk) for pk in ids]) from None
    return _sorted_infos(held, now=now)


def _sorted_infos(rows: list[tuple], *, now: dt.datetime | None = None) -> list[SeatInfo]:
    infos = [seat_info_from_row(row, now=now) for row in rows]
    infos.sort(key=lambda seat: (seat.section_id, seat.y, seat.row_label, seat.number))
    return infos


def _pick_block(candidates: list[tuple], quantity: int, excluded: set[uuid.UUID]) -> list[uuid.UUID]:
    """Choose ``quantity`` seats from candidates ordered best first: prefer adjacent numbers in the best row,
    then any seats of one row, then the best seats anywhere. Candidates are (id, section_id, row_label, number)."""
    rows: dict[tuple, list[tuple]] = {}
    for candidate in candidates:
        if candidate[0] not in excluded:
            rows.setdefault((candidate[1], candidate[2]), []).append(candidate)
    for seats in rows.values():
        run: list[tuple] = []
        for seat in seats:
            run = run + [seat] if run and seat[3] == run[-1][3] + 1 else [seat]
            if len(run) == quantity:
                return [s[0] for s in run]
    for seats in rows.values():
        if len(seats) >= quantity:
            return [s[0] for s in seats[:quantity]]
    return [c[0] for c in candidates if c[0] not in excluded][:quantity]


class _PartialBlock(Exception):
    def __init__(self, lost: set[uuid.UUID]):
        self.lost = lost


_BEST_ORDER = "section_id, y, row_label, number"  # the front row (smallest y) first, then left to right
_CANDIDATE_WINDOW = 400
_BLOCK_ATTEMPTS = 3


def seats_hold_best_available(
    *,
    event_id,
    buyer_id,
    quantity: int,
    section_id=None,
    tier_id=None,
    hold_seconds: int,
    max_per_buyer: int,
) -> list[SeatInfo]:
    """Hold the best ``quantity`` free places (optionally in one section and/or tier), preferring adjacent seats.

    A window of free seats is read without locks and a block chosen; the block is then taken in one statement with
    ``FOR UPDATE SKIP LOCKED`` inside a savepoint. If another buyer took part of it meanwhile, the savepoint is rolled
    back and another block chosen; after a few tries any free seats in best order are taken. Racing buyers never get
    the same seat and never wait for each other. NotEnoughSeats (409) when too few places are free.
    """
    event = _uuid(event_id, name="event_id")
    buyer = _uuid(buyer_id, name="buyer_id")
    hold_seconds, max_per_buyer = _check_hold_args(hold_seconds, max_per_buyer)
    quantity = _positive_int(quantity, name="quantity")
    if quantity > max_per_buyer:
        raise HoldLimitExceeded(f"You can hold at most {max_per_buyer} places for this event.", limit=max_per_buyer)
    section = _uuid(section_id, name="section_id") if section_id not in (None, "") else None
    tier = _uuid(tier_id, name="tier_id") if tier_id not in (None, "") else None

    scope, scope_params = "event_id = %s AND deleted_at IS NULL", [event]
    if section:
        scope += " AND section_id = %s"
        scope_params.append(section)
    if tier:
        scope += " AND tier_id = %s"
        scope_params.append(tier)
    now = timezone.now()
    expires = now + dt.timedelta(seconds=hold_seconds)
    take_sql = (
        f"UPDATE {SEAT_TABLE} SET status = 'HELD', held_by_id = %s, hold_expires_at = %s, updated_at = %s "  # noqa: S608
        f"WHERE id IN (SELECT id FROM {SEAT_TABLE} WHERE {{where}} FOR UPDATE SKIP LOCKED) RETURNING {SEAT_COLUMNS}"
    )
    with transaction.atomic(using=DB_ALIAS), _cursor() as cursor:
        _lock_buyer(cursor, buyer_id=buyer, event_id=event)
        existing = _active_holds(cursor, buyer_id=buyer, event_id=event, now=now)
        if existing + quantity > max_per_buyer:
            raise HoldLimitExceeded(
                f"You can hold at most {max_per_buyer} places for this event; you already hold {existing}.",
                limit=max_per_buyer,
                held=existing,
            )
        excluded: set[uuid.UUID] = set()
        for _attempt in range(_BLOCK_ATTEMPTS):
            cursor.execute(
                f"SELECT id, section_id, row_label, number FROM {SEAT_TABLE} WHERE {scope} AND {_FREE} "  # noqa: S608
                f"ORDER BY {_BEST_ORDER} LIMIT %s",
                [*scope_params, now, _CANDIDATE_WINDOW + len(excluded)],
            )
            candidates = cursor.fetchall()
            block = _pick_block(candidates, quantity, excluded)
            if len(block) < quantity:
                raise NotEnoughSeats(f"Only {len(block)} places are available.", available=len(block))
            try:
                with transaction.atomic(using=DB_ALIAS):
                    cursor.execute(
                        take_sql.format(where=f"id = ANY(%s) AND {_FREE}"), [buyer, expires, now, block, now]
                    )
                    rows = cursor.fetchall()
                    if len(rows) < quantity:
                        raise _PartialBlock(set(block) - {row[0] for row in rows})
                    return _sorted_infos(rows, now=now)
            except _PartialBlock as partial:
                excluded |= partial.lost  # taken by someone else meanwhile; the savepoint released the rest
        # Heavy contention: take any free seats in best order, skipping whatever others are locking right now.
        cursor.execute(
            take_sql.format(where=f"{scope} AND {_FREE} ORDER BY {_BEST_ORDER} LIMIT %s"),
            [buyer, expires, now, *scope_params, now, quantity],
        )
        rows = cursor.fetchall()
        if len(rows) < quantity:
            raise NotEnoughSeats(f"Only {len(rows)} places are available right now.", available=len(rows))
        return _sorted_infos(rows, now=now)


def seats_release(*, buyer_id, event_id=None, seat_ids: Iterable | None = None) -> int:
    """Release the buyer's own unexpired holds (all, one event's, or the listed seats). Returns how many."""
    buyer = _uuid(buyer_id, name="buyer_id")
    where, params = "held_by_id = %s AND status = 'HELD' AND hold_expires_at > %s", [buyer, timezone.now()]
    if event_id not in (None, ""):
        where += " AND event_id = %s"
        params.append(_uuid(event_id, name="event_id"))
    if seat_ids is not None:
        ids = _uuid_list(seat_ids, name="seat_ids")
        if not ids:
            return 0
        where += " AND id = ANY(%s)"
        params.append(ids)
    with transaction.atomic(using=DB_ALIAS), _cursor() as cursor:
        cursor.execute(
            f"UPDATE {SEAT_TABLE} SET status = 'AVAILABLE', held_by_id = NULL, hold_expires_at = NULL, "  # noqa: S608
            f"updated_at = %s WHERE {where}",
            [timezone.now(), *params],
        )
        return cursor.rowcount


# --- Sales -----------------------------------------------------------------------------------------------------


def seats_sell(*, buyer_id, order_id, seat_ids: Iterable) -> list[SeatInfo]:
    """HELD by this buyer and unexpired -> SOLD to the buyer for this order, in one compare-and-set UPDATE.

    All or nothing: if any seat is neither still held by the buyer nor already sold to this order, nothing is sold
    and HoldExpired is raised. Idempotent: seats already sold to this order (a retry) count as sold.
    """
    buyer = _uuid(buyer_id, name="buyer_id")
    order = _uuid(order_id, name="order_id")
    ids = _uuid_list(seat_ids, name="seat_ids")
    if not ids:
        raise InvalidInput("No seats to sell.", fields={"seat_ids": ["At least one seat is required."]})
    now = timezone.now()
    with transaction.atomic(using=DB_ALIAS), _cursor() as cursor:
        cursor.execute(
            f"UPDATE {SEAT_TABLE} SET status = 'SOLD', owner_id = %s, order_id = %s, held_by_id = NULL, "  # noqa: S608
            "hold_expires_at = NULL, updated_at = %s "
            "WHERE id = ANY(%s) AND status = 'HELD' AND held_by_id = %s AND hold_expires_at > %s "
            "AND deleted_at IS NULL "
            f"RETURNING {SEAT_COLUMNS}",
            [buyer, order, now, ids, buyer, now],
        )
        rows = cursor.fetchall()
        if len(rows) < len(ids):
            sold = {row[0] for row in rows}
            cursor.execute(
                f"SELECT {SEAT_COLUMNS} FROM {SEAT_TABLE} WHERE id = ANY(%s) AND order_id = %s",  # noqa: S608
                [[pk for pk in ids if pk not in sold], order],
            )
            rows += cursor.fetchall()
        if len(rows) < len(ids):
            got = {row[0] for row in rows}
            # Rolls the whole UPDATE back: an order never gets part of its seats.
            raise HoldExpired(seat_ids=[str(pk) for pk in ids if pk not in got])
    return _sorted_infos(rows, now=now)


def seats_unsell(*, order_id, block: bool = False, owner_id=None) -> int:
    """Every ticket of the order (SOLD or LISTED) back to AVAILABLE (or BLOCKED): owner and order cleared, QR version
    bumped so every code issued for it is dead. Idempotent (a second call finds nothing). A CHECKED_IN ticket makes
    the whole call refuse with TicketCheckedIn (nothing changes). With ``owner_id`` (a refund: the buyer), a ticket
    that now belongs to someone else (transferred, resold) makes it refuse with TicketTransferred (nothing changes)."""
    order = _uuid(order_id, name="order_id")
    owner = _uuid(owner_id, name="owner_id") if owner_id is not None else None
    now = timezone.now()
    with transaction.atomic(using=DB_ALIAS), _cursor() as cursor:
        # Lock the order's seats in id order first, so a gate scan cannot admit one while the refund runs.
        cursor.execute(
            f"SELECT id, status, owner_id FROM {SEAT_TABLE} WHERE order_id = %s ORDER BY id FOR UPDATE",  # noqa: S608
            [order],
        )
        rows = cursor.fetchall()
        checked_in = [str(pk) for pk, status, _owner in rows if status == Status.CHECKED_IN]
        if checked_in:
            raise TicketCheckedIn(seat_ids=checked_in)
        # Checked under the same row locks: freeing a ticket that was passed on would take it from its new holder.
        passed_on = [str(pk) for pk, status, holder in rows if owner is not None and holder not in (None, owner)]
        if passed_on:
            raise TicketTransferred(seat_ids=passed_on)
        target = Status.BLOCKED if block else Status.AVAILABLE
        cursor.execute(
            f"UPDATE {SEAT_TABLE} SET status = %s, owner_id = NULL, order_id = NULL, "  # noqa: S608
            "qr_version = qr_version + 1, updated_at = %s WHERE order_id = %s AND status IN ('SOLD', 'LISTED')",
            [target.value, now, order],
        )
        return cursor.rowcount


def tickets_listed_before(*, updated_before: dt.datetime, limit: int = 5000) -> list[SeatInfo]:
    """LISTED tickets untouched since ``updated_before``, oldest first: the resale recoverer checks that each still
    has its active listing. Plain read (the only status-only scan here; LISTED rows are few and recovery is rare)."""
    with _cursor() as cursor:
        cursor.execute(
            f"SELECT {SEAT_COLUMNS} FROM {SEAT_TABLE} WHERE status = 'LISTED' AND updated_at <= %s "  # noqa: S608
            "AND deleted_at IS NULL ORDER BY updated_at LIMIT %s",
            [updated_before, int(limit)],
        )
        return [seat_info_from_row(row) for row in cursor.fetchall()]


# --- Tickets ---------------------------------------------------------------------------------------------------


def ticket_change_owner(*, seat_id, from_owner_id, to_owner_id, from_statuses: Iterable[str] = ("SOLD",)) -> SeatInfo:
    """Compare-and-set the owner (and status -> SOLD), bumping the QR version so the old owner's codes die.

    Idempotent: a ticket already owned by ``to_owner_id`` (SOLD) is returned unchanged. Otherwise, unless the ticket
    is owned by ``from_owner_id`` in one of ``from_statuses``, TicketNotTransferable (409).
    """
    seat = _uuid(seat_id, name="seat_id")
    from_owner = _uuid(from_owner_id, name="from_owner_id")
    to_owner = _uuid(to_owner_id, name="to_owner_id")
    statuses = sorted({str(status) for status in from_statuses})
    if not statuses or not set(statuses) <= set(TICKET_STATUSES):
        raise InvalidInput("from_statuses must be ticket statuses (SOLD, LISTED, CHECKED_IN).")
    if from_owner != to_owner:
        with transaction.atomic(using=DB_ALIAS), _cursor() as cursor:
            cursor.execute(
                f"UPDATE {SEAT_TABLE} SET owner_id = %s, status = 'SOLD', qr_version = qr_version + 1, "  # noqa: S608
                "updated_at = %s WHERE id = %s AND owner_id = %s AND status = ANY(%s) AND deleted_at IS NULL "
                f"RETURNING {SEAT_COLUMNS}",
                [to_owner, timezone.now(), seat, from_owner, statuses],
            )
            row = cursor.fetchone()
        if row is not None:
            return seat_info_from_row(row)
    ticket = ticket_get(seat_id=seat)
    if ticket.owner_id == to_owner and ticket.status == Status.SOLD:
        return ticket
    raise TicketNotTransferable(seat_id=str(seat), status=ticket.status)


def ticket_set_listed(*, seat_id, owner_id, listed: bool, unchanged_since: dt.datetime | None = None) -> SeatInfo:
    """SOLD <-> LISTED for the ticket's owner (compare-and-set). Idempotent; anything else TicketNotTransferable.

    ``unchanged_since`` (a recoverer's repair) adds ``updated_at <= unchanged_since`` to the compare-and-set, so a
    ticket a live flow touched after the recoverer looked at it is left alone."""
    seat = _uuid(seat_id, name="seat_id")
    owner = _uuid(owner_id, name="owner_id")
    source, target = (Status.SOLD, Status.LISTED) if listed else (Status.LISTED, Status.SOLD)
    with transaction.atomic(using=DB_ALIAS), _cursor() as cursor:
        cursor.execute(
            f"UPDATE {SEAT_TABLE} SET status = %s, updated_at = %s "  # noqa: S608 - fixed SQL
            "WHERE id = %s AND owner_id = %s AND status = %s AND deleted_at IS NULL "
            f"AND (%s::timestamptz IS NULL OR updated_at <= %s) RETURNING {SEAT_COLUMNS}",
            [target.value, timezone.now(), seat, owner, source.value, unchanged_since, unchanged_since],
        )
        row = cursor.fetchone()
    if row is not None:
        return seat_info_from_row(row)
    ticket = ticket_get(seat_id=seat)
    if ticket.owner_id == owner and ticket.status == target:
        return ticket
    if ticket.owner_id != owner:
        raise NotFound("No such ticket.")
    raise TicketNotTransferable(
        "Only a sold ticket can be listed." if listed else "This ticket is not listed.",
        seat_id=str(seat),
        status=ticket.status,
    )


# --- QR codes --------------------------------------------------------------------------------------------------
# Token: "<seat hex>.<owner hex>.<qr_version>.<issued-at epoch seconds>:<signature>", signed by django.core.signing
# (HMAC-SHA256, key settings.QR_SIGNING_KEY, salt QR_SALT). Compact, so the QR stays small and quick to scan.

QR_SALT = "ticketremaster.inventory.qr.v1"
QR_MAX_TOKEN_LENGTH = 256
QR_CLOCK_SKEW_SECONDS = 30


def _qr_signer() -> signing.Signer:
    return signing.Signer(key=settings.QR_SIGNING_KEY, salt=QR_SALT, algorithm="sha256")


@dataclass(frozen=True)
class QrPayload:
    seat_id: uuid.UUID
    owner_id: uuid.UUID
    qr_version: int
    issued_at: int


def qr_token_make(*, seat_id: uuid.UUID, owner_id: uuid.UUID, qr_version: int, issued_at: int) -> str:
    return _qr_signer().sign(f"{seat_id.hex}.{owner_id.hex}.{int(qr_version)}.{int(issued_at)}")


def qr_token_read(token: str) -> QrPayload:
    """The payload of a token with a valid signature; signing.BadSignature for anything else (age not checked)."""
    if not isinstance(token, str) or not token or len(token) > QR_MAX_TOKEN_LENGTH:
        raise signing.BadSignature("malformed token")
    value = _qr_signer().unsign(token.strip())
    try:
        seat_hex, owner_hex, version, issued = value.split(".")
        return QrPayload(uuid.UUID(hex=seat_hex), uuid.UUID(hex=owner_hex), int(version), int(issued))
    except ValueError:
        raise signing.BadSignature("malformed payload") from None


def ticket_qr(*, seat_id, owner_id) -> tuple[str, dt.datetime]:
    """A fresh signed QR token for the owner's ticket and the moment it expires (config qr_lifetime_seconds).

    NotFound for an unknown seat or another person's ticket; QrUnavailable (409 TICKET_LISTED) while listed.
    """
    ticket = ticket_get_for_owner(seat_id=seat_id, owner_id=owner_id)
    if ticket.status == Status.LISTED:
        raise QrUnavailable()
    issued = int(timezone.now().timestamp())
    token = qr_token_make(seat_id=ticket.id, owner_id=ticket.owner_id, qr_version=ticket.qr_version, issued_at=issued)
    expires_at = dt.datetime.fromtimestamp(issued + config.get("qr_lifetime_seconds"), tz=dt.UTC)
    return token, expires_at


def ticket_qr_svg(*, token: str) -> str:
    """The QR image of a token as inline SVG markup (no XML declaration), drawn server-side with segno."""
    qr = segno.make(token, error="m", micro=False)
    # No fixed size (omitsize): the viewBox lets the page scale the code to the phone's width.
    return qr.svg_inline(scale=4, border=2, dark="#000", light="#fff", title="Ticket QR code", omitsize=True)


# --- Gate scan -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanResult:
    result: str
    seat: SeatInfo | None
    holder_id: uuid.UUID | None
    detail: str
    admitted: bool = field(default=False)


def _fingerprint(token: Any) -> str:
    raw = token if isinstance(token, str) else repr(token)
    return hashlib.sha256(raw.encode("utf-8", "replace")).hexdigest()[:32]


_SCAN_DETAIL = {
    EntryResult.SUCCESS: "Admitted.",
    EntryResult.DUPLICATE: "Already checked in",
    EntryResult.WRONG_EVENT: "This ticket is for another event.",
    EntryResult.NOT_PAID: "This seat is not a paid ticket.",
    EntryResult.EXPIRED: "This code has expired; ask the holder to refresh their ticket page.",
    EntryResult.INVALID: "This is not a valid TicketRemaster code.",
    EntryResult.NOT_FOUND: "No such ticket.",
    EntryResult.REVOKED: "This code was replaced (the ticket was transferred, resold or refunded).",
}


def ticket_scan(*, token, event_id, gate: str, staff_id, organization_id=None) -> ScanResult:
    """Check a scanned code at a gate and admit its ticket at most once. Every attempt writes an EntryLog.

    Order of checks: signature (INVALID), age (EXPIRED), seat exists (NOT_FOUND), event (WRONG_EVENT), owner and QR
    version as they are now (REVOKED), status: SOLD -> CHECKED_IN (SUCCESS), CHECKED_IN (DUPLICATE), else NOT_PAID.
    Admission is a compare-and-set UPDATE that takes the row lock: a second gate scanning the same ticket waits for
    the first (milliseconds), then sees CHECKED_IN and answers DUPLICATE. The partial unique index
    entrylog_one_success backs "exactly one SUCCESS" in the database itself.
    """
    event = _uuid(event_id, name="event_id")
    staff = _uuid(staff_id, name="staff_id")
    organization = as_uuid(organization_id) if organization_id not in (None, "") else None
    gate = str(gate or "").strip()[:64]
    if not gate:
        raise InvalidInput("Name the gate.", fields={"gate": ["This field is required."]})
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
        return _scan_log(log, EntryResult.INVALID)
    now = timezone.now()
    age = now.timestamp() - payload.issued_at
    if age < -QR_CLOCK_SKEW_SECONDS:
        return _scan_log(log, EntryResult.INVALID, detail="This code was issued in the future; check the clocks.")
    if age > config.get("qr_lifetime_seconds"):
        return _scan_log(log, EntryResult.EXPIRED, seat_id=payload.seat_id, holder_id=payload.owner_id)

    try:
        with transaction.atomic(using=DB_ALIAS), _cursor() as cursor:
            # Bounded wait: another gate admitting this very ticket holds the lock for a millisecond or two.
            cursor.execute("SELECT set_config('lock_timeout', '3s', true)")
            cursor.execute(
                f"UPDATE {SEAT_TABLE} SET status = 'CHECKED_IN', checked_in_at = %s, updated_at = %s "  # noqa: S608
                "WHERE id = %s AND event_id = %s AND owner_id = %s AND qr_version = %s AND status = 'SOLD' "
                f"AND deleted_at IS NULL RETURNING {SEAT_COLUMNS}",
                [now, now, payload.seat_id, event, payload.owner_id, payload.qr_version],
            )
            row = cursor.fetchone()
            if row is not None:
                seat = seat_info_from_row(row, now=now)
                EntryLog.objects.using(DB_ALIAS).create(
                    **log,
                    seat_id=seat.id,
                    holder_id=seat.owner_id,
                    result=EntryResult.SUCCESS,
                    detail=_SCAN_DETAIL[EntryResult.SUCCESS],
                )
                return ScanResult(
                    EntryResult.SUCCESS, seat, seat.owner_id, _SCAN_DETAIL[EntryResult.SUCCESS], admitted=True
                )
            # Not admitted: find out why, under the row lock so the answer matches the state it describes.
            cursor.execute(
                f"SELECT {SEAT_COLUMNS} FROM {SEAT_TABLE} WHERE id = %s AND deleted_at IS NULL FOR UPDATE",  # noqa: S608
                [payload.seat_id],
            )
            row = cursor.fetchone()
            seat = seat_info_from_row(row, now=now) if row else None
            result, detail = _refusal(seat, payload, event)
            return _scan_log(log, result, seat=seat, detail=detail, holder_id=seat.owner_id if seat else None)
    except OperationalError as exc:
        if not _lock_not_available(exc):
            raise
        raise ScanBusy() from None
    except IntegrityError:
        # entrylog_one_success refused a second SUCCESS for this seat: it was admitted before, whatever the row
        # says now. The transaction (including the status change) was rolled back.
        logger.warning("second SUCCESS refused by entrylog_one_success for seat %s", payload.seat_id)
        seat = ticket_get(seat_id=payload.seat_id)
        return _scan_log(log, EntryResult.DUPLICATE, seat=seat, holder_id=seat.owner_id)


def _refusal(seat: SeatInfo | None, payload: QrPayload, event: uuid.UUID) -> tuple[str, str]:
    if seat is None:
        return EntryResult.NOT_FOUND, _SCAN_DETAIL[EntryResult.NOT_FOUND]
    if seat.event_id != event:
        return EntryResult.WRONG_EVENT, _SCAN_DETAIL[EntryResult.WRONG_EVENT]
    if seat.owner_id != payload.owner_id or seat.qr_version != payload.qr_version:
        return EntryResult.REVOKED, _SCAN_DETAIL[EntryResult.REVOKED]
    if seat.status == Status.CHECKED_IN:
        when = timezone.localtime(seat.checked_in_at).strftime("%H:%M:%S") if seat.checked_in_at else "earlier"
        return EntryResult.DUPLICATE, f"Already checked in at {when}."
    return EntryResult.NOT_PAID, _SCAN_DETAIL[EntryResult.NOT_PAID]


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
    EntryLog.objects.using(DB_ALIAS).create(
        **log, seat_id=seat.id if seat else seat_id, holder_id=holder_id, result=result, detail=detail
    )
    return ScanResult(result, seat, holder_id, detail, admitted=False)


# --- Bulk inventory --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SectionInventorySpec:
    """What to create for one section of an event: numbered seats from ``rows`` (SEATED) or ``capacity`` places
    (GENERAL). rows: [{"label": "A", "seats": [{"number": 1, "x": 0, "y": 0, "accessible": False}, ...]}, ...]."""

    section_id: uuid.UUID
    tier_id: uuid.UUID | None
    price: Decimal
    kind: str = "SEATED"
    rows: list[dict] = field(default_factory=list)
    capacity: int = 0


GENERAL_ROW_LABEL = "GA"
INVENTORY_BATCH_SIZE = 5000
_INSERT_COLUMNS = (
    "id, created_at, updated_at, event_id, section_id, tier_id, row_label, number, x, y, is_accessible, "
    "is_general_admission, price, status, qr_version"
)
# One statement per batch: a column array per field, unnested into rows. ON CONFLICT on the unique place makes a
# second run (or a resumed one) insert nothing twice.
_INSERT_SQL = (
    f"INSERT INTO {SEAT_TABLE} ({_INSERT_COLUMNS}) "  # noqa: S608 - fixed SQL
    "SELECT gen_random_uuid(), %s, %s, %s, s.section_id, s.tier_id, s.row_label, s.number, s.x, s.y, s.accessible, "
    "s.ga, s.price, 'AVAILABLE', 1 "
    "FROM unnest(%s::uuid[], %s::uuid[], %s::varchar[], %s::int[], %s::int[], %s::int[], %s::bool[], %s::bool[], "
    "%s::numeric[]) AS s(section_id, tier_id, row_label, number, x, y, accessible, ga, price) "
    "ON CONFLICT ON CONSTRAINT seat_unique_place_per_event DO NOTHING"
)


def _section_places(spec: SectionInventorySpec) -> Iterable[tuple]:
    section = _uuid(spec.section_id, name="section_id")
    tier = _uuid(spec.tier_id, name="tier_id") if spec.tier_id not in (None, "") else None
    try:
        price = Decimal(str(spec.price)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise InvalidInput("A section price is not a number.", fields={"price": ["Not a number."]}) from None
    if not price.is_finite() or price < 0 or price >= Decimal("100000000"):
        raise InvalidInput("A section price must be between 0 and 99,999,999.99.", fields={"price": ["Out of range."]})
    if spec.kind == "GENERAL":
        capacity = int(spec.capacity or 0)
        if not 0 <= capacity <= 1_000_000:
            raise InvalidInput("A general-admission capacity must be between 0 and 1,000,000.")
        for number in range(1, capacity + 1):
            yield (section, tier, GENERAL_ROW_LABEL, number, 0, 0, False, True, price)
        return
    if spec.kind != "SEATED":
        raise InvalidInput(f"Unknown section kind {spec.kind!r}.", fields={"kind": ["SEATED or GENERAL."]})
    for row in spec.rows or []:
        label = str(row.get("label", "")).strip()
        if not label or len(label) > 16:
            raise InvalidInput("Every row needs a label of 1 to 16 characters.", fields={"rows": ["Bad row label."]})
        for seat in row.get("seats", []):
            try:
                number, x, y = int(seat["number"]), int(seat.get("x", 0)), int(seat.get("y", 0))
            except (KeyError, TypeError, ValueError):
                raise InvalidInput(f"Row {label} has a seat without a valid number.") from None
            if number < 1:
                raise InvalidInput(f"Row {label} has a seat number below 1.")
            yield (section, tier, label, number, x, y, bool(seat.get("accessible", False)), False, price)


def inventory_create_for_event(
    *, event_id, sections: list[SectionInventorySpec], progress: Callable[[int, int], None] | None = None
) -> int:
    """Create the event's seats in batches of INVENTORY_BATCH_SIZE; returns how many rows were inserted now.

    Idempotent and resumable: each batch is its own transaction and skips places that exist already (including
    soft-deleted ones), so a rerun after a crash completes the inventory and a second full run inserts 0.
    ``progress(done, total)`` is called after every batch (done counts places processed, new or existing).
    80,000 places take about 2 s on the embedded server (see docs/INVENTORY.md).
    """
    event = _uuid(event_id, name="event_id")
    places = [place for spec in sections for place in _section_places(spec)]
    total = len(places)
    inserted = 0
    if progress:
        progress(0, total)
    for start in range(0, total, INVENTORY_BATCH_SIZE):
        batch = places[start : start + INVENTORY_BATCH_SIZE]
        columns = list(zip(*batch, strict=True))
        now = timezone.now()
        with transaction.atomic(using=DB_ALIAS), _cursor() as cursor:
            cursor.execute(_INSERT_SQL, [now, now, event, *(list(column) for column in columns)])
            inserted += cursor.rowcount
        if progress:
            progress(min(start + INVENTORY_BATCH_SIZE, total), total)
    return inserted


def inventory_count_for_event(*, event_id) -> int:
    event = as_uuid(event_id)
    if event is None:
        return 0
    return Seat.all_objects.using(DB_ALIAS).filter(event_id=event).count()


# Domain errors other apps may catch without importing this module's internals.
INVENTORY_ERRORS: tuple[type[DomainError], ...] = (
    SeatUnavailable,
    HoldLimitExceeded,
    NotEnoughSeats,
    HoldExpired,
    TicketCheckedIn,
    TicketNotTransferable,
    TicketTransferred,
    QrUnavailable,
    ScanBusy,
)
