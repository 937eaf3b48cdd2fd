"""Production holds: staff keep free places of an event off sale under a name (Production, Cameras, VIP...) and give
them back to sale by that name in one action.

A kept place is BLOCKED with ``kept_for`` set: no hold, best available or checkout takes it, and the dashboard counts
it as blocked. Both directions lock the chosen rows in id order with SKIP LOCKED, so a seat a buyer is holding or
paying for at that moment is skipped and reported, never waited for or taken from under the buyer.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from core.audit import audit_record
from core.errors import InvalidInput
from inventory import DB_ALIAS
from inventory.selectors import SEAT_TABLE
from inventory.services._shared import FREE, TAKE_NEXT_PRICE, require_id, require_ids, seats_cursor

KEPT_FOR_MAX_LENGTH = 64


@dataclass(frozen=True)
class KeepResult:
    """What a keep or a return did: the places changed, and those left as they were (taken, held, not kept)."""

    changed: list[uuid.UUID]
    skipped: list[uuid.UUID]


def seats_keep_off_sale(
    *, event_id: uuid.UUID, seat_ids: Iterable[uuid.UUID], kept_for: str, actor_id: uuid.UUID | None
) -> KeepResult:
    """Free places of the event (available, or held by a hold that has run out) -> BLOCKED, kept for ``kept_for``.

    Places sold, held right now, blocked already, of another event or locked by a buyer's transaction are skipped.
    Audited with the event's organization.
    """
    event = require_id(event_id, name="event_id")
    ids = require_ids(seat_ids, name="seat_ids")
    name = _kept_for(kept_for)
    now = timezone.now()
    with transaction.atomic(using=DB_ALIAS), seats_cursor() as cursor:
        cursor.execute(
            f"WITH mine AS (SELECT id FROM {SEAT_TABLE} WHERE id = ANY(%s) AND event_id = %s "  # noqa: S608 - fixed SQL
            f"AND deleted_at IS NULL AND {FREE} ORDER BY id FOR UPDATE SKIP LOCKED) "
            f"UPDATE {SEAT_TABLE} s SET status = 'BLOCKED', kept_for = %s, held_by_id = NULL, hold_expires_at = NULL, "
            f"{TAKE_NEXT_PRICE}, updated_at = %s FROM mine WHERE s.id = mine.id RETURNING s.id, s.organization_id",
            [ids, event, now, name, now],
        )
        rows = cursor.fetchall()
    result = KeepResult(changed=sorted(row[0] for row in rows), skipped=sorted(set(ids) - {row[0] for row in rows}))
    _audit(actor_id, "seats.keep_off_sale", event, rows, reason=name, result=result)
    return result


def seats_return_to_sale(
    *,
    event_id: uuid.UUID,
    actor_id: uuid.UUID | None,
    seat_ids: Iterable[uuid.UUID] | None = None,
    kept_for: str | None = None,
) -> KeepResult:
    """BLOCKED places of the event -> AVAILABLE at their current price: the ones in ``seat_ids``, or every place
    kept for ``kept_for`` (one of the two is required). A place blocked by a refund has no name: pass its id."""
    event = require_id(event_id, name="event_id")
    if seat_ids is None and kept_for is None:
        raise InvalidInput(gettext("Choose the places or the name they are kept for."))
    ids = None if seat_ids is None else require_ids(seat_ids, name="seat_ids")
    where, params = ("id = ANY(%s)", [ids]) if ids is not None else ("kept_for = %s", [_kept_for(kept_for)])
    now = timezone.now()
    with transaction.atomic(using=DB_ALIAS), seats_cursor() as cursor:
        cursor.execute(
            f"WITH mine AS (SELECT id FROM {SEAT_TABLE} WHERE {where} AND event_id = %s AND status = 'BLOCKED' "  # noqa: S608 - fixed SQL
            "AND deleted_at IS NULL ORDER BY id FOR UPDATE SKIP LOCKED) "
            f"UPDATE {SEAT_TABLE} s SET status = 'AVAILABLE', kept_for = '', {TAKE_NEXT_PRICE}, updated_at = %s "
            "FROM mine WHERE s.id = mine.id RETURNING s.id, s.organization_id",
            [*params, event, now],
        )
        rows = cursor.fetchall()
    changed = sorted(row[0] for row in rows)
    result = KeepResult(changed=changed, skipped=sorted(set(ids or ()) - set(changed)))
    _audit(actor_id, "seats.return_to_sale", event, rows, reason=kept_for or "", result=result)
    return result


def _audit(actor_id, action: str, event: uuid.UUID, rows: list[tuple], *, reason: str, result: KeepResult) -> None:
    if not rows:
        return
    audit_record(
        actor_id=actor_id,
        action=action,
        object_type="event",
        object_id=event,
        organization_id=rows[0][1],
        reason=reason,
        data={
            "places": len(result.changed),
            "skipped": len(result.skipped),
            "seat_ids": [str(pk) for pk in result.changed[:500]],
        },
    )


def _kept_for(value: str | None) -> str:
    name = " ".join((value or "").split())
    if not name or len(name) > KEPT_FOR_MAX_LENGTH:
        raise InvalidInput(
            gettext("Name what the places are kept for."),
            fields={"kept_for": [f"1 to {KEPT_FOR_MAX_LENGTH} characters."]},
        )
    return name
