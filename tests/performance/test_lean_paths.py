"""The fast paths taken for performance answer exactly what the general paths answer.

The seats API builds its JSON in PostgreSQL (``inventory.selectors.seat_map_json``) instead of running the DRF
serializer over ``seat_map()``, and the sections API renders plain values without its serializer; whatever the
seat's state, the two paths must describe it identically.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from core.databases import ALL_DATABASES
from events.tests.factories import EventSectionFactory, PriceTierFactory
from inventory import selectors as inventory_selectors
from inventory.models import Seat
from inventory.tests.factories import SeatFactory
from orders.api.event_serializers import SeatMapSeatSerializer, SectionAvailabilitySerializer
from orders.tests.helpers import api_client

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


def _get(buyer, path: str, *, accept: str = "application/json"):
    return api_client(buyer).get(path, HTTP_ACCEPT=accept)


def _assert_json_ok(response) -> None:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")


def test_seats_api_answers_exactly_what_the_serializer_would(section_with_every_state, buyer):
    event, section = section_with_every_state

    response = _get(buyer, f"/api/v1/events/{event.pk}/seats/?section={section.pk}")

    _assert_json_ok(response)
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
    response = _get(buyer, f"/api/v1/events/{event.pk}/seats/?section={uuid.uuid4()}")
    assert response.status_code == 404
    assert response.json()["code"] == "NOT_FOUND"


def test_browsable_api_still_renders_the_seats_page(section_with_every_state, buyer):
    event, section = section_with_every_state
    response = _get(buyer, f"/api/v1/events/{event.pk}/seats/?section={section.pk}", accept="text/html")
    assert response.status_code == 200
    assert b"AVAILABLE" in response.content


def test_sections_api_answers_exactly_what_the_serializer_would(section_with_every_state, buyer):
    from orders.api.event_views import _section_rows

    event, section = section_with_every_state

    response = _get(buyer, f"/api/v1/events/{event.pk}/sections/")

    _assert_json_ok(response)
    expected = SectionAvailabilitySerializer(_section_rows(event.pk), many=True)
    assert response.content == JSONRenderer().render(expected.data)
    (row,) = json.loads(response.content)
    assert (row["section_id"], row["price"]) == (str(section.pk), "12.50")
    # The lapsed hold is available; the ticket counts as sold.
    assert (row["available"], row["held"], row["sold"], row["blocked"]) == (2, 1, 1, 1)


def test_sections_of_an_event_that_is_not_published_are_a_404_and_an_event_selling_nothing_an_empty_list(buyer):
    from events.tests.factories import EventFactory

    draft = EventFactory(status="DRAFT")
    published_without_sections = EventFactory()

    refused = _get(buyer, f"/api/v1/events/{draft.pk}/sections/")
    empty = _get(buyer, f"/api/v1/events/{published_without_sections.pk}/sections/")

    assert (refused.status_code, refused.json()["code"]) == (404, "NOT_FOUND")
    assert (empty.status_code, empty.json()) == (200, [])


# --- Public reads shared through the cache (orders/api/event_views.py shared_answer) --------------------------------


@pytest.fixture
def shared_reads(settings):
    from django.core.cache import cache

    settings.PUBLIC_READ_CACHE_SECONDS = 1
    cache.clear()
    yield
    cache.clear()


def _seats_statements(call) -> tuple[object, int]:
    with CaptureQueriesContext(connections["seats"]) as seats, CaptureQueriesContext(connections["events"]) as events:
        response = call()
    return response, len(seats) + len(events)


@pytest.mark.parametrize("path", ["seats/?section={section}", "sections/"], ids=["seat map", "availability"])
def test_a_public_read_is_built_once_per_second_and_served_to_everyone_from_the_cache(
    section_with_every_state, buyer, shared_reads, monkeypatch, path
):
    from django.core.cache.backends import locmem

    from accounts.tests.factories import UserFactory

    event, section = section_with_every_state
    url = f"/api/v1/events/{event.pk}/" + path.format(section=section.pk)
    first, first_statements = _seats_statements(lambda: _get(buyer, url))
    # A seat changes hands: within the second every viewer, signed in or not, gets the same answer, with no query.
    seat = inventory_selectors.seat_map(event_id=event.pk, section_id=section.pk)[0]
    assert seat["status"] == "AVAILABLE"
    SeatFactory._meta.model.objects.using("seats").filter(pk=seat["id"]).update(status="BLOCKED")
    for viewer in (buyer, UserFactory(), None):
        again, statements = _seats_statements(lambda viewer=viewer: api_client(viewer).get(url))
        assert (again.status_code, again.content, statements) == (200, first.content, 0)
    assert first_statements >= 2

    # A second later the answer is built again, and shows the change.
    later = locmem.time.time() + 1.5
    monkeypatch.setattr(locmem.time, "time", lambda: later)
    fresh, statements = _seats_statements(lambda: _get(buyer, url))
    assert fresh.status_code == 200 and fresh.content != first.content and statements >= 2


def test_shared_reads_are_kept_per_language_and_refusals_never_stored(section_with_every_state, buyer, shared_reads):
    from django.core.cache import cache

    event, section = section_with_every_state
    english = api_client(buyer).get(f"/api/v1/events/{event.pk}/sections/", HTTP_ACCEPT_LANGUAGE="en")
    german = api_client(buyer).get(f"/api/v1/events/{event.pk}/sections/", HTTP_ACCEPT_LANGUAGE="de")
    assert english.status_code == german.status_code == 200
    assert sorted(key.rsplit(":", 1)[-1] for key in _public_read_keys(cache)) == ["de", "en"]

    unknown = uuid.uuid4()
    for path in (f"{unknown}/sections/", f"{event.pk}/seats/?section={unknown}", f"{unknown}/seats/?section={unknown}"):
        refused = _get(buyer, f"/api/v1/events/{path}")
        assert (refused.status_code, refused.json()["code"]) == (404, "NOT_FOUND")
    assert len(_public_read_keys(cache)) == 2


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_open_dashboards_share_their_refreshed_figures_and_a_page_load_counts_afresh(
    client, settings, monkeypatch, shared_reads
):
    from django.core.cache.backends import locmem
    from django.urls import reverse

    from events.tests.staff_world import make_world

    settings.DASHBOARD_SHARED_SECONDS = 1
    ours, _theirs = make_world()
    url = reverse("admin:events_event_dashboard", args=[ours.event.pk])

    def blocked_seen_by(staff, path: str) -> tuple[int, int]:
        client.force_login(staff)
        with CaptureQueriesContext(connections["seats"]) as seats:
            response = client.get(path)
        assert response.status_code == 200
        return response.context["table"]["totals"]["blocked"], len(seats)

    blocked, counted = blocked_seen_by(ours.staff["OWNER"], url + "?fragment=1")
    assert counted >= 2
    Seat.objects.using("seats").filter(pk=ours.seat_ids[-1]).update(status="BLOCKED")
    # Another staff member's open dashboard, within the second: the same figures, not counted again.
    assert blocked_seen_by(ours.staff["BOX_OFFICE"], url + "?fragment=1") == (blocked, 0)
    # A page load (where staff land after an action) counts afresh; so does the next refresh a second later.
    assert blocked_seen_by(ours.staff["BOX_OFFICE"], url)[0] == blocked + 1
    later = locmem.time.time() + 1.5
    monkeypatch.setattr(locmem.time, "time", lambda: later)
    assert blocked_seen_by(ours.staff["OWNER"], url + "?fragment=1")[0] == blocked + 1


def _public_read_keys(cache) -> list[str]:
    return [key for key in cache._cache if ":public-read:" in key]


# --- The purchase's plan in one statement (orders/services/purchase/plan.py) ---------------------------------------


@pytest.mark.django_db(databases=["default", "seats", "orders", "events"], transaction=True)
def test_a_buyer_blocked_after_holding_cannot_check_out_and_nothing_is_written_or_left_locked():
    from events.tests.staff_world import make_tenant
    from orders import services
    from orders.contract import BuyerBlocked
    from orders.models import BuyerBlock, Order

    tenant = make_tenant("A")
    buyer = tenant.buyer
    services.hold_seats(buyer_id=buyer.pk, event_id=tenant.event.pk, seat_ids=tenant.seat_ids[5:7])
    BuyerBlock.objects.using("orders").create(organization_id=tenant.organization.pk, user_id=buyer.pk, reason="x")
    balance = type(buyer).objects.get(pk=buyer.pk).credit_balance

    with pytest.raises(BuyerBlocked):
        services.order_checkout(buyer_id=buyer.pk, event_id=tenant.event.pk, idempotency_key="blocked-1")
    # The refusal is bound to its key, as every refusal about the order is; no line, no debit.
    refusal = Order.objects.using("orders").get(buyer_id=buyer.pk, idempotency_key="blocked-1")
    assert (refusal.status, refusal.failure_code, refusal.lines.count()) == ("FAILED", "BUYER_BLOCKED", 0)
    assert type(buyer).objects.get(pk=buyer.pk).credit_balance == balance
    with pytest.raises(BuyerBlocked):  # the same key answers the same
        services.order_checkout(buyer_id=buyer.pk, event_id=tenant.event.pk, idempotency_key="blocked-1")
    with connections["orders"].cursor() as cursor:  # no flow lock of any order left behind by this session
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
        assert cursor.fetchone()[0] == 0


@pytest.mark.django_db(databases=["default", "seats", "orders", "events"], transaction=True)
def test_a_checkout_records_order_and_lines_and_releases_the_flow_lock():
    from events.tests.staff_world import make_tenant
    from orders import services
    from orders.models import Order

    tenant = make_tenant("A")
    services.hold_seats(buyer_id=tenant.buyer.pk, event_id=tenant.event.pk, seat_ids=tenant.seat_ids[5:8])
    order = services.order_checkout(buyer_id=tenant.buyer.pk, event_id=tenant.event.pk, idempotency_key="k")
    row = Order.objects.using("orders").get(pk=order.id)
    assert (row.status, row.step, row.organization_id) == ("CONFIRMED", "DONE", tenant.organization.pk)
    assert sorted(row.lines.values_list("seat_id", flat=True)) == sorted(tenant.seat_ids[5:8])
    assert all(line.is_active and line.price == Decimal("25.00") for line in row.lines.all())
    assert row.created_at is not None and row.updated_at is not None
    with connections["orders"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")
        assert cursor.fetchone()[0] == 0
