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
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from accounts.models import User
from core.databases import ALL_DATABASES
from events import selectors as events_selectors
from events.models import Event
from inventory import selectors as inventory_selectors
from orders import services as order_services
from orders.services import resale, transfer

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PHONES = [(360, 740), (390, 844)]


@dataclass(frozen=True)
class BuyerPage:
    name: str
    path: str
    primary: str  # selector of the button or link that must be on screen when the page opens
    user: str | None = "alice@demo.test"


def _session_cookie(live_server, email: str | None) -> list[dict]:
    if email is None:
        return []
    client = Client()
    client.force_login(User.objects.get(email=email))
    value = client.cookies[settings.SESSION_COOKIE_NAME].value
    return [{"name": settings.SESSION_COOKIE_NAME, "value": value, "url": live_server.url}]


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
        BuyerPage("stadium", f"/events/{derby.pk}/", "#buy-bar .primary, .overview a"),
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


def _measure(page) -> dict:
    return page.evaluate("() => ({scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth})")


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


@pytest.mark.browser
@pytest.mark.integration
@pytest.mark.django_db(databases=ALL_DATABASES, transaction=True)
def test_every_buyer_page_fits_a_phone_and_shows_its_primary_action(live_server, browser):
    pages = _scene()
    problems, figures = [], []
    for width, height in PHONES:
        contexts = {}
        for buyer_page in pages:
            if buyer_page.user not in contexts:
                context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1)
                context.add_cookies(_session_cookie(live_server, buyer_page.user))
                contexts[buyer_page.user] = context
            page = contexts[buyer_page.user].new_page()
            page.set_default_timeout(15_000)
            response = page.goto(f"{live_server.url}{buyer_page.path}")
            assert response is not None and response.status == 200, (buyer_page.name, response and response.status)
            page.wait_for_load_state("load")
            measured = _measure(page)
            figures.append(f"{buyer_page.name}@{width}: {measured['scrollWidth']}")
            if measured["scrollWidth"] > measured["innerWidth"]:
                problems.append(f"{buyer_page.name} at {width}px is {measured['scrollWidth']}px wide")
            if not _primary_in_view(page, buyer_page.primary):
                problems.append(f"{buyer_page.name} at {width}px: {buyer_page.primary!r} is not on screen")
            page.screenshot(path=str(SCREENSHOTS / f"phone-{width}-{buyer_page.name}.png"))
            page.close()
        for context in contexts.values():
            context.close()
    print("\n".join(figures))  # noqa: T201 - the figures docs/BUYER.md quotes
    assert not problems, "\n".join(problems)
