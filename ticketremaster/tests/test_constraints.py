"""The database itself refuses what the spec says must never happen, whatever the code does."""

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import LedgerEntry, User
from accounts.tests.factories import UserFactory
from events.tests.factories import EventFactory, PriceTierFactory, SectionFactory
from inventory.models import EntryLog, Seat
from inventory.tests.factories import SeatFactory
from orders.models import Order, OrderLine, ResaleListing, Transfer
from orders.tests.factories import OrderFactory, OrderLineFactory, ResaleListingFactory, TransferFactory

ALL = ["default", "seats", "orders", "events"]
pytestmark = pytest.mark.django_db(databases=ALL)


def test_a_negative_balance_is_refused():
    user = UserFactory()
    with pytest.raises(IntegrityError), transaction.atomic(using="default"):
        User.objects.filter(pk=user.pk).update(credit_balance=Decimal("-0.01"))


def test_a_ledger_reference_is_used_once_per_kind():
    user = UserFactory(credits="10.00")
    with pytest.raises(IntegrityError), transaction.atomic(using="default"):
        LedgerEntry.objects.create(user=user, kind="TOPUP", amount=5, balance_after=15, reference=f"factory-{user.pk}")
    LedgerEntry.objects.create(user=user, kind="PURCHASE", amount=-5, balance_after=5, reference=f"factory-{user.pk}")


def test_an_unknown_ledger_kind_is_refused():
    user = UserFactory()
    with pytest.raises(IntegrityError), transaction.atomic(using="default"):
        LedgerEntry.objects.create(user=user, kind="GIFT", amount=5, balance_after=5, reference="x")


def test_a_duplicate_seat_is_refused():
    seat = SeatFactory()
    with pytest.raises(IntegrityError), transaction.atomic(using="seats"):
        SeatFactory(event_id=seat.event_id, section_id=seat.section_id, row_label=seat.row_label, number=seat.number)


def test_an_unknown_seat_status_is_refused():
    seat = SeatFactory()
    with pytest.raises(IntegrityError), transaction.atomic(using="seats"):
        Seat.objects.filter(pk=seat.pk).update(status="RESERVED")


def test_a_hold_without_holder_or_expiry_is_refused():
    seat = SeatFactory()
    with pytest.raises(IntegrityError), transaction.atomic(using="seats"):
        Seat.objects.filter(pk=seat.pk).update(status="HELD")


def test_a_sold_seat_without_owner_is_refused():
    seat = SeatFactory()
    with pytest.raises(IntegrityError), transaction.atomic(using="seats"):
        Seat.objects.filter(pk=seat.pk).update(status="SOLD", order_id=uuid.uuid4())


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


def test_an_unknown_order_status_is_refused():
    order = OrderFactory()
    with pytest.raises(IntegrityError), transaction.atomic(using="orders"):
        Order.objects.filter(pk=order.pk).update(status="SHIPPED")


def test_a_seat_cannot_be_in_two_live_orders():
    line = OrderLineFactory()
    with pytest.raises(IntegrityError), transaction.atomic(using="orders"):
        OrderLineFactory(seat_id=line.seat_id)
    OrderLine.objects.filter(pk=line.pk).update(is_active=False)  # the first order failed
    OrderLineFactory(seat_id=line.seat_id)


def test_a_second_active_transfer_for_a_seat_is_refused():
    transfer = TransferFactory()
    with pytest.raises(IntegrityError), transaction.atomic(using="orders"):
        TransferFactory(seat_id=transfer.seat_id)
    Transfer.objects.filter(pk=transfer.pk).update(status="CANCELLED")
    TransferFactory(seat_id=transfer.seat_id)


def test_a_transfer_to_oneself_is_refused():
    user_id = uuid.uuid4()
    with pytest.raises(IntegrityError), transaction.atomic(using="orders"):
        TransferFactory(from_user_id=user_id, to_user_id=user_id)


def test_a_second_active_listing_for_a_seat_is_refused():
    listing = ResaleListingFactory()
    with pytest.raises(IntegrityError), transaction.atomic(using="orders"):
        ResaleListingFactory(seat_id=listing.seat_id)
    ResaleListing.objects.filter(pk=listing.pk).update(status="WITHDRAWN")
    ResaleListingFactory(seat_id=listing.seat_id)


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
