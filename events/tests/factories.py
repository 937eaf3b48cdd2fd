"""The factories of events_db rows: organizations, venues, sections, events, price tiers and the sections an event
sells. Tests of every app build their events here."""

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from core.testing import factory_base
from events import DB_ALIAS
from events.models import Event, EventSection, Organization, PriceTier, Section, Venue

EventsFactory = factory_base(DB_ALIAS)


def grid_layout(rows: int, seats_per_row: int) -> dict:
    """A rectangular layout in the shape Section.layout stores; seats 1 and 2 of row A are accessible."""
    return {
        "rows": [
            {
                "label": chr(ord("A") + r) if r < 26 else f"R{r + 1}",
                "seats": [
                    {"number": n + 1, "x": n * 20, "y": r * 20, "accessible": r == 0 and n < 2}
                    for n in range(seats_per_row)
                ],
            }
            for r in range(rows)
        ]
    }


class OrganizationFactory(EventsFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Organization {n}")
    slug = factory.Sequence(lambda n: f"org-{n}")


class VenueFactory(EventsFactory):
    class Meta:
        model = Venue

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"Venue {n}")
    city = "Springfield"


class SectionFactory(EventsFactory):
    class Meta:
        model = Section

    class Params:
        rows = 3
        seats_per_row = 5

    venue = factory.SubFactory(VenueFactory)
    name = factory.Sequence(lambda n: f"Section {n}")
    kind = Section.Kind.SEATED
    layout = factory.LazyAttribute(lambda o: grid_layout(o.rows, o.seats_per_row))
    capacity = factory.LazyAttribute(lambda o: o.rows * o.seats_per_row)


class GeneralSectionFactory(SectionFactory):
    kind = Section.Kind.GENERAL
    layout = factory.LazyFunction(dict)
    capacity = 20


class EventFactory(EventsFactory):
    class Meta:
        model = Event

    venue = factory.SubFactory(VenueFactory)
    organization = factory.SelfAttribute("venue.organization")
    title = factory.Sequence(lambda n: f"Concert {n}")
    slug = factory.Sequence(lambda n: f"concert-{n}")
    starts_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=30))
    doors_at = factory.LazyAttribute(lambda o: o.starts_at - dt.timedelta(hours=1))
    sales_start = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=1))
    sales_end = factory.LazyAttribute(lambda o: o.starts_at)
    status = Event.Status.PUBLISHED


class PriceTierFactory(EventsFactory):
    class Meta:
        model = PriceTier

    event = factory.SubFactory(EventFactory)
    name = factory.Sequence(lambda n: f"Tier {n}")
    price = Decimal("50.00")


class EventSectionFactory(EventsFactory):
    class Meta:
        model = EventSection

    event = factory.SubFactory(EventFactory)
    section = factory.SubFactory(SectionFactory, venue=factory.SelfAttribute("..event.venue"))
    tier = factory.SubFactory(PriceTierFactory, event=factory.SelfAttribute("..event"))
