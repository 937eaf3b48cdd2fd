"""Sales: held seats become tickets of an order (HELD -> SOLD), and an order's tickets become seats again.

Both are idempotent by the order id, so the purchase flow and its recovery may repeat them safely.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from inventory import DB_ALIAS
from inventory.contract import HoldExpired, SeatInfo, SeatStatus, TicketCheckedIn, TicketTransferred
from inventory.selectors import SEAT_COLUMNS, SEAT_TABLE
from inventory.services._shared import TAKE_NEXT_PRICE, optional_id, require_id, require_ids, seats_cursor, sorted_infos

# All or nothing in one statement, atomic by itself (no BEGIN/COMMIT round trips): lock the seats in id order, and
# sell them only if each is still HELD by the buyer and unexpired, or already sold to this order (a retry); the
# first columns say how many qualified, and which. Parameters: buyer, now, order, ids, then the UPDATE's owner,
# order, now, complimentary twice, then len(ids).
_SELL = (
    "WITH locked AS MATERIALIZED (SELECT id, "  # noqa: S608 - fixed SQL
    "(status = 'HELD' AND held_by_id = %s AND hold_expires_at > %s) AS sellable, order_id = %s AS sold_here "
    f"FROM {SEAT_TABLE} WHERE id = ANY(%s) AND deleted_at IS NULL ORDER BY id FOR UPDATE), "
    "verdict AS MATERIALIZED (SELECT count(*) FILTER (WHERE sellable OR sold_here) AS ready, "
    "array_agg(id) FILTER (WHERE sellable OR sold_here) AS ready_ids FROM locked), "
    f"sold AS (UPDATE {SEAT_TABLE} SET status = 'SOLD', owner_id = %s, order_id = %s, held_by_id = NULL, "
    "hold_expires_at = NULL, updated_at = %s, "
    # A complimentary ticket is sold at zero; the price it had comes back when it is next free (next_price).
    "next_price = CASE WHEN %s THEN COALESCE(next_price, price) ELSE next_price END, "
    "price = CASE WHEN %s THEN 0 ELSE price END FROM verdict WHERE verdict.ready = %s "
    f"AND id IN (SELECT id FROM locked WHERE sellable) RETURNING {SEAT_COLUMNS}) "
    "SELECT verdict.ready, verdict.ready_ids, sold.* FROM verdict LEFT JOIN sold ON true"
)


def seats_sell(
    *, buyer_id: uuid.UUID, order_id: uuid.UUID, seat_ids: Iterable[uuid.UUID], complimentary: bool = False
) -> list[SeatInfo]:
    """HELD by this buyer and unexpired -> SOLD to the buyer for this order, in one compare-and-set statement.

    ``complimentary`` (a comp): sold at price zero, so sales figures count no revenue for it; its price is kept as
    the place's next price, which it takes again if it is refunded.

    All or nothing: if any seat is neither still held by the buyer nor already sold to this order, nothing is sold
    and HoldExpired is raised. Idempotent: seats already sold to this order (a retry) count as sold.
    """
    buyer = require_id(buyer_id, name="buyer_id")
    order = require_id(order_id, name="order_id")
    ids = require_ids(seat_ids, name="seat_ids", empty=gettext("No seats to sell."))
    now = timezone.now()
    with seats_cursor() as cursor:
        free = bool(complimentary)
        cursor.execute(_SELL, [buyer, now, order, ids, buyer, order, now, free, free, len(ids)])
        answer = cursor.fetchall()
        ready, ready_ids = answer[0][:2]
        if ready != len(ids):
            # Nothing was sold by this call: an order never gets part of its seats.
            raise HoldExpired(seat_ids=[str(pk) for pk in ids if pk not in set(ready_ids or ())])
        rows = [row[2:] for row in answer if row[2] is not None]
        if len(rows) < len(ids):  # a retry: some were sold to this order before
            sold = {row[0] for row in rows}
            cursor.execute(
                f"SELECT {SEAT_COLUMNS} FROM {SEAT_TABLE} WHERE id = ANY(%s) AND order_id = %s",  # noqa: S608
                [[pk for pk in ids if pk not in sold], order],
            )
            rows += cursor.fetchall()
    return sorted_infos(rows, now=now)


def seats_unsell(
    *,
    order_id: uuid.UUID,
    block: bool = False,
    owner_id: uuid.UUID | None = None,
    seat_ids: Iterable[uuid.UUID] | None = None,
) -> int:
    """Every ticket of the order (SOLD or LISTED) back to AVAILABLE (or BLOCKED): owner and order cleared, QR version
    bumped so every code issued for it is dead. Idempotent (a second call finds nothing). With ``seat_ids`` (a refund
    of some tickets), only those of the order's tickets.

    A CHECKED_IN ticket makes the whole call refuse with TicketCheckedIn (nothing changes). With ``owner_id`` (a
    refund: the buyer), a ticket that now belongs to someone else (transferred, resold) makes it refuse with
    TicketTransferred (nothing changes).
    """
    order = require_id(order_id, name="order_id")
    owner = optional_id(owner_id, name="owner_id")
    only = None if seat_ids is None else require_ids(seat_ids, name="seat_ids")
    where, params = ("order_id = %s", [order]) if only is None else ("order_id = %s AND id = ANY(%s)", [order, only])
    now = timezone.now()
    with transaction.atomic(using=DB_ALIAS), seats_cursor() as cursor:
        # Lock the order's seats in id order first, so a gate scan cannot admit one while the refund runs.
        cursor.execute(
            f"SELECT id, status, owner_id FROM {SEAT_TABLE} WHERE {where} ORDER BY id FOR UPDATE",  # noqa: S608
            params,
        )
        rows = cursor.fetchall()
        checked_in = [str(pk) for pk, status, _owner in rows if status == SeatStatus.CHECKED_IN]
        if checked_in:
            raise TicketCheckedIn(seat_ids=checked_in)
        # Checked under the same row locks: freeing a ticket that was passed on would take it from its new holder.
        passed_on = [str(pk) for pk, status, holder in rows if owner is not None and holder not in (None, owner)]
        if passed_on:
            raise TicketTransferred(seat_ids=passed_on)
        target = SeatStatus.BLOCKED if block else SeatStatus.AVAILABLE
        cursor.execute(
            f"UPDATE {SEAT_TABLE} SET status = %s, owner_id = NULL, order_id = NULL, "  # noqa: S608
            f"qr_version = qr_version + 1, {TAKE_NEXT_PRICE}, updated_at = %s "
            f"WHERE {where} AND status IN ('SOLD', 'LISTED')",
            [target.value, now, *params],
        )
        return cursor.rowcount
