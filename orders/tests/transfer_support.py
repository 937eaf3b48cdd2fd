"""Set-up shared by the transfer and resale tests: real sold tickets, codes, and the cross-database invariants."""

from __future__ import annotations

import threading
from decimal import Decimal

from django.db import connections
from django.utils import timezone

from accounts import services as account_services
from orders.tests.factories import OrderFactory, OrderLineFactory
from orders.tests.helpers import make_event
from ticketremaster import invariants

ALL_DATABASES = ["default", "seats", "orders", "events"]


def sold_ticket(owner, *, setup=None, price: str = "50.00", seat_index: int = 0):
    """A ticket as a successful checkout leaves it: a confirmed order, its active line, the PURCHASE debit, and
    the seat SOLD to ``owner``. Returns the seat (inventory model instance, tests only)."""
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
    type(seat).objects.using("seats").filter(pk=seat.pk).update(status="SOLD", owner_id=owner.pk, order_id=order.pk)
    seat.refresh_from_db(using="seats")
    seat.setup = setup
    return seat


def seat_row(seat_id) -> dict:
    with connections["seats"].cursor() as cursor:
        cursor.execute("SELECT status, owner_id, qr_version FROM inventory_seat WHERE id = %s", [seat_id])
        status, owner_id, qr_version = cursor.fetchone()
    return {"status": status, "owner_id": owner_id, "qr_version": qr_version}


def balance(user) -> Decimal:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT credit_balance FROM accounts_user WHERE id = %s", [user.pk])
        return cursor.fetchone()[0]


def ledger_kinds(reference) -> dict[str, Decimal]:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT kind, amount FROM accounts_ledgerentry WHERE reference = %s", [str(reference)])
        return dict(cursor.fetchall())


def code_for(user, *, purpose: str, transfer_id) -> str:
    """A fresh code for this party and transfer, as the 'email me a new code' button would send it."""
    return account_services.otp_issue(user_id=user.pk, purpose=purpose, object_id=transfer_id)


def assert_invariants() -> None:
    """Balances equal ledger sums, every flow's money matches its outcome, every ticket has its rightful owner."""
    report = invariants.check_all()
    assert report.ok, [violation.as_dict() for violation in report.violations]


def race(*functions) -> list:
    """Run the functions at the same moment on their own threads and connections; return result or exception."""
    barrier = threading.Barrier(len(functions))
    results: list = [None] * len(functions)

    def run(index: int, function) -> None:
        try:
            barrier.wait()
            results[index] = function()
        except Exception as exc:  # noqa: BLE001 - the race's loser's error is the result under test
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results
