"""The buyer's whole journey in a real browser: sign up, verify, top up, pick seats on the map, pay, see a QR.

Drives Debian's Chromium through Playwright against pytest-django's live server (same process, so the verification
code is read from django.core.mail.outbox). Screenshots go to artifacts/screenshots/. Skipped when Chromium is not
installed, unless REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail

from orders.tests.factories import Seat, make_event
from tests.browser.pages import SCREENSHOTS, click_to, desk_and_phone, walk

pytestmark = walk


@pytest.fixture
def browser_page(browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(15_000)
    return page


def _shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"buyer-{name}.png"), full_page=True)


def test_buyer_signs_up_tops_up_picks_seats_pays_and_sees_a_qr(live_server, browser_page):
    page = browser_page
    setup = make_event(price="45.00", title="Harbour Lights Live")
    email = "journey@example.com"

    # Sign up and verify the email address with the emailed code.
    page.goto(f"{live_server.url}/accounts/signup/")
    page.fill("input[name=email]", email)
    page.fill("input[name=full_name]", "Jo Journey")
    page.fill("input[name=password]", "a-long and unusual passphrase 42")
    click_to(page, "button[type=submit]", r"/accounts/verify/")
    message = next(m for m in reversed(mail.outbox) if email in m.to)
    code = re.search(r"\b(\d{6})\b", message.body).group(1)
    page.fill("input[name=code]", code)
    page.click("form:has(input[name=code]) button[type=submit]")
    page.wait_for_load_state()
    _shot(page, "1-verified")

    # Top up 200 credits with the built-in test provider.
    page.goto(f"{live_server.url}/accounts/wallet/topup/")
    page.fill("input[name=amount]", "200")
    click_to(page, "form:has(input[name=amount]) button[type=submit]", r"/accounts/pay/")
    click_to(page, "button[value=pay]", r"/accounts/wallet/")
    assert "200" in page.inner_text("main")
    _shot(page, "2-topped-up")

    # Pick two seats on the map: one with the mouse, the next with the keyboard.
    page.goto(f"{live_server.url}{setup.event.get_absolute_url()}")
    first = page.locator("svg.seatmap circle.seat.available").first
    first.click()
    assert first.get_attribute("aria-checked") == "true"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    assert page.locator("svg.seatmap circle.seat.selected").count() == 2
    assert page.inner_text(".selection-summary").startswith("Selected 2: A1, A2 — 90.00 credits")
    _shot(page, "3-seats-selected")
    page.click("text=Hold selected seats")
    page.wait_for_selector(".holds-panel .countdown")
    assert page.locator("svg.seatmap circle.seat.mine").count() == 2
    _shot(page, "4-held")

    # Pay at checkout and open the ticket with its QR code.
    click_to(page, "text=Go to checkout", r"/checkout/")
    _shot(page, "5-checkout")
    click_to(page, "#pay-button", r"/orders/[0-9a-f-]{36}/")
    assert "Confirmed" in page.inner_text("main")
    _shot(page, "6-order")
    page.click("text=Show ticket & QR")
    page.wait_for_selector("#qr svg")
    _shot(page, "7-ticket-qr")

    sold = Seat.objects.filter(event_id=setup.event.pk, status="SOLD")
    assert sold.count() == 2
    assert len({seat.owner_id for seat in sold}) == 1


@desk_and_phone
def test_without_javascript_the_seat_list_holds_seats_with_a_plain_form(live_server, browser, viewport):
    from accounts.tests.factories import UserFactory

    UserFactory(email="nojs@example.com", credits="100.00")
    setup = make_event(price="20.00")
    context = browser.new_context(java_script_enabled=False, viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/accounts/login/?next={setup.event.get_absolute_url()}")
    page.fill("input[name=email]", "nojs@example.com")
    page.fill("input[name=password]", "correct horse battery staple")
    click_to(page, "form:has(input[name=password]) button[type=submit]", setup.event.get_absolute_url())

    # The map is drawn by its script: without one, the section links to its seats as a plain list.
    assert page.locator("svg.seatmap circle.seat").count() == 0
    seat_list_link = page.locator("noscript a[href$='/seats/']")
    assert seat_list_link.inner_text() == f"Choose seats in {setup.section.name} from a list"
    seat_list_link.click()
    page.wait_for_url(re.compile(r"/seats/$"))
    seat_list = page.locator("select[name=seat_ids]")
    assert seat_list.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    seat_list.select_option([str(setup.seat_ids[3]), str(setup.seat_ids[4])])
    page.click("text=Hold selected seats")
    page.wait_for_selector(".holds-panel .hold-list")
    assert page.locator(".hold-list li").count() == 2
    assert page.locator(f'select[name=seat_ids] option[value="{setup.seat_ids[3]}"]').count() == 0
    _shot(page, f"8-no-js-held-{viewport['width']}")
    assert set(Seat.objects.filter(status="HELD").values_list("pk", flat=True)) == set(setup.seat_ids[3:5])
    context.close()
