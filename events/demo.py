"""Demo venues and events (used by `manage.py seed_demo`). Idempotent: found by natural keys, created when missing."""

from __future__ import annotations

import datetime as dt
import string
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from events import DB_ALIAS
from events.contract import EventSelectionMode, EventStatus, SectionKind, VenueLayoutShape
from events.models import Event, EventSection, Organization, PriceTier, Section, Venue
from events.services import venue_generate_layout

SEAT_PITCH = 12  # SVG units between seat centres


def grid(
    rows: int, seats_per_row: int, *, aisle_after: tuple[int, ...] = (), accessible_rows: tuple[int, ...] = ()
) -> dict:
    """Rows A, B, ... of seats with aisles; in an accessible row the seats beside each aisle are marked."""
    labels = list(string.ascii_uppercase) + [f"{a}{a}" for a in string.ascii_uppercase]
    layout_rows = []
    for r in range(rows):
        seats, gap = [], 0
        for n in range(1, seats_per_row + 1):
            seats.append(
                {
                    "number": n,
                    "x": (n - 1 + gap) * SEAT_PITCH,
                    "y": r * SEAT_PITCH,
                    "accessible": r in accessible_rows and (n in (1, seats_per_row) or n in aisle_after),
                }
            )
            if n in aisle_after:
                gap += 2
        layout_rows.append({"label": labels[r], "seats": seats})
    return {
        "rows": layout_rows,
        "generator": {"rows": rows, "seats_per_row": seats_per_row, "aisle_after": list(aisle_after)},
    }


@dataclass(frozen=True)
class DemoEvents:
    """What the rest of the demo builds on: the two organizations and the events it publishes and sells."""

    organization_id: uuid.UUID
    other_organization_id: uuid.UUID
    publishable_event_ids: list[uuid.UUID]
    theatre_event_id: uuid.UUID
    stadium_event_id: uuid.UUID


def _section(venue: Venue, name: str, *, order: int, map_xy: tuple[int, int], layout=None, capacity=0) -> Section:
    defaults = {
        "sort_order": order,
        "map_x": map_xy[0],
        "map_y": map_xy[1],
        "kind": SectionKind.SEATED if layout else SectionKind.GENERAL,
        "layout": layout or {},
        "capacity": sum(len(row["seats"]) for row in layout["rows"]) if layout else capacity,
    }
    section, _ = Section.objects.get_or_create(venue=venue, name=name, defaults=defaults)
    return section


def _event(venue: Venue, slug: str, **fields) -> Event:
    event, _ = Event.objects.get_or_create(
        organization=venue.organization, venue=venue, slug=slug, defaults={"title": slug.title(), **fields}
    )
    return event


def _on_sale(starts_at: dt.datetime, *, since: dt.datetime, doors_before: dt.timedelta | None = None) -> dict:
    """The times of an event on sale from ``since`` until it starts (its doors open ``doors_before`` the start)."""
    doors = {"doors_at": starts_at - doors_before} if doors_before else {}
    return {"starts_at": starts_at, "sales_start": since, "sales_end": starts_at, **doors}


def _sell(event: Event, sections: list[tuple[Section, str, Decimal, str]]) -> None:
    """Price tiers and the sections an event sells: [(section, tier name, price, colour)]."""
    for order, (section, tier_name, price, colour) in enumerate(sections):
        tier, _ = PriceTier.objects.get_or_create(
            event=event, name=tier_name, defaults={"price": price, "colour": colour, "sort_order": order}
        )
        EventSection.objects.get_or_create(event=event, section=section, defaults={"tier": tier})


def _theatre_sections(org: Organization) -> tuple[Venue, dict[str, Section]]:
    """Harbourlight Theatre and its sections by name: four seated levels and a standing pit."""
    theatre, _ = Venue.objects.get_or_create(
        organization=org, name="Harbourlight Theatre", defaults={"city": "Port Alder", "address": "1 Quay Street"}
    )
    sections = {
        "Stalls": _section(
            theatre,
            "Stalls",
            order=1,
            map_xy=(0, 260),
            layout=grid(24, 40, aisle_after=(10, 30), accessible_rows=(0, 23)),
        ),
        "Dress Circle": _section(
            theatre,
            "Dress Circle",
            order=2,
            map_xy=(0, 100),
            layout=grid(14, 36, aisle_after=(18,), accessible_rows=(0,)),
        ),
        "Upper Circle": _section(
            theatre, "Upper Circle", order=3, map_xy=(0, 0), layout=grid(12, 32, aisle_after=(16,))
        ),
        "Boxes": _section(theatre, "Boxes", order=4, map_xy=(520, 100), layout=grid(4, 8, accessible_rows=(3,))),
        "Standing Pit": _section(theatre, "Standing Pit", order=5, map_xy=(0, 600), capacity=120),
    }
    venue_generate_layout(venue_id=theatre.pk, shape=VenueLayoutShape.THEATRE)
    return theatre, sections


