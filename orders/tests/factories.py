import datetime as dt
import uuid
from decimal import Decimal

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from orders import DB_ALIAS
from orders.models import Order, OrderLine, ResaleListing, Transfer


class OrderFactory(DjangoModelFactory):
    class Meta:
        model = Order
        database = DB_ALIAS

    buyer_id = factory.LazyFunction(uuid.uuid4)
    event_id = factory.LazyFunction(uuid.uuid4)
    total = Decimal("50.00")
    idempotency_key = factory.LazyFunction(lambda: uuid.uuid4().hex)


class OrderLineFactory(DjangoModelFactory):
    class Meta:
        model = OrderLine
        database = DB_ALIAS

    order = factory.SubFactory(OrderFactory)
    seat_id = factory.LazyFunction(uuid.uuid4)
    price = Decimal("50.00")


class TransferFactory(DjangoModelFactory):
    class Meta:
        model = Transfer
        database = DB_ALIAS

    seat_id = factory.LazyFunction(uuid.uuid4)
    event_id = factory.LazyFunction(uuid.uuid4)
    from_user_id = factory.LazyFunction(uuid.uuid4)
    to_user_id = factory.LazyFunction(uuid.uuid4)
    expires_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(hours=24))


class ResaleListingFactory(DjangoModelFactory):
    class Meta:
        model = ResaleListing
        database = DB_ALIAS

    seat_id = factory.LazyFunction(uuid.uuid4)
    event_id = factory.LazyFunction(uuid.uuid4)
    seller_id = factory.LazyFunction(uuid.uuid4)
    price = Decimal("40.00")
    face_value = Decimal("50.00")
