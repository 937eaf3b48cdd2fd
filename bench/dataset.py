"""The benchmark's own data set, built through the apps' services wherever a service exists.

* a stadium event (26 sections x 2,000 seats = 52,000 places) whose section "Hot 1" is the on-sale's hot zone;
* an 80,000-seat event (80 sections x 1,000 seats) used for publishing, seat-map/availability, the dashboard (with
  50,000 places sold through the real purchase flow) and the gate (5,000 of those tickets scanned);
* buyers with credits, gate staff (GATE role) and a manager for the dashboard, each with an API token.

Organizations, venues, sections (with their seat layouts), events and price tiers are set-up data that the staff
admin creates in the product; no service writes them, so they are written here with the events models, exactly as
``events.demo`` does for the demo. Everything that moves seats or money goes through services: publishing
(``orders.services.event_publish`` -> ``inventory.services.inventory_create_for_event``), credits
(``accounts.services.credits_credit``), and the 50,000 sales (``orders.services.hold_seats`` + ``order_checkout``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connections, transaction
from django.utils import timezone

from bench.world import Person, bench_person


@dataclass(frozen=True)
class Size:
    name: str
    stadium_sections: int  # sections of stadium_rows x stadium_seats_per_row; the first one is the hot zone
    stadium_rows: int
    stadium_seats_per_row: int
    big_sections: int  # the big event: sections of big_rows x big_seats_per_row
    big_rows: int
    big_seats_per_row: int
    big_sold: int  # places of the big event sold before the dashboard/gate scenarios
    gate_tickets: int
    onsale_clients: int
    gate_clients: int
    buyers_for_bulk_sale: int
    read_requests: int  # seat-map / availability / dashboard requests per measurement

    @property
    def hot_zone(self) -> int:
        return self.stadium_rows * self.stadium_seats_per_row

    @property
    def stadium_capacity(self) -> int:
        return self.stadium_sections * self.hot_zone

    @property
    def big_section_capacity(self) -> int:
        return self.big_rows * self.big_seats_per_row

    @property
    def big_capacity(self) -> int:
        return self.big_sections * self.big_section_capacity


FULL = Size(
    name="full",
    stadium_sections=26,
    stadium_rows=40,
    stadium_seats_per_row=50,
    big_sections=80,
    big_rows=25,
    big_seats_per_row=40,
    big_sold=50_000,
    gate_tickets=5_000,
    onsale_clients=64,
    gate_clients=32,
    buyers_for_bulk_sale=4,
    read_requests=400,
)
SIZES = {
    "full": FULL,
    # The on-sale and the gate as at full size (a 2,000-seat hot zone, 64 buyers, 32 devices) on a smaller world
    # (an 8,000-place arena, 2,000 sold, 1,000 tickets scanned twice): builds in seconds, for A/B runs of the hot
    # path's CPU per operation. Seat map, availability and dashboard figures need the full size.
    "small": dataclasses.replace(
        FULL, name="small", stadium_sections=2, big_sections=8, big_sold=2_000, gate_tickets=1_000, read_requests=100
    ),
    # CI: proves every scenario still runs end to end, in well under a minute. No figure of it means anything.
    "tiny": Size(
        name="tiny",
        stadium_sections=2,
        stadium_rows=4,
        stadium_seats_per_row=25,
        big_sections=4,
        big_rows=5,
        big_seats_per_row=20,
        big_sold=200,
        gate_tickets=60,
        onsale_clients=8,
        gate_clients=4,
        buyers_for_bulk_sale=2,
        read_requests=20,
    ),
}

BULK_ORDER_SIZE = 50  # the highest max_tickets_per_order the configuration allows
HOT_PRICE = Decimal("25.00")
BIG_PRICE = Decimal("10.00")
BUYER_CREDITS = Decimal("1000000.00")  # the 4 bulk buyers pay for 12,500 places each


@dataclass
class DataSet:
    size: Size
    run_id: str
    organization_id: uuid.UUID
    admin: Person
    manager: Person
    manager_session: str
    gate_staff: list[Person]
    buyers: list[Person]
    stadium_event_id: uuid.UUID | None = None
    hot_section_id: uuid.UUID | None = None
    big_event_id: uuid.UUID | None = None
    big_section_ids: list[uuid.UUID] = field(default_factory=list)
    # (seat id, owner id) of tickets sold in the big event, for the gate scenario.
    big_tickets: list[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def _grid(rows: int, seats_per_row: int) -> dict:
    from events.demo import grid

    return grid(rows, seats_per_row, aisle_after=(seats_per_row // 2,), accessible_rows=(0,))


# --- People ------------------------------------------------------------------------------------------------------
def _person(email: str, *, credits: Decimal = Decimal("0"), **extra) -> Person:
    return bench_person(email, full_name=email.split("@")[0], credits=credits, **extra)


def _session_for(user_id: uuid.UUID) -> str:
    """A logged-in session cookie value, for the admin dashboard (the admin uses sessions, not tokens).

    The session has passed the second factor as a staff member's browser would have: a confirmed TOTP device whose
    id is in the session (accounts/services/two_factor.py checks both on every request). A manager's role needs it,
    and without it every admin page answers a redirect to the two-factor page instead of itself.
    """
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import User

    user = User.objects.get(pk=user_id)
    device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.create()
    return session.session_key


def build_people(size: Size, run_id: str, log: Callable[[str], None]) -> DataSet:
    from events import DB_ALIAS as EVENTS
    from events.models import Organization

    with transaction.atomic(using=EVENTS):
        organization = Organization.objects.create(name=f"Bench {run_id}", slug=f"bench-{run_id}")
    admin = _person(f"admin-{run_id}@bench.test", is_staff=True, is_superuser=True)
    staff = {"organization_id": organization.pk, "is_staff": True}
    manager = _person(f"manager-{run_id}@bench.test", role="MANAGER", **staff)
    gate_staff = [
        _person(f"gate{index}-{run_id}@bench.test", role="GATE", **staff) for index in range(min(size.gate_clients, 8))
    ]
    buyer_count = max(size.onsale_clients, size.buyers_for_bulk_sale)
    buyers = [_person(f"buyer{index}-{run_id}@bench.test", credits=BUYER_CREDITS) for index in range(buyer_count)]
    log(f"  people: {len(buyers)} buyers, {len(gate_staff)} gate staff, a manager and an admin")
    return DataSet(
        size=size,
        run_id=run_id,
        organization_id=organization.pk,
        admin=admin,
        manager=manager,
        manager_session=_session_for(manager.id),
        gate_staff=gate_staff,
        buyers=buyers,
    )


# --- Venues and events -------------------------------------------------------------------------------------------
def _event_with_sections(
    data: DataSet, *, title: str, sections: int, rows: int, seats_per_row: int, price: Decimal
) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """A venue with ``sections`` seated sections and a DRAFT event selling all of them at one tier."""
    from events import DB_ALIAS as EVENTS
    from events.models import Event, EventSection, PriceTier, Section, Venue

    now = timezone.now()
    layout = _grid(rows, seats_per_row)
    with transaction.atomic(using=EVENTS):
        venue = Venue.objects.create(organization_id=data.organization_id, name=f"{title} venue {data.run_id}")
        section_rows = Section.objects.bulk_create(
            [
                Section(
                    venue=venue,
                    name=f"{'Hot' if index == 0 else 'Block'} {index + 1}",
                    kind=Section.Kind.SEATED,
                    layout=layout,
                    capacity=rows * seats_per_row,
                    sort_order=index,
                    map_x=(index % 10) * 1000,
                    map_y=(index // 10) * 700,
                )
                for index in range(sections)
            ]
        )
        event = Event.objects.create(
            organization_id=data.organization_id,
            venue=venue,
            title=f"{title} {data.run_id}",
            slug=f"{title.lower().replace(' ', '-')}-{data.run_id}",
            starts_at=now + dt.timedelta(days=30),
            doors_at=now + dt.timedelta(days=30) - dt.timedelta(hours=1),
            sales_start=now - dt.timedelta(days=1),
            sales_end=now + dt.timedelta(days=29),
            status=Event.Status.DRAFT,
        )
        tier = PriceTier.objects.create(event=event, name="Standard", price=price)
        EventSection.objects.bulk_create(
            [EventSection(event=event, section=section, tier=tier) for section in section_rows]
        )
    return event.pk, [section.pk for section in section_rows]


def publish(data: DataSet, event_id: uuid.UUID) -> float:
    """Publish through the staff service (creates the inventory in bulk); returns the seconds it took."""
    from orders import services as orders_services

    started = time.perf_counter()
    orders_services.event_publish(event_id=event_id, actor_id=data.admin.id)
    return time.perf_counter() - started


def build_stadium(data: DataSet, log: Callable[[str], None], *, title: str = "Stadium") -> None:
    size = data.size
    data.stadium_event_id, sections = _event_with_sections(
        data,
        title=title,
        sections=size.stadium_sections,
        rows=size.stadium_rows,
        seats_per_row=size.stadium_seats_per_row,
        price=HOT_PRICE,
    )
    data.hot_section_id = sections[0]
    seconds = publish(data, data.stadium_event_id)
    data.timings["publish_stadium_s"] = seconds
    log(f"  stadium event: {size.stadium_capacity:,} places published in {seconds:.2f} s")


def build_big_event(data: DataSet, log: Callable[[str], None]) -> float:
    """Create the 80,000-seat event and publish it; the publish time is the publish scenario's figure."""
    size = data.size
    data.big_event_id, data.big_section_ids = _event_with_sections(
        data,
        title="Arena",
        sections=size.big_sections,
        rows=size.big_rows,
        seats_per_row=size.big_seats_per_row,
        price=BIG_PRICE,
    )
    seconds = publish(data, data.big_event_id)
    data.timings["publish_big_s"] = seconds
    log(f"  big event: {size.big_capacity:,} places published in {seconds:.2f} s")
    return seconds


