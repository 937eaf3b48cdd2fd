"""Browse and search published events."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from core.databases import ALL_DATABASES
from events import views
from events.tests.factories import EventFactory

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


def test_browse_lists_published_events_only(client):
    shown = EventFactory(title="Harbour Derby")
    EventFactory(title="Secret Draft", status="DRAFT")
    response = client.get("/")
    assert response.status_code == 200
    assert shown.title in response.text and "Secret Draft" not in response.text


def test_browse_searches_text_and_filters_venue_and_dates(client):
    a = EventFactory(title="Jazz Night", starts_at=timezone.now() + dt.timedelta(days=3))
    EventFactory(title="Opera Gala")
    response = client.get("/", {"q": "jazz", "venue": str(a.venue_id)})
    assert "Jazz Night" in response.text and "Opera Gala" not in response.text
    day = (timezone.now() + dt.timedelta(days=10)).date().isoformat()
    assert "Jazz Night" not in client.get("/", {"date_from": day}).text


def test_browse_explains_a_bad_filter_instead_of_failing(client):
    EventFactory(title="Jazz Night")
    response = client.get("/", {"date_from": "2030-02-30", "venue": "not-a-uuid"})
    assert response.status_code == 200
    assert "Jazz Night" in response.text  # the bad filter is ignored and explained
    assert "errorlist" in response.text


def test_browse_reversed_date_range_is_explained(client):
    response = client.get("/", {"date_from": "2030-02-10", "date_to": "2030-02-01"})
    assert response.status_code == 200 and "must not be after" in response.text


def test_browse_paginates(client):
    for n in range(views.PAGE_SIZE + 2):
        EventFactory(title=f"Show {n:02d}")
    first, second = client.get("/"), client.get("/", {"page": 2})
    assert "Page 1 of 2" in first.text and "Page 2 of 2" in second.text
    assert client.get("/", {"page": "junk"}).status_code == 200
