"""An offer walked from one user to another in a real browser, through to the new owner's QR code.

Two browser contexts (two people, two sessions) against pytest-django's live server; the one-time codes are read
from django.core.mail.outbox (same process). Screenshots go to artifacts/screenshots/. Skipped when Chromium is not
installed, unless REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import re

from django.core import mail

from accounts.tests.factories import UserFactory
from orders.tests.factories import sold_ticket
from orders.tests.helpers import assert_invariants, seat_row
from tests.browser.pages import SCREENSHOTS, click_to, logged_in_page, walk

pytestmark = walk


def _shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"transfer-{name}.png"), full_page=True)


def _code_for(email: str, transfer_id: str) -> str:
    """The latest code emailed to ``email`` (both parties get one when the offer is accepted)."""
    message = next(m for m in reversed(mail.outbox) if email in m.to)
    return re.search(r"\b(\d{6})\b", message.body).group(1)


def test_offer_walks_from_owner_to_recipient_and_the_recipient_gets_a_qr(live_server, browser):
    owner = UserFactory(email="olga@example.com", full_name="Olga Owner", credits="100.00")
    friend = UserFactory(email="fred@example.com", full_name="Fred Friend", credits="100.00")
    ticket = sold_ticket(owner)

    # The owner opens their ticket and offers it to Fred for 15 credits.
    olga = logged_in_page(browser, live_server.url, owner.email)
    olga.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    old_token = olga.text_content("#qr-token")
    olga.click("text=Transfer to a friend")
    olga.fill("input[name=to_email]", friend.email)
    olga.fill("input[name=price]", "15.00")
    _shot(olga, "1-offer-form")
    click_to(olga, "main form button[type=submit]", r"/transfers/[0-9a-f-]{36}/$")
    transfer_id = olga.url.rstrip("/").rsplit("/", 1)[-1]
    assert olga.get_attribute("#transfer-status", "data-status") == "OFFERED"

    # Fred finds it in his inbox and accepts; both are emailed their codes.
    fred = logged_in_page(browser, live_server.url, friend.email)
    fred.goto(f"{live_server.url}/transfers/")
    _shot(fred, "2-inbox")
    fred.click(f"a[href='/transfers/{transfer_id}/']")
    fred.click("text=Accept offer")
    fred.wait_for_selector("text=Confirm with your code")
    fred.fill("input[name=code]", _code_for(friend.email, transfer_id))
    fred.click("main form:has(input[name=code]) button[type=submit]")
    fred.wait_for_selector("text=Waiting for the other party")
    _shot(fred, "3-recipient-confirmed")

    # Olga confirms with her code: the transfer completes.
    olga.goto(f"{live_server.url}/transfers/{transfer_id}/")
    olga.fill("input[name=code]", _code_for(owner.email, transfer_id))
    olga.click("main form:has(input[name=code]) button[type=submit]")
    olga.wait_for_selector("text=Transfer complete")
    assert olga.get_attribute("#transfer-status", "data-status") == "COMPLETED"

    # Fred now holds the ticket with a fresh QR code; Olga's old code is dead and her ticket page is gone.
    fred.goto(f"{live_server.url}/transfers/{transfer_id}/")
    fred.click("text=show its QR code")
    fred.wait_for_selector("#qr svg")
    new_token = fred.text_content("#qr-token")
    assert new_token and new_token != old_token
    _shot(fred, "4-new-owner-qr")
    response = olga.goto(f"{live_server.url}/tickets/{ticket.pk}/")
    assert response.status == 404

    assert seat_row(ticket.pk)["owner_id"] == friend.pk
    assert_invariants()
