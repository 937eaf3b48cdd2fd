"""Staff operations of the events domain: seat-grid generation, publishing, cancelling.

Publishing and cancelling are long jobs that touch other databases (seats_db for the inventory, orders_db and
users_db for refunds). Each is resumable: the event's own state is written first in a short events_db transaction,
the heavy work runs outside any events_db lock through the other app's idempotent service, and progress is stored
on the event row so the admin can show it and a second run continues where the first stopped.
"""

from __future__ import annotations

import string
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from events import DB_ALIAS
from events.models import Event, EventSection, Section
from ticketremaster.errors import Conflict, InvalidInput, NotFound
from ticketremaster.locking import FlowBusy, flow_lock

# Seat-map geometry (SVG units): one seat every SEAT_PITCH, one row every ROW_PITCH, an aisle is AISLE_WIDTH wide.
SEAT_PITCH = 20
ROW_PITCH = 24
AISLE_WIDTH = 20
MAX_ROWS = 200
MAX_SEATS_PER_ROW = 500
MAX_SECTION_SEATS = 40_000
MAX_GENERAL_CAPACITY = 100_000


class SectionInUse(Conflict):
    code = "SECTION_IN_USE"
    default_detail = "The section is part of a published event; its seats can no longer change."


class EventNotPublishable(Conflict):
    code = "EVENT_NOT_PUBLISHABLE"
    default_detail = "This event cannot be published."


class EventNotCancellable(Conflict):
    code = "EVENT_NOT_CANCELLABLE"
    default_detail = "This event cannot be cancelled."


class EventBusy(Conflict):
    code = "EVENT_BUSY"
    default_detail = "This event is being published or cancelled right now; try again in a moment."


@dataclass(frozen=True)
class SectionLayoutInfo:
    section_id: uuid.UUID
    kind: str
    capacity: int
    rows: int
    accessible: int


@dataclass(frozen=True)
class PublishResult:
    event_id: uuid.UUID
    created: int  # rows inserted by this run (0 when everything existed already)
    total: int  # sellable places the event has


