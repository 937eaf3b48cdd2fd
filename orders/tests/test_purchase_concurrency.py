"""Races on real connections (threads), and a checkout process really killed between the debit and the sale."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from core.databases import ALL_DATABASES
from core.errors import DomainError
from core.testing import database_urls
from orders import services
from orders.models import Order
from orders.tests.factories import Seat, make_event
from orders.tests.helpers import assert_purchase_invariants, balance, hold, ledger, race

PROJECT_DIR = Path(__file__).resolve().parents[2]


@pytest.mark.concurrency
@pytest.mark.django_db(databases=ALL_DATABASES, transaction=True)
def test_twenty_buyers_racing_for_one_seat_exactly_one_holds_it():
    setup = make_event(rows=1, seats_per_row=2)
    buyers = [UserFactory(credits="100.00") for _ in range(20)]
    seat = setup.seat_ids[0]

    results = race(
        *[
            lambda buyer=buyer: services.hold_seats(buyer_id=buyer.pk, event_id=setup.event.pk, seat_ids=[seat])
            for buyer in buyers
        ]
    )

    winners = [r for r in results if isinstance(r, list)]
    losers = [r for r in results if isinstance(r, DomainError)]
    assert len(winners) == 1, results
    assert len(losers) == 19 and {e.code for e in losers} == {"SEAT_UNAVAILABLE"}
    assert {e.status for e in losers} == {409}
    assert Seat.objects.get(pk=seat).held_by_id == winners[0][0].held_by_id


@pytest.mark.concurrency
@pytest.mark.django_db(databases=ALL_DATABASES, transaction=True)
def test_two_checkouts_with_the_same_key_make_one_order_and_one_debit():
    # Repeated: the two requests interleave differently each time (one may find the order only after the other
    # already sold the holds and spent the credits: that is a retry too, never NO_ACTIVE_HOLDS or 402).
    for attempt in range(15):
        buyer = UserFactory(credits="500.00")
        setup = make_event()
        hold(buyer, setup)
        key = f"double-click-{attempt}"

        def pay(buyer=buyer, setup=setup, key=key):
            return services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key=key)

        results = race(pay, pay)

        orders = [r for r in results if not isinstance(r, Exception)]
        errors = [r for r in results if isinstance(r, Exception)]
        assert orders, results
        assert all(isinstance(e, DomainError) and e.code == "IDEMPOTENCY_IN_PROGRESS" for e in errors), errors
        assert len({order.id for order in orders}) == 1
        assert Order.objects.filter(buyer_id=buyer.pk).count() == 1
        order = Order.objects.get(buyer_id=buyer.pk)
        assert order.status == "CONFIRMED"
        assert ledger("PURCHASE", order.pk) == [Decimal("-100.00")]
        assert balance(buyer) == Decimal("400.00")
    assert_purchase_invariants()


@pytest.mark.concurrency
@pytest.mark.django_db(databases=ALL_DATABASES, transaction=True)
def test_checkout_racing_a_hold_expiry_sells_with_a_debit_or_not_at_all():
    outcomes = set()
    for attempt in range(12):
        buyer = UserFactory(credits="500.00")
        setup = make_event(rows=1, seats_per_row=2)
        services.hold_seats(buyer_id=buyer.pk, event_id=setup.event.pk, seat_ids=setup.seat_ids)
        # The holds run out a few milliseconds from now, somewhere inside the checkout.
        expires = timezone.now() + dt.timedelta(milliseconds=3 * attempt)
        Seat.objects.filter(pk__in=setup.seat_ids).update(hold_expires_at=expires)

        try:
            order = services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="race")
        except DomainError as error:
            assert error.code in ("HOLD_EXPIRED", "NO_ACTIVE_HOLDS"), error.code
            order = None
        sold = Seat.objects.filter(pk__in=setup.seat_ids, status="SOLD").count()
        if order is not None and order.status == "CONFIRMED":
            outcomes.add("sold")
            assert sold == 2 and balance(buyer) == Decimal("400.00")
        else:
            outcomes.add("not sold")
            assert sold == 0 and balance(buyer) == Decimal("500.00")
    assert_purchase_invariants()
    assert "not sold" in outcomes  # the late attempts must have lost the race


CHILD = """
import django
django.setup()
import uuid
from orders.services import order_checkout
order_checkout(buyer_id=uuid.UUID("{buyer}"), event_id=uuid.UUID("{event}"), idempotency_key="killed")
print("not killed")
"""


@pytest.mark.integration
@pytest.mark.django_db(databases=ALL_DATABASES, transaction=True)
def test_a_checkout_process_killed_after_the_debit_is_undone_by_recovery():
    buyer = UserFactory(credits="500.00")
    setup = make_event()
    hold(buyer, setup)
    env = {
        **os.environ,
        **database_urls(),
        "DJANGO_SETTINGS_MODULE": "ticketremaster.settings_test",
        "FAULT_INJECTION_ENABLED": "true",
        "TICKETREMASTER_FAULTS": "purchase.after_debit=kill",
    }
    child = subprocess.run(
        [sys.executable, "-c", CHILD.format(buyer=buyer.pk, event=setup.event.pk)],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -9, child.stderr  # SIGKILL: no finally block, no compensation ran

    order = Order.objects.get(buyer_id=buyer.pk)
    # Pending, and debited: the debit's record is its ledger row (the flow writes no DEBITED step of its own).
    assert order.status == "PENDING"
    assert ledger("PURCHASE", order.pk) == [Decimal("-100.00")]
    assert balance(buyer) == Decimal("400.00")

    # The dead worker's advisory lock goes with its connection; give the server a moment to notice.
    for _ in range(50):
        report = services.purchase_recover(older_than_seconds=0)
        if not report.busy:
            break
        time.sleep(0.1)
    order.refresh_from_db()
    assert order.status == "FAILED"
    assert balance(buyer) == Decimal("500.00")
    assert ledger("PURCHASE_REFUND", order.pk) == [Decimal("100.00")]
    assert_purchase_invariants()
    assert services.purchase_recover(older_than_seconds=0).changed == 0
