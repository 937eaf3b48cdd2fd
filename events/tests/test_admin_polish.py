"""The admin as staff meet it: add forms without internal fields, the organization chosen when there is one, no link
to an unsaved section's grid, staff wording on refusals, messages that keep an email as typed."""

from __future__ import annotations

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from core.databases import ALL_DATABASES

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def _selected(html: str, name: str) -> str | None:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no <select name={name}>"
    chosen = re.search(r'<option value="([^"]*)"[^>]*selected', select.group(1))
    return chosen.group(1) if chosen else None


@pytest.mark.parametrize("model", ["venue", "section", "event"])
def test_add_forms_show_no_internal_fields(client, world, model):
    ours, _ = world
    client.force_login(ours.staff["MANAGER"])
    html = client.get(reverse(f"admin:events_{model}_add")).content.decode()
    for field in ("id", "created_at", "updated_at", "deleted_at"):
        assert f"field-{field}" not in html, f"{model} add form shows {field}"


def test_an_existing_rows_page_still_shows_its_id_and_times(client, world):
    ours, _ = world
    client.force_login(ours.staff["MANAGER"])
    html = client.get(reverse("admin:events_venue_change", args=[ours.venue.pk])).content.decode()
    assert "field-id" in html and "field-created_at" in html


def test_the_organization_is_chosen_when_the_staff_member_has_one(client, world):
    ours, _ = world
    client.force_login(ours.staff["MANAGER"])
    for model in ("venue", "event"):
        html = client.get(reverse(f"admin:events_{model}_add")).content.decode()
        assert _selected(html, "organization") == str(ours.organization.pk), model
    client.force_login(ours.owner)
    html = client.get(reverse("admin:accounts_organizationmembership_add")).content.decode()
    assert _selected(html, "organization_id") == str(ours.organization.pk)


def test_an_unsaved_section_has_no_grid_link(client, world):
    ours, _ = world
    client.force_login(ours.staff["MANAGER"])
    html = client.get(reverse("admin:events_section_add")).content.decode()
    assert "/grid/" not in html and "Save the section first." in html


def _platform_staff():
    from accounts.tests.factories import StaffFactory

    return StaffFactory(is_superuser=True)


def test_a_deduction_below_zero_is_explained_to_staff_not_to_a_buyer(client, world):
    ours, _ = world
    client.force_login(_platform_staff())
    response = client.post(
        reverse("admin:accounts_user_adjust", args=[ours.buyer.pk]), {"amount": "-1000.00", "reason": "typo"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Top up your wallet" not in html and "below zero" in html


def test_messages_keep_the_email_as_typed(client, world):
    ours, _ = world
    client.force_login(_platform_staff())
    ours.buyer.email = "una1@demo.test"
    ours.buyer.save()
    response = client.post(reverse("admin:accounts_user_flag", args=[ours.buyer.pk]), {"reason": "chargeback"})
    texts = [str(message) for message in get_messages(response.wsgi_request)]
    assert texts and all(not text.startswith("una1") for text in texts)
    assert any("una1@demo.test" in text for text in texts)


def test_the_dashboards_sold_figure_counts_checked_in_tickets(client, world):
    from django.utils import timezone

    from inventory.models import Seat

    ours, _ = world
    sold = Seat.objects.filter(event_id=ours.event.pk, status="SOLD")
    before = sold.count()
    Seat.objects.filter(pk=sold.first().pk).update(status="CHECKED_IN", checked_in_at=timezone.now())
    client.force_login(ours.staff["MANAGER"])
    response = client.get(reverse("admin:events_event_dashboard", args=[ours.event.pk]))
    assert response.context["table"]["totals"]["issued"] == before
    assert f'id="kpi-sold">{before}<' in response.content.decode()
