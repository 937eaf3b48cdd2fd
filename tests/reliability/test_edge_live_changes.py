"""The production edge (deploy/templates/nginx.conf, rendered as deploy/ctl renders it) in front of the app: the
live seat-map changes are answered from nginx's one-second cache, the same answer for every viewer, and a seat held
by someone else is in every answer served from the next half second on (so on every open map within the 1 s poll,
the half second, and at most half a second of waiting for the answer another map asked for: 2 s)."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import ssl
import time
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from bench.edge import Edge, nginx_available
from core.databases import ALL_DATABASES
from inventory.models import Seat
from orders import services
from orders.tests.factories import make_event

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not nginx_available(), reason="nginx is not installed (deploy/ctl up and .ci/run install it)"),
]


def test_the_edge_configuration_with_the_live_changes_cache_passes_nginx_t():
    edge = Edge(upstream_ports=[8000, 8001])
    try:
        text = edge.render()
        assert "proxy_cache live_changes;" in text and "proxy_cache_lock on;" in text
        result = edge.test()
        assert result.returncode == 0, result.stderr
    finally:
        edge.stop()


def _get(edge: Edge, path: str, cookie: str = "") -> tuple[dict, str, dict]:
    connection = http.client.HTTPSConnection(
        "127.0.0.1", edge.https_port, context=ssl.create_default_context(cafile=str(edge.cert)), timeout=10
    )
    try:
        connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = connection.getresponse()
        body = response.read()
        assert response.status == 200, body
        return json.loads(body), response.getheader("X-Cache-Status", ""), dict(response.getheaders())
    finally:
        connection.close()


def _tick() -> int:
    return int(time.time() * 2)


def _start_of_a_tick() -> None:
    """Sleep until just after a whole half second (the edge's cache shares an answer within one)."""
    time.sleep(0.5 - time.time() % 0.5 + 0.01)


@pytest.mark.django_db(databases=ALL_DATABASES, transaction=True)
def test_maps_share_one_cached_answer_and_see_a_hold_from_the_next_second(live_server, buyer, other_buyer):
    setup = make_event(rows=2, seats_per_row=5)
    Seat.objects.filter(event_id=setup.event.pk).update(updated_at=timezone.now() - dt.timedelta(minutes=1))
    signed_in = Client()
    signed_in.force_login(buyer)
    cookie = f"{settings.SESSION_COOKIE_NAME}={signed_in.cookies[settings.SESSION_COOKIE_NAME].value}"
    with Edge(upstream_ports=[urlsplit(live_server.url).port]) as edge:
        path = f"/events/{setup.event.pk}/changes/?since={int(time.time()) * 1000}&section={setup.section.pk}"
        for _attempt in range(10):
            # Two maps of the section, one signed in, in one half second: Django's answer, then nginx's copy.
            _start_of_a_tick()
            tick = _tick()
            first, first_cache, headers = _get(edge, path)
            second, second_cache, _ = _get(edge, path, cookie=cookie)
            if _tick() == tick:
                break
        assert first["seats"] == [] and first_cache == "MISS"
        assert "public" in headers["Cache-Control"] and "Set-Cookie" not in headers
        assert second_cache == "HIT" and second == first

        # Every answer asked for in a later half second than the hold was made after it.
        services.hold_seats(buyer_id=other_buyer.pk, event_id=setup.event.pk, seat_ids=setup.seat_ids[0:1])
        _start_of_a_tick()
        third, _, _ = _get(edge, path, cookie=cookie)
        assert third["seats"] == [{"id": str(setup.seat_ids[0]), "status": "HELD"}]
        assert third["version"] % 1000 == 0 and third["poll_seconds"] == 1
        assert third["version"] <= third["read_at"] < third["version"] + 1000


class Stream:
    """One open map's server-sent-events stream through the edge, read as the browser's EventSource reads it."""

    def __init__(self, edge: Edge, path: str) -> None:
        context = ssl.create_default_context(cafile=str(edge.cert))
        self.connection = http.client.HTTPSConnection("127.0.0.1", edge.https_port, context=context, timeout=5)
        self.connection.request("GET", path, headers={"Accept": "text/event-stream"})
        self.sock = self.connection.sock  # the response takes it over: a stream has no length
        self.response = self.connection.getresponse()

    def next_data(self, timeout: float) -> dict | None:
        """The next message's data (comments and pings skipped), or None if none came within ``timeout``."""
        self.sock.settimeout(timeout)
        try:
            while True:
                line = self.response.fp.readline().decode().rstrip("\n")
                if line.startswith("data: "):
                    return json.loads(line[len("data: ") :])
        except TimeoutError:
            return None

    def close(self) -> None:
        self.response.close()
        self.sock.close()


@pytest.mark.django_db(databases=ALL_DATABASES, transaction=True)
def test_a_hold_is_pushed_to_the_maps_of_its_section_and_no_other_within_2_s(live_server, other_buyer):
    from orders.live_changes import NchanPublisher, SeatChangeFeed

    setup, elsewhere = make_event(rows=2, seats_per_row=5), make_event(rows=1, seats_per_row=2)
    for event in (setup, elsewhere):
        Seat.objects.filter(event_id=event.event.pk).update(updated_at=timezone.now() - dt.timedelta(minutes=1))
    with Edge(upstream_ports=[urlsplit(live_server.url).port]) as edge:
        feed, publisher = SeatChangeFeed(), NchanPublisher(edge.publish_url)
        assert publisher.publish(feed.tick()) == 0
        other_section = "00000000-0000-0000-0000-000000000001"
        watching = Stream(edge, f"/events/{setup.event.pk}/live/?sections={other_section},{setup.section.pk}")
        other_event = Stream(edge, f"/events/{elsewhere.event.pk}/live/?sections={setup.section.pk}")
        try:
            assert watching.response.status == 200
            assert watching.response.getheader("Content-Type").startswith("text/event-stream")
            held_at = time.monotonic()
            services.hold_seats(buyer_id=other_buyer.pk, event_id=setup.event.pk, seat_ids=setup.seat_ids[:2])
            time.sleep(0.5)  # the feed's tick
            assert publisher.publish(feed.tick()) == 1
            message = watching.next_data(timeout=2)
            assert time.monotonic() - held_at < 2
            assert message["section"] == str(setup.section.pk)
            assert sorted(message["seats"], key=lambda seat: seat["id"]) == sorted(
                ({"id": str(seat), "status": "HELD"} for seat in setup.seat_ids[:2]), key=lambda seat: seat["id"]
            )
            assert message["since"] == int(feed.started.timestamp() * 1000) < message["version"]
            # Another event's maps of a section with the same id hear nothing (channels are per event).
            assert other_event.next_data(timeout=0.5) is None

            services.release_holds(buyer_id=other_buyer.pk, event_id=setup.event.pk)
            time.sleep(0.5)
            publisher.publish(feed.tick())
            released = watching.next_data(timeout=2)
            assert {seat["status"] for seat in released["seats"]} == {"AVAILABLE"}
            assert released["since"] == message["version"]
        finally:
            watching.close()
            other_event.close()
            publisher.close()


def test_the_edge_refuses_a_stream_of_malformed_or_too_many_sections():
    edge = Edge(upstream_ports=[9])
    with edge:
        connection = http.client.HTTPSConnection(
            "127.0.0.1", edge.https_port, context=ssl.create_default_context(cafile=str(edge.cert)), timeout=5
        )
        event = "11111111-1111-1111-1111-111111111111"
        for sections in ("not-a-section", ",".join([event] * 21), ""):
            connection.request(
                "GET", f"/events/{event}/live/?sections={sections}", headers={"Accept": "text/event-stream"}
            )
            response = connection.getresponse()
            response.read()
            assert response.status == 400, sections
        connection.close()
