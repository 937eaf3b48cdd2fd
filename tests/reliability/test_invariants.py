"""The invariant checker: a clean data set passes; each violation, built on purpose, is named with its ids."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connections, models, router
from django.db.models import F
from django.utils import timezone

from accounts.models import LedgerEntry, User
from accounts.tests.factories import UserFactory
from core.databases import ALL_DATABASES
from inventory.models import EntryLog, Seat
from inventory.tests.factories import EntryLogFactory, SeatFactory
from ops import invariants
from orders.models import Order, OrderLine, ResaleListing, Transfer
from orders.tests.factories import OrderFactory, OrderLineFactory, ResaleListingFactory, TransferFactory

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

PRICE = Decimal("50.00")
# The step a transfer's flow records when it ends in this status.
TRANSFER_FINAL_STEP = {"COMPLETED": "DONE", "REVERSED": "REVERSED"}


def ledger(user: User, kind: str, amount: Decimal | str, reference: str) -> LedgerEntry:
    """A ledger row written the way accounts.services writes one: the balance moves with it."""
    amount = Decimal(amount)
    user.refresh_from_db()
    balance = user.credit_balance + amount
    User.objects.filter(pk=user.pk).update(credit_balance=balance)
    return LedgerEntry.objects.create(user=user, kind=kind, amount=amount, balance_after=balance, reference=reference)


def sold_ticket(buyer: User, *, event_id=None, price: Decimal = PRICE, status: str = "SOLD") -> tuple[Seat, Order]:
    """A confirmed, paid order of one seat, as a successful checkout leaves it."""
    order = OrderFactory(
        buyer_id=buyer.pk,
        total=price,
        status="CONFIRMED",
        step="DONE",
        confirmed_at=timezone.now(),
        **({"event_id": event_id} if event_id else {}),
    )
    seat = SeatFactory(
        event_id=order.event_id,
        price=price,
        status=status,
        owner_id=buyer.pk,
        order_id=order.pk,
        checked_in_at=timezone.now() if status == "CHECKED_IN" else None,
    )
    OrderLineFactory(order=order, seat_id=seat.pk, price=price)
    ledger(buyer, "PURCHASE", -price, str(order.pk))
    return seat, order


def hand_over(seat: Seat, new_owner: User) -> None:
    """What a completed transfer or resale leaves on the seat: a new owner and a new code."""
    Seat.objects.filter(pk=seat.pk).update(owner_id=new_owner.pk, qr_version=F("qr_version") + 1)


def free(seat: Seat) -> None:
    """The seat back on sale, as a refund leaves it."""
    Seat.objects.filter(pk=seat.pk).update(status="AVAILABLE", owner_id=None, order_id=None)


def refund_by_hand(seat: Seat, order: Order, buyer: User, *, credit_back: bool = True) -> None:
    """What order_refund leaves: the seat freed, lines inactive, the order REFUNDED, the debit credited back."""
    Order.objects.filter(pk=order.pk).update(status="REFUNDED", step="REFUNDED", refunded_at=timezone.now())
    OrderLine.objects.filter(order=order).update(is_active=False)
    free(seat)
    if credit_back:
        ledger(buyer, "PURCHASE_REFUND", PRICE, str(order.pk))


def back_to_pending(order: Order) -> None:
    Order.objects.filter(pk=order.pk).update(status="PENDING", step="SEATS_SOLD", confirmed_at=None)


def transfer(
    seat: Seat, sender: User, recipient: User, *, status: str = "COMPLETED", price: Decimal | str = "0", **fields
) -> Transfer:
    """A transfer of ``seat`` in ``status``, with the step and completion time its flow records for that status.
    Neither the seat's owner nor the ledger is touched: see ``hand_over`` and ``pay``."""
    step = TRANSFER_FINAL_STEP.get(status)
    return TransferFactory(
        seat_id=seat.pk,
        event_id=seat.event_id,
        from_user_id=sender.pk,
        to_user_id=recipient.pk,
        price=Decimal(price),
        status=status,
        **({"step": step, "completed_at": timezone.now()} if step else {}),
        **fields,
    )


