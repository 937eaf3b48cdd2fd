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


def test_through_the_edge_the_map_is_pushed_the_changes_and_stops_polling(
    live_server, browser, buyer, other_buyer, settings
):
    """The production path: the map subscribes to the edge's stream (nchan), asks the cached poll once to cover the
    moment between the page and the subscription, and from then on is pushed the changes."""
    import datetime as dt
    import time
    from urllib.parse import urlsplit

    import pytest
    from django.core.management import call_command
    from django.utils import timezone

    from bench.edge import Edge, nginx_available
    from inventory.models import Seat
    from orders.live_changes import NchanPublisher, SeatChangeFeed

    if not nginx_available():
        pytest.skip("nginx with nchan is not installed (deploy/ctl up and .ci/run install it)")
    setup = make_event(rows=2, seats_per_row=5, price="30.00")
    Seat.objects.filter(event_id=setup.event.pk).update(updated_at=timezone.now() - dt.timedelta(minutes=1))
    with Edge(upstream_ports=[urlsplit(live_server.url).port]) as edge:
        # The edge serves /static/ from its own folder, as deploy/ctl's does after collectstatic.
        settings.STATIC_ROOT = str(edge.root / "static")
        call_command("collectstatic", interactive=False, verbosity=0)
        (edge.root / "static").chmod(0o755)
        feed, publisher = SeatChangeFeed(), NchanPublisher(edge.publish_url)
        context = browser.new_context(viewport={"width": 390, "height": 844}, ignore_https_errors=True)
        page = context.new_page()
        page.set_default_timeout(15_000)
        polls, streams = [], []
        page.on("request", lambda request: polls.append(request.url) if "/changes/" in request.url else None)
        page.on("response", lambda response: streams.append(response.status) if "/live/" in response.url else None)
        with page.expect_response(lambda response: "/changes/" in response.url):
            page.goto(f"https://127.0.0.1:{edge.https_port}{setup.event.get_absolute_url()}")
        assert streams == [200] and len(polls) == 1  # the catch-up when the stream opened

        services.hold_seats(buyer_id=other_buyer.pk, event_id=setup.event.pk, seat_ids=[setup.seat_ids[4]])
        time.sleep(0.5)
        assert publisher.publish(feed.tick()) == 1
        page.wait_for_selector(f'circle.seat.held[data-id="{setup.seat_ids[4]}"]', timeout=2_000)

        services.release_holds(buyer_id=other_buyer.pk, event_id=setup.event.pk)
        time.sleep(0.5)
        publisher.publish(feed.tick())
        page.wait_for_selector(f'circle.seat.available[data-id="{setup.seat_ids[4]}"]', timeout=2_000)
        page.wait_for_timeout(2_500)
        assert len(polls) == 1, "a map that is pushed the changes does not poll"

        # A message lost on the way (made, never published): the next one does not follow on from what the map
        # holds, so the map asks the poll once and draws both changes.
        services.hold_seats(buyer_id=other_buyer.pk, event_id=setup.event.pk, seat_ids=[setup.seat_ids[5]])
        time.sleep(0.5)
        assert len(feed.tick()) == 1
        services.hold_seats(buyer_id=other_buyer.pk, event_id=setup.event.pk, seat_ids=[setup.seat_ids[6]])
        time.sleep(0.5)
        publisher.publish(feed.tick())
        page.wait_for_selector(f'circle.seat.held[data-id="{setup.seat_ids[5]}"]', timeout=3_000)
        page.wait_for_selector(f'circle.seat.held[data-id="{setup.seat_ids[6]}"]', timeout=3_000)
        assert len(polls) == 2
        publisher.close()
        context.close()