def sell_big_event(data: DataSet, log: Callable[[str], None]) -> None:
    """Sell ``size.big_sold`` places of the big event through the real purchase flow (hold + checkout).

    Orders of 50 places (the configuration's ceiling for one order) from a few buyers on parallel threads: 1,000
    checkouts for 50,000 places. The configured limit is restored afterwards.
    """
    from core import config
    from inventory import selectors as inventory_selectors
    from orders import services as orders_services

    previous = config.get("max_tickets_per_order")
    config.set_value("max_tickets_per_order", BULK_ORDER_SIZE)
    size = data.size
    started = time.perf_counter()
    try:
        seat_ids: list[uuid.UUID] = []
        for section_id in data.big_section_ids:
            if len(seat_ids) >= size.big_sold:
                break
            seats = inventory_selectors.seat_map(event_id=data.big_event_id, section_id=section_id)
            seat_ids.extend(uuid.UUID(str(seat["id"])) for seat in seats)
        seat_ids = seat_ids[: size.big_sold]
        chunks = [seat_ids[i : i + BULK_ORDER_SIZE] for i in range(0, len(seat_ids), BULK_ORDER_SIZE)]
        buyers = data.buyers[: size.buyers_for_bulk_sale]
        sold: list[tuple[uuid.UUID, uuid.UUID]] = []
        lock = threading.Lock()

        def sell(worker: int) -> None:
            buyer = buyers[worker]
            try:
                for chunk in chunks[worker :: len(buyers)]:
                    orders_services.hold_seats(buyer_id=buyer.id, event_id=data.big_event_id, seat_ids=chunk)
                    order = orders_services.order_checkout(
                        buyer_id=buyer.id, event_id=data.big_event_id, idempotency_key=str(uuid.uuid4())
                    )
                    with lock:
                        sold.extend((line.seat_id, buyer.id) for line in order.lines)
            finally:
                connections.close_all()

        with ThreadPoolExecutor(max_workers=len(buyers)) as pool:
            for future in [pool.submit(sell, worker) for worker in range(len(buyers))]:
                future.result()
    finally:
        config.set_value("max_tickets_per_order", previous)
    data.big_tickets = sold
    data.timings["bulk_sale_s"] = time.perf_counter() - started
    log(f"  big event: {len(sold):,} places sold in {len(chunks)} orders in {data.timings['bulk_sale_s']:.1f} s")


def settle(data: DataSet, log: Callable[[str], None]) -> None:
    """VACUUM (ANALYZE) the four databases once the data set is built.

    A real on-sale starts days after publishing, when autovacuum has long since gathered statistics on the new
    rows and set the visibility map. Straight after a bulk load the planner still believes the seat table is
    nearly empty (it estimates 3 rows where there are 80,000) and picks sort-based plans that are several times
    slower. Settling the tables first measures the steady state instead of that transient.
    """
    started = time.perf_counter()
    for alias in connections:
        with connections[alias].cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
    data.timings["vacuum_analyze_s"] = time.perf_counter() - started
    log(f"  VACUUM (ANALYZE) of the four databases in {data.timings['vacuum_analyze_s']:.1f} s")
