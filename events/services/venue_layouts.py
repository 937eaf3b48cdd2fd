"""Venue layouts: the stage and where each section sits on the venue map, planned as a theatre, an arena or a
stadium by ``venue_generate_layout`` (events/geometry.py draws them); an empty venue can first get the shape's usual
sections.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from core.audit import audit_record
from core.errors import InvalidInput, NotFound
from events import DB_ALIAS, geometry
from events.contract import SectionKind, SectionMapShape, StageShape, VenueLayoutInfo, VenueLayoutShape
from events.models import Section, Venue
from events.services.grids import build_grid_layout, layout_extent

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
