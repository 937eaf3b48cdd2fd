"""What events promises its callers: the result types, the enums and the errors of events_db.

Callers get these from ``events.selectors`` and ``events.services``, never model
instances (docs/ARCHITECTURE.md: every contract.py).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy

from core.errors import Conflict

# --- Enums -------------------------------------------------------------------------------------------------------


class SectionKind(models.TextChoices):
    SEATED = "SEATED", gettext_lazy("Seated")
    GENERAL = "GENERAL", gettext_lazy("General admission")


class StageShape(models.TextChoices):
    NONE = "NONE", gettext_lazy("None drawn")
    STAGE = "STAGE", gettext_lazy("Stage (proscenium)")
    THRUST = "THRUST", gettext_lazy("Round stage (arena)")
    PITCH = "PITCH", gettext_lazy("Pitch (stadium)")


class SectionMapShape(models.TextChoices):
    RECT = "RECT", gettext_lazy("Straight rows")
    ARC = "ARC", gettext_lazy("Curved rows")


class VenueLayoutShape(models.TextChoices):
    """The venue-layout generators (events.services.venue_generate_layout)."""

    THEATRE = "THEATRE", gettext_lazy("Proscenium theatre (stalls, circles, boxes)")
    ARENA = "ARENA", gettext_lazy("Arena bowl")
    STADIUM = "STADIUM", gettext_lazy("Four-stand stadium with a standing field")


class EventStatus(models.TextChoices):
    DRAFT = "DRAFT", gettext_lazy("Draft")
    PUBLISHED = "PUBLISHED", gettext_lazy("Published")
    CANCELLED = "CANCELLED", gettext_lazy("Cancelled")
    ENDED = "ENDED", gettext_lazy("Ended")


class EventSelectionMode(models.TextChoices):
    SEATMAP = "SEATMAP", gettext_lazy("Pick seats on the map")
    BEST_AVAILABLE = "BEST_AVAILABLE", gettext_lazy("Best available")


class EventInventoryStatus(models.TextChoices):
    NONE = "NONE", gettext_lazy("Not created")
    BUILDING = "BUILDING", gettext_lazy("Being created")
    READY = "READY", gettext_lazy("Created")


def sales_open(status: str, sales_start: dt.datetime | None, sales_end: dt.datetime | None) -> bool:
    """Tickets are on sale: the event is published and now is inside its sales window (an open end is unbounded)."""
    now = timezone.now()
    if status != EventStatus.PUBLISHED:
        return False
    if sales_start is not None and now < sales_start:
        return False
    return sales_end is None or now < sales_end


# --- Result types ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventIdentity:
    """What every view of an event says first: which event, whose, where, its title and status. A subclass's own
    fields follow these, in the order the selectors' SQL reads them (core.results.fetch_as)."""

    id: uuid.UUID
    organization_id: uuid.UUID
    venue_id: uuid.UUID
    venue_name: str
    title: str
    status: str


@dataclass(frozen=True)
class EventInfo(EventIdentity):
    """A live event as buyers' flows and other domains see it (any status)."""

    starts_at: dt.datetime
    doors_at: dt.datetime | None
    sales_start: dt.datetime | None
    sales_end: dt.datetime | None
    selection_mode: str
    venue_timezone: str = "UTC"  # the IANA zone every time of this event is shown in
    waiting_room: bool = False  # holds and checkout need a waiting-room pass (orders/services/waiting_room/)

    @property
    def is_on_sale(self) -> bool:
        return sales_open(self.status, self.sales_start, self.sales_end)


@dataclass(frozen=True)
class EventSectionInfo:
    """A section an event sells, with its tier, price and capacity (the override where one is set)."""

    section_id: uuid.UUID
    name: str
    kind: str
    tier_id: uuid.UUID
    tier_name: str
    price: Decimal
    colour: str
    capacity: int
    map_x: int
    map_y: int
    map_rotation: int = 0
    map_shape: str = "RECT"
    map_arc_radius: int = 0
    map_width: int = 0
    map_height: int = 0


@dataclass(frozen=True)
class VenueLayoutInfo:
    """What a venue-layout generator did: the shape drawn, sections placed and sections it created."""

    venue_id: uuid.UUID
    shape: str
    placed: int
    created: int


@dataclass(frozen=True)
class SectionLayoutInfo:
    """A section's seat grid as the generator wrote it."""

    section_id: uuid.UUID
    kind: str
    capacity: int
    rows: int
    accessible: int


@dataclass(frozen=True)
class SectionOnSale:
    """One section of an event as it goes on sale: what the inventory must create for it."""

    section_id: uuid.UUID
    tier_id: uuid.UUID
    price: Decimal
    kind: str
    rows: list[dict[str, Any]]  # [{"label", "seats": [{"number", "x", "y", "accessible"}]}]; empty for GENERAL
    capacity: int
    places: int


@dataclass(frozen=True)
class PublishPlan:
    """What publishing an event puts on sale: its sections and their places in total."""

    event_id: uuid.UUID
    organization_id: uuid.UUID
    sections: list[SectionOnSale]
    total: int


@dataclass(frozen=True)
class TierPriceChange:
    """A tier's price before and after a reprice, with what a caller needs to reprice its places and audit it."""

    tier_id: uuid.UUID
    tier_name: str
    event_id: uuid.UUID
    organization_id: uuid.UUID
    old_price: Decimal
    new_price: Decimal


@dataclass(frozen=True)
class EventOperationsInfo(EventIdentity):
    """An event as its staff operations pages show it: identity, status and the progress of long operations."""

    status_label: str
    starts_at: dt.datetime
    inventory_status: str
    inventory_status_label: str
    inventory_created: int
    inventory_total: int
    refunds_done: int
    refunds_total: int
    venue_timezone: str = "UTC"

    def __str__(self) -> str:
        return self.title


@dataclass(frozen=True)
class SectionForSale:
    """One row of the publish preview: a section of the event, its tier and how many places it makes."""

    name: str
    kind_label: str
    tier_name: str
    price: Decimal
    places: int


# --- Errors ------------------------------------------------------------------------------------------------------


class SalesClosed(Conflict):
    code = "SALES_CLOSED"
    default_detail = gettext_lazy("Tickets for this event are not on sale.")


class SectionInUse(Conflict):
    code = "SECTION_IN_USE"
    default_detail = gettext_lazy(
        "The section is sold by a published event; its seats cannot change while it is on sale."
    )


class EventNotPublishable(Conflict):
    code = "EVENT_NOT_PUBLISHABLE"
    default_detail = gettext_lazy("This event cannot be published.")


class EventNotCancellable(Conflict):
    code = "EVENT_NOT_CANCELLABLE"
    default_detail = gettext_lazy("This event cannot be cancelled.")
