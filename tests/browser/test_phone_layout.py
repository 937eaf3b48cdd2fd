"""Every buyer page and the gate fit a phone: no sideways scrolling at 360x740 and 390x844, primary action in view.

Builds the demo (`seed_demo`: The Tempest with 1,880 seats drawn inline, the 56,000-place stadium with its
3,200-seat sections), then gives Alice holds, an open transfer and a resale listing to look at, and walks every
page a buyer (and the gate staff) can reach at both sizes. For each page it checks that the document is no wider
than the viewport (`document.documentElement.scrollWidth <= innerWidth`: a seat map scrolls and zooms inside its own
box, never the page) and that the page's primary button is on screen without scrolling. Every problem is collected
and reported together. Screenshots go to artifacts/screenshots/phone-*.png.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from accounts.models import User
from events import selectors as events_selectors
from events.models import Event
from inventory import selectors as inventory_selectors
from orders import services as order_services
from orders.services import resale, transfer
from tests.browser.pages import axe_violations, measure_width, session_cookie, walk

pytestmark = walk

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
PHONES = [(360, 740), (390, 844)]


@dataclass(frozen=True)
class BuyerPage:
    name: str
    path: str
    primary: str  # selector of the button or link that must be on screen when the page opens
    user: str | None = "alice@demo.test"


def _scene() -> list[BuyerPage]:
    """The demo, plus what makes every page show real content: holds, an open transfer, a resale listing."""
    call_command("seed_demo", stdout=io.StringIO())
    alice, bob = User.objects.get(email="alice@demo.test"), User.objects.get(email="bob@demo.test")
    tempest = Event.objects.get(slug="the-tempest")
    derby = Event.objects.get(slug="harbour-derby")
    jazz = Event.objects.get(slug="midnight-jazz")
    alice_tickets = sorted(inventory_selectors.tickets_for_owner(owner_id=alice.pk), key=lambda t: t.number)
    offered = transfer.transfer_offer(seat_id=alice_tickets[0].id, from_user_id=alice.pk, to_email=bob.email)
    (bob_ticket,) = inventory_selectors.tickets_for_owner(owner_id=bob.pk)
    resale.listing_create(seat_id=bob_ticket.id, seller_id=bob.pk, price=Decimal("30.00"))
    stalls = next(s for s in events_selectors.event_sections(event_id=tempest.pk) if s.name == "Stalls")
    order_services.hold_seats(buyer_id=alice.pk, event_id=tempest.pk, section_id=stalls.section_id, quantity=3)
    north = next(s for s in events_selectors.event_sections(event_id=derby.pk) if s.name == "North 1")
    order_id = alice_tickets[0].order_id
    return [
        BuyerPage("events", "/", ".event-card a"),
        BuyerPage("tempest", f"/events/{tempest.pk}/", "#buy-bar .primary"),
        BuyerPage("stadium", f"/events/{derby.pk}/", "#buy-bar .primary, .venue-map a"),
        BuyerPage("stadium-section", f"/events/{derby.pk}/sections/{north.section_id}/", "#buy-bar .primary"),
        BuyerPage("jazz", f"/events/{jazz.pk}/", ".quantity-form button"),
        BuyerPage("checkout", f"/checkout/?event={tempest.pk}", "#pay-button"),
        BuyerPage("wallet", "/accounts/wallet/", "form[action$='/topup/'] button"),
        BuyerPage("topup", "/accounts/wallet/topup/", "main button[type=submit]"),
        BuyerPage("orders", "/orders/", "main table a"),
        BuyerPage("order", f"/orders/{order_id}/", "main a.button"),
        BuyerPage("tickets", "/tickets/", "main a.button"),
        BuyerPage("ticket", f"/tickets/{alice_tickets[1].id}/", "#qr"),
        BuyerPage("transfers", "/transfers/", "main table a"),
        BuyerPage("transfer", f"/transfers/{offered.id}/", "main button"),
        BuyerPage("transfer-offer", f"/transfers/offer/{alice_tickets[1].id}/", "main button[type=submit]"),
        BuyerPage("resale-browse", f"/resale/events/{derby.pk}/", "main table button"),
        BuyerPage("resale-sell", f"/resale/sell/{alice_tickets[1].id}/", "main button[type=submit]"),
        BuyerPage("resale-mine", "/resale/mine/", "main a", user="bob@demo.test"),
        BuyerPage("profile", "/accounts/profile/", "main button[type=submit]"),
        BuyerPage("login", "/accounts/login/", "main button[type=submit]", user=None),
        BuyerPage("signup", "/accounts/signup/", "main button[type=submit]", user=None),
        BuyerPage("gate", "/gate/", "main button[type=submit]", user="gate@demo.test"),
        BuyerPage("gate-scan", f"/gate/{derby.pk}/?gate=North", "#scan-submit", user="gate@demo.test"),
    ]


def _primary_in_view(page, selector: str) -> bool:
    located = page.locator(selector)
    box = located.first.bounding_box() if located.count() else None
    if box is None:
        return False
    viewport = page.viewport_size
    return (
        box["x"] >= 0
        and box["y"] >= 0
        and box["x"] + box["width"] <= viewport["width"]
        and (box["y"] + box["height"] <= viewport["height"])
    )


@pytest.mark.integration
def test_every_buyer_page_fits_a_phone_and_shows_its_primary_action(live_server, browser):
    pages = _scene()
    problems, figures = [], []
    for width, height in PHONES:
        contexts = {}
        for buyer_page in pages:
            if buyer_page.user not in contexts:
                # bypass_csp: the pages forbid inline scripts, and the test injects axe-core as one.
                context = browser.new_context(
                    viewport={"width": width, "height": height}, device_scale_factor=1, bypass_csp=True
                )
                context.add_cookies(session_cookie(live_server, buyer_page.user))
                contexts[buyer_page.user] = context
            page = contexts[buyer_page.user].new_page()
            page.set_default_timeout(15_000)
            response = page.goto(f"{live_server.url}{buyer_page.path}")
            assert response is not None and response.status == 200, (buyer_page.name, response and response.status)
            page.wait_for_load_state("load")
            measured = measure_width(page)
            figures.append(f"{buyer_page.name}@{width}: {measured['scrollWidth']}")
            if measured["scrollWidth"] > measured["innerWidth"]:
                problems.append(f"{buyer_page.name} at {width}px is {measured['scrollWidth']}px wide")
            if not _primary_in_view(page, buyer_page.primary):
                problems.append(f"{buyer_page.name} at {width}px: {buyer_page.primary!r} is not on screen")
            page.screenshot(path=str(SCREENSHOTS / f"phone-{width}-{buyer_page.name}.png"))
            if width == PHONES[-1][0]:
                problems.extend(f"{buyer_page.name}: axe {line}" for line in axe_violations(page))
            page.close()
        for context in contexts.values():
            context.close()
    print("\n".join(figures))  # noqa: T201 - the figures docs/BUYER.md quotes
    assert not problems, "\n".join(problems)


@pytest.mark.integration
def test_on_a_phone_a_buyer_zooms_into_a_stadium_section_picks_seats_and_holds_them_from_the_bar(live_server, browser):
    call_command("seed_demo", stdout=io.StringIO())
    derby = Event.objects.get(slug="harbour-derby")
    north = next(s for s in events_selectors.event_sections(event_id=derby.pk) if s.name == "North 1")
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    context.add_cookies(session_cookie(live_server, "bob@demo.test"))
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/events/{derby.pk}/sections/{north.section_id}/")

    # The 3,200-seat section opens fitted to its box, inside a page no wider than the phone.
    fitted = page.evaluate(
        "() => ({svg: document.querySelector('svg.seatmap').getBoundingClientRect().width,"
        " box: document.querySelector('.seatmap-wrap').clientWidth})"
    )
    assert fitted["svg"] <= fitted["box"]
    page.screenshot(path=str(SCREENSHOTS / "phone-section-fitted.png"))

    # A tap on the zoomed-out map zooms in around that point instead of choosing a seat; the page stays as wide.
    page.locator("svg.seatmap").click(position={"x": 40, "y": 30})
    zoomed = page.evaluate("() => document.querySelector('svg.seatmap').getBoundingClientRect().width")
    assert zoomed > 3 * fitted["svg"]
    assert page.locator("svg.seatmap circle.seat.selected").count() == 0
    assert measure_width(page)["scrollWidth"] <= 390

    seats = page.locator("svg.seatmap circle.seat.available")
    seats.nth(0).click()
    seats.nth(1).click()
    assert page.inner_text("#buy-bar .buy-bar-text").strip() == "2 seats · 90.00"
    assert _primary_in_view(page, "#buy-bar .bar-hold")
    page.screenshot(path=str(SCREENSHOTS / "phone-section-zoomed.png"))

    page.click("#buy-bar .bar-hold")
    page.wait_for_selector("#buy-bar .bar-checkout")
    bar = page.inner_text("#buy-bar")
    assert "2 held · 90.00" in bar and re.search(r"\b[45]:\d\d left", bar), bar
    assert _primary_in_view(page, "#buy-bar .bar-checkout")
    page.screenshot(path=str(SCREENSHOTS / "phone-checkout-bar.png"))

    page.click("#buy-bar .bar-checkout")
    page.wait_for_selector("#pay-button")
    assert page.inner_text("main").count("North 1 · Row A, seat") == 2
    assert measure_width(page)["scrollWidth"] <= 390
    page.screenshot(path=str(SCREENSHOTS / "phone-checkout.png"))

    wide = browser.new_context(viewport={"width": 1280, "height": 900})
    wide.add_cookies(session_cookie(live_server, "bob@demo.test"))
    desktop = wide.new_page()
    desktop.goto(f"{live_server.url}/events/{Event.objects.get(slug='the-tempest').pk}/")
    desktop.screenshot(path=str(SCREENSHOTS / "desktop-tempest.png"))
    wide.close()
    context.close()
