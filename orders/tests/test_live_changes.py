"""The live-changes feed (orders.live_changes): what it publishes to open seat maps, tick by tick, read from the
real seat tables. The edge's side (nchan pushing the messages to maps) is tested in
tests/reliability/test_edge_live_changes.py."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from core.databases import ALL_DATABASES
from events.models import Event
from inventory.models import Seat
from orders import services
from orders.live_changes import NchanPublisher, SeatChangeFeed, publish_tick, version_of
from orders.tests.factories import make_event

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


class Clock:
    """The feed's clock, moved by the test (the seats' own times come from the services' real clock)."""

    def __init__(self) -> None:
        self.now = timezone.now()

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now = max(self.now, timezone.now()) + dt.timedelta(seconds=seconds)


@pytest.fixture
def quiet_event():
    """An event on sale whose seats were last written a minute ago (outside the feed's look-back)."""
    setup = make_event(rows=2, seats_per_row=5)
    Seat.objects.filter(event_id=setup.event.pk).update(updated_at=timezone.now() - dt.timedelta(minutes=1))
    return setup


def _seats(message) -> dict[str, str]:
    return {str(seat): status for seat, status in message.seats}


def test_a_hold_is_published_once_for_its_section_and_the_next_message_continues_from_it(
    quiet_event, buyer, other_buyer
):
    clock = Clock()
    feed = SeatChangeFeed(clock=clock)
    clock.advance(0.5)
    assert feed.tick() == []

    services.hold_seats(buyer_id=other_buyer.pk, event_id=quiet_event.event.pk, seat_ids=quiet_event.seat_ids[:2])
    clock.advance(0.5)
    [held] = feed.tick()
    assert (held.event_id, held.section_id) == (quiet_event.event.pk, quiet_event.section.pk)
    assert _seats(held) == {str(seat): "HELD" for seat in quiet_event.seat_ids[:2]}
    assert held.since == version_of(feed.started) and held.version == version_of(clock.now)
    body = json.loads(held.as_json())
    assert body["section"] == str(quiet_event.section.pk) and len(body["seats"]) == 2

    # The same rows are read again for OVERLAP seconds (a late commit could hide among them): not published again.
    clock.advance(0.5)
    assert feed.tick() == []

    services.release_holds(buyer_id=other_buyer.pk, event_id=quiet_event.event.pk)
    clock.advance(0.5)
    [released] = feed.tick()
    assert _seats(released) == {str(seat): "AVAILABLE" for seat in quiet_event.seat_ids[:2]}
    assert released.since == held.version


def test_a_write_that_becomes_visible_after_its_tick_is_published_by_the_next(quiet_event, other_buyer):
    clock = Clock()
    feed = SeatChangeFeed(clock=clock)
    clock.advance(1)
    assert feed.tick() == []
    services.hold_seats(buyer_id=other_buyer.pk, event_id=quiet_event.event.pk, seat_ids=quiet_event.seat_ids[:1])
    # Its updated_at is before the last tick, as for a transaction that committed after that tick read.
    Seat.objects.filter(pk=quiet_event.seat_ids[0]).update(updated_at=feed.last_tick - dt.timedelta(seconds=2))
    clock.advance(0.5)
    [message] = feed.tick()
    assert _seats(message) == {str(quiet_event.seat_ids[0]): "HELD"}


def test_a_hold_that_runs_out_is_published_as_available_though_no_row_changes(quiet_event, other_buyer):
    services.hold_seats(buyer_id=other_buyer.pk, event_id=quiet_event.event.pk, seat_ids=quiet_event.seat_ids[:1])
    # Made before the feed started, and outside its look-back: only the expiry can bring it back.
    Seat.objects.filter(pk=quiet_event.seat_ids[0]).update(updated_at=timezone.now() - dt.timedelta(minutes=1))
    expires = Seat.objects.get(pk=quiet_event.seat_ids[0]).hold_expires_at
    clock = Clock()
    feed = SeatChangeFeed(clock=clock)
    clock.advance(0.5)
    assert feed.tick() == []
    clock.now = expires + dt.timedelta(seconds=1)
    [message] = feed.tick()
    assert _seats(message) == {str(quiet_event.seat_ids[0]): "AVAILABLE"}
    clock.advance(0.5)
    assert feed.tick() == []


