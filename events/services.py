"""Staff operations of the events domain: seat-grid generation, and the events_db steps of publishing and cancelling.

Publishing and cancelling span databases (seats_db for the inventory, orders_db and users_db for refunds), so
``orders.services.event_publish`` / ``event_cancel`` drive them. The steps here are the event's own: each is a
short events_db transaction (state first, progress on the event row), so a second run continues where the first
stopped.
"""

from __future__ import annotations

import math
import string
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from core.audit import audit_record
from core.errors import InvalidInput, NotFound
from core.outbox import outbox_emit
from core.prices import price_checked
from events import DB_ALIAS, geometry
from events.contract import (
    EventInventoryStatus,
    EventNotCancellable,
    EventNotPublishable,
    EventStatus,
    PublishPlan,
    SectionInUse,
    SectionKind,
    SectionLayoutInfo,
    SectionMapShape,
    SectionOnSale,
    StageShape,
    TierPriceChange,
    VenueLayoutInfo,
    VenueLayoutShape,
)
from events.models import Event, EventSection, PriceTier, Section, Venue

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
        raise InvalidInput(
            gettext("Row labels are letters or numbers."),
            fields={"row_labels": [gettext("Choose letters or numbers.")]},
        )
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
                gettext("“%(token)s” is not a seat reference.") % {"token": token},
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
        raise InvalidInput(gettext("The seat grid is not valid."), fields=errors)

    labels = row_labels(rows, label_style)
    wanted_accessible = set(accessible)
    known = {(label, n) for label in labels for n in range(1, seats_per_row + 1)}
    unknown = sorted(wanted_accessible - known)
    if unknown:
        shown = ", ".join(f"{r}{n}" for r, n in unknown[:10])
        raise InvalidInput(
            gettext("Some accessible seats are not in the grid."), fields={"accessible": [f"Not in the grid: {shown}."]}
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
                gettext("The capacity is not valid."),
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
            raise NotFound(gettext("No such section."))
        if _section_in_published_event(section.pk):
            raise SectionInUse()
        section.kind, section.layout, section.capacity = kind, layout, capacity
        fields = ["kind", "layout", "capacity", "updated_at"]
        extent = layout_extent(layout)
        if extent is not None:
            section.map_width, section.map_height = extent.footprint
            fields += ["map_width", "map_height"]
        section.save(using=DB_ALIAS, update_fields=fields)
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
            gettext("General-admission section “%(name)s” has no capacity.") % {"name": section.name}
            if general
            else gettext("Section “%(name)s” has no seats: generate its seat grid first.") % {"name": section.name}
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
            raise NotFound(gettext("No such event."))
        if event.status not in (EventStatus.DRAFT, EventStatus.PUBLISHED):
            raise EventNotPublishable(
                gettext("A %(status)s event cannot be published.") % {"status": event.get_status_display().lower()}
            )
        event_sections = (
            EventSection.objects.using(DB_ALIAS)
            .filter(event=event, is_active=True, section__deleted_at__isnull=True)
            .select_related("section", "tier")
            .order_by("section__sort_order", "section__name")
        )
        sections = [_section_on_sale(event_section) for event_section in event_sections]
        if not sections:
            raise EventNotPublishable(gettext("Add at least one section (with a price tier) before publishing."))
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
    price = price_checked(price)
    with transaction.atomic(using=DB_ALIAS):
        tiers = PriceTier.objects.using(DB_ALIAS).select_for_update().select_related("event")
        tier = tiers.filter(pk=tier_id, event_id=event_id).first()
        if tier is None:
            raise NotFound(gettext("This event has no such price tier."))
        if tier.event.status in (EventStatus.CANCELLED, EventStatus.ENDED):
            raise EventNotPublishable(
                gettext("A %(status)s event cannot be repriced.") % {"status": tier.event.get_status_display().lower()}
            )
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
            raise NotFound(gettext("No such event."))
        if event.status == EventStatus.ENDED:
            raise EventNotCancellable(gettext("An event that has ended cannot be cancelled."))
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
        raise NotFound(gettext("No such event."))


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


# --- venue layouts: the stage and where each section sits on the venue map (events/geometry.py draws them) ------
def layout_extent(layout: dict[str, Any] | None) -> geometry.SeatExtent | None:
    """The extent of a section layout's seats (None for a standing area or an empty grid)."""
    return geometry.seat_extent(
        (int(seat.get("x", 0)), int(seat.get("y", 0)))
        for row in (layout or {}).get("rows", [])
        for seat in row.get("seats", [])
    )


LAYOUT_GAP = 60  # map units between neighbouring sections
THEATRE_ROLES = (  # a theatre section's role, from the first word of its name that says one
    ("box", "boxes"),
    ("loge", "boxes"),
    ("upper", "upper"),
    ("gallery", "upper"),
    ("balcony", "upper"),
    ("circle", "circle"),
    ("mezz", "circle"),
)
STADIUM_SIDES = ("north", "east", "south", "west")
# Sections a generator creates for an empty venue: (name, rows, seats per row, aisles after) or (name, capacity).
STANDARD_SECTIONS: dict[str, list[tuple]] = {
    VenueLayoutShape.THEATRE: [
        ("Stalls", 16, 30, (8, 22)),
        ("Dress Circle", 8, 28, (14,)),
        ("Upper Circle", 6, 26, (13,)),
        ("Box Left", 2, 4, ()),
        ("Box Right", 2, 4, ()),
        ("Pit", 150),
    ],
    VenueLayoutShape.ARENA: [*((f"Block {101 + n}", 12, 24, (12,)) for n in range(8)), ("Floor", 800)],
    VenueLayoutShape.STADIUM: [
        *((f"{side.title()} {block}", 20, 40, (20,)) for side in STADIUM_SIDES for block in (1, 2, 3)),
        ("Field (standing)", 3000),
    ],
}


@dataclass
class _Placed:
    """A section as the planners see it: its name, kind and footprint, and the placement they give it."""

    section_id: uuid.UUID
    name: str
    general: bool
    width: int
    height: int
    placement: geometry.Placement | None = None


def _stack(sections: list[_Placed], *, front: int, curved_min_radius: int = 0) -> int:
    """Sections one behind the other below the stage, each centred on x = 0; returns the y behind the last."""
    for section in sections:
        radius = max(curved_min_radius, int(section.width * 1.1)) if curved_min_radius else 0
        section.placement = geometry.Placement(
            x=0,
            y=front,
            shape=SectionMapShape.ARC if radius else SectionMapShape.RECT,
            arc_radius=radius,
            width=section.width,
            height=section.height,
        )
        front += section.height + LAYOUT_GAP
    return front


def _theatre_role(section: _Placed) -> str:
    if section.general:
        return "pit"
    name = section.name.lower()
    return next((role for word, role in THEATRE_ROLES if word in name), "stalls")


def plan_theatre(sections: list[_Placed]) -> geometry.Stage:
    """A proscenium stage at the top; the pit, the stalls, the circles and the upper circles behind one another,
    rows curved towards the stage; boxes along both side walls, facing across the house."""
    roles: dict[str, list[_Placed]] = {"pit": [], "stalls": [], "circle": [], "upper": [], "boxes": []}
    for section in sections:
        roles[_theatre_role(section)].append(section)
    seated = roles["stalls"] + roles["circle"] + roles["upper"]
    house_width = max([s.width for s in seated] + [600])
    stage = geometry.Stage(shape=StageShape.STAGE, x=0, y=0, width=int(house_width * 0.8), height=160, label="Stage")
    front = 80 + 48 + LAYOUT_GAP  # below the stage's bowed front edge
    for pit in roles["pit"]:
        pit.width, pit.height = pit.width or int(stage.width * 0.8), pit.height or 100
    front = _stack(roles["pit"], front=front)
    boxes_front = front
    _stack(seated, front=front, curved_min_radius=house_width)
    for index, box in enumerate(roles["boxes"]):
        side = 1 if index % 2 == 0 else -1  # right wall first
        along = boxes_front + (index // 2) * (box.width + LAYOUT_GAP) + box.width // 2
        box.placement = geometry.Placement(
            x=side * (house_width // 2 + LAYOUT_GAP * 2),
            y=along,
            rotation=-90 * side,
            width=box.width,
            height=box.height,
        )
    return stage


def plan_arena(sections: list[_Placed]) -> geometry.Stage:
    """A round stage in the middle, standing floors around it, and seated blocks in rings around both, every row
    curved around the centre."""
    stage = geometry.Stage(shape=StageShape.THRUST, x=0, y=0, width=480, height=300, label="Stage")
    floors = [s for s in sections if s.general]
    blocks = [s for s in sections if not s.general]
    front = stage.height // 2 + LAYOUT_GAP
    for floor in floors:
        floor.width, floor.height = floor.width or 900, floor.height or 160
    front = _stack(floors, front=front)
    ring_size = 12
    radius = max(front, stage.width // 2 + LAYOUT_GAP * 2)
    for start in range(0, len(blocks), ring_size):
        ring = blocks[start : start + ring_size]
        around = sum(s.width + LAYOUT_GAP for s in ring)
        radius = max(radius, int(around / (2 * math.pi)) + 1)
        for index, block in enumerate(ring):
            rotation = round(360 * index / len(ring)) % 360
            if rotation > 180:
                rotation -= 360
            radians = math.radians(rotation)
            block.placement = geometry.Placement(
                x=round(-radius * math.sin(radians)),
                y=round(radius * math.cos(radians)),
                rotation=rotation,
                shape=SectionMapShape.ARC,
                arc_radius=radius,
                width=block.width,
                height=block.height,
            )
        radius += max(s.height for s in ring) + LAYOUT_GAP
    return stage


def _stadium_side(section: _Placed, index: int) -> str:
    name = section.name.lower()
    return next((side for side in STADIUM_SIDES if side in name), STADIUM_SIDES[index % 4])


def plan_stadium(sections: list[_Placed]) -> geometry.Stage:
    """A pitch in the middle with standing fields on it; a straight stand along each of its four sides, its blocks
    side by side facing the pitch (sides from the names: North, East, South, West; otherwise dealt round)."""
    seated = [s for s in sections if not s.general]
    sides: dict[str, list[_Placed]] = {side: [] for side in STADIUM_SIDES}
    for index, section in enumerate(seated):
        sides[_stadium_side(section, index)].append(section)

    def length(side: str) -> int:
        return sum(s.width for s in sides[side]) + LAYOUT_GAP * max(len(sides[side]) - 1, 0)

    pitch_w = max(1050, length("north"), length("south"))
    pitch_h = max(680, length("east"), length("west"))
    stage = geometry.Stage(shape=StageShape.PITCH, x=0, y=0, width=pitch_w, height=pitch_h, label="Pitch")
    # rotation turns a stand's rows away from the pitch; "along" runs with the stand's own x
    frames = {
        "south": (0, (0, pitch_h // 2 + LAYOUT_GAP), (1, 0)),
        "north": (180, (0, -pitch_h // 2 - LAYOUT_GAP), (-1, 0)),
        "east": (-90, (pitch_w // 2 + LAYOUT_GAP, 0), (0, -1)),
        "west": (90, (-pitch_w // 2 - LAYOUT_GAP, 0), (0, 1)),
    }
    for side, stands in sides.items():
        rotation, (front_x, front_y), (dir_x, dir_y) = frames[side]
        offset = -length(side) / 2
        for stand in stands:
            middle = offset + stand.width / 2
            stand.placement = geometry.Placement(
                x=round(front_x + dir_x * middle),
                y=round(front_y + dir_y * middle),
                rotation=rotation,
                width=stand.width,
                height=stand.height,
            )
            offset += stand.width + LAYOUT_GAP
    fields = [s for s in sections if s.general]
    for index, field in enumerate(fields):
        width = field.width or int(pitch_w * 0.6)
        height = field.height or int(pitch_h * 0.6 / max(len(fields), 1))
        field.placement = geometry.Placement(
            x=0, y=-pitch_h * 3 // 10 + index * (height + 20), width=width, height=height
        )
    return stage


PLANNERS = {
    VenueLayoutShape.THEATRE: plan_theatre,
    VenueLayoutShape.ARENA: plan_arena,
    VenueLayoutShape.STADIUM: plan_stadium,
}


def _create_standard_sections(venue: Venue, shape: str) -> int:
    """An empty venue gets the shape's usual sections, seated ones with grids from the seat-grid generator."""
    for order, spec in enumerate(STANDARD_SECTIONS[shape], start=1):
        if len(spec) == 2:
            name, capacity = spec
            layout: dict[str, Any] = {"generator": {"general_capacity": capacity}}
            kind = SectionKind.GENERAL
        else:
            name, rows, seats_per_row, aisles = spec
            layout = build_grid_layout(rows=rows, seats_per_row=seats_per_row, aisles_after=aisles)
            kind, capacity = SectionKind.SEATED, rows * seats_per_row
        Section.objects.using(DB_ALIAS).create(
            venue=venue, name=name, kind=kind, layout=layout, capacity=capacity, sort_order=order
        )
    return len(STANDARD_SECTIONS[shape])


def venue_generate_layout(
    *, venue_id: uuid.UUID, shape: str, create_sections: bool = False, actor_id: uuid.UUID | None = None
) -> VenueLayoutInfo:
    """Draw the venue as a theatre, an arena or a stadium: its stage and every live section placed around it.

    Seats keep their numbers and their layout; only where they are drawn changes, so this is allowed while events
    are on sale. ``create_sections`` gives a venue without sections the shape's usual ones first.
    """
    if shape not in PLANNERS:
        raise InvalidInput(
            gettext("Unknown venue shape."), fields={"shape": [gettext("Choose a theatre, an arena or a stadium.")]}
        )
    with transaction.atomic(using=DB_ALIAS):
        venue = Venue.objects.using(DB_ALIAS).select_for_update().filter(pk=venue_id).first()
        if venue is None:
            raise NotFound(gettext("No such venue."))
        sections = list(Section.objects.using(DB_ALIAS).filter(venue=venue).order_by("sort_order", "name"))
        created = 0
        if not sections and create_sections:
            created = _create_standard_sections(venue, shape)
            sections = list(Section.objects.using(DB_ALIAS).filter(venue=venue).order_by("sort_order", "name"))
        planned = []
        for section in sections:
            extent = layout_extent(section.layout) if section.kind == SectionKind.SEATED else None
            width, height = extent.footprint if extent else (section.map_width, section.map_height)
            general = section.kind == SectionKind.GENERAL
            planned.append(_Placed(section.pk, section.name, general, width, height))
        stage = PLANNERS[shape](planned)
        for section, plan in zip(sections, planned, strict=True):
            placement = plan.placement
            section.map_x, section.map_y, section.map_rotation = placement.x, placement.y, placement.rotation
            section.map_shape, section.map_arc_radius = placement.shape, placement.arc_radius
            section.map_width, section.map_height = placement.width, placement.height
        fields = ["map_x", "map_y", "map_rotation", "map_shape", "map_arc_radius", "map_width", "map_height"]
        Section.objects.using(DB_ALIAS).bulk_update(sections, fields)
        venue.stage_shape, venue.stage_label = stage.shape, stage.label
        venue.stage_x, venue.stage_y, venue.stage_width, venue.stage_height = (
            stage.x,
            stage.y,
            stage.width,
            stage.height,
        )
        venue.save(
            using=DB_ALIAS,
            update_fields=[*Venue.STAGE_FIELDS, "updated_at"],
        )
    audit_record(
        actor_id=actor_id,
        action="venue.generate_layout",
        object_type="venue",
        object_id=venue_id,
        organization_id=venue.organization_id,
        data={"shape": shape, "sections": len(sections), "created": created},
    )
    return VenueLayoutInfo(venue_id=venue_id, shape=shape, placed=len(sections), created=created)
