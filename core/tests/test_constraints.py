"""The database itself refuses what the spec says must never happen, whatever the code does."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import LedgerEntry
from accounts.tests.factories import UserFactory
from events.tests.factories import EventFactory, PriceTierFactory, SectionFactory
from inventory.models import EntryLog
from inventory.tests.factories import SeatFactory
from orders.tests.factories import OrderFactory, OrderLineFactory, ResaleListingFactory, TransferFactory

ALL = ["default", "seats", "orders", "events"]
pytestmark = pytest.mark.django_db(databases=ALL)

REFUSED_UPDATES = {
    "a negative balance": (UserFactory, "default", {"credit_balance": Decimal("-0.01")}),
    "an unknown seat status": (SeatFactory, "seats", {"status": "RESERVED"}),
    "a hold without holder or expiry": (SeatFactory, "seats", {"status": "HELD"}),
    "a sold seat without owner": (SeatFactory, "seats", {"status": "SOLD", "order_id": uuid.uuid4()}),
    "an unknown order status": (OrderFactory, "orders", {"status": "SHIPPED"}),
}

# One live row per seat; the row that ends (a failed order, a cancelled transfer, a withdrawn listing) frees the seat.
ONE_LIVE_PER_SEAT = {
    "order line": (OrderLineFactory, "orders", {"is_active": False}),
    "transfer": (TransferFactory, "orders", {"status": "CANCELLED"}),
    "resale listing": (ResaleListingFactory, "orders", {"status": "WITHDRAWN"}),
}


@pytest.mark.parametrize("factory, database, change", REFUSED_UPDATES.values(), ids=REFUSED_UPDATES.keys())
def test_the_database_refuses(factory, database, change):
    row = factory()
    with pytest.raises(IntegrityError), transaction.atomic(using=database):
        type(row).objects.filter(pk=row.pk).update(**change)


@pytest.mark.parametrize("factory, database, ending", ONE_LIVE_PER_SEAT.values(), ids=ONE_LIVE_PER_SEAT.keys())
def test_a_seat_has_one_live_row_of_each_kind(factory, database, ending):
    live = factory()
    with pytest.raises(IntegrityError), transaction.atomic(using=database):
        factory(seat_id=live.seat_id)
    type(live).objects.filter(pk=live.pk).update(**ending)
    factory(seat_id=live.seat_id)


def test_a_ledger_reference_is_used_once_per_kind():
    user = UserFactory(credits="10.00")
    with pytest.raises(IntegrityError), transaction.atomic(using="default"):
        LedgerEntry.objects.create(
            user=user, kind="ADJUSTMENT", amount=5, balance_after=15, reference=f"factory-{user.pk}"
        )
    LedgerEntry.objects.create(user=user, kind="PURCHASE", amount=-5, balance_after=5, reference=f"factory-{user.pk}")


def test_an_unknown_ledger_kind_is_refused():
    user = UserFactory()
    with pytest.raises(IntegrityError), transaction.atomic(using="default"):
        LedgerEntry.objects.create(user=user, kind="GIFT", amount=5, balance_after=5, reference="x")


def test_a_duplicate_seat_is_refused():
    seat = SeatFactory()
    with pytest.raises(IntegrityError), transaction.atomic(using="seats"):
        SeatFactory(event_id=seat.event_id, section_id=seat.section_id, row_label=seat.row_label, number=seat.number)


def test_a_negative_price_is_refused_everywhere():
    with pytest.raises(IntegrityError), transaction.atomic(using="seats"):
        SeatFactory(price=Decimal("-1"))
    with pytest.raises(IntegrityError), transaction.atomic(using="events"):
        PriceTierFactory(price=Decimal("-1"))
    with pytest.raises(IntegrityError), transaction.atomic(using="orders"):
        OrderFactory(total=Decimal("-1"))


def test_a_second_success_scan_of_one_seat_is_refused():
    seat = SeatFactory()
    EntryLog.objects.create(event_id=seat.event_id, staff_id=uuid.uuid4(), gate="A", result="SUCCESS", seat_id=seat.pk)
    EntryLog.objects.create(
        event_id=seat.event_id, staff_id=uuid.uuid4(), gate="B", result="DUPLICATE", seat_id=seat.pk
    )
    with pytest.raises(IntegrityError), transaction.atomic(using="seats"):
        EntryLog.objects.create(
            event_id=seat.event_id, staff_id=uuid.uuid4(), gate="B", result="SUCCESS", seat_id=seat.pk
        )


def test_an_idempotency_key_is_used_once_per_buyer():
    order = OrderFactory(idempotency_key="key-1")
    OrderFactory(idempotency_key="key-1")  # another buyer may use the same key
    with pytest.raises(IntegrityError), transaction.atomic(using="orders"):
        OrderFactory(buyer_id=order.buyer_id, idempotency_key="key-1")


def test_a_transfer_to_oneself_is_refused():
    user_id = uuid.uuid4()
    with pytest.raises(IntegrityError), transaction.atomic(using="orders"):
        TransferFactory(from_user_id=user_id, to_user_id=user_id)


def test_section_names_are_unique_per_venue_among_live_sections():
    section = SectionFactory(name="Stalls")
    with pytest.raises(IntegrityError), transaction.atomic(using="events"):
        SectionFactory(venue=section.venue, name="Stalls")
    section.soft_delete()
    SectionFactory(venue=section.venue, name="Stalls")


def test_soft_deleted_rows_are_hidden_by_the_default_manager_only():
    section = SectionFactory()
    section.soft_delete()
    assert not type(section).objects.filter(pk=section.pk).exists()
    assert type(section).all_objects.filter(pk=section.pk).exists()


def test_doors_after_start_is_refused():
    start = timezone.now() + dt.timedelta(days=3)
    with pytest.raises(IntegrityError), transaction.atomic(using="events"):
        EventFactory(starts_at=start, doors_at=start + dt.timedelta(hours=1))
