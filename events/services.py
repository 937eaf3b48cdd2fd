"""Staff operations of the events domain: seat-grid generation, and the events_db steps of publishing and cancelling.

Publishing and cancelling span databases (seats_db for the inventory, orders_db and users_db for refunds), so
``orders.services.event_publish`` / ``event_cancel`` drive them. The steps here are the event's own: each is a
short events_db transaction (state first, progress on the event row), so a second run continues where the first
stopped.
"""

from __future__ import annotations

import string
import uuid
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.audit import audit_record
from core.errors import InvalidInput, NotFound
from core.outbox import outbox_emit
from events import DB_ALIAS
from events.contract import (
    EventInventoryStatus,
    EventNotCancellable,
    EventNotPublishable,
    EventStatus,
    PublishPlan,
    SectionInUse,
    SectionKind,
    SectionLayoutInfo,
    SectionOnSale,
    TierPriceChange,
)
from events.models import Event, EventSection, PriceTier, Section

# Seat-map geometry (SVG units): one seat every SEAT_PITCH, one row every ROW_PITCH, an aisle is AISLE_WIDTH wide.
SEAT_PITCH = 20
ROW_PITCH = 24
AISLE_WIDTH = 20
MAX_ROWS = 200
MAX_SEATS_PER_ROW = 500
MAX_SECTION_SEATS = 40_000
MAX_GENERAL_CAPACITY = 100_000


# --- seat grid ---------------------------------------------------------------------------------------------------
def row_labels(count: int, style: str = "letters") -> list[str]:
    """A, B, ..., Z, AA, AB, ... (spreadsheet style) or 1, 2, 3, ..."""
    if style == "numbers":
        return [str(n) for n in range(1, count + 1)]
    if style != "letters":
        raise InvalidInput("Row labels are letters or numbers.", fields={"row_labels": ["Choose letters or numbers."]})
    labels = []
    for n in range(count):
        label, value = "", n + 1
        while value:
            value, rem = divmod(value - 1, 26)
            label = string.ascii_uppercase[rem] + label
        labels.append(label)
    return labels


def parse_seat_refs(text: str) -> set[tuple[str, int]]:
    """ "A1, A2 B10" -> {("A", 1), ("A", 2), ("B", 10)}; also "1-5" style rows with numbers ("3:7")."""
    refs: set[tuple[str, int]] = set()
    for token in text.replace(",", " ").replace(";", " ").split():
        token = token.strip().upper()
        if ":" in token:
            row, _, number = token.partition(":")
        else:
            split = len(token.rstrip("0123456789"))
            row, number = token[:split], token[split:]
        if not row or not number.isdigit():
            raise InvalidInput(
                f"“{token}” is not a seat reference.",
                fields={"accessible": [f"“{token}” is not a seat like A12 (or 3:12 for numbered rows)."]},
            )
        refs.add((row, int(number)))
    return refs


def _grid_errors(*, rows: int, seats_per_row: int, direction: str, aisles: list[int]) -> dict[str, list[str]]:
    """What is wrong with a grid's shape, by form field; empty when nothing is."""
    errors: dict[str, list[str]] = {}
    if not 1 <= rows <= MAX_ROWS:
        errors["rows"] = [f"Between 1 and {MAX_ROWS} rows."]
    if not 1 <= seats_per_row <= MAX_SEATS_PER_ROW:
        errors["seats_per_row"] = [f"Between 1 and {MAX_SEATS_PER_ROW} seats per row."]
    if direction not in ("LTR", "RTL"):
        errors["direction"] = ["Numbering runs left-to-right (LTR) or right-to-left (RTL)."]
    if not errors and rows * seats_per_row > MAX_SECTION_SEATS:
        errors["rows"] = [f"At most {MAX_SECTION_SEATS:,} seats in one section; split it into several sections."]
    if not errors and any(not 1 <= a < seats_per_row for a in aisles):
        errors["aisles_after"] = [f"An aisle goes after a seat between 1 and {seats_per_row - 1}."]
    return errors


