"""Tickets changing hands: a new owner (transfer, resale) and listing for resale (SOLD <-> LISTED).

Each is one compare-and-set UPDATE on the owner and status the caller expects, idempotent when the ticket is
already in the target state. A new owner bumps the QR version, so every code issued to the old owner dies.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from core.errors import InvalidInput, NotFound
from inventory import DB_ALIAS
from inventory.contract import TICKET_STATUSES, SeatInfo, SeatStatus, TicketNotTransferable
from inventory.selectors import SEAT_COLUMNS, SEAT_TABLE, seat_info_from_row, ticket_get
from inventory.services._shared import require_id, seats_cursor


def ticket_change_owner(
    *,
    seat_id: uuid.UUID,
    from_owner_id: uuid.UUID,
    to_owner_id: uuid.UUID,
    from_statuses: Iterable[str] = (SeatStatus.SOLD,),
) -> SeatInfo:
    """Compare-and-set the owner (and status -> SOLD), bumping the QR version so the old owner's codes die.

    Idempotent: a ticket already owned by ``to_owner_id`` (SOLD) is returned unchanged. Otherwise, unless the ticket
    is owned by ``from_owner_id`` in one of ``from_statuses``, TicketNotTransferable (409).
    """
    seat = require_id(seat_id, name="seat_id")
    from_owner = require_id(from_owner_id, name="from_owner_id")
    to_owner = require_id(to_owner_id, name="to_owner_id")
    statuses = sorted({str(status) for status in from_statuses})
    if not statuses or not set(statuses) <= set(TICKET_STATUSES):
        raise InvalidInput("from_statuses must be ticket statuses (SOLD, LISTED, CHECKED_IN).")
    if from_owner != to_owner:
        with transaction.atomic(using=DB_ALIAS), seats_cursor() as cursor:
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
    if ticket.owner_id == to_owner and ticket.status == SeatStatus.SOLD:
        return ticket
    raise TicketNotTransferable(seat_id=str(seat), status=ticket.status)


def ticket_set_listed(
    *, seat_id: uuid.UUID, owner_id: uuid.UUID, listed: bool, unchanged_since: dt.datetime | None = None
) -> SeatInfo:
    """SOLD <-> LISTED for the ticket's owner (compare-and-set). Idempotent; anything else TicketNotTransferable.

    ``unchanged_since`` (a recoverer's repair) adds ``updated_at <= unchanged_since`` to the compare-and-set, so a
    ticket a live flow touched after the recoverer looked at it is left alone."""
    seat = require_id(seat_id, name="seat_id")
    owner = require_id(owner_id, name="owner_id")
    source, target = (SeatStatus.SOLD, SeatStatus.LISTED) if listed else (SeatStatus.LISTED, SeatStatus.SOLD)
    with transaction.atomic(using=DB_ALIAS), seats_cursor() as cursor:
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
