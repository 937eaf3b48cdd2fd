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
from django.utils.translation import gettext

from core.errors import InvalidInput, NotFound
from inventory import DB_ALIAS
from inventory.contract import TICKET_STATUSES, PrintedTicket, SeatInfo, SeatStatus, TicketNotTransferable
from inventory.selectors import SEAT_COLUMNS, SEAT_TABLE, seat_info_from_row, ticket_get
from inventory.services._shared import require_id, seats_cursor
from inventory.services.qr import printed_token_make


def ticket_change_owner(
    *,
    seat_id: uuid.UUID,
    from_owner_id: uuid.UUID,
    to_owner_id: uuid.UUID,
    from_statuses: Iterable[str] = (SeatStatus.SOLD,),
) -> SeatInfo:
    """Compare-and-set the owner (and status -> SOLD), bumping the QR version so the old owner's codes die.

    Idempotent: a ticket already owned by ``to_owner_id`` is returned unchanged, whatever its new owner has done with
    it since (listed it, or been admitted with it): a flow that resumes after the move (a worker killed between the
    move and its record) finds the move done instead of refusing it and trying to undo a ticket that was used.
    Otherwise, unless the ticket is owned by ``from_owner_id`` in one of ``from_statuses``, TicketNotTransferable.
    """
    seat = require_id(seat_id, name="seat_id")
    from_owner = require_id(from_owner_id, name="from_owner_id")
    to_owner = require_id(to_owner_id, name="to_owner_id")
    statuses = sorted({str(status) for status in from_statuses})
    if not statuses or not set(statuses) <= set(TICKET_STATUSES):
        raise InvalidInput(gettext("from_statuses must be ticket statuses (SOLD, LISTED, CHECKED_IN)."))
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
    if ticket.owner_id == to_owner and ticket.status in TICKET_STATUSES:
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
        raise NotFound(gettext("No such ticket."))
    raise TicketNotTransferable(
        gettext("Only a sold ticket can be listed.") if listed else gettext("This ticket is not listed."),
        seat_id=str(seat),
        status=ticket.status,
    )


def tickets_print(*, order_id: uuid.UUID, reprint: bool = False) -> list[PrintedTicket]:
    """The order's tickets on paper, each with its static code.

    The first print gives version 1 (idempotent: a retry prints the same codes); ``reprint`` bumps every ticket's
    version, so the codes on the older paper are refused at the gate (REVOKED). Only tickets not yet used are
    printed; NotFound when the order has none.
    """
    order = require_id(order_id, name="order_id")
    bump = "print_version + 1" if reprint else "GREATEST(print_version, 1)"
    with transaction.atomic(using=DB_ALIAS), seats_cursor() as cursor:
        cursor.execute(
            f"UPDATE {SEAT_TABLE} SET print_version = {bump}, updated_at = %s "  # noqa: S608 - fixed SQL
            "WHERE order_id = %s AND status = 'SOLD' AND deleted_at IS NULL "
            f"RETURNING print_version, {SEAT_COLUMNS}",
            [timezone.now(), order],
        )
        rows = cursor.fetchall()
    if not rows:
        raise NotFound(gettext("This order has no ticket left to print."))
    return _printed(rows)


def tickets_printed(*, order_id: uuid.UUID) -> list[PrintedTicket]:
    """The order's printed tickets as they stand (the codes of the latest print), without printing anything."""
    order = require_id(order_id, name="order_id")
    with seats_cursor() as cursor:
        cursor.execute(
            f"SELECT print_version, {SEAT_COLUMNS} FROM {SEAT_TABLE} "  # noqa: S608 - fixed SQL
            "WHERE order_id = %s AND print_version > 0 AND deleted_at IS NULL",
            [order],
        )
        rows = cursor.fetchall()
    return _printed(rows)


def _printed(rows: list[tuple]) -> list[PrintedTicket]:
    tickets = []
    for print_version, *seat_row in rows:
        seat = seat_info_from_row(tuple(seat_row))
        token = printed_token_make(seat_id=seat.id, qr_version=seat.qr_version, print_version=print_version)
        tickets.append(PrintedTicket(seat=seat, print_version=print_version, token=token))
    tickets.sort(key=lambda ticket: (ticket.seat.section_id, ticket.seat.y, ticket.seat.row_label, ticket.seat.number))
    return tickets
