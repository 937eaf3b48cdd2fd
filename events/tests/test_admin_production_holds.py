"""Places kept off sale from the admin: the seat list's actions and the dashboard's "Return to sale" button, by
capability and organization."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from core.databases import ALL_DATABASES
from core.models import AuditLog
from inventory.models import Seat

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def _status(seat_ids) -> dict:
    rows = Seat.objects.using("seats").filter(pk__in=seat_ids).values_list("pk", "status", "kept_for")
    return {pk: (status, kept_for) for pk, status, kept_for in rows}


def _keep(client, seat_ids, kept_for="Production"):
    changelist = reverse("admin:inventory_seat_changelist")
    data = {"action": "keep_off_sale", ACTION_CHECKBOX_NAME: [str(pk) for pk in seat_ids]}
    return client.post(changelist, {**data, "apply": "1", "kept_for": kept_for}, follow=True)


def test_a_manager_keeps_free_places_for_production_and_sold_ones_stay_sold(client, world):
    ours, _ = world
    client.force_login(ours.staff["MANAGER"])
    changelist = reverse("admin:inventory_seat_changelist")
    chosen = ours.seat_ids[:5]  # the first two are the buyer's tickets
    page = client.post(changelist, {"action": "keep_off_sale", ACTION_CHECKBOX_NAME: [str(pk) for pk in chosen]})
    assert page.status_code == 200 and "Keep these 5 place(s) off sale" in page.content.decode()

    done = _keep(client, chosen, kept_for="Cameras")

    text = done.content.decode()
    assert "3 place(s) kept off sale for Cameras." in text and "2 place(s) left as they were" in text
    status = _status(chosen)
    assert [status[pk] for pk in chosen] == [("SOLD", ""), ("SOLD", "")] + [("BLOCKED", "Cameras")] * 3
    assert AuditLog.objects.filter(action="seats.keep_off_sale", organization_id=ours.organization.pk).count() == 1


def test_box_office_sees_seats_but_cannot_keep_them_off_sale(client, world):
    ours, _ = world
    client.force_login(ours.staff["BOX_OFFICE"])
    page = client.get(reverse("admin:inventory_seat_changelist"))
    assert page.status_code == 200 and "keep_off_sale" not in page.content.decode()
    _keep(client, ours.seat_ids[5:7])
    assert set(_status(ours.seat_ids[5:7]).values()) == {("AVAILABLE", "")}


def test_the_dashboard_counts_kept_places_and_returns_them_to_sale_in_one_action(client, world):
    ours, theirs = world
    client.force_login(ours.staff["MANAGER"])
    _keep(client, ours.seat_ids[5:9], kept_for="VIP")
    dashboard = reverse("admin:events_event_dashboard", args=[ours.event.pk])
    page = client.get(dashboard + "?fragment=1").content.decode()
    assert "Kept off sale:" in page and "VIP · 4" in page and "Return 4 to sale" in page

    client.force_login(theirs.owner)  # another organization: not found, nothing changes
    back = reverse("admin:events_event_return_to_sale", args=[ours.event.pk])
    assert client.post(back, {"kept_for": "VIP"}).status_code == 404
    client.force_login(ours.staff["BOX_OFFICE"])
    assert "Return 4 to sale" not in client.get(dashboard + "?fragment=1").content.decode()
    assert client.post(back, {"kept_for": "VIP"}).status_code == 404
    assert set(_status(ours.seat_ids[5:9]).values()) == {("BLOCKED", "VIP")}

    client.force_login(ours.staff["MANAGER"])
    assert client.get(back).status_code == 405
    done = client.post(back, {"kept_for": "VIP"}, follow=True)
    assert "4 place(s) kept for VIP returned to sale." in done.content.decode()
    assert set(_status(ours.seat_ids[5:9]).values()) == {("AVAILABLE", "")}
    assert "Kept off sale:" not in client.get(dashboard + "?fragment=1").content.decode()