def paid(payer: User, payee: User, amount: Decimal, reference: str, *, kinds: tuple[str, str]) -> None:
    """``amount`` from ``payer`` to ``payee``: the flow's debit and credit rows (``kinds``), under one reference."""
    debit, credit = kinds
    ledger(payer, debit, -amount, reference)
    ledger(payee, credit, amount, reference)


def pay(moved: Transfer, sender: User, recipient: User, *, reversed_: bool = False) -> None:
    """The transfer's price from recipient to sender; ``reversed_`` also writes the reversal that pays it back."""
    paid(recipient, sender, moved.price, str(moved.pk), kinds=("TRANSFER_DEBIT", "TRANSFER_CREDIT"))
    if reversed_:
        paid(
            sender, recipient, moved.price, str(moved.pk), kinds=("TRANSFER_REVERSAL_DEBIT", "TRANSFER_REVERSAL_CREDIT")
        )


def resale(seat: Seat, seller: User, buyer: User, *, price: str = "40.00", fee: str = "2.00") -> ResaleListing:
    """A sold listing of ``seat`` with the ticket handed over to its buyer; its money is written by ``pay_resale``."""
    listing = ResaleListingFactory(
        seat_id=seat.pk,
        event_id=seat.event_id,
        seller_id=seller.pk,
        buyer_id=buyer.pk,
        price=Decimal(price),
        fee=Decimal(fee),
        status="SOLD",
        step="DONE",
        sale_attempt_id=uuid.uuid4(),
        sold_at=timezone.now(),
    )
    hand_over(seat, buyer)
    return listing


def pay_resale(listing: ResaleListing, seller: User, buyer: User, *, with_fee: bool = True) -> None:
    attempt = str(listing.sale_attempt_id)
    paid(buyer, seller, listing.price, attempt, kinds=("RESALE_DEBIT", "RESALE_CREDIT"))
    if with_fee:
        ledger(seller, "RESALE_FEE", -listing.fee, attempt)


@contextlib.contextmanager
def constraints_dropped(*constraints: tuple[type[models.Model], str], clean_up: Callable[[], object]) -> Iterator[None]:
    """Drop the named constraints of the models (to prove the checker does not rely on them); on the way out,
    ``clean_up`` removes the rows that break them and they are created again as the model declares them."""
    dropped = [(model, next(c for c in model._meta.constraints if c.name == name)) for model, name in constraints]
    for model, constraint in dropped:
        with connections[router.db_for_write(model)].schema_editor() as editor:
            editor.remove_constraint(model, constraint)
    try:
        yield
    finally:
        clean_up()
        for model, constraint in dropped:
            with connections[router.db_for_write(model)].schema_editor() as editor:
                editor.add_constraint(model, constraint)


def codes(report: invariants.Report) -> set[str]:
    return set(report.counts)


def only(report: invariants.Report, check: str) -> invariants.Violation:
    assert codes(report) == {check}, [v.as_dict() for v in report.violations]
    return next(v for v in report.violations if v.check == check)


def named(check: str, **ids) -> invariants.Violation:
    """The checker finds problems of ``check`` only, and its violation names ``ids`` (compared as strings)."""
    violation = only(invariants.check_all(), check)
    assert {key: violation.ids.get(key) for key in ids} == {key: str(value) for key, value in ids.items()}
    return violation


@pytest.fixture
def alice():
    return UserFactory(credits="500.00")


@pytest.fixture
def bob():
    return UserFactory(credits="500.00")


