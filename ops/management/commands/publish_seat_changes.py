"""Publish what changes in the seats of events on sale to the open seat maps (orders.live_changes).

    python manage.py publish_seat_changes [--url http://127.0.0.1:PORT/live] [--interval 0.5]

Twice a second: one indexed read of the seats written since the previous tick, then one POST per changed section to
nginx's nchan publisher location, which pushes it to every map subscribed to that section. Run one per edge (deploy
starts it as ``live``). Stopping it, or a failed publish (logged), loses nothing: open maps notice the gap in the
versions and ask the cached poll.
SIGTERM or SIGINT stop it after the tick in progress.
"""

from __future__ import annotations

import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from orders.live_changes import NchanPublisher, SeatChangeFeed, publish_tick


class Command(BaseCommand):
    help = "Publish seat changes of events on sale to open seat maps (nginx nchan)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default=settings.LIVE_PUBLISH_URL, help="nchan publisher base URL.")
        parser.add_argument("--interval", type=float, default=0.5, help="Seconds between ticks (default 0.5).")

    def handle(self, *args, url: str, interval: float, **options) -> None:
        if not url:
            raise CommandError("No publisher URL: set TR_LIVE_PUBLISH_URL or pass --url.")
        stopping = []
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stopping.append(True))
        feed, publisher = SeatChangeFeed(), NchanPublisher(url)
        self.stdout.write(f"publishing seat changes to {url} every {interval} s")
        self.stdout.flush()
        published = 0
        try:
            while not stopping:
                started = time.monotonic()
                feed, sent = publish_tick(feed=feed, publisher=publisher)
                published += sent
                time.sleep(max(0.0, interval - (time.monotonic() - started)))
        finally:
            publisher.close()
            self.stdout.write(f"stopped after {published} message(s)")
