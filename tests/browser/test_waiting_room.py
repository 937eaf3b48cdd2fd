"""A buyer walks from the waiting room to a confirmed order in a real browser, on a desktop and on a 390 px phone.

The page polls the room's status file (served here by Django's static view, by the reverse proxy in production);
when the admission job lets the buyer's place in, the script goes back to the room, which sets the pass cookie and
sends the buyer to the event. Screenshots go to artifacts/screenshots/waiting-room-*.png.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from accounts.tests.factories import PASSWORD, UserFactory
from events.tests.staff_world import add_staff, make_tenant
from orders.models import Order, WaitingRoomEntry
from orders.services import waiting_room as rooms
from orders.tests.factories import Seat
from orders.tests.waiting_room_helpers import configure_room, room_event, start_sale
from orders.views import waiting_room as room_views
from tests.browser.pages import SCREENSHOTS, admin_login, click_to, walk

pytestmark = walk

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_buyer_waits_in_the_room_is_let_in_and_buys(live_server, browser, settings, tmp_path, monkeypatch, device):
    settings.WAITING_ROOM_STATUS_ROOT = tmp_path / "waiting-room"
    monkeypatch.setattr(room_views, "POLL_SECONDS", 1)  # the test need not wait ten seconds per poll
    setup, room = room_event(rate=2, cap=10, price="30.00", title="Midnight Arena Tour")
    for _ in range(3):  # three people joined before the start: they are drawn ahead of a late arrival
        rooms.waiting_room_join(event_id=setup.event.pk, user_id=UserFactory().pk, client_address="192.0.2.44")
    room = start_sale(room)
    UserFactory(email=f"room-{device}@example.com", credits="100.00")

    context = browser.new_context(viewport=VIEWPORTS[device])
    page = context.new_page()
    page.set_default_timeout(30_000)  # the machine is shared: polls and page loads can be slow
    room_url = f"{live_server.url}/events/{setup.event.pk}/waiting-room/"
    page.goto(f"{live_server.url}/accounts/login/?next=/events/{setup.event.pk}/waiting-room/")
    page.fill("input[name=email]", f"room-{device}@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) button[type=submit]")
    page.wait_for_url(room_url)

    # Holding without a pass is refused, with the way to the room.
    refused = page.request.post(
        f"{live_server.url}/api/v1/events/{setup.event.pk}/holds/",
        data={"seat_ids": [str(setup.seat_ids[0])]},
        headers={"X-CSRFToken": next(c["value"] for c in context.cookies() if c["name"] == "csrftoken")},
    )
    assert refused.status == 403 and refused.json()["code"] == "WAITING_ROOM_PASS_REQUIRED"

    page.click("text=Join the queue")
    page.wait_for_selector("[data-field=position]")
    assert page.inner_text("[data-field=position]") == "4"
    assert page.inner_text("[data-field=ahead]") == "3"
    assert page.inner_text("[data-field=wait]") == "2"  # 4 places at 2 a minute
    no_overflow = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert no_overflow, "the waiting page scrolls sideways"
    page.screenshot(path=str(SCREENSHOTS / f"waiting-room-{device}-1-waiting.png"), full_page=True)

    # The job admits the first two (a minute at 2 a minute): the page updates itself without a reload.
    assert rooms.waiting_room_admit(room_id=room.pk, now=room.starts_at + dt.timedelta(minutes=1)) == 2
    page.wait_for_selector("[data-field=ahead]:text-is('1')")
    page.screenshot(path=str(SCREENSHOTS / f"waiting-room-{device}-2-moving.png"), full_page=True)

    # Staff raise the rate; the next step lets the buyer in. The page notices, collects the pass, goes to the event.
    rooms.waiting_room_set_pace(room_id=room.pk, rate_per_minute=100, actor_id=None)
    assert rooms.waiting_room_admit(room_id=room.pk, now=room.starts_at + dt.timedelta(minutes=2)) == 2
    page.wait_for_url(re.compile(rf"/events/{setup.event.pk}/$"))
    assert "It is your turn" in page.inner_text("main")
    assert any(c["name"] == rooms.pass_cookie_name(setup.event.pk) for c in context.cookies())
    page.screenshot(path=str(SCREENSHOTS / f"waiting-room-{device}-3-admitted.png"), full_page=True)

    page.locator("svg.seatmap circle.seat.available").first.click()
    page.click("text=Hold selected seats")
    page.wait_for_selector(".holds-panel .countdown")
    click_to(page, "text=Go to checkout", r"/checkout/")
    click_to(page, "#pay-button", r"/orders/[0-9a-f-]{36}/")
    assert "Confirmed" in page.inner_text("main")
    page.screenshot(path=str(SCREENSHOTS / f"waiting-room-{device}-4-order.png"), full_page=True)

    buyer_entry = WaitingRoomEntry.objects.get(room=room, position=4)
    order = Order.objects.get(buyer_id=buyer_entry.user_id, event_id=setup.event.pk)
    assert order.status == "CONFIRMED"
    assert Seat.objects.filter(event_id=setup.event.pk, status="SOLD", owner_id=buyer_entry.user_id).count() == 1
    context.close()


def _staff_and_a_started_room(label: str, *, joined: int, rate: int, max_in_flight: int, ago: int):
    """An organization's event with a room whose sale started ``ago`` seconds ago, ``joined`` people in it from
    different addresses, and the organization's manager: (tenant, manager, room)."""
    tenant = make_tenant(label)
    manager = add_staff(tenant, "MANAGER")
    starts = timezone.now() + dt.timedelta(minutes=30)
    room = configure_room(tenant.event.pk, starts_at=starts, rate=rate, pass_minutes=10, max_in_flight=max_in_flight)
    for index in range(joined):
        rooms.waiting_room_join(event_id=tenant.event.pk, user_id=UserFactory().pk, client_address=f"192.0.2.{index}")
    return tenant, manager, start_sale(room, ago=dt.timedelta(seconds=ago))


