"""Box-office work in a real browser: refund one ticket of an order from the order page, export the door list, read
the dashboard's charts, at desktop and phone sizes.

Screenshots: staffops-*.png (docs/STAFF.md uses copies).
"""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest

from tests.browser.pages import box_office_clerk, click_to, desk_and_phone, save_screenshot, size_name, staff_page, walk

pytestmark = walk


def _downloaded_csv(page, click) -> list[list[str]]:
    """The rows of the CSV file that ``click`` makes the page download (the exports start with a BOM for Excel)."""
    with page.expect_download() as download:
        click()
    return list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))


@pytest.fixture
def world(db):
    from accounts.tests.factories import UserFactory
    from events.tests.staff_world import buy
    from inventory.models import Seat
    from orders.tests.factories import make_event

    setup = make_event(rows=2, seats_per_row=5, price="40.00", title="Harbour Lights")
    clerk = box_office_clerk(setup.event.organization_id)
    buyer = UserFactory(email="dana@example.com", full_name="Dana Doe", credits="200.00")
    seat_ids = list(
        Seat.objects.filter(event_id=setup.event.pk).order_by("row_label", "number").values_list("pk", flat=True)
    )
    order_id = buy(buyer=buyer, event_id=setup.event.pk, seat_ids=seat_ids[:3])
    return {"setup": setup, "clerk": clerk, "buyer": buyer, "order_id": order_id, "seat_ids": seat_ids}


@desk_and_phone
def test_box_office_refunds_one_ticket_from_the_order_page(live_server, browser, world, viewport):
    from inventory.models import Seat
    from ops.invariants import check_all
    from orders.models import Order

    size = size_name(viewport)
    page = staff_page(browser, live_server.url, world["clerk"].email, viewport=viewport)
    page.goto(f"{live_server.url}/admin/orders/order/{world['order_id']}/change/")
    assert "Dana Doe" in page.inner_text("#content-main")
    click_to(page, "text=Refund tickets…", r"/refund-tickets/$")
    save_screenshot(page, f"staffops-refund-1-choose-{size}")

    # Without a reason nothing happens and the form says why.
    page.locator("input[name=seat_ids]").first.check()
    page.click("input[type=submit][value='Refund the chosen tickets']")
    assert "This field is required." in page.inner_text(".field-reason")
    page.locator("input[name=seat_ids]").first.check()
    page.fill("textarea[name=reason]", "Could not come")
    click_to(page, "input[type=submit][value='Refund the chosen tickets']", r"/change/$")
    assert "Refunded 1 ticket(s)" in page.inner_text(".messagelist")
    save_screenshot(page, f"staffops-refund-2-done-{size}")

    order = Order.objects.get(pk=world["order_id"])
    assert (order.status, order.refunded_amount) == ("CONFIRMED", Decimal("40.00"))
    assert Seat.objects.filter(order_id=order.pk).count() == 2
    assert world["buyer"].__class__.objects.get(pk=world["buyer"].pk).credit_balance == Decimal("120.00")
    assert check_all().ok


def test_box_office_downloads_the_door_list_from_the_event(live_server, browser, world):
    setup = world["setup"]
    page = staff_page(browser, live_server.url, world["clerk"].email, accept_downloads=True)
    page.goto(f"{live_server.url}/admin/events/event/{setup.event.pk}/dashboard/")
    click_to(page, "text=Exports (door list, orders, ledger, entries)", r"/exports/$")
    save_screenshot(page, "staffops-exports-1-page")
    rows = _downloaded_csv(page, lambda: page.locator("tr[data-kind=attendees] a", has_text="CSV").click())
    assert rows[0][:3] == ["name", "email", "section"]
    assert [row[:2] for row in rows[1:]] == [["Dana Doe", "dana@example.com"]] * 3
    with page.expect_download() as download:
        page.locator("tr[data-kind=orders] a", has_text="XLSX").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    assert Path(download.value.path()).read_bytes()[:2] == b"PK"