def _theatre(org: Organization, now: dt.datetime) -> tuple[Event, Event]:
    """The theatre's events: two on sale (returned: The Tempest, Midnight Jazz Session), a draft and an ended one."""
    theatre, sections = _theatre_sections(org)
    stalls, dress, upper = sections["Stalls"], sections["Dress Circle"], sections["Upper Circle"]
    boxes, pit = sections["Boxes"], sections["Standing Pit"]
    week_ago = now - dt.timedelta(days=7)
    tempest = _event(
        theatre,
        "the-tempest",
        title="The Tempest",
        description="Shakespeare's island of spirits, storms and second chances, in a new staging.",
        **_on_sale(now + dt.timedelta(days=14, hours=3), since=week_ago, doors_before=dt.timedelta(hours=1)),
    )
    _sell(
        tempest,
        [
            (stalls, "Stalls", Decimal("65.00"), "#2563eb"),
            (dress, "Dress Circle", Decimal("55.00"), "#7c3aed"),
            (upper, "Upper Circle", Decimal("30.00"), "#0d9488"),
            (boxes, "Box", Decimal("120.00"), "#db2777"),
            (pit, "Standing", Decimal("25.00"), "#ea580c"),
        ],
    )
    jazz = _event(
        theatre,
        "midnight-jazz",
        title="Midnight Jazz Session",
        description="A late-night set of standards and new work. Best available seating.",
        selection_mode=EventSelectionMode.BEST_AVAILABLE,
        **_on_sale(now + dt.timedelta(days=30, hours=5), since=week_ago),
    )
    _sell(jazz, [(stalls, "Standard", Decimal("40.00"), "#2563eb"), (dress, "Circle", Decimal("35.00"), "#7c3aed")])
    _event(
        theatre,
        "winter-gala",
        title="Winter Gala (draft)",
        description="Still being planned: not on sale.",
        starts_at=now + dt.timedelta(days=90),
        status=EventStatus.DRAFT,
    )
    past = _event(
        theatre,
        "autumn-revue",
        title="Autumn Revue",
        description="Last season's revue. It has ended.",
        starts_at=now - dt.timedelta(days=20),
        status=EventStatus.ENDED,
    )
    _sell(past, [(stalls, "Stalls", Decimal("50.00"), "#2563eb")])
    return tempest, jazz


def _stadium(org: Organization, now: dt.datetime) -> Event:
    """Northgate Stadium: sixteen seated stands and a standing field, and the derby sold across all of them."""
    stadium, _ = Venue.objects.get_or_create(
        organization=org, name="Northgate Stadium", defaults={"city": "Port Alder", "address": "Northgate Park"}
    )
    stands = [
        _section(
            stadium,
            f"{side} {block}",
            order=index * 10 + block,
            map_xy=(block * 1000, index * 600),
            layout=grid(40, 80, aisle_after=(20, 40, 60), accessible_rows=(0,)),
        )
        for index, side in enumerate(["North", "East", "South", "West"])
        for block in range(1, 5)
    ]
    field = _section(stadium, "Field (standing)", order=99, map_xy=(2000, 2400), capacity=5000)
    venue_generate_layout(venue_id=stadium.pk, shape=VenueLayoutShape.STADIUM)
    derby = _event(
        stadium,
        "harbour-derby",
        title="Harbour FC vs Northgate United",
        description="The derby. 56,000 places across sixteen stands and the standing field.",
        **_on_sale(
            now + dt.timedelta(days=21, hours=6), since=now - dt.timedelta(days=7), doors_before=dt.timedelta(hours=2)
        ),
    )
    lower = ("1", "2")  # the blocks nearest the pitch
    _sell(
        derby,
        [
            (stand, "Lower tier", Decimal("45.00"), "#16a34a")
            if stand.name.endswith(lower)
            else (stand, "Upper tier", Decimal("32.00"), "#0369a1")
            for stand in stands
        ]
        + [(field, "Field", Decimal("20.00"), "#ea580c")],
    )
    return derby


def _studio(other: Organization, now: dt.datetime) -> Event:
    """Riverside Studio, another organization's venue, with one event on sale."""
    studio, _ = Venue.objects.get_or_create(organization=other, name="Riverside Studio", defaults={"city": "Elmby"})
    floor = _section(studio, "Studio Floor", order=1, map_xy=(0, 0), layout=grid(10, 20))
    poetry = _event(
        studio,
        "poetry-night",
        title="Poetry Night at Riverside",
        description="Readings in the round (another organization's event).",
        **_on_sale(now + dt.timedelta(days=10), since=now - dt.timedelta(days=7)),
    )
    _sell(poetry, [(floor, "General", Decimal("12.00"), "#0d9488")])
    return poetry


def seed() -> DemoEvents:
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    with transaction.atomic(using=DB_ALIAS):
        org, _ = Organization.objects.get_or_create(slug="harbourlight", defaults={"name": "Harbourlight Live"})
        other, _ = Organization.objects.get_or_create(slug="riverside-arts", defaults={"name": "Riverside Arts"})
        tempest, jazz = _theatre(org, now)
        derby = _stadium(org, now)
        poetry = _studio(other, now)
    return DemoEvents(
        organization_id=org.pk,
        other_organization_id=other.pk,
        publishable_event_ids=[tempest.pk, jazz.pk, derby.pk, poetry.pk],
        theatre_event_id=tempest.pk,
        stadium_event_id=derby.pk,
    )


WAITING_ROOM_EVENT_SLUG = "harbour-lights-presale"


def seed_waiting_room_event(*, sales_start: dt.datetime) -> uuid.UUID:
    """A small, high-demand on-sale for trying the waiting room: the Upper Circle of the theatre (384 places), best
    available, selling from ``sales_start`` (seed_demo puts its room in front of it). Found by slug when it exists,
    unchanged."""
    with transaction.atomic(using=DB_ALIAS):
        org, _ = Organization.objects.get_or_create(slug="harbourlight", defaults={"name": "Harbourlight Live"})
        theatre, sections = _theatre_sections(org)
        starts = sales_start.replace(second=0, microsecond=0) + dt.timedelta(days=45)
        presale = _event(
            theatre,
            WAITING_ROOM_EVENT_SLUG,
            title="Harbour Lights: the reunion show",
            description="One night only, and everyone wants in: this on-sale admits buyers from a waiting room.",
            selection_mode=EventSelectionMode.BEST_AVAILABLE,
            **_on_sale(starts, since=sales_start),
        )
        _sell(presale, [(sections["Upper Circle"], "Reunion", Decimal("48.00"), "#b45309")])
    return presale.pk