@pytest.fixture
def clean_world(alice, bob):
    """Every kind of finished flow, each consistent: the checker must find nothing."""
    seat, order = sold_ticket(alice)
    # A refunded order: seat released, credits back, line inactive.
    refund_by_hand(*sold_ticket(alice), alice)
    # A failed checkout that was compensated after the debit.
    failed = OrderFactory(
        buyer_id=bob.pk, total=PRICE, status="FAILED", step="COMPENSATED", failure_code="HOLD_EXPIRED"
    )
    OrderLineFactory(order=failed, seat_id=uuid.uuid4(), is_active=False)
    ledger(bob, "PURCHASE", -PRICE, str(failed.pk))
    ledger(bob, "PURCHASE_REFUND", PRICE, str(failed.pk))
    # A paid transfer alice -> bob of a second ticket.
    moved, moved_order = sold_ticket(alice)
    paid_transfer = transfer(moved, alice, bob, price="20.00")
    pay(paid_transfer, alice, bob)
    hand_over(moved, bob)
    # A resale bob -> alice of a third ticket with a fee; and an earlier failed attempt that was refunded.
    resold, _ = sold_ticket(bob)
    listing = resale(resold, bob, alice, price="40.00", fee="2.00")
    pay_resale(listing, bob, alice)
    earlier = str(uuid.uuid4())
    ledger(alice, "RESALE_DEBIT", "-40.00", earlier)
    ledger(alice, "RESALE_REFUND", "40.00", earlier)
    # A ticket listed for resale right now.
    listed, _ = sold_ticket(bob, status="LISTED")
    ResaleListingFactory(seat_id=listed.pk, event_id=listed.event_id, seller_id=bob.pk, price=Decimal("45.00"))
    # A checked-in ticket with its one SUCCESS, plus a DUPLICATE scan.
    checked, _ = sold_ticket(bob, status="CHECKED_IN")
    EntryLogFactory(seat_id=checked.pk, event_id=checked.event_id, result="SUCCESS")
    EntryLogFactory(seat_id=checked.pk, event_id=checked.event_id, result="DUPLICATE")
    # An expired hold and a live one.
    SeatFactory(
        event_id=seat.event_id,
        section_id=seat.section_id,
        status="HELD",
        held_by_id=bob.pk,
        hold_expires_at=timezone.now() - dt.timedelta(minutes=1),
    )
    SeatFactory(
        event_id=seat.event_id,
        section_id=seat.section_id,
        status="HELD",
        held_by_id=bob.pk,
        hold_expires_at=timezone.now() + dt.timedelta(minutes=5),
    )
    # A declined free transfer leaves no money behind.
    transfer(seat, alice, bob, status="DECLINED")
    return {"seat": seat, "order": order, "transfer": paid_transfer, "listing": listing}


def test_a_clean_data_set_passes(clean_world):
    report = invariants.check_all()
    assert report.ok, [v.as_dict() for v in report.violations]
    assert report.examined["orders"] == 7
    assert report.examined["tickets"] == 5


def test_the_command_exits_0_and_says_so_when_all_hold(clean_world, capsys):
    call_command("check_invariants")
    assert "invariants hold" in capsys.readouterr().out


def test_the_command_exits_1_and_names_the_violation_with_its_ids(clean_world, alice, capsys):
    User.objects.filter(pk=alice.pk).update(credit_balance=Decimal("999.00"))
    with pytest.raises(SystemExit) as exited:
        call_command("check_invariants", "--json")
    assert exited.value.code == 1
    body = json.loads(capsys.readouterr().out)
    assert body["ok"] is False
    assert body["counts"] == {"BALANCE_LEDGER_MISMATCH": 1}
    assert body["violations"][0]["ids"] == {"user": str(alice.pk)}


def test_a_balance_that_differs_from_its_ledger_is_named(alice):
    User.objects.filter(pk=alice.pk).update(credit_balance=Decimal("499.99"))
    violation = only(invariants.check_all(), "BALANCE_LEDGER_MISMATCH")
    assert violation.ids == {"user": str(alice.pk)}
    assert "-0.01" in violation.detail


@pytest.mark.django_db(databases=ALL_DATABASES, transaction=True)
def test_a_negative_balance_is_named_even_when_the_ledger_agrees():
    user = UserFactory()

    def clean_up() -> None:
        User.objects.filter(pk=user.pk).update(credit_balance=0)
        LedgerEntry.objects.all().delete()

    # The CHECK constraints forbid this.
    with constraints_dropped(
        (User, "user_balance_not_negative"), (LedgerEntry, "ledger_balance_after_not_negative"), clean_up=clean_up
    ):
        ledger(user, "ADJUSTMENT", "-5.00", "adj-1")
        report = invariants.check_all()
        assert codes(report) == {"BALANCE_NEGATIVE"}
        assert report.violations[0].ids == {"user": str(user.pk)}


