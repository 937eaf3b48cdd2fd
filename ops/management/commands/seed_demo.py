"""Build (or top up) the demo: organizations, a theatre and a 56,000-place stadium, events, people, a few sales.

Idempotent: every piece is found by a natural key before it is created, inventory creation skips existing seats,
and the demo purchases use fixed idempotency keys, so a second run changes nothing.
"""

from __future__ import annotations

import datetime as dt
import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from accounts import demo as accounts_demo
from core.errors import DomainError
from events import demo as events_demo
from events import selectors as events_selectors
from inventory import services as inventory_services
from orders import services as orders_services
from orders.services import waiting_room as rooms

# The waiting-room demo (docs/WAITING_ROOM.md, "Trying it on the demo"): the room opens at seeding, the on-sale
# starts a few minutes later, and the demo's job worker admits at this pace.
WAITING_ROOM_STARTS_IN = dt.timedelta(minutes=4)
WAITING_ROOM_RATE_PER_MINUTE = 6


class Command(BaseCommand):
    help = "Create the demo data set (idempotent) and print the demo logins."

    def handle(self, *args, **options) -> None:
        started = time.monotonic()
        self.stdout.write("Venues, sections and events ...")
        demo = events_demo.seed()
        logins = accounts_demo.seed(
            organization_id=demo.organization_id, other_organization_id=demo.other_organization_id
        )
        admin_id = logins[0].user_id
        for event_id in demo.publishable_event_ids:
            self._publish(event_id, admin_id)
        self._demo_sales(logins, demo)
        self._waiting_room(admin_id)
        self.stdout.write(self.style.SUCCESS(f"Demo ready in {time.monotonic() - started:.1f} s."))
        self.stdout.write(f"\nDemo logins (password for all: {accounts_demo.DEMO_PASSWORD})")
        for login in logins:
            self.stdout.write(f"  {login.email:<24} {login.role}")

    def _publish(self, event_id, actor_id) -> None:
        event = events_selectors.event_get(event_id=event_id)
        if event.status != "DRAFT":  # published already, or cancelled by someone trying the demo
            self.stdout.write(f"  already {event.status.lower()}: {event.title}")
            return
        last_print = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.monotonic()
            if now - last_print[0] > 0.5 or done == total:
                last_print[0] = now
                self.stdout.write(f"\r  inventory {done:>6}/{total}", ending="")
                self.stdout.flush()

        result = orders_services.event_publish(event_id=event_id, actor_id=actor_id, progress=progress)
        self.stdout.write(f"\r  published: {event.title}, {result.total} places" + " " * 20)

    def _waiting_room(self, admin_id) -> None:
        """An event whose on-sale, a few minutes from now, admits buyers from a waiting room open from now on.
        Left as it is when it exists (its room may have drawn and admitted by now)."""
        now = timezone.now().replace(microsecond=0)
        starts = now + WAITING_ROOM_STARTS_IN
        event_id = events_demo.seed_waiting_room_event(sales_start=starts)
        self._publish(event_id, admin_id)
        room = rooms.waiting_room_get(event_id=event_id)
        if room is None:
            room = rooms.waiting_room_configure(
                event_id=event_id,
                active=True,
                opens_at=now,
                starts_at=starts,
                rate_per_minute=WAITING_ROOM_RATE_PER_MINUTE,
                pass_minutes=10,
                per_address_cap=4,
                actor_id=admin_id,
            )
        self.stdout.write(
            f"  waiting room: /events/{event_id}/waiting-room/ (on-sale at {timezone.localtime(room.starts_at):%H:%M}"
            f", {room.rate_per_minute} admitted per minute)"
        )

    def _demo_sales(self, logins, demo) -> None:
        """Alice owns two seats of The Tempest and Bob one place at the derby, so tickets and QR codes exist."""
        by_email = {login.email: login.user_id for login in logins}
        plan = [
            ("alice@demo.test", demo.theatre_event_id, 2, "demo-alice-tempest"),
            ("bob@demo.test", demo.stadium_event_id, 1, "demo-bob-derby"),
        ]
        for email, event_id, quantity, key in plan:
            buyer_id = by_email[email]
            if any(ticket.event_id == event_id for ticket in inventory_services.tickets_for_owner(owner_id=buyer_id)):
                continue
            section = next(s for s in events_selectors.event_sections(event_id=event_id) if s.kind == "SEATED")
            try:
                orders_services.hold_seats(
                    buyer_id=buyer_id, event_id=event_id, section_id=section.section_id, quantity=quantity
                )
                orders_services.order_checkout(buyer_id=buyer_id, event_id=event_id, idempotency_key=key)
            except DomainError as exc:
                self.stdout.write(self.style.WARNING(f"  demo sale for {email} skipped: {exc.code} {exc.detail}"))