@dataclass(frozen=True)
class CancelResult:
    event_id: uuid.UUID
    refunded: int
    total: int

    @property
    def complete(self) -> bool:
        return self.refunded >= self.total


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
    errors: dict[str, list[str]] = {}
    if not 1 <= rows <= MAX_ROWS:
        errors["rows"] = [f"Between 1 and {MAX_ROWS} rows."]
    if not 1 <= seats_per_row <= MAX_SEATS_PER_ROW:
        errors["seats_per_row"] = [f"Between 1 and {MAX_SEATS_PER_ROW} seats per row."]
    if direction not in ("LTR", "RTL"):
        errors["direction"] = ["Numbering runs left-to-right (LTR) or right-to-left (RTL)."]
    if not errors and rows * seats_per_row > MAX_SECTION_SEATS:
        errors["rows"] = [f"At most {MAX_SECTION_SEATS:,} seats in one section; split it into several sections."]
    aisles = sorted(set(aisles_after))
    if not errors and any(not 1 <= a < seats_per_row for a in aisles):
        errors["aisles_after"] = [f"An aisle goes after a seat between 1 and {seats_per_row - 1}."]
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

    layout_rows = []
    for r, label in enumerate(labels):
        seats = []
        for position in range(seats_per_row):  # position 0 is the leftmost place on the map
            number = position + 1 if direction == "LTR" else seats_per_row - position
            aisles_left = sum(1 for a in aisles if a <= position) if direction == "LTR" else 0
            if direction == "RTL":
                # Aisles are given by seat number ("after seat N"), which runs right to left here.
                aisles_left = sum(1 for a in aisles if a >= number)
            seats.append(
                {
                    "number": number,
                    "x": position * SEAT_PITCH + aisles_left * AISLE_WIDTH,
                    "y": r * ROW_PITCH,
                    "accessible": (label, number) in wanted_accessible,
                }
            )
        seats.sort(key=lambda seat: seat["number"])
        layout_rows.append({"label": label, "seats": seats})
    return {
        "rows": layout_rows,
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
        .filter(section_id=section_id, event__status=Event.Status.PUBLISHED, event__deleted_at__isnull=True)
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
        kind, capacity = Section.Kind.GENERAL, general_capacity
    else:
        layout = build_grid_layout(
            rows=rows,
            seats_per_row=seats_per_row,
            label_style=label_style,
            direction=direction,
            aisles_after=aisles_after,
            accessible=accessible,
        )
        kind, capacity = Section.Kind.SEATED, rows * seats_per_row

    with transaction.atomic(using=DB_ALIAS):
        section = Section.objects.using(DB_ALIAS).select_for_update().filter(pk=section_id).first()
        if section is None:
            raise NotFound("No such section.")
        if _section_in_published_event(section.pk):
            raise SectionInUse()
        section.kind, section.layout, section.capacity = kind, layout, capacity
        section.save(using=DB_ALIAS, update_fields=["kind", "layout", "capacity", "updated_at"])
        organization_id = section.venue.organization_id
    _audit(
        actor_id,
        "section.generate_grid",
        "section",
        section_id,
        organization_id,
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


# --- publishing --------------------------------------------------------------------------------------------------
def _inventory_specs(event: Event) -> tuple[list[Any], int]:
    """SectionInventorySpec per active event section, and the number of places they make."""
    from inventory.services import SectionInventorySpec

    specs, total = [], 0
    event_sections = (
        EventSection.objects.using(DB_ALIAS)
        .filter(event=event, is_active=True, section__deleted_at__isnull=True)
        .select_related("section", "tier")
        .order_by("section__sort_order", "section__name")
    )
    for es in event_sections:
        section = es.section
        if section.kind == Section.Kind.GENERAL:
            capacity = es.effective_capacity
            if capacity <= 0:
                raise EventNotPublishable(f"General-admission section “{section.name}” has no capacity.")
            rows: list[dict[str, Any]] = []
            places = capacity
        else:
            rows = [
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
                for row in (section.layout or {}).get("rows", [])
            ]
            places = sum(len(row["seats"]) for row in rows)
            if places == 0:
                raise EventNotPublishable(f"Section “{section.name}” has no seats: generate its seat grid first.")
            capacity = places
        specs.append(
            SectionInventorySpec(
                section_id=section.pk,
                tier_id=es.tier_id,
                price=Decimal(es.tier.price),
                kind=section.kind,
                rows=rows,
                capacity=capacity,
            )
        )
        total += places
    if not specs:
        raise EventNotPublishable("Add at least one section (with a price tier) before publishing.")
    return specs, total


def event_publish(
    *, event_id: uuid.UUID, actor_id: uuid.UUID | None, progress: Callable[[int, int], None] | None = None
) -> PublishResult:
    """Create the event's inventory in bulk and put it on sale. Idempotent and resumable.

    The inventory insert skips places that exist already, so a second run (after a crash, or to add a section
    that was attached later) creates only what is missing and never a duplicate.
    """
    try:
        with flow_lock(event_id, using=DB_ALIAS):
            return _event_publish(event_id=event_id, actor_id=actor_id, progress=progress)
    except FlowBusy as exc:
        raise EventBusy() from exc


def _event_publish(*, event_id, actor_id, progress) -> PublishResult:
    from inventory.services import inventory_create_for_event

    with transaction.atomic(using=DB_ALIAS):
        event = Event.objects.using(DB_ALIAS).select_for_update().filter(pk=event_id).first()
        if event is None:
            raise NotFound("No such event.")
        if event.status not in (Event.Status.DRAFT, Event.Status.PUBLISHED):
            raise EventNotPublishable(f"A {event.get_status_display().lower()} event cannot be published.")
        specs, total = _inventory_specs(event)
        event.inventory_status = Event.InventoryStatus.BUILDING
        event.inventory_total = total
        event.save(using=DB_ALIAS, update_fields=["inventory_status", "inventory_total", "updated_at"])

    def report(done: int, of: int) -> None:
        # Its own tiny autocommit UPDATE, so the admin page shows progress while the bulk insert runs.
        Event.objects.using(DB_ALIAS).filter(pk=event_id).update(inventory_created=min(done, total))
        if progress is not None:
            progress(done, of)

    created = inventory_create_for_event(event_id=event_id, sections=specs, progress=report)

    with transaction.atomic(using=DB_ALIAS):
        event = Event.objects.using(DB_ALIAS).select_for_update().get(pk=event_id)
        first_publish = event.status == Event.Status.DRAFT
        if event.status == Event.Status.DRAFT:
            event.status = Event.Status.PUBLISHED
            event.published_at = timezone.now()
        event.inventory_status = Event.InventoryStatus.READY
        event.inventory_created = total
        event.save(
            using=DB_ALIAS,
            update_fields=["status", "published_at", "inventory_status", "inventory_created", "updated_at"],
        )
    _audit(
        actor_id,
        "event.publish" if first_publish else "event.inventory_sync",
        "event",
        event_id,
        event.organization_id,
        data={"created": created, "total": total},
    )
    return PublishResult(event_id=event.pk, created=created, total=total)


# --- cancelling --------------------------------------------------------------------------------------------------
def event_cancel(*, event_id: uuid.UUID, actor_id: uuid.UUID | None, reason: str, progress=None) -> CancelResult:
    """Stop sales at once, then refund every order of the event through the refund service. Resumable.

    The status changes first (nobody can buy while refunds run); calling again after an interruption refunds
    what is left, because each order refund is idempotent.
    """
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("A reason is required to cancel an event.", fields={"reason": ["Give a reason."]})
    try:
        with flow_lock(event_id, using=DB_ALIAS):
            return _event_cancel(event_id=event_id, actor_id=actor_id, reason=reason, progress=progress)
    except FlowBusy as exc:
        raise EventBusy() from exc


def _event_cancel(*, event_id, actor_id, reason, progress) -> CancelResult:
    from orders.services import orders_refund_for_event

    with transaction.atomic(using=DB_ALIAS):
        event = Event.objects.using(DB_ALIAS).select_for_update().filter(pk=event_id).first()
        if event is None:
            raise NotFound("No such event.")
        if event.status == Event.Status.ENDED:
            raise EventNotCancellable("An event that has ended cannot be cancelled.")
        first_cancel = event.status != Event.Status.CANCELLED
        if first_cancel:
            event.status = Event.Status.CANCELLED
            event.cancelled_at = timezone.now()
            event.save(using=DB_ALIAS, update_fields=["status", "cancelled_at", "updated_at"])
        organization_id = event.organization_id
    if first_cancel:
        _audit(actor_id, "event.cancel", "event", event_id, organization_id, reason=reason)

    def report(done: int, total: int) -> None:
        Event.objects.using(DB_ALIAS).filter(pk=event_id).update(refunds_done=done, refunds_total=total)
        if progress is not None:
            progress(done, total)

    done, total = orders_refund_for_event(event_id=event_id, actor_id=actor_id, reason=reason, progress=report)
    Event.objects.using(DB_ALIAS).filter(pk=event_id).update(refunds_done=done, refunds_total=total)
    return CancelResult(event_id=event_id, refunded=done, total=total)


def _audit(actor_id, action: str, object_type: str, object_id, organization_id, reason: str = "", data=None) -> None:
    from accounts.services import audit_record

    audit_record(
        actor_id=actor_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        organization_id=organization_id,
        reason=reason,
        data=data or {},
    )