def _seat_row(
    *, label: str, y: int, seats_per_row: int, direction: str, aisles: list[int], accessible: set[tuple[str, int]]
) -> list[dict[str, Any]]:
    """One row of seats, numbered from the left (LTR) or from the right (RTL), in seat-number order."""
    seats = []
    for position in range(seats_per_row):  # position 0 is the leftmost place on the map
        if direction == "LTR":
            number = position + 1
            aisles_left = sum(1 for a in aisles if a <= position)
        else:
            number = seats_per_row - position
            # Aisles are given by seat number ("after seat N"), which runs right to left here.
            aisles_left = sum(1 for a in aisles if a >= number)
        seats.append(
            {
                "number": number,
                "x": position * SEAT_PITCH + aisles_left * AISLE_WIDTH,
                "y": y,
                "accessible": (label, number) in accessible,
            }
        )
    seats.sort(key=lambda seat: seat["number"])
    return seats


def build_grid_layout(
    *,
    rows: int,
    seats_per_row: int,
    label_style: str = "letters",
    direction: str = "LTR",
    aisles_after: Iterable[int] = (),
    accessible: Iterable[tuple[str, int]] = (),
) -> dict[str, Any]:
    """The Section.layout of a rectangular grid. Pure: validates and computes, writes nothing."""
    aisles = sorted(set(aisles_after))
    errors = _grid_errors(rows=rows, seats_per_row=seats_per_row, direction=direction, aisles=aisles)
    if errors:
        raise InvalidInput("The seat grid is not valid.", fields=errors)

    labels = row_labels(rows, label_style)
    wanted_accessible = set(accessible)
    known = {(label, n) for label in labels for n in range(1, seats_per_row + 1)}
    unknown = sorted(wanted_accessible - known)
    if unknown:
        shown = ", ".join(f"{r}{n}" for r, n in unknown[:10])
        raise InvalidInput(
            "Some accessible seats are not in the grid.", fields={"accessible": [f"Not in the grid: {shown}."]}
        )

    seat_rows = [
        {
            "label": label,
            "seats": _seat_row(
                label=label,
                y=r * ROW_PITCH,
                seats_per_row=seats_per_row,
                direction=direction,
                aisles=aisles,
                accessible=wanted_accessible,
            ),
        }
        for r, label in enumerate(labels)
    ]
    return {
        "rows": seat_rows,
        "generator": {
            "rows": rows,
            "seats_per_row": seats_per_row,
            "label_style": label_style,
            "direction": direction,
            "aisles_after": aisles,
            "accessible": sorted(f"{r}{n}" for r, n in wanted_accessible),
        },
    }


def _section_in_published_event(section_id: uuid.UUID) -> bool:
    return (
        EventSection.objects.using(DB_ALIAS)
        .filter(section_id=section_id, event__status=EventStatus.PUBLISHED, event__deleted_at__isnull=True)
        .exists()
    )


def section_generate_grid(
    *,
    section_id: uuid.UUID,
    rows: int = 0,
    seats_per_row: int = 0,
    label_style: str = "letters",
    direction: str = "LTR",
    aisles_after: Sequence[int] = (),
    accessible: Iterable[tuple[str, int]] = (),
    general_capacity: int | None = None,
    actor_id: uuid.UUID | None = None,
) -> SectionLayoutInfo:
    """Write a section's seat grid (or make it general admission with ``general_capacity`` places).

    Refused (SectionInUse) while a published event sells the section: its inventory was copied from this layout.
    """
    if general_capacity is not None:
        if not 1 <= general_capacity <= MAX_GENERAL_CAPACITY:
            raise InvalidInput(
                "The capacity is not valid.",
                fields={"general_capacity": [f"Between 1 and {MAX_GENERAL_CAPACITY:,} places."]},
            )
        layout: dict[str, Any] = {"generator": {"general_capacity": general_capacity}}
        kind, capacity = SectionKind.GENERAL, general_capacity
    else:
        layout = build_grid_layout(
            rows=rows,
            seats_per_row=seats_per_row,
            label_style=label_style,
            direction=direction,
            aisles_after=aisles_after,
            accessible=accessible,
        )
        kind, capacity = SectionKind.SEATED, rows * seats_per_row

    with transaction.atomic(using=DB_ALIAS):
        section = Section.objects.using(DB_ALIAS).select_for_update().filter(pk=section_id).first()
        if section is None:
            raise NotFound("No such section.")
        if _section_in_published_event(section.pk):
            raise SectionInUse()
        section.kind, section.layout, section.capacity = kind, layout, capacity
        section.save(using=DB_ALIAS, update_fields=["kind", "layout", "capacity", "updated_at"])
        organization_id = section.venue.organization_id
    audit_record(
        actor_id=actor_id,
        action="section.generate_grid",
        object_type="section",
        object_id=section_id,
        organization_id=organization_id,
        data={"kind": kind, "capacity": capacity, **layout.get("generator", {})},
    )
    accessible_count = sum(1 for row in layout.get("rows", []) for seat in row["seats"] if seat["accessible"])
    return SectionLayoutInfo(
        section_id=section_id,
        kind=kind,
        capacity=capacity,
        rows=len(layout.get("rows", [])),
        accessible=accessible_count,
    )


