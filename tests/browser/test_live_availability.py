"""An open seat map shows seats held by someone else within seconds, without a reload, and a chosen seat that
someone else takes is unchosen and named."""

from __future__ import annotations

from django.conf import settings
from django.test import Client

from orders import services
from orders.tests.factories import make_event
from tests.browser.pages import walk

pytestmark = walk


def _phone_page(browser, live_server, user):
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def test_an_open_map_shows_seats_taken_by_others_without_a_reload(live_server, browser, buyer, other_buyer):
    setup = make_event(rows=2, seats_per_row=5, price="30.00")
    page = _phone_page(browser, live_server, buyer)
    page.goto(f"{live_server.url}{setup.event.get_absolute_url()}")
    page.evaluate("window.__sameDocument = true")
    chosen = page.locator(f'circle.seat[data-id="{setup.seat_ids[3]}"]')
    chosen.click()
    assert chosen.get_attribute("aria-checked") == "true"

    services.hold_seats(
        buyer_id=other_buyer.pk, event_id=setup.event.pk, seat_ids=[setup.seat_ids[3], setup.seat_ids[6]]
    )
    page.wait_for_selector(f'circle.seat.held[data-id="{setup.seat_ids[6]}"]', timeout=6_000)
    page.wait_for_selector(f'circle.seat.held[data-id="{setup.seat_ids[3]}"]', timeout=6_000)
    assert page.evaluate("window.__sameDocument === true"), "the map must change without a reload"
    assert chosen.get_attribute("aria-checked") == "false"
    assert "held" in chosen.get_attribute("aria-label")
    assert page.inner_text(".selection-summary") == "Just taken by someone else: A4. Choose another seat."
    assert page.inner_text("#buy-bar .buy-bar-text").strip() == "Choose seats on the map"

    services.release_holds(buyer_id=other_buyer.pk, event_id=setup.event.pk)
    page.wait_for_selector(f'circle.seat.available[data-id="{setup.seat_ids[6]}"]', timeout=6_000)
    page.locator(f'circle.seat[data-id="{setup.seat_ids[6]}"]').click()
    page.click("#buy-bar .bar-hold")
    page.wait_for_selector("#buy-bar .bar-checkout")
    assert page.locator(f'circle.seat.mine[data-id="{setup.seat_ids[6]}"]').count() == 1
    # The polls' answer is the same for everyone, so it reports the buyer's own hold as HELD: the map keeps it theirs.
    for _ in range(2):
        with page.expect_response(lambda response: "/changes/" in response.url) as poll:
            pass
        assert {"id": str(setup.seat_ids[6]), "status": "HELD"} in poll.value.json()["seats"]
    assert page.locator(f'circle.seat.mine[data-id="{setup.seat_ids[6]}"]').count() == 1
