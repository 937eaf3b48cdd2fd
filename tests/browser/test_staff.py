"""Venue staff in a real browser: log into the admin, publish an event, watch the sales dashboard, then admit a
ticket on the gate page at a phone-sized viewport (paste mode).

Screenshots: staff-*.png.
"""

from __future__ import annotations

import re
from decimal import Decimal

from tests.browser.pages import SCREENSHOTS, click_to, walk

pytestmark = walk


PASSWORD = "correct horse battery staple"  # the factories' password


def _shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"staff-{name}.png"), full_page=True)


def _login(page, base: str, email: str) -> None:
    """Password at the admin's login, then the second factor: the first time, set up the authenticator app from the
    page (the key it shows) and pass the recovery codes page; later, the app's current code."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.tests.factories import totp_code

    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    click_to(page, "input[type=submit]", r"/accounts/two-factor/")
    enrolling = page.locator("[data-testid=totp-secret]").count() > 0
    device = TOTPDevice.objects.filter(user__email=email).order_by("-pk").first()
    page.fill("input[name=otp_token]", totp_code(device))
    page.click("#two-factor-submit")
    if enrolling:
        assert page.locator("[data-testid=recovery-codes] li").count() == 10
        page.click("text=Continue")
    page.wait_for_url(re.compile(r"/admin/$"))


def test_staff_publishes_an_event_watches_sales_and_admits_a_ticket_on_a_phone(live_server, browser, settings):
    settings.STAFF_TWO_FACTOR_REQUIRED = True  # an owner logs in with an authenticator app
    from accounts.tests.factories import MembershipFactory, StaffFactory, UserFactory
    from events.models import Event
    from events.tests.factories import EventFactory, EventSectionFactory, SectionFactory
    from events.tests.staff_world import buy
    from inventory.models import EntryLog, Seat
    from inventory.services import ticket_qr
    from orders.tests.jobs_helpers import run_queued_operations

    section = SectionFactory(name="Stalls", rows=4, seats_per_row=10, venue__name="Harbour Hall")
    event = EventFactory(
        venue=section.venue, organization=section.venue.organization, title="Harbour Lights", status="DRAFT"
    )
    EventSectionFactory(event=event, section=section, tier__name="Stalls", tier__price=Decimal("35.00"))
    owner = StaffFactory(email="olivia@example.com", full_name="Olivia Owner")
    MembershipFactory(user=owner, organization_id=event.organization_id, role="OWNER")

    # 1. Log into the admin and publish the event from its page.
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(20_000)
    _login(page, live_server.url, owner.email)
    _shot(page, "1-admin-index")
    page.goto(f"{live_server.url}/admin/events/event/{event.pk}/change/")
    click_to(page, "text=Publish…", r"/publish/$")
    _shot(page, "2-publish-confirm")
    click_to(page, "input[type=submit][value='Publish now']", rf"/admin/events/event/{event.pk}/operations/")
    assert "publish started" in page.inner_text(".messagelist")
    assert page.inner_text("[data-field=status_label]") == "Queued"
    run_queued_operations()  # what a worker does; the page's script picks the result up by itself
    page.locator("[data-field=status_label]", has_text="Finished").wait_for()
    assert page.inner_text("[data-field=done]") == "40" and page.inner_text("[data-field=percent]") == "100"
    _shot(page, "3-published")
    page.set_viewport_size({"width": 390, "height": 844})  # the progress page on a phone
    _shot(page, "3-published-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/admin/events/event/{event.pk}/change/")
    event.refresh_from_db()
    assert event.status == Event.Status.PUBLISHED and Seat.objects.filter(event_id=event.pk).count() == 40

    # 2. A buyer buys two seats; the dashboard shows the sale.
    buyer = UserFactory(email="bea@example.com", full_name="Bea Buyer", credits="100.00")
    seat_ids = list(Seat.objects.filter(event_id=event.pk).order_by("row_label", "number").values_list("pk", flat=True))
    buy(buyer=buyer, event_id=event.pk, seat_ids=seat_ids[:2])
    click_to(page, "text=Sales dashboard", r"/dashboard/$")
    assert page.inner_text("#kpi-sold") == "2"
    assert page.inner_text("#kpi-revenue") == "70.00"
    sales_chart = page.locator("figure.chart svg").first
    assert sales_chart.is_visible() and sales_chart.locator("rect").count() == 1
    assert "2 tickets" in sales_chart.locator("rect title").text_content()
    _shot(page, "4-dashboard")
    page.set_viewport_size({"width": 390, "height": 844})  # the charts shrink with the page on a phone
    chart_box = sales_chart.bounding_box()
    assert chart_box is not None and chart_box["x"] + chart_box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # the table scrolls inside its box
    _shot(page, "4-dashboard-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    # 3. At the gate, on a phone: choose the event and gate, paste the ticket's code, read the answer.
    token, _expires = ticket_qr(seat_id=seat_ids[0], owner_id=buyer.pk)
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    phone.set_default_timeout(20_000)
    csp_errors: list[str] = []
    phone.on("console", lambda msg: csp_errors.append(msg.text) if "Content Security Policy" in msg.text else None)
    _login(phone, live_server.url, owner.email)
    phone.goto(f"{live_server.url}/gate/")
    phone.select_option("#gate-event", str(event.pk))
    phone.fill("#gate-name", "North 1")
    _shot(phone, "5-gate-choose")
    click_to(phone, "text=Start scanning", rf"/gate/{event.pk}/")
    scan_url = phone.url
    # The page's script ran (static file, allowed by the CSP): it offers the camera next to paste mode.
    phone.wait_for_selector("#camera-start:not([hidden])")
    phone.fill("#gate-token", token)
    phone.click("#scan-submit")
    phone.wait_for_selector("#gate-result[data-result=SUCCESS]")
    result = phone.inner_text("#gate-result")
    assert "ADMIT" in result and "Bea Buyer" in result and "Row A, seat 1" in result
    _shot(phone, "6-gate-admit")

    # The same code again is refused, in red, without reloading the page.
    phone.fill("#gate-token", token)
    phone.click("#scan-submit")
    phone.wait_for_selector("#gate-result[data-result=DUPLICATE]")
    assert "REFUSE" in phone.inner_text("#gate-result")
    _shot(phone, "7-gate-duplicate")
    assert phone.url == scan_url  # answered in place by fetch: a camera would keep running between scans
    assert phone.locator("#recent-list li").count() >= 2
    assert csp_errors == []
    assert sorted(EntryLog.objects.filter(seat_id=seat_ids[0]).values_list("result", flat=True)) == [
        "DUPLICATE",
        "SUCCESS",
    ]
