"""Reads of the events domain.

Two audiences, two parts of this module:

* **Buyers' flows and other domains** read live events (soft-deleted ones are gone) as the frozen dataclasses of
  ``events.contract``, never model instances. The browse helpers return querysets, but only to this app's own
  views and API.
* **Staff tooling** (the gate page, the event operations pages, the names core.directory shows on other domains'
  admin pages) sees every event of an organization whatever its status, soft-deleted ones included where staff
  must still reach them (a sold ticket keeps naming its event and section).

Ids are parsed at the edge (``core.ids.as_uuid``), so every function here takes ``uuid.UUID``. The single-event
reads also take ``None``, which is what the edge holds for an id that did not parse: it is not found, like an
unknown id.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Collection, Iterable
from decimal import Decimal

from django.db import connections
from django.db.models import F, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext

from core.errors import NotFound
from core.ids import as_uuid
from core.results import fetch_as, from_row
from events import DB_ALIAS
from events.contract import (
    EventInfo,
    EventOperationsInfo,
    EventSectionInfo,
    EventStatus,
    SalesClosed,
    SectionForSale,
    SectionKind,
)
from events.contract import sales_open as sales_open  # the sales rule, read here with the events it applies to
from events.models import Event, EventSection, Organization, PriceTier, Section, Venue

# EventInfo's columns; its venue's name and zone are read through the venue (one join, no second query).
_VENUE_COLUMNS = {"venue_name": F("venue__name"), "venue_timezone": F("venue__timezone")}
_EVENT_COLUMNS = tuple(field.name for field in dataclasses.fields(EventInfo) if field.name not in _VENUE_COLUMNS)


def _event_infos(events: QuerySet[Event]) -> list[EventInfo]:
    return [from_row(EventInfo, row) for row in events.values(*_EVENT_COLUMNS, **_VENUE_COLUMNS)]


def _event_info_select() -> str:
    """EventInfo's columns in its field order, the venue's through the join: written once, for the hot reads."""
    venue_columns = {"venue_name": "v.name", "venue_timezone": "v.timezone"}
    columns = (
        venue_columns.get(field.name) or f"e.{Event._meta.get_field(field.name).column}"
        for field in dataclasses.fields(EventInfo)
    )
    return (
        f"SELECT {', '.join(columns)} FROM {Event._meta.db_table} e "  # noqa: S608 - fixed SQL, values are parameters
        f"JOIN {Venue._meta.db_table} v ON v.id = e.venue_id WHERE e.deleted_at IS NULL AND e.id = %s"
    )


# One live event by id, on every hold and checkout: raw SQL, so no queryset is built and compiled per request.
_EVENT_GET = _event_info_select()


# --- Buyers' flows and other domains -------------------------------------------------------------------------------


def event_get(*, event_id: uuid.UUID | None) -> EventInfo:
    """Any live (not soft-deleted) event, whatever its status. NotFound for an unknown id or ``None``."""
    key = as_uuid(event_id)
    event = fetch_as(EventInfo, _EVENT_GET, [key], using=DB_ALIAS) if key is not None else None
    if event is None:
        raise NotFound(gettext("No such event."))
    return event


def event_get_on_sale(*, event_id: uuid.UUID | None) -> EventInfo:
    """The event if it is PUBLISHED and now is inside its sales window, else SalesClosed (409)."""
    event = event_get(event_id=event_id)
    if not event.is_on_sale:
        if event.status != EventStatus.PUBLISHED:
            raise SalesClosed(
                gettext("Tickets for this event are not on sale (the event is %(status)s).")
                % {"status": event.status.lower()}
            )
        if event.sales_start and timezone.now() < event.sales_start:
            raise SalesClosed(
                gettext("Sales for this event have not started yet."), sales_start=event.sales_start.isoformat()
            )
        raise SalesClosed(gettext("Sales for this event have ended."))
    return event


def events_get_many(*, event_ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, EventInfo]:
    """id -> event, soft-deleted ones included (an order or a ticket keeps showing its event); unknown ids left out."""
    ids = {pk for pk in event_ids if pk is not None}
    if not ids:
        return {}
    return {event.id: event for event in _event_infos(Event.all_objects.using(DB_ALIAS).filter(pk__in=ids))}


# Whether an event sells a section and a price tier: (section sold, tier sold). Parameters: section, tier, event.
_EVENT_SELLS = (
    "SELECT coalesce(bool_or(es.section_id = %s), false), coalesce(bool_or(es.tier_id = %s), false) "  # noqa: S608
    f"FROM {EventSection._meta.db_table} es JOIN {Section._meta.db_table} s ON s.id = es.section_id "
    "WHERE es.event_id = %s AND es.is_active AND s.deleted_at IS NULL"
)


def event_sells(*, event_id: uuid.UUID, section_id: uuid.UUID | None, tier_id: uuid.UUID | None) -> tuple[bool, bool]:
    """(the event sells ``section_id``, it sells ``tier_id``), among the sections ``event_sections`` lists: one
    statement for the best-available hold, which needs only these two answers, not the sections themselves."""
    with connections[DB_ALIAS].cursor() as cursor:
        cursor.execute(_EVENT_SELLS, [section_id, tier_id, event_id])
        section_sold, tier_sold = cursor.fetchone()
    return section_sold, tier_sold


def event_sections(*, event_id: uuid.UUID, published_only: bool = False) -> list[EventSectionInfo]:
    """The sections an event sells, in venue order, with their tier and price (one query).

    ``published_only``: none unless the event is published (and live), checked in the same query, so a buyer's read
    that needs both pays one round trip; an empty answer then means "no such published event" or "it sells
    nothing", which ``event_is_published`` tells apart.
    """
    rows = EventSection.objects.using(DB_ALIAS).filter(
        event_id=event_id, is_active=True, section__deleted_at__isnull=True
    )
    if published_only:
        rows = rows.filter(event__status=EventStatus.PUBLISHED, event__deleted_at__isnull=True)
    rows = rows.order_by("section__sort_order", "section__name").values(
        "section_id",
        "tier_id",
        name=F("section__name"),
        kind=F("section__kind"),
        tier_name=F("tier__name"),
        price=F("tier__price"),
        colour=F("tier__colour"),
        capacity=Coalesce("capacity_override", "section__capacity"),
        map_x=F("section__map_x"),
        map_y=F("section__map_y"),
        map_rotation=F("section__map_rotation"),
        map_shape=F("section__map_shape"),
        map_arc_radius=F("section__map_arc_radius"),
        map_width=F("section__map_width"),
        map_height=F("section__map_height"),
    )
    return [from_row(EventSectionInfo, row) for row in rows]


# --- Browse (this app's pages and API only) -------------------------------------------------------------------------


def events_published() -> QuerySet[Event]:
    """Published, not-ended events, soonest first. Served by event_browse_idx (status, starts_at)."""
    return (
        Event.objects.using(DB_ALIAS)
        .filter(status=EventStatus.PUBLISHED, starts_at__gte=timezone.now() - dt.timedelta(hours=12))
        .select_related("venue")
        .order_by("starts_at", "id")
    )


def event_ids_on_sale() -> list[uuid.UUID]:
    """Events whose tickets are on sale now (``sales_open``'s rule in SQL): the ones whose seat maps change under
    buyers' eyes, so the live-changes feed (orders.live_changes) watches their seats."""
    now = timezone.now()
    return list(
        Event.objects.using(DB_ALIAS)
        .filter(status=EventStatus.PUBLISHED)
        .filter(Q(sales_start__isnull=True) | Q(sales_start__lte=now), Q(sales_end__isnull=True) | Q(sales_end__gt=now))
        .values_list("pk", flat=True)
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
        .filter(events__status=EventStatus.PUBLISHED, events__deleted_at__isnull=True)
        .distinct()
        .order_by("name")
    )


def event_is_published(*, event_id: uuid.UUID | None) -> bool:
    """Is this a live, published event? One ``SELECT 1 ... LIMIT 1``: what a buyer's read of the event's seats needs,
    without loading the event and its venue."""
    if event_id is None:
        return False
    return Event.objects.using(DB_ALIAS).filter(pk=event_id, status=EventStatus.PUBLISHED).exists()


def event_published_get(*, event_id: uuid.UUID | None) -> Event:
    """The published event for a buyer page (a draft or cancelled event is a 404 to buyers)."""
    event = (
        Event.objects.using(DB_ALIAS).select_related("venue").filter(pk=event_id, status=EventStatus.PUBLISHED).first()
        if event_id
        else None
    )
    if event is None:
        raise NotFound(gettext("No such event."))
    return event


# --- Staff tooling -------------------------------------------------------------------------------------------------


def events_for_organizations(*, organization_ids: Collection[uuid.UUID] | None) -> list[EventInfo]:
    """Live published events of these organizations (``None``: every organization) in start order, for pickers."""
    events = Event.objects.using(DB_ALIAS).filter(status=EventStatus.PUBLISHED)
    if organization_ids is not None:
        events = events.filter(organization_id__in=organization_ids)
    return _event_infos(events.order_by("starts_at"))


def event_choices_for_organizations(*, organization_ids: Collection[uuid.UUID] | None) -> dict[uuid.UUID, str]:
    """id -> "title — date" of these organizations' events (``None``: all), newest first, for admin filters."""
    events = Event.all_objects.using(DB_ALIAS)
    if organization_ids is not None:
        events = events.filter(organization_id__in=organization_ids)
    rows = events.order_by("-starts_at").values_list("id", "title", "starts_at")[:200]
    return {pk: f"{title} — {starts_at:%Y-%m-%d}" for pk, title, starts_at in rows}


def event_titles(*, event_ids: Collection[uuid.UUID] | None) -> dict[uuid.UUID, str]:
    """id -> title of these events (soft-deleted too); ``None`` lists nothing (events are named, never listed)."""
    if not event_ids:
        return {}
    return dict(Event.all_objects.using(DB_ALIAS).filter(pk__in=event_ids).values_list("id", "title"))


def organization_names(*, organization_ids: Collection[uuid.UUID] | None) -> dict[uuid.UUID, str]:
    """id -> name of these live organizations (``None``: all), for pickers and labels."""
    organizations = Organization.objects.using(DB_ALIAS).order_by("name")
    if organization_ids is not None:
        organizations = organizations.filter(pk__in=organization_ids)
    return dict(organizations.values_list("id", "name"))


def venue_timezones(*, venue_ids: Collection[uuid.UUID] | None) -> dict[uuid.UUID, str]:
    """id -> the venue's time zone name, as stored (soft-deleted venues too: an old ticket still names its venue)."""
    if not venue_ids:
        return {}
    return dict(Venue.all_objects.using(DB_ALIAS).filter(pk__in=venue_ids).values_list("id", "timezone"))


def section_names(*, section_ids: Collection[uuid.UUID] | None) -> dict[uuid.UUID, str]:
    """id -> name of these sections (soft-deleted too: a sold ticket keeps naming its section); ``None`` lists none."""
    if not section_ids:
        return {}
    return dict(Section.all_objects.using(DB_ALIAS).filter(pk__in=section_ids).values_list("id", "name"))


def event_for_operations(*, event_id: uuid.UUID) -> EventOperationsInfo | None:
    """A live event (any status) for the publish, cancel and sales pages; None when there is no such event."""
    event = Event.objects.using(DB_ALIAS).select_related("venue").filter(pk=event_id).first()
    if event is None:
        return None
    return from_row(
        EventOperationsInfo,
        event,
        venue_name=event.venue.name,
        venue_timezone=event.venue.timezone,
        status_label=event.get_status_display(),
        inventory_status_label=event.get_inventory_status_display(),
    )


def event_sections_for_sale(*, event_id: uuid.UUID) -> list[SectionForSale]:
    """What publishing would put on sale: each active section with its tier and number of places.

    The seats of a seated layout are counted by PostgreSQL: the layouts themselves (a stadium's are megabytes) never
    leave the database for this page.
    """
    seats_in_layout = RawSQL(  # noqa: S611 - no parameters; table names from the models
        "SELECT COALESCE(SUM(jsonb_array_length(seat_row.value -> 'seats')), 0) "  # noqa: S608 - model table names
        f"FROM {Section._meta.db_table} s, jsonb_array_elements(COALESCE(s.layout -> 'rows', '[]'::jsonb)) seat_row "
        f"WHERE s.id = {EventSection._meta.db_table}.section_id",
        [],
    )
    event_sections = (
        EventSection.objects.using(DB_ALIAS)
        .filter(event_id=event_id, is_active=True)
        .select_related("section", "tier")
        .defer("section__layout")
        .annotate(seats_in_layout=seats_in_layout)
        .order_by("section__sort_order", "section__name")
    )
    return [
        from_row(
            SectionForSale,
            event_section.section,
            kind_label=event_section.section.get_kind_display(),
            tier_name=event_section.tier.name,
            price=event_section.tier.price,
            places=(
                event_section.effective_capacity
                if event_section.section.kind == SectionKind.GENERAL
                else event_section.seats_in_layout
            ),
        )
        for event_section in event_sections
    ]


def event_section_and_tier_names(
    *, event_id: uuid.UUID, venue_id: uuid.UUID
) -> tuple[dict[uuid.UUID, str], dict[uuid.UUID, str]]:
    """(section id -> name of the venue's sections, tier id -> name of the event's tiers), without layouts."""
    sections = dict(Section.all_objects.using(DB_ALIAS).filter(venue_id=venue_id).values_list("id", "name"))
    tiers = dict(PriceTier.objects.using(DB_ALIAS).filter(event_id=event_id).values_list("id", "name"))
    return sections, tiers


def tier_prices(*, event_id: uuid.UUID) -> dict[uuid.UUID, tuple[str, Decimal]]:
    """tier id -> (name, current price) of the event's tiers: what a place of each costs when taken now."""
    rows = PriceTier.objects.using(DB_ALIAS).filter(event_id=event_id).order_by("sort_order", "-price")
    return {pk: (name, price) for pk, name, price in rows.values_list("id", "name", "price")}