# --- publishing (driven by orders.services.event_publish, which creates the inventory) -------------------------
def _seat_rows_on_sale(layout: dict[str, Any] | None) -> list[dict[str, Any]]:
    """A seated section's layout as the inventory takes it: only the keys it reads, with their types enforced."""
    return [
        {
            "label": row["label"],
            "seats": [
                {
                    "number": int(seat["number"]),
                    "x": int(seat.get("x", 0)),
                    "y": int(seat.get("y", 0)),
                    "accessible": bool(seat.get("accessible", False)),
                }
                for seat in row.get("seats", [])
            ],
        }
        for row in (layout or {}).get("rows", [])
    ]


def _section_on_sale(event_section: EventSection) -> SectionOnSale:
    section = event_section.section
    places = event_section.places
    general = section.kind == SectionKind.GENERAL
    if places <= 0:
        raise EventNotPublishable(
            f"General-admission section “{section.name}” has no capacity."
            if general
            else f"Section “{section.name}” has no seats: generate its seat grid first."
        )
    return SectionOnSale(
        section_id=section.pk,
        tier_id=event_section.tier_id,
        price=Decimal(event_section.tier.price),
        kind=section.kind,
        rows=[] if general else _seat_rows_on_sale(section.layout),
        capacity=places,
        places=places,
    )


def event_publish_begin(*, event_id: uuid.UUID) -> PublishPlan:
    """Check the event can go on sale, mark its inventory BUILDING and return what must be created."""
    with transaction.atomic(using=DB_ALIAS):
        event = Event.objects.using(DB_ALIAS).select_for_update().filter(pk=event_id).first()
        if event is None:
            raise NotFound("No such event.")
        if event.status not in (EventStatus.DRAFT, EventStatus.PUBLISHED):
            raise EventNotPublishable(f"A {event.get_status_display().lower()} event cannot be published.")
        event_sections = (
            EventSection.objects.using(DB_ALIAS)
            .filter(event=event, is_active=True, section__deleted_at__isnull=True)
            .select_related("section", "tier")
            .order_by("section__sort_order", "section__name")
        )
        sections = [_section_on_sale(event_section) for event_section in event_sections]
        if not sections:
            raise EventNotPublishable("Add at least one section (with a price tier) before publishing.")
        total = sum(section.places for section in sections)
        event.inventory_status = EventInventoryStatus.BUILDING
        event.inventory_total = total
        event.save(using=DB_ALIAS, update_fields=["inventory_status", "inventory_total", "updated_at"])
    return PublishPlan(event_id=event.pk, organization_id=event.organization_id, sections=sections, total=total)


def event_publish_progress(*, event_id: uuid.UUID, done: int, total: int) -> None:
    """Its own tiny autocommit UPDATE, so staff see progress while the inventory is created."""
    Event.objects.using(DB_ALIAS).filter(pk=event_id).update(inventory_created=min(done, total))


def event_publish_finish(*, event_id: uuid.UUID, total: int) -> bool:
    """Put the event on sale once its inventory exists; True when this was its first publication."""
    with transaction.atomic(using=DB_ALIAS):
        event = Event.objects.using(DB_ALIAS).select_for_update().get(pk=event_id)
        first_publish = event.status == EventStatus.DRAFT
        if first_publish:
            event.status = EventStatus.PUBLISHED
            event.published_at = timezone.now()
        event.inventory_status = EventInventoryStatus.READY
        event.inventory_created = total
        event.save(
            using=DB_ALIAS,
            update_fields=["status", "published_at", "inventory_status", "inventory_created", "updated_at"],
        )
    return first_publish


