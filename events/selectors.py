"""Reads of the events domain for other apps and for the buyer pages.

Other apps get frozen dataclasses (never model instances: they must not depend on events' models). The browse
helpers return querysets, but only to this app's own views and API.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.utils import timezone

from events import DB_ALIAS
from events.models import Event, EventSection, Venue
from ticketremaster.errors import Conflict, NotFound
from ticketremaster.ids import as_uuid


class SalesClosed(Conflict):
    code = "SALES_CLOSED"
    status = 409
    default_detail = "Tickets for this event are not on sale."


@dataclass(frozen=True)
class EventInfo:
    id: uuid.UUID
    organization_id: uuid.UUID
    venue_id: uuid.UUID
    venue_name: str
    title: str
    status: str
    starts_at: dt.datetime
    doors_at: dt.datetime | None
    sales_start: dt.datetime | None
    sales_end: dt.datetime | None
    selection_mode: str

    @property
    def is_on_sale(self) -> bool:
        return sales_open(self.status, self.sales_start, self.sales_end)


@dataclass(frozen=True)
class EventSectionInfo:
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


_EVENT_FIELDS = (
    "id",
    "organization_id",
    "venue_id",
    "venue__name",
    "title",
    "status",
    "starts_at",
    "doors_at",
    "sales_start",
    "sales_end",
    "selection_mode",
)


def sales_open(status: str, sales_start: dt.datetime | None, sales_end: dt.datetime | None) -> bool:
    now = timezone.now()
    if status != Event.Status.PUBLISHED:
        return False
    if sales_start is not None and now < sales_start:
        return False
    return sales_end is None or now < sales_end


def _info(row: dict) -> EventInfo:
    return EventInfo(
        id=row["id"],
        organization_id=row["organization_id"],
        venue_id=row["venue_id"],
        venue_name=row["venue__name"],
        title=row["title"],
        status=row["status"],
        starts_at=row["starts_at"],
        doors_at=row["doors_at"],
        sales_start=row["sales_start"],
        sales_end=row["sales_end"],
        selection_mode=row["selection_mode"],
    )


parse_uuid = as_uuid  # the name other apps call


def event_get(*, event_id) -> EventInfo:
    """Any live (not soft-deleted) event, whatever its status. NotFound for unknown or malformed ids."""
    pk = parse_uuid(event_id)
    row = Event.objects.using(DB_ALIAS).filter(pk=pk).values(*_EVENT_FIELDS).first() if pk else None
    if row is None:
        raise NotFound("No such event.")
    return _info(row)


def event_get_on_sale(*, event_id) -> EventInfo:
    """The event if it is PUBLISHED and now is inside its sales window, else SalesClosed (409)."""
    event = event_get(event_id=event_id)
    if not event.is_on_sale:
        if event.status != Event.Status.PUBLISHED:
            raise SalesClosed(f"Tickets for this event are not on sale (the event is {event.status.lower()}).")
        if event.sales_start and timezone.now() < event.sales_start:
            raise SalesClosed("Sales for this event have not started yet.", sales_start=event.sales_start.isoformat())
        raise SalesClosed("Sales for this event have ended.")
    return event


def events_get_many(*, event_ids) -> dict[uuid.UUID, EventInfo]:
    ids = {pk for pk in (parse_uuid(value) for value in event_ids) if pk is not None}
    if not ids:
        return {}
    rows = Event.all_objects.using(DB_ALIAS).filter(pk__in=ids).values(*_EVENT_FIELDS)
    return {row["id"]: _info(row) for row in rows}


def event_sections(*, event_id) -> list[EventSectionInfo]:
    """The sections an event sells, in venue order, with their tier and price (one query)."""
    pk = parse_uuid(event_id)
    if pk is None:
        return []
    rows = (
        EventSection.objects.using(DB_ALIAS)
        .filter(event_id=pk, is_active=True, section__deleted_at__isnull=True)
        .order_by("section__sort_order", "section__name")
        .values(
            "section_id",
            "section__name",
            "section__kind",
            "tier_id",
            "tier__name",
            "tier__price",
            "tier__colour",
            "capacity_override",
            "section__capacity",
            "section__map_x",
            "section__map_y",
        )
    )
    return [
        EventSectionInfo(
            section_id=row["section_id"],
            name=row["section__name"],
            kind=row["section__kind"],
            tier_id=row["tier_id"],
            tier_name=row["tier__name"],
            price=row["tier__price"],
            colour=row["tier__colour"],
            capacity=row["capacity_override"] if row["capacity_override"] is not None else row["section__capacity"],
            map_x=row["section__map_x"],
            map_y=row["section__map_y"],
        )
        for row in rows
    ]


def organization_ids_for_event(*, event_id) -> uuid.UUID:
    """The organization that runs the event (staff scoping, refunds)."""
    return event_get(event_id=event_id).organization_id


def event_ids_for_organizations(*, organization_ids) -> list[uuid.UUID]:
    ids = [pk for pk in (parse_uuid(value) for value in organization_ids) if pk is not None]
    return list(Event.objects.using(DB_ALIAS).filter(organization_id__in=ids).values_list("id", flat=True))


# --- Browse (this app's pages and API only) -----------------------------------------------------------------------


def events_published() -> QuerySet[Event]:
    """Published, not-ended events, soonest first. Served by event_browse_idx (status, starts_at)."""
    return (
        Event.objects.using(DB_ALIAS)
        .filter(status=Event.Status.PUBLISHED, starts_at__gte=timezone.now() - dt.timedelta(hours=12))
        .select_related("venue")
        .order_by("starts_at", "id")
    )


def events_search(
    *,
    q: str = "",
    venue_id: uuid.UUID | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[Event]:
    """Published events matching a text (title or description), a venue and a date range (inclusive days)."""
    events = events_published()
    q = (q or "").strip()
    if q:
        events = events.filter(Q(title__icontains=q) | Q(description__icontains=q))
    if venue_id:
        events = events.filter(venue_id=venue_id)
    tz = timezone.get_current_timezone()
    if date_from:
        events = events.filter(starts_at__gte=dt.datetime.combine(date_from, dt.time.min, tzinfo=tz))
    if date_to:
        events = events.filter(
            starts_at__lt=dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
        )
    return events


def venues_with_published_events() -> QuerySet[Venue]:
    return (
        Venue.objects.using(DB_ALIAS)
        .filter(events__status=Event.Status.PUBLISHED, events__deleted_at__isnull=True)
        .distinct()
        .order_by("name")
    )


def event_published_get(*, event_id) -> Event:
    """The published event for a buyer page (a draft or cancelled event is a 404 to buyers)."""
    pk = parse_uuid(event_id)
    event = (
        Event.objects.using(DB_ALIAS).select_related("venue").filter(pk=pk, status=Event.Status.PUBLISHED).first()
        if pk
        else None
    )
    if event is None:
        raise NotFound("No such event.")
    return event
