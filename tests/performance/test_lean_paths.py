"""The fast paths taken for performance answer exactly what the general paths answer.

The seats API builds its JSON in PostgreSQL (``inventory.selectors.seat_map_json``) instead of running the DRF
serializer over ``seat_map()``; whatever the seat's state, the two must describe it identically.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from events.tests.factories import EventSectionFactory, PriceTierFactory
from inventory import selectors as inventory_selectors
from inventory.tests.factories import SeatFactory
from orders.api.event_serializers import SeatMapSeatSerializer

pytestmark = pytest.mark.django_db(databases=["default", "seats", "orders", "events"])


@pytest.fixture
def section_with_every_state(buyer):
    tier = PriceTierFactory(price=Decimal("12.50"))
    link = EventSectionFactory(event=tier.event, tier=tier)
    now = timezone.now()
    common = {"event_id": tier.event.pk, "section_id": link.section.pk, "tier_id": tier.pk, "price": Decimal("12.50")}
    SeatFactory(row_label="A", number=1, is_accessible=True, **common)
    held = {"status": "HELD", "held_by_id": buyer.pk}
    SeatFactory(row_label="A", number=2, hold_expires_at=now + dt.timedelta(minutes=5), **held, **common)
    # An expired hold is AVAILABLE to everyone, in every figure.
    SeatFactory(row_label="A", number=3, hold_expires_at=now - dt.timedelta(seconds=1), **held, **common)
    SeatFactory(row_label="B", number=1, status="SOLD", owner_id=buyer.pk, order_id=uuid.uuid4(), **common)
    SeatFactory(row_label="B", number=2, status="BLOCKED", **{**common, "tier_id": None, "price": Decimal("0.00")})
    return tier.event, link.section


def test_seats_api_answers_exactly_what_the_serializer_would(section_with_every_state, buyer):
    event, section = section_with_every_state
    client = APIClient()
    client.force_authenticate(buyer)

    response = client.get(f"/api/v1/events/{event.pk}/seats/?section={section.pk}", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    expected = SeatMapSeatSerializer(inventory_selectors.seat_map(event_id=event.pk, section_id=section.pk), many=True)
    assert json.loads(response.content) == json.loads(JSONRenderer().render(expected.data))
    statuses = [seat["status"] for seat in json.loads(response.content)]
    assert statuses == ["AVAILABLE", "HELD", "AVAILABLE", "SOLD", "BLOCKED"]


def test_seat_map_json_of_an_unknown_section_is_an_empty_list(section_with_every_state):
    event, _section = section_with_every_state
    assert inventory_selectors.seat_map_json(event_id=event.pk, section_id=uuid.uuid4()) == "[]"
    assert inventory_selectors.seat_map_json(event_id="not-a-uuid", section_id=uuid.uuid4()) == "[]"


def test_a_section_the_event_does_not_sell_is_still_a_404(section_with_every_state, buyer):
    event, _section = section_with_every_state
    client = APIClient()
    client.force_authenticate(buyer)
    response = client.get(f"/api/v1/events/{event.pk}/seats/?section={uuid.uuid4()}", HTTP_ACCEPT="application/json")
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"


def test_browsable_api_still_renders_the_seats_page(section_with_every_state, buyer):
    event, section = section_with_every_state
    client = APIClient()
    client.force_authenticate(buyer)
    response = client.get(f"/api/v1/events/{event.pk}/seats/?section={section.pk}", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"AVAILABLE" in response.content