def test_a_confirmed_order_without_its_debit_is_named(alice):
    seat, order = sold_ticket(alice)
    LedgerEntry.objects.filter(reference=str(order.pk)).delete()
    User.objects.filter(pk=alice.pk).update(credit_balance=Decimal("500.00"))
    violation = only(invariants.check_all(), "ORDER_WITHOUT_DEBIT")
    assert violation.ids == {"order": str(order.pk), "buyer": str(alice.pk)}


def test_a_debit_of_a_failed_order_without_its_refund_is_named(alice):
    order = OrderFactory(buyer_id=alice.pk, status="FAILED", step="COMPENSATED")
    ledger(alice, "PURCHASE", -order.total, str(order.pk))
    named("DEBIT_WITHOUT_ORDER", order=order.pk)


@pytest.mark.parametrize(
    ("kind", "amount", "code"),
    [
        ("PURCHASE", "-10.00", "DEBIT_WITHOUT_ORDER"),  # a debit whose order does not exist
        ("RESALE_DEBIT", "-40.00", "ORPHAN_LEDGER_MONEY"),  # an abandoned resale attempt that kept the buyer's money
    ],
)
def test_money_moved_for_a_flow_that_does_not_exist_is_named(alice, kind, amount, code):
    reference = str(uuid.uuid4())
    ledger(alice, kind, amount, reference)
    violation = only(invariants.check_all(), code)
    assert violation.ids == {"reference": reference}


def test_a_refunded_order_without_its_refund_is_named(alice):
    seat, order = sold_ticket(alice)
    refund_by_hand(seat, order, alice, credit_back=False)
    named("ORDER_REFUND_MISSING", order=order.pk)


def test_a_refund_of_a_ticket_already_transferred_to_someone_else_is_named(alice, bob):
    seat, order = sold_ticket(alice)
    transfer(seat, alice, bob)
    hand_over(seat, bob)
    assert invariants.check_all().ok
    refund_by_hand(seat, order, alice)
    named("REFUND_OF_PASSED_TICKET", seat=seat.pk, holder=bob.pk)


def test_a_refund_after_the_transfer_was_reversed_is_fine(alice, bob):
    seat, order = sold_ticket(alice)
    transfer(seat, alice, bob, status="REVERSED")
    refund_by_hand(seat, order, alice)
    assert invariants.check_all().ok


def test_a_confirmed_order_that_was_also_refunded_is_named(alice):
    seat, order = sold_ticket(alice)
    ledger(alice, "PURCHASE_REFUND", PRICE, str(order.pk))
    named("ORDER_CONFIRMED_BUT_REFUNDED", order=order.pk)


def test_a_debit_of_the_wrong_amount_is_named(alice):
    seat, order = sold_ticket(alice)
    Order.objects.filter(pk=order.pk).update(total=Decimal("60.00"))
    OrderLine.objects.filter(order=order).update(price=Decimal("60.00"))
    violation = only(invariants.check_all(), "ORDER_MONEY_MISMATCH")
    assert "-50.00" in violation.detail and "-60.00" in violation.detail


def test_a_ticket_whose_order_is_not_confirmed_is_named(alice):
    seat, order = sold_ticket(alice)
    back_to_pending(order)
    report = invariants.check_all()
    # A pending order with a debit and a sold seat: the seat, the money and the unfinished flow are each named.
    assert codes(report) == {"TICKET_ORDER_NOT_CONFIRMED", "DEBIT_WITHOUT_ORDER", "UNFINISHED_FLOW"}
    ticket = next(v for v in report.violations if v.check == "TICKET_ORDER_NOT_CONFIRMED")
    assert ticket.ids["seat"] == str(seat.pk) and ticket.ids["order"] == str(order.pk)


def test_an_in_flight_flow_is_left_alone_within_the_grace_period(alice):
    seat, order = sold_ticket(alice)
    back_to_pending(order)
    assert invariants.check_all(grace_seconds=60).ok


def test_a_ticket_sold_without_any_order_is_named(alice):
    seat = SeatFactory(status="SOLD", owner_id=alice.pk, order_id=uuid.uuid4())
    violation = named("TICKET_ORDER_NOT_CONFIRMED", seat=seat.pk)
    assert "missing" in violation.detail


