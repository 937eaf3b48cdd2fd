"""Money by card in a real browser: a top-up, paying the difference at checkout, and a refund back to the card.

The real ``stripe`` library talks to the local Stripe stand-in (accounts/tests/stripe_standin.py); its hosted page
is what the buyer's browser sees at Stripe, and its **Pay** button delivers a signed webhook to the live server, as
Stripe does, before sending the buyer back. Screenshots go to artifacts/screenshots/. Skipped when Chromium is not
installed, unless REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from accounts.models import CardRefund
from accounts.tests.conftest import stripe_standin  # noqa: F401 - the fixture
from accounts.tests.factories import UserFactory
from orders.models import Order
from orders.tests.factories import Seat, make_event
from orders.tests.helpers import assert_invariants, balance
from tests.browser.pages import SCREENSHOTS, click_to, logged_in_page, walk

pytestmark = walk


@pytest.fixture
def standin(stripe_standin, live_server, settings):  # noqa: F811 - the fixture, imported
    """The stand-in delivers webhooks to the live server, and Stripe sends the buyer back to it."""
    stripe_standin.webhook_url = f"{live_server.url}/api/v1/payments/stripe/webhook/"
    settings.SITE_URL = live_server.url
    return stripe_standin


def _shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"card-{name}.png"), full_page=True)


def test_a_buyer_tops_up_by_card_and_refunds_part_of_it_to_the_card(live_server, browser, standin):
    buyer = UserFactory(credits="0.00")
    page = logged_in_page(browser, live_server.url, buyer.email)

    page.goto(f"{live_server.url}/accounts/wallet/")
    page.fill("input[name=amount]", "40")
    click_to(
        page, "form:has(input[name=amount]) button[type=submit] >> nth=0", re.escape(standin.url) + r"/pay/cs_test_"
    )
    assert "40.00 EUR" in page.inner_text("body")
    page.click("button[value=pay]")
    # Back on our site: the webhook has landed by now, so the top-up shows as credited.
    page.wait_for_url(re.compile(r"/accounts/wallet/topups/"))
    page.goto(f"{live_server.url}/accounts/wallet/")
    assert page.inner_text("[data-testid=balance]") == "40.00"
    assert "Refund to card (up to 40.00)" in page.inner_text("main")
    _shot(page, "1-topped-up")

    page.fill("#id_refund_amount", "15")
    page.click("form:has(#id_refund_amount) button[type=submit]")
    page.wait_for_load_state()
    assert "15.00 credits are on their way back to your card" in page.inner_text("body")
    assert page.inner_text("[data-testid=balance]") == "25.00"
    _shot(page, "2-refunded")
    assert [(r.amount, r.status) for r in CardRefund.objects.all()] == [(Decimal("15.00"), "SUCCEEDED")]
    assert_invariants()


@pytest.mark.parametrize("viewport", [(1280, 900), (390, 844)], ids=["desktop", "phone"])
def test_a_buyer_short_of_credits_pays_the_difference_by_card_and_gets_the_tickets(
    live_server, browser, standin, viewport
):
    buyer = UserFactory(credits="60.00")
    setup = make_event(price="50.00", title="Card Night")
    page = logged_in_page(browser, live_server.url, buyer.email, width=viewport[0], height=viewport[1])

    page.goto(f"{live_server.url}{setup.event.get_absolute_url()}")
    seats = page.locator("svg.seatmap circle.seat.available")
    seats.nth(0).click()
    seats.nth(1).click()
    page.click("text=Hold selected seats")
    page.wait_for_selector(".holds-panel .countdown")

    page.goto(f"{live_server.url}/checkout/?event={setup.event.pk}")
    assert "You need 40.00 more credits" in page.inner_text("main")
    _shot(page, f"3-checkout-short-{viewport[0]}")
    click_to(page, "#pay-card-button", re.escape(standin.url) + r"/pay/cs_test_")
    assert "40.00 EUR" in page.inner_text("body")
    page.click("button[value=pay]")

    # Stripe sends the buyer back to the order page; the visit finishes the checkout the webhook made payable.
    page.wait_for_url(re.compile(r"/orders/[0-9a-f-]{36}/"))
    page.reload()
    assert "Confirmed" in page.inner_text("main")
    _shot(page, f"4-paid-by-card-{viewport[0]}")
    order = Order.objects.get(buyer_id=buyer.pk)
    assert order.status == "CONFIRMED"
    assert Seat.objects.filter(event_id=setup.event.pk, status="SOLD", owner_id=buyer.pk).count() == 2
    assert balance(buyer) == Decimal("0.00")
    document_width = page.evaluate("document.documentElement.scrollWidth")
    assert document_width <= viewport[0], f"the order page scrolls sideways: {document_width}px"
    assert_invariants()
