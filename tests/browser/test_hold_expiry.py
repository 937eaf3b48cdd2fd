"""When a hold runs out on an open page, the page says so in plain words and Pay is visibly disabled."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.test import Client
from django.utils import timezone

from inventory.models import Seat
from orders.tests.factories import make_event
from orders.tests.helpers import hold
from tests.browser.pages import walk

pytestmark = walk


def test_an_expired_hold_is_named_as_such_and_pay_looks_and_is_disabled(live_server, browser, buyer):
    setup = make_event(price="20.00")
    held = hold(buyer, setup, 2)
    # The hold runs out a few seconds after the pages open.
    Seat.objects.filter(pk__in=[seat.id for seat in held]).update(
        hold_expires_at=timezone.now() + dt.timedelta(seconds=6)
    )
    client = Client()
    client.force_login(buyer)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    event_page = context.new_page()
    event_page.goto(f"{live_server.url}{setup.event.get_absolute_url()}")
    assert event_page.locator("#buy-bar .bar-checkout").is_visible()
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/checkout/?event={setup.event.pk}")
    pay = page.locator("#pay-button")
    enabled_background = pay.evaluate("button => getComputedStyle(button).backgroundColor")
    assert pay.is_enabled()

    page.wait_for_selector(".holds-panel.expired", timeout=10_000)
    assert pay.is_disabled()
    assert pay.evaluate("button => getComputedStyle(button).backgroundColor") != enabled_background
    text = page.inner_text(".holds-panel .hold-timer")
    assert text == "Your hold has expired, so these places can no longer be paid for. Choose your seats again."
    assert "more" not in text and "0:00" not in text

    # The event page's sticky bar says the same and no longer offers Checkout.
    event_page.wait_for_selector("#buy-bar.expired")
    assert "Your hold has expired" in event_page.inner_text("#buy-bar")
    assert not event_page.locator("#buy-bar .bar-checkout").is_visible()
    assert "Your hold has expired" in event_page.inner_text(".holds-panel")

    context.close()
