"""Scale: publishing an 80,000-seat event from the admin path and the sales dashboard on it.

Figures (printed with -s, recorded in docs/STAFF.md): publish time for 80,000 places and the dashboard's server
time. Targets: publishing "in seconds, not minutes" (< 30 s here, on a shared CI box) and the dashboard within
500 ms, the budget of an event aggregation.
"""

from __future__ import annotations

import statistics
import time
from decimal import Decimal

import pytest
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import MembershipFactory, StaffFactory
from core.databases import ALL_DATABASES
from events.models import Event
from events.services import section_generate_grid
from events.tests.factories import EventFactory, EventSectionFactory, SectionFactory, VenueFactory
from inventory.models import Seat
from orders.services import event_publish


@pytest.mark.integration
@pytest.mark.django_db(databases=ALL_DATABASES)
def test_80000_seat_event_publishes_in_seconds_and_its_dashboard_stays_fast(client):
    venue = VenueFactory(name="Stadium")
    owner = StaffFactory(email="stadium-owner@example.com")
    MembershipFactory(user=owner, organization_id=venue.organization_id, role="OWNER")
    event = EventFactory(venue=venue, organization=venue.organization, status=Event.Status.DRAFT, title="Final")
    for n in range(4):
        section = SectionFactory(venue=venue, name=f"Stand {n + 1}", rows=1, seats_per_row=1)
        section_generate_grid(section_id=section.pk, rows=100, seats_per_row=200, aisles_after=[50, 150])
        EventSectionFactory(event=event, section=section, tier__price=Decimal("20.00") + n * 10)

    started = time.perf_counter()
    result = event_publish(event_id=event.pk, actor_id=owner.pk)
    publish_seconds = time.perf_counter() - started
    assert result.total == 80_000 and Seat.objects.filter(event_id=event.pk).count() == 80_000
    event.refresh_from_db()
    assert (event.inventory_created, event.inventory_total) == (80_000, 80_000)

    # An on-sale in progress: 30% sold, 10% checked in, 5% held (set directly: this measures reads, not sales).
    with connections["seats"].cursor() as cursor:
        cursor.execute(
            "UPDATE inventory_seat SET status = CASE WHEN number %% 20 < 6 THEN 'SOLD' ELSE 'CHECKED_IN' END, "
            "owner_id = gen_random_uuid(), order_id = gen_random_uuid(), "
            "checked_in_at = CASE WHEN number %% 20 < 6 THEN NULL ELSE now() END "
            "WHERE event_id = %s AND number %% 20 < 8",
            [event.pk],
        )
        cursor.execute(
            "UPDATE inventory_seat SET status = 'HELD', held_by_id = gen_random_uuid(), hold_expires_at = %s "
            "WHERE event_id = %s AND number %% 20 = 8",
            [timezone.now() + timezone.timedelta(minutes=5), event.pk],
        )
        cursor.execute("ANALYZE inventory_seat")

    client.force_login(owner)
    url = reverse("admin:events_event_dashboard", args=[event.pk])
    timings = []
    for _ in range(7):
        response = client.get(url + "?fragment=1")
        assert response.status_code == 200
        timings.append(response.context["took_ms"])
    table = response.context["table"]
    assert table["totals"]["total"] == 80_000
    assert table["totals"]["sold"] == 24_000 and table["totals"]["checked_in"] == 8_000
    assert table["totals"]["held"] == 4_000 and table["totals"]["available"] == 44_000
    median_ms = statistics.median(timings)
    print(f"\npublish 80,000: {publish_seconds:.2f} s; dashboard median {median_ms:.1f} ms, max {max(timings):.1f}")
