"""The waiting room on pages, the API and the staff admin; the status file is served without a database."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from core.databases import ALL_DATABASES
from core.models import AuditLog
from events.models import Event
from events.tests.staff_world import add_staff, make_tenant
from orders.models import WaitingRoom, WaitingRoomEntry
from orders.services import waiting_room as rooms
from orders.tests.helpers import AllQueries, api_checkout, api_client, api_hold, page_client
from orders.tests.waiting_room_helpers import admit_all, configure_room, room_event, start_sale

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


@pytest.fixture(autouse=True)
def _status_files(settings, tmp_path):
    settings.WAITING_ROOM_STATUS_ROOT = tmp_path / "waiting-room"


def _room_url(setup) -> str:
    return reverse("orders:waiting_room", kwargs={"event_id": setup.event.pk})


# --- Holds and checkout refused without a pass ---------------------------------------------------------------------


def test_api_hold_without_a_pass_is_403_with_the_code_and_the_room(buyer):
    setup, _room = room_event()
    response = api_hold(api_client(buyer), setup, setup.seat_ids[:1])
    assert response.status_code == 403
    assert response.json()["code"] == "WAITING_ROOM_PASS_REQUIRED"
    assert response.json()["waiting_room_url"] == _room_url(setup)


def test_api_checkout_without_a_pass_is_403(buyer):
    setup, _room = room_event()
    response = api_checkout(api_client(buyer), setup, "wr-api-1")
    assert response.status_code == 403 and response.json()["code"] == "WAITING_ROOM_PASS_REQUIRED"


def test_api_buyer_joins_is_admitted_and_buys_with_the_pass_header(buyer):
    setup, room = room_event()
    api = api_client(buyer)
    joined = api.post(f"/api/v1/events/{setup.event.pk}/waiting-room/")
    assert joined.status_code == 201 and joined.json()["position"] is None and joined.json()["pass"] is None
    admit_all(room)
    place = api.get(f"/api/v1/events/{setup.event.pk}/waiting-room/").json()
    assert place["admitted"] and place["position"] == 1 and place["pass"]
    assert api_hold(api, setup, setup.seat_ids[:1], HTTP_X_WAITING_ROOM_PASS=place["pass"]).status_code == 201
    paid = api_checkout(api, setup, "wr-api-2", HTTP_X_WAITING_ROOM_PASS=place["pass"])
    assert paid.status_code == 201 and paid.json()["status"] == "CONFIRMED"


def test_api_pass_of_another_account_is_refused(buyer, other_buyer):
    setup, room = room_event()
    api_client(buyer).post(f"/api/v1/events/{setup.event.pk}/waiting-room/")
    admit_all(room)
    stolen = api_client(buyer).get(f"/api/v1/events/{setup.event.pk}/waiting-room/").json()["pass"]
    response = api_hold(api_client(other_buyer), setup, setup.seat_ids[:1], HTTP_X_WAITING_ROOM_PASS=stolen)
    assert response.status_code == 403 and response.json()["code"] == "WAITING_ROOM_PASS_REQUIRED"


def test_page_hold_without_a_pass_is_403_with_a_link_to_the_room(buyer):
    setup, _room = room_event()
    response = page_client(buyer).post(
        reverse("orders:hold", kwargs={"event_id": setup.event.pk}), {"seat_ids": [str(setup.seat_ids[0])]}
    )
    assert response.status_code == 403
    assert _room_url(setup) in response.content.decode()


def test_page_checkout_without_a_pass_is_403(buyer):
    setup, _room = room_event()
    response = page_client(buyer).post(
        reverse("orders:checkout"), {"event": str(setup.event.pk), "idempotency_key": "wr-page-1"}
    )
    assert response.status_code == 403
    assert _room_url(setup) in response.content.decode()


# --- The waiting page --------------------------------------------------------------------------------------------


def test_the_page_joins_shows_position_ahead_wait_and_progress(buyer):
    ahead = [UserFactory() for _ in range(9)]
    setup, room = room_event(rate=4, cap=20)
    for user in ahead:
        rooms.waiting_room_join(event_id=setup.event.pk, user_id=user.pk, client_address="192.0.2.5")
    room = start_sale(room)
    rooms.waiting_room_admit(room_id=room.pk, now=room.starts_at)  # the draw
    client = page_client(buyer)
    assert b"Join the queue" in client.get(_room_url(setup)).content
    response = client.post(_room_url(setup), follow=True)
    page = response.content.decode()
    assert response.status_code == 200
    assert response.context["place"].position == 10
    assert response.context["ahead"] == 9 and response.context["wait_minutes"] == 3  # 10 places at 4 a minute
    assert '<progress max="100" value="0"' in page
    assert 'http-equiv="refresh"' in page and "waiting_room.js" in page
    assert rooms.status_url(setup.event.pk) in page


def test_an_admitted_buyer_gets_the_pass_cookie_and_holds_on_the_page(buyer):
    setup, room = room_event()
    client = page_client(buyer)
    client.post(_room_url(setup))
    admit_all(room)
    response = client.get(_room_url(setup))
    assert response.status_code == 302 and response.url == reverse("orders:event", kwargs={"event_id": setup.event.pk})
    cookie = response.cookies[rooms.pass_cookie_name(setup.event.pk)]
    assert cookie["httponly"] and rooms.waiting_room_pass_valid(
        event_id=setup.event.pk, user_id=buyer.pk, token=cookie.value
    )
    held = client.post(
        reverse("orders:hold", kwargs={"event_id": setup.event.pk}), {"seat_ids": [str(setup.seat_ids[0])]}
    )
    assert held.status_code == 302


def test_the_page_says_so_when_the_event_sells_out(buyer):
    setup, room = room_event()
    client = page_client(buyer)
    client.post(_room_url(setup))
    WaitingRoom.objects.filter(pk=room.pk).update(sold_out_at=timezone.now())
    page = client.get(_room_url(setup)).content.decode()
    assert "sold out" in page and 'http-equiv="refresh"' not in page


def test_an_event_without_a_room_says_so(buyer):
    from orders.tests.factories import make_event

    setup = make_event()
    page = page_client(buyer).get(reverse("orders:waiting_room", kwargs={"event_id": setup.event.pk}))
    assert page.status_code == 200 and b"no waiting room" in page.content


def test_the_status_file_is_served_without_a_database_query(client):
    setup, room = room_event()
    rooms.waiting_room_publish_status(room_id=room.pk)
    with AllQueries() as queries:
        response = client.get(rooms.status_url(setup.event.pk))
    assert response.status_code == 200
    body = json.loads(b"".join(response.streaming_content))
    assert body["admitted_up_to"] == 0 and body["event_id"] == str(setup.event.pk)
    assert queries.total == 0


# --- Staff -------------------------------------------------------------------------------------------------------


def _admin_url(event_id) -> str:
    return reverse("admin:events_event_waiting_room", args=[event_id])


def test_a_manager_switches_the_room_on_with_its_settings_and_it_is_audited():
    tenant = make_tenant("A")
    manager = add_staff(tenant, "MANAGER")
    starts = timezone.now() + dt.timedelta(hours=2)
    response = page_client(manager).post(
        _admin_url(tenant.event.pk),
        {
            "action": "configure",
            "active": "on",
            "opens_at": (starts - dt.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S"),
            "starts_at": starts.strftime("%Y-%m-%d %H:%M:%S"),
            "rate_per_minute": "250",
            "pass_minutes": "10",
            "per_address_cap": "3",
        },
    )
    assert response.status_code == 302
    room = WaitingRoom.objects.get(event_id=tenant.event.pk)
    assert room.is_active and room.rate_per_minute == 250 and room.pass_minutes == 10 and room.per_address_cap == 3
    assert Event.objects.get(pk=tenant.event.pk).waiting_room is True
    assert AuditLog.objects.filter(action="waiting_room.configure", object_id=str(tenant.event.pk)).exists()


def test_staff_page_shows_counts_and_pauses_resumes_and_changes_the_rate():
    tenant = make_tenant("A")
    manager = add_staff(tenant, "MANAGER")
    setup_event = tenant.event
    room = configure_room(setup_event.pk, starts_at=timezone.now() + dt.timedelta(hours=1), cap=10)
    for _ in range(3):
        user = UserFactory()
        rooms.waiting_room_join(event_id=setup_event.pk, user_id=user.pk, client_address="192.0.2.9")
    client = page_client(manager)
    page = client.get(_admin_url(setup_event.pk))
    assert page.status_code == 200 and page.context["counts"]["waiting"] == 3
    client.post(_admin_url(setup_event.pk), {"action": "pause"})
    assert WaitingRoom.objects.get(pk=room.pk).is_paused
    client.post(_admin_url(setup_event.pk), {"action": "resume"})
    client.post(_admin_url(setup_event.pk), {"action": "rate", "rate_per_minute": "500"})
    room = WaitingRoom.objects.get(pk=room.pk)
    assert not room.is_paused and room.rate_per_minute == 500
    live = client.get(_admin_url(setup_event.pk), {"format": "json"}).json()
    assert live["counts"]["waiting"] == 3 and live["status"]["rate_per_minute"] == 500


def test_it_validates_ownership_staff_of_another_organization_get_404():
    ours, theirs = make_tenant("A"), make_tenant("B")
    their_manager = add_staff(theirs, "MANAGER")
    client = page_client(their_manager)
    assert client.get(_admin_url(ours.event.pk)).status_code == 404
    assert client.post(_admin_url(ours.event.pk), {"action": "pause"}).status_code == 404
    box_office = add_staff(ours, "BOX_OFFICE")  # may see events, may not run them
    assert page_client(box_office).get(_admin_url(ours.event.pk)).status_code == 200
    response = page_client(box_office).post(_admin_url(ours.event.pk), {"action": "pause"})
    assert response.status_code == 404
    assert not WaitingRoomEntry.objects.exists()


def test_the_event_page_points_to_the_room_while_it_is_on(buyer):
    setup, _room = room_event()
    page = page_client(buyer).get(reverse("orders:event", kwargs={"event_id": setup.event.pk})).content.decode()
    assert f'href="{_room_url(setup)}"' in page


def test_saving_the_staff_form_again_after_the_draw_changes_nothing():
    tenant = make_tenant("A")
    manager = add_staff(tenant, "MANAGER")
    room = configure_room(tenant.event.pk, starts_at=timezone.now() + dt.timedelta(minutes=5))
    room = start_sale(room, ago=dt.timedelta(seconds=0))
    rooms.waiting_room_admit(room_id=room.pk)  # drawn
    client = page_client(manager)
    form = client.get(_admin_url(tenant.event.pk)).context["form"]
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("on" if v is True else v) for k, v in data.items() if v not in (None, False)}
    data = {k: (v.strftime("%Y-%m-%d %H:%M:%S") if hasattr(v, "strftime") else v) for k, v in data.items()}
    data["rate_per_minute"] = "90"
    response = client.post(_admin_url(tenant.event.pk), {"action": "configure", **data})
    assert response.status_code == 302
    assert WaitingRoom.objects.get(pk=room.pk).rate_per_minute == 90
