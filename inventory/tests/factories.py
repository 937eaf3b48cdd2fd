"""Factories and scene builders of the inventory tests (other apps' tests use them to set the scene too).

Personas are fixed ids (seats_db knows people only by id): BUYER, OTHER (another buyer), STAFF (gate staff).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import factory
from django.utils import timezone

from core.testing import factory_base
from inventory import DB_ALIAS, services
from inventory.contract import SectionInventorySpec
from inventory.models import EntryLog, Seat

BUYER = uuid.UUID("00000000-0000-4000-8000-00000000000b")
OTHER = uuid.UUID("00000000-0000-4000-8000-00000000000c")
STAFF = uuid.UUID("00000000-0000-4000-8000-0000000000aa")
ORGANIZATION_ID = uuid.UUID("00000000-0000-4000-8000-00000000000a")

HOLD = {"hold_seconds": 300, "max_per_buyer": 8}

SeatsFactory = factory_base(DB_ALIAS)


class SeatFactory(SeatsFactory):
    """An AVAILABLE seat. For a SOLD one pass status, owner_id and order_id together (the CHECKs demand it)."""

    class Meta:
        model = Seat

    event_id = factory.LazyFunction(uuid.uuid4)
    section_id = factory.LazyFunction(uuid.uuid4)
    tier_id = factory.LazyFunction(uuid.uuid4)
    row_label = "A"
    number = factory.Sequence(lambda n: n + 1)
    x = factory.LazyAttribute(lambda o: o.number * 20)
    price = Decimal("50.00")
    status = Seat.Status.AVAILABLE


class EntryLogFactory(SeatsFactory):
    class Meta:
        model = EntryLog

    event_id = factory.LazyFunction(uuid.uuid4)
    staff_id = factory.LazyFunction(uuid.uuid4)
    gate = "North"
    result = EntryLog.Result.INVALID


class Venue:
    """One event with one section of ``rows`` x ``per_row`` seats at 40.00 (rows A, B, ... front to back)."""

    def __init__(self, rows: int = 3, per_row: int = 10):
        self.event_id = uuid.uuid4()
        self.section_id = uuid.uuid4()
        self.tier_id = uuid.uuid4()
        self.seats = [
            SeatFactory(
                event_id=self.event_id,
                section_id=self.section_id,
                tier_id=self.tier_id,
                row_label=chr(ord("A") + r),
                number=n + 1,
                x=n * 20,
                y=r * 20,
                price=Decimal("40.00"),
            )
            for r in range(rows)
            for n in range(per_row)
        ]

    def ids(self, *indexes: int) -> list[uuid.UUID]:
        return [self.seats[i].id for i in indexes]


def sell(*, venue: Venue, buyer_id: uuid.UUID, indexes: tuple[int, ...] = (0,)) -> uuid.UUID:
    """Hold and sell seats of ``venue`` to ``buyer_id``; returns the order id."""
    order_id = uuid.uuid4()
    services.seats_hold(event_id=venue.event_id, buyer_id=buyer_id, seat_ids=venue.ids(*indexes), **HOLD)
    services.seats_sell(buyer_id=buyer_id, order_id=order_id, seat_ids=venue.ids(*indexes))
    return order_id


def seat_row(seat_id: uuid.UUID) -> Seat:
    """The seat as stored, read past every selector."""
    return Seat.objects.using(DB_ALIAS).get(pk=seat_id)


def expire_holds(*seat_ids: uuid.UUID) -> None:
    """Let the holds on these seats run out a second ago (the rows keep their stale HELD, as in production)."""
    Seat.objects.using(DB_ALIAS).filter(id__in=seat_ids).update(
        hold_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )


def check_in(seat_id: uuid.UUID) -> None:
    Seat.objects.using(DB_ALIAS).filter(pk=seat_id).update(status="CHECKED_IN", checked_in_at=timezone.now())


def section_rows(rows: int, per_row: int) -> list[dict]:
    """A SEATED section's layout: rows R1, R2, ... of seats numbered from 1, the first of each row accessible."""
    return [
        {
            "label": f"R{r + 1}",
            "seats": [{"number": n + 1, "x": n * 10, "y": r * 10, "accessible": n == 0} for n in range(per_row)],
        }
        for r in range(rows)
    ]


def seated_section(rows: int, per_row: int, price: str = "25.00") -> SectionInventorySpec:
    return SectionInventorySpec(
        section_id=uuid.uuid4(),
        tier_id=uuid.uuid4(),
        price=Decimal(price),
        kind="SEATED",
        rows=section_rows(rows, per_row),
    )