def test_a_ticket_without_an_active_line_is_named(alice):
    seat, order = sold_ticket(alice)
    OrderLine.objects.filter(order=order).update(is_active=False)
    report = invariants.check_all()
    assert codes(report) == {"TICKET_WITHOUT_ACTIVE_LINE", "ORDER_TOTAL_MISMATCH"}
    assert next(v for v in report.violations if v.check == "TICKET_WITHOUT_ACTIVE_LINE").ids["seat"] == str(seat.pk)


def test_a_ticket_owned_by_someone_else_than_its_buyer_is_named(alice, bob):
    seat, order = sold_ticket(alice)
    hand_over(seat, bob)
    named("TICKET_OWNER_MISMATCH", seat=seat.pk, expected_owner=alice.pk)


def test_a_completed_transfer_whose_ownership_did_not_move_is_named(alice, bob):
    seat, order = sold_ticket(alice)
    free_transfer = transfer(seat, alice, bob)
    named("TICKET_OWNER_MISMATCH", expected_owner=bob.pk)
    assert free_transfer.price == 0


def test_a_reversed_transfer_expects_the_ticket_back_with_its_sender(alice, bob):
    seat, order = sold_ticket(alice)
    pay(transfer(seat, alice, bob, status="REVERSED", price="10.00"), alice, bob, reversed_=True)
    assert invariants.check_all().ok
    hand_over(seat, bob)
    named("TICKET_OWNER_MISMATCH", expected_owner=alice.pk)


def test_a_completed_paid_transfer_without_its_ledger_rows_is_named(alice, bob):
    seat, order = sold_ticket(alice)
    unpaid = transfer(seat, alice, bob, price="20.00")
    hand_over(seat, bob)
    named("TRANSFER_WITHOUT_PAYMENT", transfer=unpaid.pk)


def test_a_failed_transfer_that_kept_the_money_is_named(alice, bob):
    seat, order = sold_ticket(alice)
    failed = transfer(seat, alice, bob, status="FAILED", step="PAID", price="20.00")
    pay(failed, alice, bob)
    named("TRANSFER_MONEY_MISMATCH", transfer=failed.pk)


def test_a_sold_listing_without_its_ledger_rows_is_named(alice, bob):
    seat, order = sold_ticket(bob)
    listing = resale(seat, bob, alice)
    named("RESALE_WITHOUT_PAYMENT", listing=listing.pk)


def test_a_resale_that_forgot_the_fee_is_named(alice, bob):
    seat, order = sold_ticket(bob)
    listing = resale(seat, bob, alice, price="40.00", fee="2.00")
    pay_resale(listing, bob, alice, with_fee=False)
    named("RESALE_MONEY_MISMATCH", sale_attempt=listing.sale_attempt_id)


def test_a_confirmed_line_whose_seat_is_not_its_ticket_is_named(alice):
    seat, order = sold_ticket(alice)
    free(seat)
    violation = only(invariants.check_all(), "CONFIRMED_LINE_WITHOUT_TICKET")
    assert violation.ids == {"seat": str(seat.pk), "order": str(order.pk)}


def test_a_confirmed_total_that_differs_from_its_lines_is_named(alice):
    seat, order = sold_ticket(alice)
    OrderLine.objects.filter(order=order).update(price=Decimal("45.00"))
    violation = only(invariants.check_all(), "ORDER_TOTAL_MISMATCH")
    assert violation.ids == {"order": str(order.pk)}


@pytest.mark.django_db(databases=ALL_DATABASES, transaction=True)
def test_a_seat_in_two_active_orders_is_named():
    alice, bob = UserFactory(credits="100.00"), UserFactory(credits="100.00")
    seat, order = sold_ticket(alice)
    # The partial unique index forbids this.
    with constraints_dropped(
        (OrderLine, "orderline_one_active_per_seat"), clean_up=lambda: OrderLine.objects.all().delete()
    ):
        other = OrderFactory(buyer_id=bob.pk, status="PENDING")
        OrderLineFactory(order=other, seat_id=seat.pk)
        report = invariants.check_all()
        assert "SEAT_IN_TWO_ACTIVE_ORDERS" in codes(report)
        violation = next(v for v in report.violations if v.check == "SEAT_IN_TWO_ACTIVE_ORDERS")
        assert violation.ids["seat"] == str(seat.pk)
        assert set(violation.ids["orders"].split(",")) == {str(order.pk), str(other.pk)}


