"""orders.services.purchase.checkout.order_checkout: the all-or-nothing purchase across three databases."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db import connections
from django.utils import timezone

from accounts import services as accounts_services
from accounts.tests.factories import UserFactory
from core import config, faults
from core.databases import ALL_DATABASES
from core.errors import DomainError
from inventory import selectors as inventory_selectors
from inventory import services as inventory_services
from orders import services
from orders.models import Order, OrderLine
from orders.services.purchase import checkout
from orders.tests.factories import Seat, make_event
from orders.tests.helpers import AllQueries, assert_purchase_invariants, balance, expire_holds, hold, ledger

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def test_checkout_sells_the_held_seats_and_debits_the_buyer_once(buyer):
    setup = make_event(price="40.00")
    hold(buyer, setup)
    order = services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="k-1")

    assert order.status == "CONFIRMED" and order.step == "DONE"
    assert order.total == Decimal("80.00") and not order.is_replay
    assert {line.seat_id for line in order.lines} == set(setup.seat_ids[:2])
    assert balance(buyer) == Decimal("420.00")
    assert ledger("PURCHASE", order.id) == [Decimal("-80.00")]
    seats = inventory_selectors.seats_of_order(order_id=order.id)
    assert {seat.status for seat in seats} == {"SOLD"}
    assert {seat.owner_id for seat in seats} == {buyer.pk}
    assert Order.objects.get(pk=order.id).organization_id == setup.event.organization_id
    assert_purchase_invariants()


def test_same_idempotency_key_returns_the_same_order_and_never_charges_twice(buyer):
    setup = make_event()
    hold(buyer, setup)
    first = services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="same")
    again = services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="same")
    assert again.id == first.id and again.is_replay and again.status == "CONFIRMED"
    assert Order.objects.filter(buyer_id=buyer.pk).count() == 1
    assert ledger("PURCHASE", first.id) == [Decimal("-100.00")]
    assert balance(buyer) == Decimal("400.00")


def test_the_same_key_for_another_event_is_refused(buyer):
    setup, other = make_event(), make_event()
    hold(buyer, setup)
    services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="k")
    with pytest.raises(DomainError) as excinfo:
        services.order_checkout(buyer_id=buyer.pk, event_id=other.event.pk, idempotency_key="k")
    assert excinfo.value.code == "IDEMPOTENCY_KEY_REUSED"


def test_two_buyers_may_use_the_same_key(buyer, other_buyer):
    setup = make_event()
    hold(buyer, setup, 1)
    services.hold_seats(buyer_id=other_buyer.pk, event_id=setup.event.pk, seat_ids=setup.seat_ids[1:2])
    a = services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="shared")
    b = services.order_checkout(buyer_id=other_buyer.pk, event_id=setup.event.pk, idempotency_key="shared")
    assert a.id != b.id and a.status == b.status == "CONFIRMED"


def test_checkout_without_holds_is_no_active_holds(buyer):
    setup = make_event()
    with pytest.raises(DomainError) as excinfo:
        services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="k")
    assert (excinfo.value.code, excinfo.value.status) == ("NO_ACTIVE_HOLDS", 409)
    assert list(Order.objects.values_list("status", "failure_code")) == [("FAILED", "NO_ACTIVE_HOLDS")]
    assert not OrderLine.objects.exists()


def test_checkout_after_the_holds_expired_is_no_active_holds(buyer):
    setup = make_event()
    hold(buyer, setup)
    expire_holds(setup.seat_ids[:2])
    with pytest.raises(DomainError) as excinfo:
        services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="k")
    assert excinfo.value.code == "NO_ACTIVE_HOLDS"


def test_insufficient_credits_is_402_and_writes_nothing(db):
    poor = UserFactory(credits="10.00")
    setup = make_event()
    hold(poor, setup)
    with pytest.raises(DomainError) as excinfo:
        services.order_checkout(buyer_id=poor.pk, event_id=setup.event.pk, idempotency_key="k")
    assert (excinfo.value.code, excinfo.value.status) == ("INSUFFICIENT_CREDITS", 402)
    # Nothing is charged or sold; the refusal is bound to its key as a FAILED order without lines.
    refusal = Order.objects.get()
    assert (refusal.status, refusal.failure_code, refusal.total) == ("FAILED", "INSUFFICIENT_CREDITS", Decimal("0"))
    assert not refusal.lines.exists()
    assert balance(poor) == Decimal("10.00")
    assert len(inventory_selectors.holds_for_buyer(buyer_id=poor.pk)) == 2  # the holds stay for a top-up


def test_hold_expiring_during_checkout_refunds_the_debit_and_fails_the_order(buyer, monkeypatch):
    setup = make_event()
    hold(buyer, setup)
    real_sell = inventory_services.seats_sell

    def sell_after_expiry(**kwargs):
        expire_holds(setup.seat_ids[:2])  # the hold runs out between the debit and the sale
        return real_sell(**kwargs)

    monkeypatch.setattr(inventory_services, "seats_sell", sell_after_expiry)
    with pytest.raises(DomainError) as excinfo:
        services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="k")
    assert (excinfo.value.code, excinfo.value.status) == ("HOLD_EXPIRED", 409)

    order = Order.objects.get(buyer_id=buyer.pk)
    assert (order.status, order.step, order.failure_code) == ("FAILED", "COMPENSATED", "HOLD_EXPIRED")
    assert not OrderLine.objects.filter(order=order, is_active=True).exists()
    assert ledger("PURCHASE", order.pk) == [Decimal("-100.00")]
    assert ledger("PURCHASE_REFUND", order.pk) == [Decimal("100.00")]
    assert balance(buyer) == Decimal("500.00")
    assert not Seat.objects.filter(pk__in=setup.seat_ids, status="SOLD").exists()
    assert_purchase_invariants()


def test_a_retry_of_a_failed_attempt_gets_the_same_failure(buyer, monkeypatch):
    setup = make_event()
    hold(buyer, setup)
    real_sell = inventory_services.seats_sell

    def sell_after_expiry(**kwargs):
        expire_holds(setup.seat_ids[:2])
        return real_sell(**kwargs)

    monkeypatch.setattr(inventory_services, "seats_sell", sell_after_expiry)
    with pytest.raises(DomainError):
        services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="k")
    monkeypatch.undo()
    hold(buyer, setup)
    with pytest.raises(DomainError) as excinfo:
        services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="k")
    assert excinfo.value.code == "HOLD_EXPIRED"
    assert ledger("PURCHASE", Order.objects.get().pk) == [Decimal("-100.00")]  # no second charge
    # A new key is a new attempt, and it works.
    fresh = services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="k2")
    assert fresh.status == "CONFIRMED"
    assert_purchase_invariants()


def test_checkout_when_sales_closed_is_refused(buyer):
    setup = make_event()
    hold(buyer, setup)
    type(setup.event).objects.filter(pk=setup.event.pk).update(sales_end=timezone.now() - dt.timedelta(seconds=1))
    with pytest.raises(DomainError) as excinfo:
        services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="k")
    assert excinfo.value.code == "SALES_CLOSED"


def test_flagged_buyer_needs_a_step_up_first(db):
    flagged = UserFactory(credits="500.00", is_flagged=True)
    setup = make_event()
    hold(flagged, setup)
    with pytest.raises(DomainError) as excinfo:
        services.order_checkout(buyer_id=flagged.pk, event_id=setup.event.pk, idempotency_key="k")
    assert (excinfo.value.code, excinfo.value.status) == ("STEP_UP_REQUIRED", 428)
    assert not Order.objects.exists()

    code = accounts_services.otp_issue(user_id=flagged.pk, purpose="CHECKOUT_STEP_UP")
    accounts_services.otp_verify(user_id=flagged.pk, purpose="CHECKOUT_STEP_UP", code=code)
    order = services.order_checkout(buyer_id=flagged.pk, event_id=setup.event.pk, idempotency_key="k")
    assert order.status == "CONFIRMED"


def test_unverified_buyer_cannot_pay(buyer):
    setup = make_event()
    hold(buyer, setup)
    type(buyer).objects.filter(pk=buyer.pk).update(is_verified=False)
    with pytest.raises(DomainError) as excinfo:
        services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="k")
    assert excinfo.value.code == "EMAIL_NOT_VERIFIED"


@pytest.mark.parametrize("key", ["", "   ", "x" * 101, "tab\tkey"])
def test_a_missing_or_malformed_idempotency_key_is_refused(buyer, key):
    setup = make_event()
    hold(buyer, setup)
    with pytest.raises(DomainError) as excinfo:
        services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key=key)
    assert excinfo.value.code == "VALIDATION_ERROR"


def test_a_retry_while_the_first_request_runs_is_idempotency_in_progress(buyer):
    setup = make_event()
    hold(buyer, setup)
    with faults.arm("purchase.after_debit"), pytest.raises(faults.InjectedFault):
        services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="k")
    order = Order.objects.get()
    # Another worker drives the order right now: it holds the order's flow lock on its own connection.
    other = connections.create_connection("orders")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [_lock_key(order.pk)])
        with pytest.raises(DomainError) as excinfo:
            services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="k")
        assert (excinfo.value.code, excinfo.value.status) == ("IDEMPOTENCY_IN_PROGRESS", 409)
    finally:
        other.close()


def _lock_key(order_id) -> int:
    return int.from_bytes(uuid.UUID(str(order_id)).bytes[:8], "big", signed=True)


def test_a_retry_finishes_an_interrupted_checkout_without_charging_twice(buyer):
    setup = make_event()
    hold(buyer, setup)
    with faults.arm("purchase.after_debit"), pytest.raises(faults.InjectedFault):
        services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="k")
    assert Order.objects.get().status == "PENDING"
    order = services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="k")
    assert order.status == "CONFIRMED" and order.is_replay
    assert ledger("PURCHASE", order.id) == [Decimal("-100.00")]
    assert_purchase_invariants()


def test_a_second_checkout_of_seats_in_a_pending_order_is_order_in_progress(buyer):
    setup = make_event()
    hold(buyer, setup)
    with faults.arm("purchase.after_order"), pytest.raises(faults.InjectedFault):
        services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="first")
    with pytest.raises(DomainError) as excinfo:
        services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="second")
    assert excinfo.value.code == "ORDER_IN_PROGRESS"
    assert ledger("PURCHASE", Order.objects.get().pk) == []


def test_a_free_ticket_is_confirmed_without_a_ledger_row(buyer):
    setup = make_event(price="0.00")
    hold(buyer, setup, count=1)
    order = services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="free")
    assert order.status == "CONFIRMED" and order.total == Decimal("0.00")
    assert ledger("PURCHASE", order.id) == []
    assert_purchase_invariants()


def test_checkout_runs_a_fixed_small_number_of_queries_whatever_the_number_of_seats(buyer):
    # Reads (order by key, buyer, event, holds), the order and its lines, the lock, the debit, the sale and three
    # step updates: the same count for one seat as for four (no N+1).
    counts = []
    for count, key in ((1, "one"), (4, "four")):
        setup = make_event()
        hold(buyer, setup, count=count)
        with AllQueries() as queries:
            services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key=key)
        counts.append(queries.total)
    assert counts[0] == counts[1], counts
    assert counts[1] <= 25, counts


def test_holds_beyond_a_lowered_limit_are_hold_limit_exceeded_at_checkout(buyer):
    setup = make_event()
    hold(buyer, setup, count=4)
    config.set_value("max_tickets_per_order", 3)
    with pytest.raises(DomainError) as excinfo:
        services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="k")
    assert (excinfo.value.code, excinfo.value.status) == ("HOLD_LIMIT_EXCEEDED", 409)
    assert list(Order.objects.values_list("status", "failure_code")) == [("FAILED", "HOLD_LIMIT_EXCEEDED")]
    assert not OrderLine.objects.exists()


def test_a_duplicate_that_finds_the_order_only_after_it_was_paid_gets_that_order(buyer, monkeypatch):
    """Request B looked for its key before request A made the order; by the time B checks the holds, A has sold
    them and spent the credits. B is a retry of A's order, not NO_ACTIVE_HOLDS."""
    setup = make_event()
    hold(buyer, setup)
    real_checks = checkout._checkout_preconditions
    first = []

    def a_finishes_first(**kwargs):
        monkeypatch.setattr(checkout, "_checkout_preconditions", real_checks)
        first.append(services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="k"))
        return real_checks(**kwargs)

    monkeypatch.setattr(checkout, "_checkout_preconditions", a_finishes_first)
    second = services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="k")
    assert second.id == first[0].id and second.is_replay and second.status == "CONFIRMED"
    assert ledger("PURCHASE", second.id) == [Decimal("-100.00")]
    assert_purchase_invariants()
