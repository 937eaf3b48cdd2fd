"""Venue-map geometry: where a section's footprint and seats fall on the map, and the stage drawn with them.

Pure functions of plain numbers, shared by the admin's preview (events/admin/venue_map.py), the buyers' venue
overview and section maps (orders/views/event_page.py) and the layout generators (events/services/), so what
staff preview is what buyers see.

A section is drawn in its own frame first: x runs along the rows (0 to its width), y away from the stage (row A at
y = 0). Straight rows stay as they are; an ARC section's rows bend around a centre ``arc_radius`` in front of the
middle of its front edge, a seat keeping its distance along the row. The frame is then turned by ``rotation``
degrees (clockwise) and moved so the middle of its front edge sits at (x, y) on the venue map.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core.results import from_prefixed
from events.contract import SectionMapShape, StageShape

# A section with no footprint yet (no seats, no size typed) is drawn this big.
DEFAULT_FOOTPRINT = (200, 120)
ARC_STEPS = 16  # straight pieces per curved edge
MAP_MARGIN = 40


@dataclass(frozen=True)
class Placement:
    """Where one section sits on the venue map (the Section columns map_*)."""

    x: int = 0
    y: int = 0
    rotation: int = 0
    shape: str = SectionMapShape.RECT
    arc_radius: int = 0
    width: int = 0
    height: int = 0

    @classmethod
    def of(cls, section: object) -> Placement:
        """The placement of anything with the Section's map_* attributes (a Section, an EventSectionInfo)."""
        return from_prefixed(cls, section, "map_")

    @property
    def size(self) -> tuple[int, int]:
        if self.width > 0 and self.height > 0:
            return self.width, self.height
        return DEFAULT_FOOTPRINT

    @property
    def curved(self) -> bool:
        return self.shape == SectionMapShape.ARC and self.arc_radius > 0

    @property
    def arc_degrees(self) -> float:
        """How far a curved section's front row turns, end to end."""
        return math.degrees(self.size[0] / self.arc_radius) if self.curved else 0.0


@dataclass(frozen=True)
class Stage:
    shape: str
    x: int
    y: int
    width: int
    height: int
    label: str = ""

    @classmethod
    def of(cls, venue: object) -> Stage:
        """The stage of anything with the Venue's stage_* attributes."""
        return from_prefixed(cls, venue, "stage_")


@dataclass(frozen=True)
class Shape:
    """One drawn outline: an SVG path in map units, and where its label goes."""

    key: str
    path: str
    label_x: float
    label_y: float
    box_width: float = 0  # the outline's upright bounding box: how much room a label has
    box_height: float = 0

    def label_size(self, lines: Sequence[str]) -> float:
        """The font size at which ``lines`` fit across the outline's box (an average glyph is 0.6 em wide)."""
        widest = max((len(line) for line in lines), default=1) or 1
        return min(self.box_width * 0.9 / (0.6 * widest), self.box_height * 0.8 / (1.2 * len(lines)))


@dataclass(frozen=True)
class VenueDrawing:
    view_box: tuple[int, int, int, int]  # min x, min y, width, height
    stage: Shape | None
    stage_shape: str
    sections: list[Shape]

    @property
    def view_box_attr(self) -> str:
        return " ".join(str(value) for value in self.view_box)


def bend(x: float, y: float, *, width: float, radius: float) -> tuple[float, float]:
    """A point of a section's own frame after its rows are curved around a centre ``radius`` in front of it."""
    if radius <= 0:
        return x, y
    angle = (x - width / 2) / radius
    distance = radius + y
    return width / 2 + distance * math.sin(angle), distance * math.cos(angle) - radius


def place(x: float, y: float, placement: Placement) -> tuple[float, float]:
    """A point of a section's (curved) frame on the venue map."""
    width, _ = placement.size
    radians = math.radians(placement.rotation)
    cos, sin = math.cos(radians), math.sin(radians)
    local_x, local_y = x - width / 2, y
    return placement.x + local_x * cos - local_y * sin, placement.y + local_x * sin + local_y * cos


def footprint(placement: Placement) -> list[tuple[float, float]]:
    """The outline of a section on the venue map: a rectangle, or a ring segment for curved rows."""
    width, height = placement.size
    if placement.curved:
        steps = [width * i / ARC_STEPS for i in range(ARC_STEPS + 1)]
        front = [bend(x, 0, width=width, radius=placement.arc_radius) for x in steps]
        back = [bend(x, height, width=width, radius=placement.arc_radius) for x in reversed(steps)]
        local = front + back
    else:
        local = [(0, 0), (width, 0), (width, height), (0, height)]
    return [place(x, y, placement) for x, y in local]


def _path(points: Sequence[tuple[float, float]]) -> str:
    return "M" + " L".join(f"{x:.1f} {y:.1f}" for x, y in points) + " Z"


