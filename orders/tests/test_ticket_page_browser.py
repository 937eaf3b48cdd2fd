"""The ticket page in a real browser: the QR code rotates in place (no reload) before it expires, and scans.

Debian's Chromium through Playwright against pytest-django's live server. Skipped when Chromium is missing unless
REQUIRE_BROWSER=1. Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest

from accounts.tests.factories import UserFactory
from core import config
from events.tests.factories import EventSectionFactory
from inventory import services
from inventory.tests.factories import HOLD, SeatFactory

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"

PASSWORD = "correct horse battery staple"  # the accounts UserFactory's password


@pytest.mark.browser
@pytest.mark.django_db(databases=["default", "seats", "events", "orders"], transaction=True)
def test_the_ticket_page_rotates_its_qr_code_without_a_reload(live_server, browser):
    config.set_value("qr_lifetime_seconds", 10)  # the shortest allowed lifetime: the page refreshes within seconds
    owner = UserFactory(email="tess@example.com", full_name="Tess Ticket")
    event_section = EventSectionFactory(section__name="Balcony")
    seat = SeatFactory(event_id=event_section.event_id, section_id=event_section.section_id, row_label="B", number=4)
    services.seats_hold(event_id=event_section.event_id, buyer_id=owner.pk, seat_ids=[seat.id], **HOLD)
    services.seats_sell(buyer_id=owner.pk, order_id=uuid.uuid4(), seat_ids=[seat.id])

    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()  # a phone
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=email]", owner.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    page.goto(f"{live_server.url}/tickets/")
    page.click("text=Show QR code")
    page.wait_for_selector("#qr svg")
    assert "Row B, seat 4" in page.inner_text("main")
    first = page.text_content("#qr-token").strip()
    clock = re.compile(r"\d\d:\d\d:\d\d UTC")  # 24-hour in the venue's zone, before and after the rotation
    assert clock.fullmatch(page.text_content("#qr-expiry").strip())
    page.screenshot(path=str(SCREENSHOTS / "ticket-qr.png"), full_page=True)
    page.evaluate("window.__sameDocument = true")  # vanishes if the page reloads

    page.wait_for_function(
        "first => document.getElementById('qr-token').textContent.trim() !== first", arg=first, timeout=15_000
    )

    second = page.text_content("#qr-token").strip()
    assert clock.fullmatch(page.text_content("#qr-expiry").strip()), page.text_content("#qr-expiry")
    assert page.evaluate("window.__sameDocument === true"), "the code must rotate without a page reload"
    assert services.qr_token_read(second).issued_at >= services.qr_token_read(first).issued_at
    page.screenshot(path=str(SCREENSHOTS / "ticket-qr-rotated.png"), full_page=True)
    outcome = services.ticket_scan(token=second, event_id=event_section.event_id, gate="Door", staff_id=uuid.uuid4())
    assert outcome.result == "SUCCESS"
