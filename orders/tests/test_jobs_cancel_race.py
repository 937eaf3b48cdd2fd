"""Cancelling a sold event as a job while buyers keep trying to buy: from the moment the cancellation commits
nothing more is sold, every order is refunded exactly once, every buyer gets one cancellation mail per order and
the cross-database invariants hold.

Real connections and threads: the sold orders go through the real purchase flow, buyers race the cancellation on
their own threads, and the operation's job body runs as a worker runs it (staff_operation_execute) while they do.
The full size (5,000 orders) is ``slow``; the CI size is 300.
"""

from __future__ import annotations

import collections
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core import mail
from django.db import connections

from accounts.tests.factories import MembershipFactory, UserFactory
from core import faults
from core.databases import ALL_DATABASES
from core.errors import DomainError
from events.contract import SalesClosed
from events.models import Event
from orders import services
from orders.contract import NotificationKind
from orders.models import Notification, Order, StaffOperation
from orders.notifications.delivery import notification_deliver
from orders.services import staff_operations
from orders.tests.factories import Seat, make_event
from orders.tests.helpers import assert_purchase_invariants, balance, hold
from orders.tests.jobs_helpers import (
    queue_clear,
    queued_notifications,
    run_queued_operations,
    send_queued_notifications,
)

SEATS_PER_ROW = 100
SELLERS = 4  # threads that make the sold orders
RACERS = 4  # buyers who keep trying while the event is cancelled
RACER_SEATS = 40  # places each racer may still try for


@pytest.fixture(autouse=True)
def _queue_left_empty():
    """The queue's rows outlive a transactional test (procrastinate's tables are not flushed): leave none behind."""
    yield
    queue_clear()


def _buy_one(buyer_id: uuid.UUID, event_id: uuid.UUID, seat_id: uuid.UUID):
    services.hold_seats(buyer_id=buyer_id, event_id=event_id, seat_ids=[seat_id])
    return services.order_checkout(buyer_id=buyer_id, event_id=event_id, idempotency_key=uuid.uuid4().hex)


def _sell(event_id: uuid.UUID, buyers: list, seat_ids: list[uuid.UUID]) -> None:
    """One order of one place per seat, round-robin over the buyers, on SELLERS threads."""

    def sell(worker: int) -> None:
        try:
            for index in range(worker, len(seat_ids), SELLERS):
                _buy_one(buyers[index % len(buyers)].pk, event_id, seat_ids[index])
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=SELLERS) as pool:
        for future in [pool.submit(sell, worker) for worker in range(SELLERS)]:
            future.result()


class Racers:
    """Buyers who try to buy a place again and again, on their own threads, until told to stop."""

    def __init__(self, event_id: uuid.UUID, seat_ids: list[uuid.UUID]):
        self.event_id = event_id
        self.buyers = [UserFactory(credits="5000.00") for _ in range(RACERS)]
        self.seats = [seat_ids[i::RACERS] for i in range(RACERS)]
        self.stop = threading.Event()
        self.bought: list[uuid.UUID] = []
        self.refused: collections.Counter = collections.Counter()
        self.unexpected: list[BaseException] = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(i,)) for i in range(RACERS)]

    def _run(self, index: int) -> None:
        buyer = self.buyers[index]
        try:
            while not self.stop.is_set():
                for seat_id in self.seats[index]:
                    if self.stop.is_set():
                        break
                    try:
                        order = _buy_one(buyer.pk, self.event_id, seat_id)
                    except DomainError as error:
                        with self.lock:
                            self.refused[error.code] += 1
                        time.sleep(0.02)
                        continue
                    with self.lock:
                        self.bought.append(order.id)
                    time.sleep(0.02)
                time.sleep(0.05)
        except Exception as exc:  # noqa: BLE001 - reported by the test, not lost in a thread
            self.unexpected.append(exc)
        finally:
            connections.close_all()

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=120)


