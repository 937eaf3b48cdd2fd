"""Crash injection: interrupt a purchase after each step, run recovery, and check the all-or-nothing guarantee."""

from __future__ import annotations

import io
import uuid
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

from accounts import services as accounts_services
from core import faults
from core.databases import ALL_DATABASES
from inventory import services as inventory_services
from orders import services
from orders.models import Order
from orders.services.recovery import RECOVERERS
from orders.tests.factories import Seat, make_event
from orders.tests.helpers import assert_purchase_invariants, balance, hold, ledger

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def _interrupted_checkout(buyer, setup, point: str):
    hold(buyer, setup)
    with faults.arm(point), pytest.raises(faults.InjectedFault):
        services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="crash")
    order = Order.objects.get(buyer_id=buyer.pk)
    assert order.status == "PENDING"
    return order


@pytest.mark.parametrize(
    ("point", "outcome", "funds", "sold"),
    [
        ("purchase.after_order", "FAILED", "500.00", False),
        ("purchase.after_debit", "FAILED", "500.00", False),
        ("purchase.after_seats", "CONFIRMED", "400.00", True),
    ],
)
def test_recovery_finishes_or_undoes_a_purchase_interrupted_after_each_step(buyer, point, outcome, funds, sold):
    setup = make_event()
    order = _interrupted_checkout(buyer, setup, point)

    report = services.purchase_recover(older_than_seconds=0)

    order.refresh_from_db()
    assert order.status == outcome
    assert report.confirmed + report.undone == 1
    assert balance(buyer) == Decimal(funds)
    statuses = set(Seat.objects.filter(pk__in=setup.seat_ids[:2]).values_list("status", flat=True))
    assert statuses == ({"SOLD"} if sold else {"HELD"})  # an undone order leaves unsold seats to their holds
    assert_purchase_invariants()

    # Running it again changes nothing.
    before = (order.status, order.step, balance(buyer), ledger("PURCHASE_REFUND", order.pk))
    again = services.purchase_recover(older_than_seconds=0)
    order.refresh_from_db()
    assert again.changed == 0
    assert (order.status, order.step, balance(buyer), ledger("PURCHASE_REFUND", order.pk)) == before


def test_recovery_undoes_an_order_whose_seats_were_sold_but_never_paid(buyer):
    """Seats sold to an order with no debit (state that only a broken run could leave): back to AVAILABLE."""
    setup = make_event()
    order = _interrupted_checkout(buyer, setup, "purchase.after_order")
    Seat.objects.filter(pk__in=setup.seat_ids[:2]).update(
        status="SOLD", owner_id=buyer.pk, order_id=order.pk, held_by_id=None, hold_expires_at=None
    )
    services.purchase_recover(older_than_seconds=0)
    order.refresh_from_db()
    assert order.status == "FAILED"
    assert set(Seat.objects.filter(pk__in=setup.seat_ids[:2]).values_list("status", flat=True)) == {"AVAILABLE"}
    assert_purchase_invariants()


def test_recovery_leaves_young_orders_to_their_worker(buyer):
    setup = make_event()
    order = _interrupted_checkout(buyer, setup, "purchase.after_debit")
    report = services.purchase_recover(older_than_seconds=3600)
    order.refresh_from_db()
    assert order.status == "PENDING" and report.examined == 0


def test_recovery_skips_an_order_whose_flow_lock_is_held(buyer):
    setup = make_event()
    order = _interrupted_checkout(buyer, setup, "purchase.after_debit")
    other = connections.create_connection("orders")
    try:
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_lock(%s)", [int.from_bytes(uuid.UUID(str(order.pk)).bytes[:8], "big", signed=True)]
            )
        report = services.purchase_recover(older_than_seconds=0)
    finally:
        other.close()
    order.refresh_from_db()
    assert order.status == "PENDING" and report.busy == 1


def test_recovery_undoes_a_compensation_that_crashed_halfway(buyer, monkeypatch):
    setup = make_event()
    hold(buyer, setup)

    def lost_seats(**kwargs):
        raise inventory_services.HoldExpired()

    def crash(**kwargs):
        raise ConnectionError("users_db went away")

    monkeypatch.setattr(inventory_services, "seats_sell", lost_seats)
    monkeypatch.setattr(accounts_services, "credits_credit", crash)
    with pytest.raises(ConnectionError):
        services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="k")
    monkeypatch.undo()
    order = Order.objects.get()
    assert (order.status, order.step) == ("PENDING", "COMPENSATING")

    services.purchase_recover(older_than_seconds=0)
    order.refresh_from_db()
    assert order.status == "FAILED"
    assert balance(buyer) == Decimal("500.00")
    assert_purchase_invariants()


def test_recover_flows_command_runs_every_recoverer_and_reports(buyer):
    setup = make_event()
    _interrupted_checkout(buyer, setup, "purchase.after_seats")
    out = io.StringIO()
    call_command("recover_flows", "--older-than", "0", stdout=out)
    assert "purchase: examined=1, confirmed=1" in out.getvalue()
    assert len(RECOVERERS) >= 1
    quiet = io.StringIO()
    call_command("recover_flows", "--older-than", "0", "--quiet", stdout=quiet)
    assert quiet.getvalue() == ""
    assert_purchase_invariants()


def test_recover_flows_refuses_a_negative_age():
    with pytest.raises(CommandError):
        call_command("recover_flows", "--older-than", "-1")