def _staff_room_path(tenant) -> str:
    return f"/admin/events/event/{tenant.event.pk}/waiting-room/"


def _staff_room_page(context, base_url: str, manager, tenant):
    """A page of ``context`` logged in to the admin as ``manager``, on the event's waiting-room page."""
    page = context.new_page()
    page.set_default_timeout(30_000)
    admin_login(page, base_url, manager.email, next_path=_staff_room_path(tenant))
    return page


def test_staff_watch_the_room_and_pause_it(live_server, browser, settings, tmp_path):
    from orders.models import WaitingRoom

    settings.WAITING_ROOM_STATUS_ROOT = tmp_path / "waiting-room"
    tenant, manager, room = _staff_and_a_started_room("W", joined=12, rate=120, max_in_flight=50, ago=3)
    rooms.waiting_room_admit(room_id=room.pk)

    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = _staff_room_page(context, live_server.url, manager, tenant)
    assert page.inner_text("#count-waiting") == "6"
    page.click("button[value=pause]")
    page.wait_for_selector("button[value=resume]")
    assert WaitingRoom.objects.get(pk=room.pk).is_paused
    page.screenshot(path=str(SCREENSHOTS / "waiting-room-staff.png"), full_page=True)
    context.close()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_staff_switch_admission_to_follow_throughput_and_see_the_controller(
    live_server, browser, settings, tmp_path, device
):
    from orders.contract import WaitingRoomMode
    from orders.models import WaitingRoom, WaitingRoomLatencySample

    settings.WAITING_ROOM_STATUS_ROOT = tmp_path / "waiting-room"
    tenant, manager, room = _staff_and_a_started_room("T", joined=30, rate=600, max_in_flight=40, ago=10)

    context = browser.new_context(viewport=VIEWPORTS[device])
    page = _staff_room_page(context, live_server.url, manager, tenant)
    url = f"{live_server.url}{_staff_room_path(tenant)}"
    page.select_option("select[name=admission_mode]", WaitingRoomMode.THROUGHPUT)
    page.fill("input[name=latency_target_ms]", "400")
    page.click("input[type=submit][value='Save waiting room']")
    page.wait_for_selector("text=Waiting room saved.")
    assert WaitingRoom.objects.get(pk=room.pk).latency_target_ms == 400

    now = timezone.now()  # fast holds and checkouts: the next step speeds up from a quarter of 600
    WaitingRoomLatencySample.objects.bulk_create(
        WaitingRoomLatencySample(
            event_id=tenant.event.pk, operation="hold", duration_ms=120, recorded_at=now - dt.timedelta(seconds=1)
        )
        for _ in range(20)
    )
    rooms.waiting_room_admit(room_id=room.pk, now=now)
    page.goto(url)
    assert "follows throughput" in page.inner_text("#admission-mode")
    assert page.inner_text("#admission-rate").startswith("188 per minute now (at most 600)")
    assert page.inner_text("#latency-p95").startswith("120 ms")
    page.screenshot(path=str(SCREENSHOTS / f"waiting-room-staff-throughput-{device}.png"), full_page=True)
    context.close()
