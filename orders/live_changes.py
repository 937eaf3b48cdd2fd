"""Live availability pushed to open seat maps: the feed behind the edge's server-sent events.

Every open map of a hot event used to ask "what changed since my version?" each second, so 1,000 maps cost 1,000
requests a second whatever happened. Here one process (``manage.py publish_seat_changes``) reads what changed in
the seats of every event on sale twice a second and publishes one message per changed section to nginx's pub/sub
module (nchan, deploy/templates/nginx.conf), which writes it to every map subscribed to that section over one held
``text/event-stream`` connection: the server's cost follows the changes, not the watchers.

A message is the poll's answer for one section, with the version it continues from::

    {"section": "<id>", "since": <ms>, "version": <ms>, "seats": [{"id": "<id>", "status": "HELD"}, ...]}

A map applies it when ``since`` is not after the version it holds for that section (nothing can be missing between
them: the feed looked at every tick in between and published nothing for the section); otherwise it asks
``/events/<id>/changes/?since=<its version>`` once, as before. So a map that connects late, reconnects, or meets a
restarted feed catches up through the cached poll, and a lost message costs one poll, never a wrong seat.

Rows written by a transaction that commits after a tick read past its ``updated_at`` are found by the next ticks:
each reads ``OVERLAP`` back, and a seat is published again only when its status differs from the last one
published. A hold that runs out writes nothing: the feed keeps the expiry of every hold it has seen and reads those
seats again when it passes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import heapq
import http.client
import json
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from django.db import DatabaseError, close_old_connections
from django.utils import timezone

from events import selectors as events_selectors
from inventory import selectors as inventory_selectors

log = logging.getLogger(__name__)

OVERLAP = dt.timedelta(seconds=5)
EVENTS_REFRESH_SECONDS = 5.0


def version_of(moment: dt.datetime) -> int:
    """A moment as the maps' versions count it: milliseconds since the epoch."""
    return int(moment.timestamp() * 1000)


@dataclasses.dataclass(frozen=True)
class SectionMessage:
    event_id: uuid.UUID
    section_id: uuid.UUID
    since: int
    version: int
    seats: tuple[tuple[uuid.UUID, str], ...]

    def as_json(self) -> str:
        return json.dumps(
            {
                "section": str(self.section_id),
                "since": self.since,
                "version": self.version,
                "seats": [{"id": str(seat), "status": status} for seat, status in self.seats],
            },
            separators=(",", ":"),
        )


class SeatChangeFeed:
    """What changed in the seats of the events on sale since the previous tick, one message per changed section.
    Single-threaded state: one feed per process, ticked by one loop."""

    def __init__(self, *, clock: Callable[[], dt.datetime] = timezone.now) -> None:
        self.clock = clock
        self.started = clock()
        self.last_tick = self.started
        self.events: list[uuid.UUID] = []
        self.events_read_at = float("-inf")
        # Per (event, section): the version of its last message, and the last status published per seat (kept
        # while the seat may still come back in the overlap).
        self.published_version: dict[tuple[uuid.UUID, uuid.UUID], int] = {}
        self.published: dict[uuid.UUID, tuple[str, dt.datetime]] = {}
        self.expiries: list[tuple[dt.datetime, uuid.UUID]] = []
        self.hold_expires: dict[uuid.UUID, dt.datetime] = {}

    def _refresh_events(self) -> None:
        if time.monotonic() - self.events_read_at < EVENTS_REFRESH_SECONDS:
            return
        events = sorted(events_selectors.event_ids_on_sale())
        new = set(events) - set(self.events)
        self.events, self.events_read_at = events, time.monotonic()
        if new:
            # Holds made before the feed saw the event still run out on its maps.
            for row in inventory_selectors.seats_held_in_events(event_ids=sorted(new), now=self.clock()):
                self._track_expiry(row)

    def _track_expiry(self, row: inventory_selectors.SeatChange) -> None:
        seat, status, expires = row[2], row[3], row[4]
        if status == "HELD" and expires is not None and self.hold_expires.get(seat) != expires:
            self.hold_expires[seat] = expires
            heapq.heappush(self.expiries, (expires, seat))

    def _expired(self, now: dt.datetime) -> list[uuid.UUID]:
        due = []
        while self.expiries and self.expiries[0][0] <= now:
            expires, seat = heapq.heappop(self.expiries)
            if self.hold_expires.get(seat) == expires:
                del self.hold_expires[seat]
                due.append(seat)
        return due

    def tick(self) -> list[SectionMessage]:
        now = self.clock()
        self._refresh_events()
        rows = inventory_selectors.seat_changes_of_events(
            event_ids=self.events, since=self.last_tick - OVERLAP, now=now
        )
        expired = self._expired(now)
        if expired:
            rows = rows + inventory_selectors.seat_statuses(seat_ids=expired, now=now)
        self.last_tick = now
        changed: dict[tuple[uuid.UUID, uuid.UUID], dict[uuid.UUID, str]] = defaultdict(dict)
        for row in rows:
            event, section, seat, status, _expires = row
            self._track_expiry(row)
            if self.published.get(seat, ("",))[0] != status:
                changed[(event, section)][seat] = status
        version, keep_after = version_of(now), now - 2 * OVERLAP
        messages = []
        for (event, section), seats in sorted(changed.items()):
            messages.append(
                SectionMessage(
                    event_id=event,
                    section_id=section,
                    since=self.published_version.get((event, section), version_of(self.started)),
                    version=version,
                    seats=tuple(sorted(seats.items())),
                )
            )
            self.published_version[(event, section)] = version
            self.published.update((seat, (status, now)) for seat, status in seats.items())
        self.published = {seat: entry for seat, entry in self.published.items() if entry[1] > keep_after}
        return messages


def publish_tick(*, feed: SeatChangeFeed, publisher: NchanPublisher) -> tuple[SeatChangeFeed, int]:
    """One tick of the feed, published. Returns the feed to tick next and how many messages went out.

    A tick whose messages could not all be published (nginx restarting, a database away) must not be forgotten: the
    feed has already marked them published. So the next feed starts afresh: it publishes again what changed in the
    last OVERLAP seconds, from a version no map holds, and every map of those sections catches up by the poll."""
    try:
        return feed, publisher.publish(feed.tick())
    except (OSError, http.client.HTTPException, DatabaseError) as error:
        log.warning("live changes not published (%s): starting the feed afresh", error)
        publisher.close()
        close_old_connections()
        return SeatChangeFeed(clock=feed.clock), 0


class NchanPublisher:
    """Publishes messages to nginx's nchan publisher location over one keep-alive HTTP connection:
    ``POST <base>/<event id>/<section id>`` with the message as the body."""

    def __init__(self, base_url: str, *, timeout: float = 5.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"The live publisher URL must be http://host:port/path, not {base_url!r}.")
        self.host, self.port, self.path = parts.hostname, parts.port or 80, parts.path.rstrip("/")
        self.timeout = timeout
        self.connection: http.client.HTTPConnection | None = None

    def publish(self, messages: Iterable[SectionMessage]) -> int:
        sent = 0
        for message in messages:
            self._post(f"{self.path}/{message.event_id}/{message.section_id}", message.as_json().encode())
            sent += 1
        return sent

    def _post(self, path: str, body: bytes) -> None:
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.connection.request("POST", path, body=body, headers={"Content-Type": "application/json"})
                response = self.connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                self.close()
                if attempt == 2:
                    raise
                continue
            if response.status not in (201, 202):
                raise http.client.HTTPException(f"nchan answered {response.status} to a publish on {path}")
            return

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None