def test_box_office_reverses_a_disputed_transfer_from_the_disputes_page(live_server, browser, world):
    from accounts.tests.factories import UserFactory
    from inventory.models import Seat
    from orders import services
    from orders.models import Transfer
    from orders.tests.helpers import accepted, confirm_both

    buyer, clerk = world["buyer"], world["clerk"]
    friend = UserFactory(email="finn@example.com", full_name="Finn Friend", credits="100.00")
    ticket = Seat.objects.get(pk=world["seat_ids"][0])
    done = confirm_both(accepted(ticket, buyer, friend, price="10.00"), buyer, friend)
    services.transfer_dispute(transfer_id=done.id, actor_id=clerk.pk, reason="Says the phone was stolen")

    page = staff_page(browser, live_server.url, clerk.email)
    page.goto(f"{live_server.url}/admin/orders/transfer/")
    click_to(page, "text=Open disputes", r"/disputes/$")
    row = page.locator(f"tr[data-transfer='{done.id}']")
    assert "Dana Doe" in row.inner_text() and "Finn Friend" in row.inner_text()
    save_screenshot(page, "staffops-disputes-1-page")
    row.locator("input[type=submit][value='Reverse…']").click()
    page.fill("textarea[name=reason]", "Confirmed: stolen phone")
    page.locator("input[type=submit]").first.click()
    page.wait_for_url(re.compile(r"/admin/orders/transfer/"))
    assert Transfer.objects.get(pk=done.id).status == "REVERSED"
    assert Seat.objects.get(pk=ticket.pk).owner_id == buyer.pk


def test_a_manager_keeps_places_for_vips_and_returns_them_from_the_dashboard(live_server, browser, world):
    from accounts.tests.factories import MembershipFactory, StaffFactory
    from inventory.models import Seat

    event = world["setup"].event
    # as publishing leaves them (make_event writes the seats directly): scoped to the event's organization
    Seat.objects.filter(event_id=event.pk).update(organization_id=event.organization_id)
    manager = StaffFactory(email="mia@example.com", full_name="Mia Manager")
    MembershipFactory(user=manager, organization_id=event.organization_id, role="MANAGER")
    page = staff_page(browser, live_server.url, manager.email)
    page.goto(f"{live_server.url}/admin/inventory/seat/?event={event.pk}&status__exact=AVAILABLE")
    rows = page.locator("#result_list tbody input.action-select")
    for index in range(3):
        rows.nth(index).check()
    page.select_option("select[name=action]", "keep_off_sale")
    page.click("button[name=index]")
    page.fill("input[name=kept_for]", "VIP")
    save_screenshot(page, "staffops-keep-1-name")
    page.click("input[type=submit][value='Keep off sale']")
    assert "3 place(s) kept off sale for VIP." in page.inner_text("ul.messagelist")
    assert Seat.objects.filter(event_id=event.pk, status="BLOCKED", kept_for="VIP").count() == 3

    page.goto(f"{live_server.url}/admin/events/event/{event.pk}/dashboard/")
    assert "VIP · 3" in page.inner_text(".kept-off-sale")
    save_screenshot(page, "staffops-keep-2-dashboard")
    page.click("text=Return 3 to sale")
    assert "3 place(s) kept for VIP returned to sale." in page.inner_text("ul.messagelist")
    assert page.locator(".kept-off-sale").count() == 0
    assert not Seat.objects.filter(event_id=event.pk, status="BLOCKED").exists()


def test_box_office_downloads_the_organizations_ledger_for_a_range_of_days(live_server, browser, world):
    setup = world["setup"]
    page = staff_page(browser, live_server.url, world["clerk"].email, accept_downloads=True)
    page.goto(f"{live_server.url}/admin/events/event/{setup.event.pk}/exports/")
    click_to(page, "text=Organization exports", r"/admin/orders/organization-exports/$")
    page.select_option("select[name=kind]", "ledger")
    save_screenshot(page, "staffops-exports-2-organization")
    rows = _downloaded_csv(page, lambda: page.click("input[type=submit][value=Download]"))
    assert rows[0][:3] == ["at (UTC)", "event", "name"]
    assert [(row[1], row[2], row[5]) for row in rows[1:]] == [("Harbour Lights", "Dana Doe", "-120.00")]
