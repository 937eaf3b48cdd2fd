"""Crash injection between every step of transfer completion and of a resale purchase, then recovery, then the
cross-database invariants (balances equal ledger sums, money matches each flow's outcome, rightful owners)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts import services as account_services
from core import config, faults
from core.databases import ALL_DATABASES
from orders.models import ResaleListing, Transfer
from orders.services import resale, transfer
from orders.services.recovery import RECOVERERS
from orders.tests.helpers import accepted, assert_invariants, balance, recipient_confirms, seat_row, sender_confirms

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


@pytest.fixture
def no_platform_fee():
    """These tests follow the credits of the state machine; the platform fee has its own (test_transfer_pricing.py)."""
    config.set_value("platform_fee_percent", Decimal("0"))


def _completing_transfer(ticket, owner, friend, *, fault: str, price="30.00"):
    """Drive a transfer to its last confirmation with ``fault`` armed; return its id once the crash hit."""
    info = accepted(ticket, owner, friend, price=price)
    sender_confirms(info, owner)
    with faults.arm(fault), pytest.raises(faults.InjectedFault):
        recipient_confirms(info, friend)
    assert Transfer.objects.using("orders").get(pk=info.id).status == "COMPLETING"
    return info.id


@pytest.mark.usefixtures("no_platform_fee")
@pytest.mark.parametrize(
    ("fault", "step_at_crash"),
    [("transfer.after_payment", "PAID"), ("transfer.after_ownership", "OWNERSHIP_MOVED")],
)
def test_crashed_transfer_completion_is_finished_by_recovery(ticket, owner, friend, fault, step_at_crash):
    transfer_id = _completing_transfer(ticket, owner, friend, fault=fault)
    assert Transfer.objects.using("orders").get(pk=transfer_id).step == step_at_crash

    report = transfer.transfer_recover(older_than_seconds=0)
    assert (report.examined, report.finished, report.errors) == (1, 1, [])
    after = Transfer.objects.using("orders").get(pk=transfer_id)
    assert (after.status, after.step) == ("COMPLETED", "DONE")
    assert seat_row(ticket.pk)["owner_id"] == friend.pk
    assert (balance(owner), balance(friend)) == (Decimal("80.00"), Decimal("70.00"))
    assert_invariants()

    again = transfer.transfer_recover(older_than_seconds=0)
    assert (again.examined, again.finished) == (0, 0)
    assert (balance(owner), balance(friend)) == (Decimal("80.00"), Decimal("70.00"))


def test_recovery_fails_a_transfer_the_recipient_can_no_longer_pay(ticket, owner, friend):
    info = transfer.transfer_offer(seat_id=ticket.pk, from_user_id=owner.pk, to_email=friend.email, price="30.00")
    # Recorded COMPLETING, then the worker died before paying; the recipient spent their credits meanwhile.
    Transfer.objects.using("orders").filter(pk=info.id).update(status="COMPLETING", step="NONE")
    account_services.credits_debit(user_id=friend.pk, amount=Decimal("90.00"), kind="ADJUSTMENT", reference="spent")
    report = transfer.transfer_recover(older_than_seconds=0)
    assert (report.undone, report.errors) == (1, [])
    after = Transfer.objects.using("orders").get(pk=info.id)
    assert (after.status, after.failure_code) == ("FAILED", "INSUFFICIENT_CREDITS")
    assert seat_row(ticket.pk)["owner_id"] == owner.pk
    assert_invariants()


def test_recovery_leaves_young_flows_to_their_live_worker(ticket, owner, friend):
    transfer_id = _completing_transfer(ticket, owner, friend, fault="transfer.after_payment")
    assert transfer.transfer_recover(older_than_seconds=3600).examined == 0
    assert Transfer.objects.using("orders").get(pk=transfer_id).status == "COMPLETING"


def test_recovery_expires_stale_offers(ticket, owner, friend):
    info = transfer.transfer_offer(seat_id=ticket.pk, from_user_id=owner.pk, to_email=friend.email)
    Transfer.objects.using("orders").filter(pk=info.id).update(expires_at="2000-01-01T00:00:00Z")
    assert transfer.transfer_recover(older_than_seconds=0).expired == 1
    assert Transfer.objects.using("orders").get(pk=info.id).status == "EXPIRED"


def test_transfer_and_resale_recoverers_run_from_recover_flows(ticket, owner, friend):
    assert transfer.transfer_recover in RECOVERERS and resale.resale_recover in RECOVERERS
    transfer_id = _completing_transfer(ticket, owner, friend, fault="transfer.after_ownership")
    call_command("recover_flows", "--older-than", "0", "--quiet")
    assert Transfer.objects.using("orders").get(pk=transfer_id).status == "COMPLETED"
    assert_invariants()


# --- Resale -----------------------------------------------------------------------------------------------------------


def _crashed_sale(ticket, seller, buyer, *, fault: str):
    listing = resale.listing_create(seat_id=ticket.pk, seller_id=seller.pk, price="40.00")
    with faults.arm(fault), pytest.raises(faults.InjectedFault):
        resale.listing_buy(listing_id=listing.id, buyer_id=buyer.pk)
    assert ResaleListing.objects.using("orders").get(pk=listing.id).status == "SELLING"
    return listing.id


def test_crash_right_after_the_claim_releases_the_listing_with_no_money_moved(ticket, owner, friend):
    listing_id = _crashed_sale(ticket, owner, friend, fault="resale.after_claim")
    report = resale.resale_recover(older_than_seconds=0)
    assert (report.examined, report.undone, report.errors) == (1, 1, [])
    after = ResaleListing.objects.using("orders").get(pk=listing_id)
    assert (after.status, after.buyer_id, after.sale_attempt_id) == ("ACTIVE", None, None)
    assert seat_row(ticket.pk)["status"] == "LISTED"
    assert (balance(owner), balance(friend)) == (Decimal("50.00"), Decimal("100.00"))
    assert_invariants()
    # The listing is for sale again and a later attempt succeeds.
    assert resale.listing_buy(listing_id=listing_id, buyer_id=friend.pk).status == "SOLD"
    assert_invariants()


@pytest.mark.parametrize("fault", ["resale.after_payment", "resale.after_ownership"])
def test_crash_after_payment_is_finished_by_recovery(ticket, owner, friend, fault):
    listing_id = _crashed_sale(ticket, owner, friend, fault=fault)
    report = resale.resale_recover(older_than_seconds=0)
    assert (report.finished, report.errors) == (1, [])
    after = ResaleListing.objects.using("orders").get(pk=listing_id)
    assert (after.status, after.step) == ("SOLD", "DONE")
    assert seat_row(ticket.pk)["owner_id"] == friend.pk
    assert (balance(owner), balance(friend)) == (Decimal("88.00"), Decimal("60.00"))
    assert_invariants()
    assert resale.resale_recover(older_than_seconds=0).examined == 0


def test_interrupted_withdrawal_is_finished_by_recovery(ticket, owner):
    listing = resale.listing_create(seat_id=ticket.pk, seller_id=owner.pk, price="40.00")
    # The worker died after marking WITHDRAWN and before the ticket went back to SOLD.
    ResaleListing.objects.using("orders").filter(pk=listing.id).update(status="WITHDRAWN", step="NONE")
    assert resale.resale_recover(older_than_seconds=0).finished == 1
    assert seat_row(ticket.pk)["status"] == "SOLD"
    assert ResaleListing.objects.using("orders").get(pk=listing.id).step == "DONE"
    assert_invariants()


# --- Both flows: a payment whose step was not recorded, a ticket gone before recovery --------------------------------


@dataclass(frozen=True)
class CrashedFlow:
    crash: Callable  # (ticket, owner, friend, *, fault) -> the flow's id, once the fault hit
    model: type
    recover: Callable
    fixtures: tuple[str, ...]
    fault: str
    moved_fault: str  # right after the ticket changed hands
    paid_step: str  # the step recorded before the ticket changes hands
    finished_status: str
    finished_balances: tuple[str, str]  # (owner, friend) once recovery finished it
    undone: dict[str, str]  # the row's fields once recovery undid it


FLOWS = {
    "transfer": CrashedFlow(
        crash=_completing_transfer,
        model=Transfer,
        recover=transfer.transfer_recover,
        fixtures=("no_platform_fee",),
        fault="transfer.after_payment",
        moved_fault="transfer.after_ownership",
        paid_step="PAID",
        finished_status="COMPLETED",
        finished_balances=("80.00", "70.00"),
        undone={"status": "FAILED", "step": "COMPENSATED", "failure_code": "TICKET_NOT_TRANSFERABLE"},
    ),
    "resale": CrashedFlow(
        crash=_crashed_sale,
        model=ResaleListing,
        recover=resale.resale_recover,
        fixtures=(),
        fault="resale.after_payment",
        moved_fault="resale.after_ownership",
        paid_step="SELLER_CREDITED",
        finished_status="SOLD",
        finished_balances=("88.00", "60.00"),
        undone={"status": "CANCELLED", "step": "COMPENSATED"},
    ),
}


def crashed_before_its_record(request, flow: CrashedFlow, ticket, owner, friend, *, fault: str, step: str):
    """The flow's id once its worker died right after the step ``fault`` follows committed, before it wrote that
    step: the row still says ``step``."""
    for name in flow.fixtures:
        request.getfixturevalue(name)
    flow_id = flow.crash(ticket, owner, friend, fault=fault)
    flow.model.objects.using("orders").filter(pk=flow_id).update(step=step)
    return flow_id


@pytest.mark.parametrize("flow", FLOWS.values(), ids=FLOWS.keys())
def test_a_payment_whose_step_was_not_recorded_is_finished_without_paying_twice(request, ticket, owner, friend, flow):
    flow_id = crashed_before_its_record(request, flow, ticket, owner, friend, fault=flow.fault, step="NONE")
    flow.recover(older_than_seconds=0)
    assert flow.model.objects.using("orders").get(pk=flow_id).status == flow.finished_status
    assert (balance(owner), balance(friend)) == tuple(Decimal(amount) for amount in flow.finished_balances)
    assert_invariants()


@pytest.mark.parametrize("flow", FLOWS.values(), ids=FLOWS.keys())
def test_a_move_whose_step_was_not_recorded_is_finished_though_the_new_owner_was_admitted(
    request, ticket, owner, friend, flow
):
    """The new owner's codes work from the moment the ticket changed hands, so they may be admitted before recovery
    comes: the flow is finished as done, never undone (the ticket was used) nor left half-way."""
    flow_id = crashed_before_its_record(
        request, flow, ticket, owner, friend, fault=flow.moved_fault, step=flow.paid_step
    )
    # Meanwhile the gate admitted the new owner.
    type(ticket).objects.using("seats").filter(pk=ticket.pk).update(status="CHECKED_IN", checked_in_at=timezone.now())

    report = flow.recover(older_than_seconds=0)

    assert (report.finished, report.undone, report.errors) == (1, 0, [])
    after = flow.model.objects.using("orders").get(pk=flow_id)
    assert (after.status, after.step) == (flow.finished_status, "DONE")
    assert (seat_row(ticket.pk)["owner_id"], seat_row(ticket.pk)["status"]) == (friend.pk, "CHECKED_IN")
    assert (balance(owner), balance(friend)) == tuple(Decimal(amount) for amount in flow.finished_balances)
    assert_invariants()


@pytest.mark.parametrize("flow", FLOWS.values(), ids=FLOWS.keys())
def test_a_paid_flow_whose_ticket_was_refunded_meanwhile_is_undone_by_recovery(ticket, owner, friend, flow):
    flow_id = flow.crash(ticket, owner, friend, fault=flow.fault)
    type(ticket).objects.using("seats").filter(pk=ticket.pk).update(status="AVAILABLE", owner_id=None, order_id=None)
    report = flow.recover(older_than_seconds=0)
    assert (report.undone, report.errors) == (1, [])
    after = flow.model.objects.using("orders").get(pk=flow_id)
    assert {name: getattr(after, name) for name in flow.undone} == flow.undone
    assert (balance(owner), balance(friend)) == (Decimal("50.00"), Decimal("100.00"))
