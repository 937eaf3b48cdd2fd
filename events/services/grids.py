"""Seat grids: a section's layout (rows of numbered seats with their map positions and accessible places), or
general admission with a capacity, validated and written by ``section_generate_grid``; ``build_grid_layout`` is the
pure part the venue layouts reuse for the sections they create.
"""

from __future__ import annotations

import string
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.utils.translation import gettext

from core.audit import audit_record
from core.errors import InvalidInput, NotFound
from events import DB_ALIAS, geometry
from events.contract import EventStatus, SectionInUse, SectionKind, SectionLayoutInfo
from events.models import EventSection, Section

# Seat-map geometry (SVG units): one seat every SEAT_PITCH, one row every ROW_PITCH, an aisle is AISLE_WIDTH wide.
SEAT_PITCH = 20
ROW_PITCH = 24
AISLE_WIDTH = 20
MAX_ROWS = 200
MAX_SEATS_PER_ROW = 500
MAX_SECTION_SEATS = 40_000
MAX_GENERAL_CAPACITY = 100_000


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


def _section_save_layout(*, section_id: uuid.UUID, kind: str, layout: dict[str, Any], capacity: int) -> uuid.UUID:
    """Write the layout under the section's row lock (its map footprint follows the seats); returns the section's
    organization id. Refused (SectionInUse) while a published event sells the section."""
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
        return section.venue.organization_id


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

    organization_id = _section_save_layout(section_id=section_id, kind=kind, layout=layout, capacity=capacity)
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


def layout_extent(layout: dict[str, Any] | None) -> geometry.SeatExtent | None:
    """The extent of a section layout's seats (None for a standing area or an empty grid)."""
    return geometry.seat_extent(
        (int(seat.get("x", 0)), int(seat.get("y", 0)))
        for row in (layout or {}).get("rows", [])
        for seat in row.get("seats", [])
    )