def test_an_extended_hold_runs_out_at_its_new_expiry_not_the_first(quiet_event, other_buyer):
    clock = Clock()
    feed = SeatChangeFeed(clock=clock)
    services.hold_seats(buyer_id=other_buyer.pk, event_id=quiet_event.event.pk, seat_ids=quiet_event.seat_ids[:1])
    clock.advance(0.5)
    assert len(feed.tick()) == 1
    first = Seat.objects.get(pk=quiet_event.seat_ids[0]).hold_expires_at
    later = first + dt.timedelta(minutes=5)
    Seat.objects.filter(pk=quiet_event.seat_ids[0]).update(hold_expires_at=later, updated_at=timezone.now())
    clock.advance(0.5)
    assert feed.tick() == []  # still HELD: nothing to publish, but the new expiry is kept
    clock.now = first + dt.timedelta(seconds=1)
    assert feed.tick() == []
    clock.now = later + dt.timedelta(seconds=1)
    [message] = feed.tick()
    assert _seats(message) == {str(quiet_event.seat_ids[0]): "AVAILABLE"}


def test_events_not_on_sale_are_not_watched(other_buyer):
    ended = make_event(sales_end=timezone.now() + dt.timedelta(minutes=10))
    clock = Clock()
    feed = SeatChangeFeed(clock=clock)
    services.hold_seats(buyer_id=other_buyer.pk, event_id=ended.event.pk, seat_ids=ended.seat_ids[:1])
    Event.objects.filter(pk=ended.event.pk).update(sales_end=timezone.now() - dt.timedelta(seconds=1))
    clock.advance(0.5)
    assert feed.tick() == []


def test_two_sections_changed_in_one_tick_make_two_messages(other_buyer):
    first, second = make_event(rows=1, seats_per_row=3), make_event(rows=1, seats_per_row=3)
    clock = Clock()
    feed = SeatChangeFeed(clock=clock)
    services.hold_seats(buyer_id=other_buyer.pk, event_id=first.event.pk, seat_ids=first.seat_ids[:1])
    services.hold_seats(buyer_id=other_buyer.pk, event_id=second.event.pk, seat_ids=second.seat_ids[:1])
    clock.advance(0.5)
    messages = feed.tick()
    by_channel = {(message.event_id, message.section_id): _seats(message) for message in messages}
    # The seats were just made, so the first tick also reports the others as AVAILABLE.
    assert by_channel[(first.event.pk, first.section.pk)][str(first.seat_ids[0])] == "HELD"
    assert by_channel[(second.event.pk, second.section.pk)][str(second.seat_ids[0])] == "HELD"
    assert set(by_channel[(first.event.pk, first.section.pk)]) == {str(seat) for seat in first.seat_ids}


def test_the_stream_url_without_the_edge_tells_the_browser_to_poll_instead(quiet_event):
    response = Client().get(f"/events/{quiet_event.event.pk}/live/?sections={quiet_event.section.pk}")
    assert response.status_code == 204
    assert "Set-Cookie" not in response.headers


def test_the_publisher_command_needs_a_url(settings):
    settings.LIVE_PUBLISH_URL = ""
    with pytest.raises(CommandError, match="TR_LIVE_PUBLISH_URL"):
        call_command("publish_seat_changes")


class Receiver(BaseHTTPRequestHandler):
    """nchan's publisher location as the feed sees it: 201 for each POST, the bodies kept."""

    received: list[tuple[str, dict]] = []

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        Receiver.received.append((self.path, json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def receiver():
    Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


# Transactional: a failed tick closes broken connections (close_old_connections), which would end a test's
# surrounding transaction.
@pytest.mark.django_db(databases=ALL_DATABASES, transaction=True)
def test_a_tick_that_could_not_be_published_is_published_again_from_a_version_no_map_holds(
    quiet_event, other_buyer, receiver
):
    clock = Clock()
    feed = SeatChangeFeed(clock=clock)
    clock.advance(0.5)
    refused = NchanPublisher(f"http://127.0.0.1:{_closed_port()}/live")
    services.hold_seats(buyer_id=other_buyer.pk, event_id=quiet_event.event.pk, seat_ids=quiet_event.seat_ids[:1])
    next_feed, sent = publish_tick(feed=feed, publisher=refused)
    assert sent == 0 and next_feed is not feed

    publisher = NchanPublisher(f"http://127.0.0.1:{receiver.server_address[1]}/live")
    clock.advance(0.5)
    next_feed, sent = publish_tick(feed=next_feed, publisher=publisher)
    assert sent == 1
    [(path, message)] = Receiver.received
    assert path == f"/live/{quiet_event.event.pk}/{quiet_event.section.pk}"
    assert message["seats"] == [{"id": str(quiet_event.seat_ids[0]), "status": "HELD"}]
    # Later than anything the lost tick could have given a map: every map of the section asks the poll.
    assert message["since"] == version_of(next_feed.started) > version_of(feed.last_tick) - 1
    publisher.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
