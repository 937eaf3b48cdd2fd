"""GET /api/v1/events/ and its per-event endpoints: public reads, filters, one error shape."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from core.databases import ALL_DATABASES
from events.tests.factories import EventFactory
from orders import services
from orders.tests.factories import make_event

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


@pytest.fixture
def api():
    return APIClient()


def test_event_list_is_public_paginated_and_published_only(api):
    shown = EventFactory(title="Derby")
    EventFactory(status="DRAFT")
    body = api.get("/api/v1/events/").json()
    assert body["count"] == 1
    assert body["results"][0]["id"] == str(shown.pk)
    assert body["results"][0]["venue"]["name"] == shown.venue.name
    assert body["results"][0]["on_sale"] is True


def test_event_list_filters(api):
    jazz = EventFactory(title="Jazz", starts_at=timezone.now() + dt.timedelta(days=5))
    EventFactory(title="Opera", starts_at=timezone.now() + dt.timedelta(days=50))
    assert [e["title"] for e in api.get("/api/v1/events/", {"q": "jaz"}).json()["results"]] == ["Jazz"]
    assert api.get("/api/v1/events/", {"venue": str(jazz.venue_id)}).json()["count"] == 1
    day = (timezone.now() + dt.timedelta(days=20)).date().isoformat()
    assert [e["title"] for e in api.get("/api/v1/events/", {"date_from": day}).json()["results"]] == ["Opera"]
    assert [e["title"] for e in api.get("/api/v1/events/", {"date_to": day}).json()["results"]] == ["Jazz"]


def test_event_list_bad_filter_is_a_validation_error(api):
    response = api.get("/api/v1/events/", {"venue": "nope", "date_from": "2030-13-01"})
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"


def test_event_detail(api):
    event = EventFactory()
    assert api.get(f"/api/v1/events/{event.pk}/").json()["title"] == event.title


@pytest.mark.parametrize("suffix", ["", "sections/", "seats/?section=" + str(uuid.uuid4())])
@pytest.mark.parametrize("event_id", ["not-a-uuid", str(uuid.uuid4())])
def test_unknown_or_malformed_event_is_a_json_404(api, event_id, suffix):
    response = api.get(f"/api/v1/events/{event_id}/{suffix}")
    assert response.status_code == 404 and response.json()["code"] == "NOT_FOUND"


def test_draft_event_is_404(api):
    assert api.get(f"/api/v1/events/{EventFactory(status='DRAFT').pk}/").status_code == 404


def test_sections_show_price_and_live_availability(api, buyer):
    setup = make_event()
    services.hold_seats(buyer_id=buyer.pk, event_id=setup.event.pk, seat_ids=setup.seat_ids[:3])
    [section] = api.get(f"/api/v1/events/{setup.event.pk}/sections/").json()
    assert section["section_id"] == str(setup.section.pk)
    assert section["price"] == "50.00"
    assert (section["available"], section["held"], section["sold"]) == (7, 3, 0)


def test_seats_of_a_section(api):
    setup = make_event()
    seats = api.get(f"/api/v1/events/{setup.event.pk}/seats/", {"section": str(setup.section.pk)}).json()
    assert len(seats) == 10
    assert {"id", "row", "number", "x", "y", "status", "tier_id", "accessible", "price"} <= set(seats[0])
    assert sum(seat["accessible"] for seat in seats) == 1


@pytest.mark.parametrize(("section", "status"), [("", 400), ("junk", 400), (None, 404)])
def test_seats_need_a_section_of_this_event(api, section, status):
    setup = make_event()
    other = make_event()
    params = {"section": str(other.section.pk) if section is None else section}
    response = api.get(f"/api/v1/events/{setup.event.pk}/seats/", params)
    assert response.status_code == status
    assert response.json()["code"] in ("VALIDATION_ERROR", "NOT_FOUND")