def test_an_active_line_of_a_failed_order_is_named(alice):
    order = OrderFactory(buyer_id=alice.pk, status="FAILED", step="COMPENSATED")
    line = OrderLineFactory(order=order)
    violation = only(invariants.check_all(), "ACTIVE_LINE_OF_FINISHED_ORDER")
    assert violation.ids == {"seat": str(line.seat_id), "order": str(order.pk)}


def test_a_listed_seat_without_a_listing_is_named(alice):
    seat, order = sold_ticket(alice, status="LISTED")
    violation = only(invariants.check_all(), "LISTED_WITHOUT_LISTING")
    assert violation.ids == {"seat": str(seat.pk)}


def test_an_active_listing_of_a_ticket_that_is_not_listed_is_named(alice):
    seat, order = sold_ticket(alice)
    listing = ResaleListingFactory(seat_id=seat.pk, seller_id=alice.pk)
    named("LISTING_WITHOUT_LISTED_TICKET", listing=listing.pk)


def test_unfinished_flows_are_named(alice, bob):
    order = OrderFactory(buyer_id=alice.pk, status="PENDING")
    completing = TransferFactory(from_user_id=alice.pk, to_user_id=bob.pk, status="COMPLETING")
    listing = ResaleListingFactory(seller_id=alice.pk, buyer_id=bob.pk, status="SELLING", sale_attempt_id=uuid.uuid4())
    report = invariants.check_all()
    assert codes(report) >= {"UNFINISHED_FLOW"}
    named = [v.ids for v in report.violations if v.check == "UNFINISHED_FLOW"]
    assert {"order": str(order.pk)} in named
    assert {"transfer": str(completing.pk)} in named
    assert {"listing": str(listing.pk)} in named


@pytest.mark.django_db(databases=ALL_DATABASES, transaction=True)
def test_two_successful_entries_for_one_seat_are_named():
    seat = SeatFactory()
    with constraints_dropped((EntryLog, "entrylog_one_success"), clean_up=lambda: EntryLog.objects.all().delete()):
        EntryLogFactory(seat_id=seat.pk, event_id=seat.event_id, result="SUCCESS")
        EntryLogFactory(seat_id=seat.pk, event_id=seat.event_id, result="SUCCESS")
        violation = only(invariants.check_all(), "ENTRY_DOUBLE_SUCCESS")
        assert violation.ids == {"seat": str(seat.pk)}


def test_an_availability_figure_that_counts_an_expired_hold_as_held_is_named(monkeypatch, bob):
    selectors = pytest.importorskip("inventory.selectors")
    section = uuid.uuid4()
    expired = SeatFactory(
        section_id=section, status="HELD", held_by_id=bob.pk, hold_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    SeatFactory(event_id=expired.event_id, section_id=section)

    def naive_availability(*, event_id):  # the bug: trusts the status column
        counts: dict = {}
        for seat in Seat.objects.filter(event_id=event_id):
            counts.setdefault(seat.section_id, {}).setdefault(seat.status, 0)
            counts[seat.section_id][seat.status] += 1
        return counts

    monkeypatch.setattr(selectors, "section_availability", naive_availability)
    violation = only(invariants.check_all(), "AVAILABILITY_MISMATCH")
    assert violation.ids == {"event": str(expired.event_id), "section": str(section)}


def test_the_real_availability_selector_counts_an_expired_hold_as_available(bob):
    pytest.importorskip("inventory.selectors")
    SeatFactory(status="HELD", held_by_id=bob.pk, hold_expires_at=timezone.now() - dt.timedelta(seconds=1))
    report = invariants.check_all()
    assert "AVAILABILITY_MISMATCH" not in report.skipped
    assert report.ok, [v.as_dict() for v in report.violations]
