"""Bulk inventory: every place of an event created in a few large, idempotent INSERTs when it is published."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from core.errors import InvalidInput
from core.prices import price_checked
from inventory import DB_ALIAS
from inventory.contract import SectionInventorySpec
from inventory.models import Seat
from inventory.selectors import SEAT_TABLE
from inventory.services._shared import optional_id, require_id, seats_cursor

GENERAL_ROW_LABEL = "GA"
INVENTORY_BATCH_SIZE = 5000
_INSERT_COLUMNS = (
    "id, created_at, updated_at, event_id, organization_id, section_id, tier_id, row_label, number, x, y, "
    "is_accessible, is_general_admission, price, status, qr_version"
)
# One statement per batch: a column array per field, unnested into rows. ON CONFLICT on the unique place makes a
# second run (or a resumed one) insert nothing twice.
_INSERT_SQL = (
    f"INSERT INTO {SEAT_TABLE} ({_INSERT_COLUMNS}) "  # noqa: S608 - fixed SQL
    "SELECT gen_random_uuid(), %s, %s, %s, %s, s.section_id, s.tier_id, s.row_label, s.number, s.x, s.y, "
    "s.accessible, s.ga, s.price, 'AVAILABLE', 1 "
    "FROM unnest(%s::uuid[], %s::uuid[], %s::varchar[], %s::int[], %s::int[], %s::int[], %s::bool[], %s::bool[], "
    "%s::numeric[]) AS s(section_id, tier_id, row_label, number, x, y, accessible, ga, price) "
    "ON CONFLICT ON CONSTRAINT seat_unique_place_per_event DO NOTHING"
)


def _section_price(spec: SectionInventorySpec) -> Decimal:
    try:
        price = Decimal(str(spec.price)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        raise InvalidInput(
            gettext("A section price is not a number."), fields={"price": [gettext("Not a number.")]}
        ) from None
    return price_checked(price, detail=gettext("A section price must be between 0 and 99,999,999.99."))


def _seated_places(rows: list[dict]) -> Iterable[tuple[str, int, int, int, bool]]:
    """(row label, number, x, y, accessible) of every seat of a SEATED section's rows."""
    for row in rows:
        label = str(row.get("label", "")).strip()
        if not label or len(label) > 16:
            raise InvalidInput(
                gettext("Every row needs a label of 1 to 16 characters."), fields={"rows": [gettext("Bad row label.")]}
            )
        for seat in row.get("seats", []):
            try:
                number, x, y = int(seat["number"]), int(seat.get("x", 0)), int(seat.get("y", 0))
            except (KeyError, TypeError, ValueError):
                raise InvalidInput(
                    gettext("Row %(label)s has a seat without a valid number.") % {"label": label}
                ) from None
            if number < 1:
                raise InvalidInput(gettext("Row %(label)s has a seat number below 1.") % {"label": label})
            yield label, number, x, y, bool(seat.get("accessible", False))


def _section_places(spec: SectionInventorySpec) -> Iterable[tuple]:
    """The INSERT's columns (section, tier, row, number, x, y, accessible, general admission, price) per place."""
    section = require_id(spec.section_id, name="section_id")
    tier = optional_id(spec.tier_id, name="tier_id")
    price = _section_price(spec)
    if spec.kind == "GENERAL":
        capacity = int(spec.capacity or 0)
        if not 0 <= capacity <= 1_000_000:
            raise InvalidInput(gettext("A general-admission capacity must be between 0 and 1,000,000."))
        for number in range(1, capacity + 1):
            yield (section, tier, GENERAL_ROW_LABEL, number, 0, 0, False, True, price)
        return
    if spec.kind != "SEATED":
        raise InvalidInput(f"Unknown section kind {spec.kind!r}.", fields={"kind": [gettext("SEATED or GENERAL.")]})
    for label, number, x, y, accessible in _seated_places(spec.rows or []):
        yield (section, tier, label, number, x, y, accessible, False, price)


def inventory_create_for_event(
    *,
    event_id: uuid.UUID,
    organization_id: uuid.UUID,
    sections: list[SectionInventorySpec],
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Create the event's seats in batches of INVENTORY_BATCH_SIZE; returns how many rows were inserted now.

    Idempotent and resumable: each batch is its own transaction and skips places that exist already (including
    soft-deleted ones), so a rerun after a crash completes the inventory and a second full run inserts 0.
    ``progress(done, total)`` is called after every batch (done counts places processed, new or existing).
    80,000 places take about 2 s on the embedded server (see docs/INVENTORY.md). Every place carries the event's
    organization, which scopes staff pages without asking the events database.
    """
    event = require_id(event_id, name="event_id")
    organization = require_id(organization_id, name="organization_id")
    # Places made before seats carried their organization get it now (a re-publish is the documented sync).
    Seat.all_objects.using(DB_ALIAS).filter(event_id=event, organization_id__isnull=True).update(
        organization_id=organization
    )
    places = [place for spec in sections for place in _section_places(spec)]
    total = len(places)
    inserted = 0
    if progress:
        progress(0, total)
    for start in range(0, total, INVENTORY_BATCH_SIZE):
        batch = places[start : start + INVENTORY_BATCH_SIZE]
        columns = list(zip(*batch, strict=True))
        now = timezone.now()
        with transaction.atomic(using=DB_ALIAS), seats_cursor() as cursor:
            cursor.execute(_INSERT_SQL, [now, now, event, organization, *(list(column) for column in columns)])
            inserted += cursor.rowcount
        if progress:
            progress(min(start + INVENTORY_BATCH_SIZE, total), total)
    return inserted
