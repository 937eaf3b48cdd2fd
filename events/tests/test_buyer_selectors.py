"""events.selectors: the contract other apps read events through, and the browse search.

Ids reach the selectors parsed at the edge (core.ids.as_uuid): a malformed one arrives as None.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from core.errors import DomainError
from core.ids import as_uuid
from events import selectors
from events.tests.factories import EventFactory, EventSectionFactory, VenueFactory

pytestmark = pytest.mark.django_db(databases=["events"])


def test_event_get_returns_a_plain_dataclass():
    event = EventFactory(title="Gala")
    info = selectors.event_get(event_id=event.pk)
    assert (info.id, info.title, info.venue_name, info.organization_id) == (
        event.pk,
        "Gala",
        event.venue.name,
        event.organization_id,
    )
    assert info.is_on_sale


@pytest.mark.parametrize("event_id", [uuid.uuid4(), "nope", None])
def test_event_get_of_an_unknown_or_malformed_id_is_not_found(event_id):
    with pytest.raises(DomainError) as excinfo:
        selectors.event_get(event_id=as_uuid(event_id))
    assert (excinfo.value.code, excinfo.value.status) == ("NOT_FOUND", 404)


@pytest.mark.parametrize(
    "fields",
    [
        {"status": "DRAFT"},
        {"status": "CANCELLED"},
        {"sales_start": timezone.now() + dt.timedelta(hours=1)},
        {"sales_start": timezone.now() - dt.timedelta(days=2), "sales_end": timezone.now() - dt.timedelta(days=1)},
    ],
)
def test_event_get_on_sale_refuses_outside_the_sales_window(fields):
    event = EventFactory(**fields)
    with pytest.raises(DomainError) as excinfo:
        selectors.event_get_on_sale(event_id=event.pk)
    assert (excinfo.value.code, excinfo.value.status) == ("SALES_CLOSED", 409)


def test_event_without_a_sales_window_is_on_sale_while_published():
    event = EventFactory(sales_start=None, sales_end=None)
    assert selectors.event_get_on_sale(event_id=event.pk).id == event.pk


def test_events_get_many_skips_unknown_and_malformed_ids():
    a, b = EventFactory(), EventFactory()
    found = selectors.events_get_many(event_ids=[a.pk, b.pk, uuid.uuid4(), as_uuid("junk")])
    assert set(found) == {a.pk, b.pk}


def test_event_sections_give_tier_price_and_capacity_with_override():
    link = EventSectionFactory(tier__price=Decimal("12.50"), capacity_override=7)
    EventSectionFactory(event=link.event, is_active=False)
    sections = selectors.event_sections(event_id=link.event.pk)
    assert len(sections) == 1
    assert (sections[0].section_id, sections[0].price, sections[0].capacity) == (link.section_id, Decimal("12.50"), 7)
    assert sections[0].tier_name == link.tier.name
    assert selectors.event_get(event_id=link.event.pk).organization_id == link.event.organization_id


def test_search_matches_title_or_description_venue_and_dates():
    hall = VenueFactory()
    soon = EventFactory(title="Jazz Night", venue=hall, starts_at=timezone.now() + dt.timedelta(days=2))
    later = EventFactory(description="a jazz trio", starts_at=timezone.now() + dt.timedelta(days=40))
    EventFactory(title="Opera")
    EventFactory(title="Jazz draft", status="DRAFT")

    assert set(selectors.events_search(q="jazz")) == {soon, later}
    assert list(selectors.events_search(q="jazz", venue_id=hall.pk)) == [soon]
    day = (timezone.now() + dt.timedelta(days=40)).date()
    assert list(selectors.events_search(q="jazz", date_from=day, date_to=day)) == [later]
