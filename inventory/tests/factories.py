import uuid
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from inventory import DB_ALIAS
from inventory.models import EntryLog, Seat


class SeatFactory(DjangoModelFactory):
    """An AVAILABLE seat. For a SOLD one pass status, owner_id and order_id together (the CHECKs demand it)."""

    class Meta:
        model = Seat
        database = DB_ALIAS

    event_id = factory.LazyFunction(uuid.uuid4)
    section_id = factory.LazyFunction(uuid.uuid4)
    tier_id = factory.LazyFunction(uuid.uuid4)
    row_label = "A"
    number = factory.Sequence(lambda n: n + 1)
    x = factory.LazyAttribute(lambda o: o.number * 20)
    price = Decimal("50.00")
    status = Seat.Status.AVAILABLE


class EntryLogFactory(DjangoModelFactory):
    class Meta:
        model = EntryLog
        database = DB_ALIAS

    event_id = factory.LazyFunction(uuid.uuid4)
    staff_id = factory.LazyFunction(uuid.uuid4)
    gate = "North"
    result = EntryLog.Result.INVALID
