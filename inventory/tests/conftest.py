"""Fixtures of the inventory tests: a small event with a 3 x 10 section, plus helpers to sell seats."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from inventory import services
from inventory.tests.factories import SeatFactory

HOLD = {"hold_seconds": 300, "max_per_buyer": 8}


class Venue:
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


@pytest.fixture
def venue(db):
    return Venue()


def sell(*, venue: Venue, buyer_id: uuid.UUID, indexes: tuple[int, ...] = (0,)) -> uuid.UUID:
    """Hold and sell seats of ``venue`` to ``buyer_id``; returns the order id."""
    order_id = uuid.uuid4()
    services.seats_hold(event_id=venue.event_id, buyer_id=buyer_id, seat_ids=venue.ids(*indexes), **HOLD)
    services.seats_sell(buyer_id=buyer_id, order_id=order_id, seat_ids=venue.ids(*indexes))
    return order_id