def _cancel_while_buyers_buy(orders: int) -> None:
    rows = orders // SEATS_PER_ROW + 2  # the sold places, and two rows left for the racers
    setup = make_event(rows=rows, seats_per_row=SEATS_PER_ROW, price="10.00")
    event_id = setup.event.pk
    manager = UserFactory(email="manager@example.com", is_staff=True)
    MembershipFactory(user=manager, organization_id=setup.event.organization_id, role="MANAGER")
    sold_seats, spare_seats = setup.seat_ids[:orders], setup.seat_ids[orders:]
    buyers = [UserFactory(credits=f"{10 * (orders // 50 + 1)}.00") for _ in range(50)]
    _sell(event_id, buyers, sold_seats)
    assert Order.objects.using("orders").filter(event_id=event_id, status="CONFIRMED").count() == orders
    queue_clear()  # the confirmations are not under test here

    with Racers(event_id, spare_seats[: RACERS * RACER_SEATS]) as racers:
        while len(racers.bought) < RACERS and not racers.unexpected:  # the racers are buying for real
            time.sleep(0.01)
        operation, started = staff_operations.staff_operation_start(
            kind="CANCEL", event_id=event_id, actor_id=manager.pk, reason="Storm warning"
        )
        assert started
        assert run_queued_operations() == ["SUCCEEDED"]  # the job's body, while the racers keep trying
    assert not racers.unexpected, racers.unexpected
    assert racers.refused["SALES_CLOSED"] > 0  # they really tried after the cancellation

    event = Event.objects.using("events").get(pk=event_id)
    assert event.status == "CANCELLED"
    every_order = Order.objects.using("orders").filter(event_id=event_id)
    # No sale after the cancellation committed, and none left unrefunded.
    assert not every_order.filter(confirmed_at__gt=event.cancelled_at).exclude(status="FAILED").exists()
    assert set(every_order.values_list("status", flat=True)) <= {"REFUNDED", "FAILED"}
    assert not Seat.objects.using("seats").filter(event_id=event_id, status__in=["SOLD", "CHECKED_IN", "LISTED"])
    refunded = set(every_order.filter(status="REFUNDED").values_list("pk", flat=True))
    assert len(refunded) == orders + len(racers.bought)

    # Refunded once each: one refund entry per order in the ledger.
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT reference, count(*) FROM accounts_ledgerentry WHERE kind = 'PURCHASE_REFUND' "
            "AND reference = ANY(%s) GROUP BY reference",
            [[str(pk) for pk in refunded]],
        )
        refunds = dict(cursor.fetchall())
    assert len(refunds) == len(refunded) and set(refunds.values()) == {1}

    done = StaffOperation.objects.using("orders").get(pk=operation.id)
    assert (done.status, done.done, done.total, done.errors) == ("SUCCEEDED", len(refunded), len(refunded), 0)

    # One cancellation mail per refunded order, to its buyer; a second run of every job sends nothing more.
    notices = queued_notifications(NotificationKind.EVENT_CANCELLED)
    assert sorted(uuid.UUID(n["object_id"]) for n in notices) == sorted(refunded)
    assert staff_operations.staff_operation_execute(operation_id=operation.id) == "SUCCEEDED"
    assert set(send_queued_notifications()) == {"SENT"}
    buyer_of = dict(every_order.values_list("pk", "buyer_id"))
    sent = Notification.objects.using("orders").filter(kind=NotificationKind.EVENT_CANCELLED, status="SENT")
    assert sorted(sent.values_list("object_id", flat=True)) == sorted(refunded)
    assert all(row.recipient_id == buyer_of[row.object_id] for row in sent)
    cancel_mails = [m for m in mail.outbox if "is cancelled" in m.subject]
    assert len(cancel_mails) == len(refunded)
    for args in notices[:20]:  # a retried job finds its row SENT
        assert (
            notification_deliver(
                kind=args["kind"], object_id=uuid.UUID(args["object_id"]), recipient_id=uuid.UUID(args["recipient_id"])
            )
            == "SENT"
        )
    assert len([m for m in mail.outbox if "is cancelled" in m.subject]) == len(refunded)

    assert_purchase_invariants()


@pytest.mark.concurrency
@pytest.mark.django_db(databases=ALL_DATABASES, transaction=True)
def test_cancelling_an_event_of_300_orders_as_a_job_while_buyers_keep_buying():
    _cancel_while_buyers_buy(300)


@pytest.mark.slow
@pytest.mark.concurrency
@pytest.mark.django_db(databases=ALL_DATABASES, transaction=True)
def test_cancelling_an_event_of_5000_orders_as_a_job_while_buyers_keep_buying():
    _cancel_while_buyers_buy(5000)


# --- A purchase caught half-way by the cancellation ----------------------------------------------------------------


def _paid_but_not_confirmed(buyer, manager):
    """A checkout interrupted after the debit and the sale, then the event's cancellation pressed."""
    setup = make_event()
    MembershipFactory(user=manager, organization_id=setup.event.organization_id, role="MANAGER")
    hold(buyer, setup)
    with faults.arm("purchase.after_seats"), pytest.raises(faults.InjectedFault):
        services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="caught")
    staff_operations.staff_operation_start(kind="CANCEL", event_id=setup.event.pk, actor_id=manager.pk, reason="Fog")
    queue_clear()
    return setup, Order.objects.using("orders").get(buyer_id=buyer.pk)


def _assert_undone(buyer, setup, order, funds):
    order.refresh_from_db()
    assert (order.status, order.failure_code) == ("FAILED", "SALES_CLOSED")
    assert balance(buyer) == funds
    assert not Seat.objects.using("seats").filter(pk__in=setup.seat_ids[:2], status="SOLD").exists()
    assert queued_notifications() == []  # no confirmation for an order that was never confirmed
    assert_purchase_invariants()


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_a_checkout_retried_after_the_cancellation_started_is_undone_not_confirmed(buyer):
    manager = UserFactory(is_staff=True)
    funds = balance(buyer)
    setup, order = _paid_but_not_confirmed(buyer, manager)
    with pytest.raises(SalesClosed):
        services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="caught")
    _assert_undone(buyer, setup, order, funds)


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_recovery_undoes_a_purchase_the_cancellation_caught_half_way(buyer):
    manager = UserFactory(is_staff=True)
    funds = balance(buyer)
    setup, order = _paid_but_not_confirmed(buyer, manager)
    report = services.purchase_recover(older_than_seconds=0)
    assert (report.confirmed, report.undone) == (0, 1)
    _assert_undone(buyer, setup, order, funds)
