"""The box office in a real browser: sell two places on the card terminal with printed tickets, admit one printed
ticket at the gate (and refuse it the second time), then issue comps to a guest list; at desktop and phone sizes.

Screenshots: boxoffice-*.png (docs/STAFF.md uses copies).
"""

from __future__ import annotations

import pytest

from tests.browser.pages import box_office_clerk, click_to, desk_and_phone, save_screenshot, size_name, staff_page, walk

pytestmark = walk


@pytest.fixture
def world(db):
    from orders.tests.factories import make_event

    setup = make_event(rows=2, seats_per_row=6, price="35.00", title="Harbour Lights")
    return {"setup": setup, "clerk": box_office_clerk(setup.event.organization_id)}


@desk_and_phone
def test_a_printed_box_office_ticket_admits_once_and_a_guest_list_gets_comps(live_server, browser, world, viewport):
    from ops.invariants import check_all
    from orders.models import Order

    size = size_name(viewport)
    setup = world["setup"]
    page = staff_page(browser, live_server.url, world["clerk"].email, viewport=viewport)

    # 1. From the event's sales dashboard to the box office; pick two places on the seat map (by keyboard, as on a
    # phone a tap first zooms), card terminal, print.
    page.goto(f"{live_server.url}/admin/events/event/{setup.event.pk}/dashboard/")
    click_to(page, "#content-main a:text-is('Box office')", r"/box-office/$")
    page.locator("svg.seatmap circle.seat.available").first.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    assert page.locator("svg.seatmap circle.seat.selected").count() == 2
    assert page.locator("form#box-office input[type=hidden][name=seat_ids]").count() == 2
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.check("input[name=payment_method][value=CARD_TERMINAL]")
    page.check("input[name=print_tickets]")
    save_screenshot(page, f"boxoffice-1-sell-{size}")
    click_to(page, "input[type=submit][value='Take payment and sell']", r"/print/$")
    assert "Sold 2 place(s) for 70.00 (card terminal), walk-in" in page.inner_text(".messagelist")
    tickets = page.locator(".printed-ticket")
    assert tickets.count() == 2 and tickets.first.locator("svg").is_visible()
    assert "Harbour Lights" in tickets.first.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    save_screenshot(page, f"boxoffice-2-printed-{size}")
    page.emulate_media(media="print")
    save_screenshot(page, f"boxoffice-2-printed-paper-{size}")
    page.emulate_media(media="screen")
    token = tickets.first.get_attribute("data-token")

    # 2. At the gate: the printed code admits once, then is refused.
    page.goto(f"{live_server.url}/gate/")
    page.select_option("#gate-event", str(setup.event.pk))
    page.fill("#gate-name", "Door 1")
    click_to(page, "text=Start scanning", rf"/gate/{setup.event.pk}/")
    page.fill("#gate-token", token)
    page.click("#scan-submit")
    page.wait_for_selector("#gate-result[data-result=SUCCESS]")
    assert "ADMIT" in page.inner_text("#gate-result")
    save_screenshot(page, f"boxoffice-3-gate-admit-{size}")
    page.fill("#gate-token", token)
    page.click("#scan-submit")
    page.wait_for_selector("#gate-result[data-result=DUPLICATE]")

    # 3. Comps for a guest list.
    page.goto(f"{live_server.url}/admin/events/event/{setup.event.pk}/comps/")
    page.fill("textarea[name=guests]", "Ada Lovelace, ada@example.com\nAlan Turing <alan@example.com>")
    page.fill("input[name=note]", "Press night")
    page.click("input[type=submit][value='Issue comps']")
    page.wait_for_selector("#comps-issued")
    assert "2 guest(s) get their tickets by email." in page.inner_text(".messagelist")
    assert "ada@example.com (new account)" in page.inner_text("#comps-issued")
    save_screenshot(page, f"boxoffice-4-comps-{size}")

    assert Order.objects.filter(channel="BOX_OFFICE", payment_method="CARD_TERMINAL", status="CONFIRMED").count() == 1
    assert Order.objects.filter(channel="COMP", status="CONFIRMED", total=0).count() == 2
    report = check_all()
    assert not report.violations, [v.as_dict() for v in report.violations]