def section_shape(key: str, placement: Placement) -> Shape:
    points = footprint(placement)
    width, height = placement.size
    middle = bend(width / 2, height / 2, width=width, radius=placement.arc_radius if placement.curved else 0)
    label_x, label_y = place(*middle, placement)
    xs, ys = [x for x, _ in points], [y for _, y in points]
    return Shape(
        key=key,
        path=_path(points),
        label_x=round(label_x, 1),
        label_y=round(label_y, 1),
        box_width=max(xs) - min(xs),
        box_height=max(ys) - min(ys),
    )


def stage_outline(stage: Stage) -> list[tuple[float, float]]:
    """A stage is a rectangle with its audience edge bowed; an arena's round stage an ellipse; a pitch a rectangle."""
    half_w, half_h = stage.width / 2, stage.height / 2
    if stage.shape == StageShape.THRUST:
        return [
            (stage.x + half_w * math.cos(2 * math.pi * i / 48), stage.y + half_h * math.sin(2 * math.pi * i / 48))
            for i in range(48)
        ]
    if stage.shape == StageShape.STAGE:
        bow = min(stage.height * 0.3, 60)
        top = [(stage.x - half_w, stage.y - half_h), (stage.x + half_w, stage.y - half_h)]
        front = [
            (stage.x + half_w * math.cos(math.pi * i / ARC_STEPS), stage.y + half_h + bow * math.sin(math.pi * i / 16))
            for i in range(ARC_STEPS + 1)
        ]
        return top + front
    return [
        (stage.x - half_w, stage.y - half_h),
        (stage.x + half_w, stage.y - half_h),
        (stage.x + half_w, stage.y + half_h),
        (stage.x - half_w, stage.y + half_h),
    ]


def venue_drawing(*, stage: Stage | None, sections: Iterable[tuple[str, Placement]]) -> VenueDrawing:
    """Every outline of a venue map and a view box around them all."""
    shapes, points = [], []
    for key, placement in sections:
        shapes.append(section_shape(key, placement))
        points.extend(footprint(placement))
    stage_shape = None
    if stage is not None and stage.shape != StageShape.NONE:
        outline = stage_outline(stage)
        points.extend(outline)
        stage_shape = Shape(key="stage", path=_path(outline), label_x=stage.x, label_y=stage.y)
    if not points:
        return VenueDrawing(view_box=(0, 0, 100, 100), stage=None, stage_shape=StageShape.NONE, sections=[])
    min_x = math.floor(min(x for x, _ in points)) - MAP_MARGIN
    min_y = math.floor(min(y for _, y in points)) - MAP_MARGIN
    max_x = math.ceil(max(x for x, _ in points)) + MAP_MARGIN
    max_y = math.ceil(max(y for _, y in points)) + MAP_MARGIN
    return VenueDrawing(
        view_box=(min_x, min_y, max_x - min_x, max_y - min_y),
        stage=stage_shape,
        stage_shape=stage.shape if stage_shape else StageShape.NONE,
        sections=shapes,
    )


@dataclass(frozen=True)
class SeatExtent:
    """The box around a section's seats in its layout's units, and the spacing of seats along a row."""

    min_x: int
    min_y: int
    width: int
    depth: int
    pitch: int
    row_pitch: int

    @property
    def footprint(self) -> tuple[int, int]:
        """The section's size on the venue map: its seats and half a seat's room around them."""
        return self.width + self.pitch, self.depth + self.row_pitch


def seat_extent(points: Iterable[tuple[int, int]]) -> SeatExtent | None:
    """The extent of seats given as (x, y); None when there are none."""
    points = list(points)
    if not points:
        return None
    xs = sorted({x for x, _ in points})
    ys = sorted({y for _, y in points})

    def smallest_step(values: list[int]) -> int:
        steps = [b - a for a, b in zip(values, values[1:], strict=False) if b > a]
        return min(steps) if steps else 12

    pitch = smallest_step(xs)
    return SeatExtent(
        min_x=xs[0],
        min_y=ys[0],
        width=xs[-1] - xs[0],
        depth=ys[-1] - ys[0],
        pitch=pitch,
        row_pitch=smallest_step(ys) if len(ys) > 1 else pitch,
    )


def seat_positions(
    points: Sequence[tuple[int, int]], *, extent: SeatExtent, arc_radius: int
) -> list[tuple[float, float]]:
    """Seats in the section's own frame, rows curved when it has an arc: row A's middle seat at (width / 2, 0)."""
    # The footprint adds half a seat's room on each side; the curve is centred on the seats themselves.
    return [bend(x - extent.min_x, y - extent.min_y, width=extent.width, radius=arc_radius) for x, y in points]