# --- repricing (driven by orders.services.tier_reprice, which reprices the places on sale) ---------------------
def tier_set_price(*, event_id: uuid.UUID, tier_id: uuid.UUID, price: Decimal) -> TierPriceChange:
    """The tier's price from now on (the price tables buyers see); its places follow in seats_db."""
    if not isinstance(price, Decimal) or not price.is_finite() or price < 0 or price >= Decimal("100000000"):
        raise InvalidInput("A price must be between 0 and 99,999,999.99.", fields={"price": ["Out of range."]})
    price = price.quantize(Decimal("0.01"))
    with transaction.atomic(using=DB_ALIAS):
        tiers = PriceTier.objects.using(DB_ALIAS).select_for_update().select_related("event")
        tier = tiers.filter(pk=tier_id, event_id=event_id).first()
        if tier is None:
            raise NotFound("This event has no such price tier.")
        if tier.event.status in (EventStatus.CANCELLED, EventStatus.ENDED):
            raise EventNotPublishable(f"A {tier.event.get_status_display().lower()} event cannot be repriced.")
        old = tier.price
        if old != price:
            tier.price = price
            tier.save(using=DB_ALIAS, update_fields=["price", "updated_at"])
    return TierPriceChange(
        tier_id=tier.pk,
        tier_name=tier.name,
        event_id=tier.event_id,
        organization_id=tier.event.organization_id,
        old_price=old,
        new_price=price,
    )


# --- cancelling (driven by orders.services.event_cancel, which refunds the orders) -------------------------------
def event_cancel_begin(*, event_id: uuid.UUID) -> tuple[uuid.UUID, bool]:
    """Stop sales at once: the event is CANCELLED before any refund runs. Returns (organization id, first time)."""
    with transaction.atomic(using=DB_ALIAS):
        event = Event.objects.using(DB_ALIAS).select_for_update().filter(pk=event_id).first()
        if event is None:
            raise NotFound("No such event.")
        if event.status == EventStatus.ENDED:
            raise EventNotCancellable("An event that has ended cannot be cancelled.")
        first_cancel = event.status != EventStatus.CANCELLED
        if first_cancel:
            event.status = EventStatus.CANCELLED
            event.cancelled_at = timezone.now()
            event.save(using=DB_ALIAS, update_fields=["status", "cancelled_at", "updated_at"])
    return event.organization_id, first_cancel


def event_refunds_progress(*, event_id: uuid.UUID, done: int, total: int) -> None:
    Event.objects.using(DB_ALIAS).filter(pk=event_id).update(refunds_done=done, refunds_total=total)


# --- the waiting room's switch (the room itself is orders_db's) ---------------------------------------------------
def event_set_waiting_room(*, event_id: uuid.UUID, active: bool) -> None:
    """Turn the pass check of holds and checkout on or off for one event (idempotent)."""
    with transaction.atomic(using=DB_ALIAS):
        changed = (
            Event.objects.using(DB_ALIAS).filter(pk=event_id).update(waiting_room=active, updated_at=timezone.now())
        )
    if not changed:
        raise NotFound("No such event.")


# --- announcing changes buyers must hear of ------------------------------------------------------------------------
def event_change_announce(*, event_id: uuid.UUID, before: dict[str, Any]) -> None:
    """Record that a published event's time changed, in the caller's events_db transaction (the admin's save).

    The fact goes to this database's outbox (core/outbox.py) and becomes a mail to every ticket holder; if the
    save rolls back, so does the fact.
    """
    event = Event.objects.using(DB_ALIAS).select_related("venue").get(pk=event_id)
    was = {key: value.isoformat() if hasattr(value, "isoformat") else value for key, value in before.items()}
    outbox_emit(
        using=DB_ALIAS,
        topic="events.event_changed",
        payload={
            "event_id": str(event.pk),
            "before": was,
            "after": {"starts_at": event.starts_at.isoformat(), "venue_name": event.venue.name},
        },
    )
