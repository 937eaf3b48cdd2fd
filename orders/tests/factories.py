"""Rows of orders_db, and the worlds the orders tests start from: an on-sale event with its seats, a sold ticket.

Seats are made with the inventory factory (the rows a published event has); a sold ticket is what a successful
checkout leaves in every database.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

import factory
from django.utils import timezone

from accounts import services as account_services
from core.testing import factory_base
from events.tests.factories import EventFactory, EventSectionFactory, GeneralSectionFactory, PriceTierFactory
from inventory.tests.factories import SeatFactory
from orders import DB_ALIAS
from orders.models import Order, OrderLine, ResaleListing, Transfer

Seat = SeatFactory._meta.model

OrdersFactory = factory_base(DB_ALIAS)


class OrderFactory(OrdersFactory):
    class Meta:
        model = Order

    buyer_id = factory.LazyFunction(uuid.uuid4)
    event_id = factory.LazyFunction(uuid.uuid4)
    total = Decimal("50.00")
    idempotency_key = factory.LazyFunction(lambda: uuid.uuid4().hex)


class OrderLineFactory(OrdersFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    seat_id = factory.LazyFunction(uuid.uuid4)
    price = Decimal("50.00")


class TicketFlowFactory(OrdersFactory):
    """A flow passing on a ticket of some event (models.TicketFlow)."""

    class Meta:
        abstract = True

    seat_id = factory.LazyFunction(uuid.uuid4)
    event_id = factory.LazyFunction(uuid.uuid4)


class TransferFactory(TicketFlowFactory):
    class Meta:
        model = Transfer

    from_user_id = factory.LazyFunction(uuid.uuid4)
    to_user_id = factory.LazyFunction(uuid.uuid4)
    expires_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(hours=24))


class ResaleListingFactory(TicketFlowFactory):
    class Meta:
        model = ResaleListing

    seller_id = factory.LazyFunction(uuid.uuid4)
    price = Decimal("40.00")
    face_value = Decimal("50.00")


# --- Worlds ------------------------------------------------------------------------------------------------------


@dataclass
class EventSetup:
    event: object
    section: object
    tier: object
    seats: list = field(default_factory=list)

    @property
    def seat_ids(self) -> list:
        return [seat.pk for seat in self.seats]


def make_event(
    *,
    rows: int = 2,
    seats_per_row: int = 5,
    price: str = "50.00",
    general: bool = False,
    accessible_first: bool = True,
    **event_fields,
) -> EventSetup:
    """A published, on-sale event with one section (seated grid or general admission) and its inventory."""
    event = EventFactory(**event_fields)
    tier = PriceTierFactory(event=event, price=Decimal(price))
    if general:
        section = GeneralSectionFactory(venue=event.venue, capacity=rows * seats_per_row)
        EventSectionFactory(event=event, section=section, tier=tier)
    else:
        link = EventSectionFactory(event=event, tier=tier, section__rows=rows, section__seats_per_row=seats_per_row)
        section = link.section
    seats = []
    for r in range(rows):
        for n in range(seats_per_row):
            seats.append(
                SeatFactory(
                    event_id=event.pk,
                    section_id=section.pk,
                    tier_id=tier.pk,
                    row_label="GA" if general else chr(ord("A") + r),
                    number=(r * seats_per_row + n + 1) if general else n + 1,
                    x=n * 20,
                    y=r * 20,
                    is_accessible=accessible_first and r == 0 and n == 0,
                    is_general_admission=general,
                    price=Decimal(price),
                )
            )
    return EventSetup(event=event, section=section, tier=tier, seats=seats)


def sold_ticket(owner, *, setup: EventSetup | None = None, price: str = "50.00", seat_index: int = 0):
    """A ticket as a successful checkout leaves it: a confirmed order, its active line, the PURCHASE debit, and
    the seat SOLD to ``owner``. Returns the seat (inventory model instance, tests only) with its ``setup``."""
    setup = setup or make_event(rows=1, seats_per_row=4, price=price)
    seat = setup.seats[seat_index]
    order = OrderFactory(
        buyer_id=owner.pk,
        event_id=setup.event.pk,
        organization_id=setup.event.organization_id,
        total=Decimal(price),
        status="CONFIRMED",
        step="DONE",
        confirmed_at=timezone.now(),
    )
    OrderLineFactory(order=order, seat_id=seat.pk, price=Decimal(price))
    account_services.credits_debit(user_id=owner.pk, amount=Decimal(price), kind="PURCHASE", reference=str(order.pk))
    Seat.objects.using("seats").filter(pk=seat.pk).update(status="SOLD", owner_id=owner.pk, order_id=order.pk)
    seat.refresh_from_db(using="seats")
    seat.setup = setup
    return seat
