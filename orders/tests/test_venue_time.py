"""Venue time zones: a known IANA name chosen from a list, and every time of an event shown in its venue's zone
with the zone's abbreviation, on buyer pages and staff pages (emails: test_jobs_and_notifications.py)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from core.databases import ALL_DATABASES
from events.forms import VenueAdminForm
from events.models import Venue
from events.tests.factories import OrganizationFactory
from events.tests.staff_world import make_tenant

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

# 18:30 UTC on a March Sunday is 19:30 in Paris (CET, winter time) and 14:30 in New York (EDT since 14 March).
STARTS = dt.datetime(2027, 3, 14, 18, 30, tzinfo=dt.UTC)


def _tenant_in(zone: str):
    tenant = make_tenant("Z")
    Venue.objects.using("events").filter(pk=tenant.venue.pk).update(timezone=zone)
    type(tenant.event).objects.using("events").filter(pk=tenant.event.pk).update(
        starts_at=STARTS, doors_at=STARTS - dt.timedelta(minutes=30), ends_at=None
    )
    return tenant


@pytest.mark.parametrize("name", ["Mars/Olympus", "Europe/Pariss", "", "CET; DROP TABLE"])
def test_the_venue_form_refuses_a_zone_that_is_not_an_iana_name(name):
    org = OrganizationFactory()
    form = VenueAdminForm(data={"organization": org.pk, "name": "Hall", "city": "X", "timezone": name})
    assert not form.is_valid()
    assert "timezone" in form.errors


def test_the_venue_form_offers_a_select_of_zones_and_accepts_one():
    org = OrganizationFactory()
    form = VenueAdminForm(data={"organization": org.pk, "name": "Hall", "city": "X", "timezone": "Europe/Paris"})
    assert form.is_valid(), form.errors
    assert 'name="timezone"' in str(form["timezone"]) and "<select" in str(form["timezone"])


def test_the_admin_does_not_save_a_venue_in_an_unknown_zone(client):
    tenant = make_tenant("A")
    client.force_login(tenant.owner)
    response = client.post(
        reverse("admin:events_venue_add"),
        {"organization": tenant.organization.pk, "name": "On Mars", "city": "Olympus", "timezone": "Mars/Olympus"},
    )
    assert response.status_code == 200
    assert not Venue.objects.using("events").filter(name="On Mars").exists()


@pytest.mark.parametrize(("zone", "shown"), [("Europe/Paris", "19:30 CET"), ("America/New_York", "14:30 EDT")])
def test_buyer_pages_show_the_event_time_in_the_venue_zone(zone, shown):
    tenant = _tenant_in(zone)
    buyer = Client()
    buyer.force_login(tenant.buyer)
    event_page = Client().get(reverse("orders:event", args=[tenant.event.pk])).content.decode()
    assert f"Sun 14 Mar 2027, {shown}" in event_page
    doors = "19:00 CET" if zone == "Europe/Paris" else "14:00 EDT"
    assert doors in event_page
    for url in (
        reverse("orders:detail", args=[tenant.order_id]),
        reverse("orders:ticket_list"),
        reverse("orders:ticket_detail", args=[tenant.seat_ids[0]]),
        reverse("events:list"),
    ):
        page = buyer.get(url).content.decode()
        assert f"14 Mar 2027, {shown}" in page, url
        assert not re.search(r">[^<]*18:30", page), url  # no UTC time in the text (datetime="" attributes aside)


def test_staff_pages_show_the_event_time_in_the_venue_zone(client):
    tenant = _tenant_in("Europe/Paris")
    client.force_login(tenant.owner)
    changelist = client.get(reverse("admin:events_event_changelist")).content.decode()
    assert "Sun 14 Mar 2027, 19:30 CET" in changelist
    dashboard = client.get(reverse("admin:events_event_dashboard", args=[tenant.event.pk])).content.decode()
    assert "19:30 CET" in dashboard
