"""Transfer state machine: every transition, and every refused one, through the services."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connections
from django.utils import timezone

from accounts import services as account_services
from accounts.contract import InsufficientCredits, OtpInvalid
from accounts.tests.factories import MembershipFactory, StaffFactory
from core import config
from core.databases import ALL_DATABASES
from core.errors import DomainError, InvalidInput, NotFound
from orders import contract
from orders.models import Order, Transfer
from orders.services import transfer as svc
from orders.tests.factories import ResaleListingFactory, TransferFactory, sold_ticket
from orders.tests.helpers import (
    accepted,
    assert_invariants,
    balance,
    code_for,
    confirm_both,
    ledger_kinds,
    offer,
    seat_row,
)

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


@pytest.fixture(autouse=True)
def _no_platform_fee():
    """These tests follow the credits of the state machine; the platform fee has its own (test_transfer_pricing.py)."""
    config.set_value("platform_fee_percent", Decimal("0"))


# --- Offer ------------------------------------------------------------------------------------------------------------


def test_owner_offers_a_sold_ticket_by_email_with_configured_expiry(ticket, owner, friend):
    config.set_value("transfer_expiry_hours", 6)
    before = timezone.now()
    info = offer(ticket, owner, friend, price="12.50")
    assert info.status == "OFFERED"
    assert info.to_user_id == friend.pk and info.from_user_id == owner.pk
    assert info.price == Decimal("12.50")
    assert info.organization_id == ticket.setup.event.organization_id
    assert before + dt.timedelta(hours=6) <= info.expires_at <= timezone.now() + dt.timedelta(hours=6)


def test_recipient_email_is_matched_case_insensitively(ticket, owner, friend):
    info = svc.transfer_offer(seat_id=ticket.pk, from_user_id=owner.pk, to_email="  FRIEND@Example.com ")
    assert info.to_user_id == friend.pk


def test_self_transfer_is_refused(ticket, owner):
    with pytest.raises(contract.SelfTransfer) as caught:
        svc.transfer_offer(seat_id=ticket.pk, from_user_id=owner.pk, to_email=owner.email)
    assert (caught.value.code, caught.value.status) == ("SELF_TRANSFER", 400)


def test_flagged_sender_cannot_offer(ticket, owner, friend):
    type(owner).objects.filter(pk=owner.pk).update(is_flagged=True)
    with pytest.raises(contract.UserFlagged) as caught:
        offer(ticket, owner, friend)
    assert caught.value.status == 403


@pytest.mark.parametrize("email", ["", "not-an-email", "x" * 250 + "@example.com"])
def test_malformed_recipient_email_is_refused(ticket, owner, email):
    with pytest.raises(InvalidInput):
        svc.transfer_offer(seat_id=ticket.pk, from_user_id=owner.pk, to_email=email)


@pytest.mark.parametrize("price", ["-1", "1.234", "abc", "1e9", "NaN", "Infinity", True])
def test_bad_price_is_refused(ticket, owner, friend, price):
    with pytest.raises(contract.InvalidPrice):
        offer(ticket, owner, friend, price=price)


def test_someone_elses_ticket_cannot_be_offered(ticket, friend, outsider):
    with pytest.raises(NotFound):
        offer(ticket, outsider, friend)


def test_unknown_ticket_is_not_found(owner, friend):
    with pytest.raises(NotFound):
        svc.transfer_offer(seat_id=uuid.uuid4(), from_user_id=owner.pk, to_email=friend.email)


def test_checked_in_ticket_cannot_be_offered(ticket, owner, friend):
    type(ticket).objects.using("seats").filter(pk=ticket.pk).update(status="CHECKED_IN", checked_in_at=timezone.now())
    with pytest.raises(contract.TicketNotTransferable) as caught:
        offer(ticket, owner, friend)
    assert (caught.value.code, caught.value.status) == ("TICKET_NOT_TRANSFERABLE", 409)


def test_listed_ticket_cannot_be_offered(ticket, owner, friend):
    type(ticket).objects.using("seats").filter(pk=ticket.pk).update(status="LISTED")
    with pytest.raises(contract.TicketNotTransferable):
        offer(ticket, owner, friend)


def test_ticket_with_an_active_listing_cannot_be_offered(ticket, owner, friend):
    ResaleListingFactory(seat_id=ticket.pk, event_id=ticket.event_id, seller_id=owner.pk)
    with pytest.raises(contract.TicketNotTransferable):
        offer(ticket, owner, friend)


def test_ticket_being_refunded_cannot_be_offered(ticket, owner, friend):
    Order.objects.using("orders").filter(pk=ticket.order_id).update(step="REFUNDING")
    with pytest.raises(contract.TicketNotTransferable):
        offer(ticket, owner, friend)


def test_ticket_of_a_cancelled_event_cannot_be_offered(ticket, owner, friend):
    type(ticket.setup.event).objects.using("events").filter(pk=ticket.setup.event.pk).update(status="CANCELLED")
    with pytest.raises(contract.TicketNotTransferable):
        offer(ticket, owner, friend)


def test_second_offer_of_the_same_ticket_is_a_409(ticket, owner, friend, outsider):
    offer(ticket, owner, friend)
    with pytest.raises(contract.TransferActive) as caught:
        offer(ticket, owner, outsider)
    assert (caught.value.code, caught.value.status) == ("TRANSFER_ACTIVE", 409)


def test_database_index_turns_a_concurrent_duplicate_into_transfer_active(ticket, owner, friend, outsider):
    # A row written by a concurrent request that passed every check: only the partial unique index stops this one.
    TransferFactory(seat_id=ticket.pk, event_id=ticket.event_id, from_user_id=owner.pk, to_user_id=outsider.pk)
    with pytest.raises(contract.TransferActive):
        offer(ticket, owner, friend)


def test_ticket_can_be_offered_again_after_a_cancel(ticket, owner, friend, outsider):
    first = offer(ticket, owner, friend)
    svc.transfer_cancel(transfer_id=first.id, user_id=owner.pk)
    assert offer(ticket, owner, outsider).status == "OFFERED"


# --- Accept, decline, cancel ------------------------------------------------------------------------------------------


def test_recipient_accepts_and_both_parties_are_emailed_a_code(
    ticket, owner, friend, django_capture_on_commit_callbacks
):
    info = offer(ticket, owner, friend)
    with django_capture_on_commit_callbacks(execute=True, using="default"):
        accepted_info = svc.transfer_accept(transfer_id=info.id, user_id=friend.pk)
    assert accepted_info.status == "ACCEPTED" and accepted_info.accepted_at is not None
    assert sorted(message.to[0] for message in mail.outbox) == [friend.email, owner.email]


def test_sender_cannot_accept_their_own_offer(ticket, owner, friend):
    info = offer(ticket, owner, friend)
    with pytest.raises(contract.TransferActionForbidden):
        svc.transfer_accept(transfer_id=info.id, user_id=owner.pk)


def test_outsider_cannot_see_or_act_on_a_transfer(ticket, owner, friend, outsider):
    info = offer(ticket, owner, friend)
    with pytest.raises(NotFound):
        svc.transfer_get(transfer_id=info.id, user_id=outsider.pk)
    for action in (svc.transfer_accept, svc.transfer_decline, svc.transfer_cancel, svc.transfer_send_code):
        with pytest.raises(NotFound):
            action(transfer_id=info.id, user_id=outsider.pk)
    with pytest.raises(NotFound):
        svc.transfer_confirm(transfer_id=info.id, user_id=outsider.pk, code="123456")
    assert Transfer.objects.using("orders").get(pk=info.id).status == "OFFERED"


def test_flagged_recipient_cannot_accept(ticket, owner, friend):
    info = offer(ticket, owner, friend)
    type(friend).objects.filter(pk=friend.pk).update(is_flagged=True)
    with pytest.raises(contract.UserFlagged):
        svc.transfer_accept(transfer_id=info.id, user_id=friend.pk)


def test_accepting_twice_is_refused(ticket, owner, friend):
    info = accepted(ticket, owner, friend)
    with pytest.raises(contract.TransferStateInvalid):
        svc.transfer_accept(transfer_id=info.id, user_id=friend.pk)


# Ending an open offer: the recipient declines it, the owner cancels it; the other party may do neither.
ENDINGS = {
    "decline": (svc.transfer_decline, "friend", "owner", "DECLINED"),
    "cancel": (svc.transfer_cancel, "owner", "friend", "CANCELLED"),
}


@pytest.mark.parametrize("first_accept", [False, True])
@pytest.mark.parametrize("ending", ENDINGS.values(), ids=ENDINGS.keys())
def test_the_right_party_ends_an_open_offer(ticket, owner, friend, first_accept, ending):
    end, party, _other, status = ending
    people = {"owner": owner, "friend": friend}
    info = accepted(ticket, owner, friend) if first_accept else offer(ticket, owner, friend)
    assert end(transfer_id=info.id, user_id=people[party].pk).status == status
    with pytest.raises(contract.TransferStateInvalid):
        svc.transfer_accept(transfer_id=info.id, user_id=friend.pk)


@pytest.mark.parametrize("ending", ENDINGS.values(), ids=ENDINGS.keys())
def test_the_other_party_cannot_end_an_offer(ticket, owner, friend, ending):
    end, _party, other, _status = ending
    info = offer(ticket, owner, friend)
    with pytest.raises(contract.TransferActionForbidden):
        end(transfer_id=info.id, user_id={"owner": owner, "friend": friend}[other].pk)


def test_completed_transfer_cannot_be_cancelled_or_declined(ticket, owner, friend):
    info = confirm_both(accepted(ticket, owner, friend), owner, friend)
    assert info.status == "COMPLETED"
    with pytest.raises(contract.TransferStateInvalid):
        svc.transfer_cancel(transfer_id=info.id, user_id=owner.pk)
    with pytest.raises(contract.TransferStateInvalid):
        svc.transfer_decline(transfer_id=info.id, user_id=friend.pk)


# --- Expiry -----------------------------------------------------------------------------------------------------------


def _expire(info):
    Transfer.objects.using("orders").filter(pk=info.id).update(expires_at=timezone.now() - dt.timedelta(seconds=1))


def test_offer_past_its_expiry_reads_as_expired(ticket, owner, friend):
    info = offer(ticket, owner, friend)
    _expire(info)
    assert svc.transfer_get(transfer_id=info.id, user_id=owner.pk).status == "EXPIRED"
    assert Transfer.objects.using("orders").get(pk=info.id).status == "EXPIRED"


def test_accepting_an_expired_offer_is_refused_and_records_the_expiry(ticket, owner, friend):
    info = offer(ticket, owner, friend)
    _expire(info)
    with pytest.raises(contract.TransferExpired) as caught:
        svc.transfer_accept(transfer_id=info.id, user_id=friend.pk)
    assert caught.value.status == 409
    assert Transfer.objects.using("orders").get(pk=info.id).status == "EXPIRED"


def test_confirming_an_expired_accepted_transfer_is_refused(ticket, owner, friend):
    info = accepted(ticket, owner, friend)
    code = code_for(friend, purpose="TRANSFER_RECIPIENT", transfer_id=info.id)
    _expire(info)
    with pytest.raises(contract.TransferExpired):
        svc.transfer_confirm(transfer_id=info.id, user_id=friend.pk, code=code)
    assert seat_row(ticket.pk)["owner_id"] == owner.pk


def test_expired_offer_frees_the_ticket_for_a_new_offer(ticket, owner, friend, outsider):
    _expire(offer(ticket, owner, friend))
    assert offer(ticket, owner, outsider).status == "OFFERED"


# --- Codes and completion ---------------------------------------------------------------------------------------------


def test_confirming_before_acceptance_is_refused(ticket, owner, friend):
    info = offer(ticket, owner, friend)
    with pytest.raises(contract.TransferStateInvalid):
        svc.transfer_confirm(transfer_id=info.id, user_id=owner.pk, code="123456")
    with pytest.raises(contract.TransferStateInvalid):
        svc.transfer_send_code(transfer_id=info.id, user_id=owner.pk)


def test_wrong_code_does_not_confirm(ticket, owner, friend):
    info = accepted(ticket, owner, friend)
    right = code_for(owner, purpose="TRANSFER_SENDER", transfer_id=info.id)
    wrong = "000000" if right != "000000" else "111111"
    with pytest.raises(OtpInvalid):
        svc.transfer_confirm(transfer_id=info.id, user_id=owner.pk, code=wrong)
    assert Transfer.objects.using("orders").get(pk=info.id).sender_confirmed_at is None


def test_a_code_for_one_transfer_never_confirms_another(owner, friend):
    setup_ticket = sold_ticket(owner)
    other_ticket = sold_ticket(owner, setup=setup_ticket.setup, seat_index=1)
    first = accepted(setup_ticket, owner, friend)
    second = accepted(other_ticket, owner, friend)
    code_for(owner, purpose="TRANSFER_SENDER", transfer_id=second.id)
    code_of_first = code_for(owner, purpose="TRANSFER_SENDER", transfer_id=first.id)
    with pytest.raises(OtpInvalid):
        svc.transfer_confirm(transfer_id=second.id, user_id=owner.pk, code=code_of_first)
    assert Transfer.objects.using("orders").get(pk=second.id).sender_confirmed_at is None


def test_the_senders_code_does_not_stand_in_for_the_recipients(ticket, owner, friend):
    info = accepted(ticket, owner, friend)
    sender_code = code_for(owner, purpose="TRANSFER_SENDER", transfer_id=info.id)
    with pytest.raises(OtpInvalid):
        svc.transfer_confirm(transfer_id=info.id, user_id=friend.pk, code=sender_code)


def test_empty_code_is_a_validation_error(ticket, owner, friend):
    info = accepted(ticket, owner, friend)
    with pytest.raises(InvalidInput):
        svc.transfer_confirm(transfer_id=info.id, user_id=owner.pk, code="  ")


def test_one_confirmation_waits_for_the_other(ticket, owner, friend):
    info = accepted(ticket, owner, friend)
    after = svc.transfer_confirm(
        transfer_id=info.id, user_id=friend.pk, code=code_for(friend, purpose="TRANSFER_RECIPIENT", transfer_id=info.id)
    )
    assert after.status == "ACCEPTED" and after.recipient_confirmed_at and not after.sender_confirmed_at
    assert seat_row(ticket.pk)["owner_id"] == owner.pk
    with pytest.raises(contract.TransferStateInvalid):
        svc.transfer_send_code(transfer_id=info.id, user_id=friend.pk)


def test_paid_transfer_completes_moving_credits_ownership_and_qr(ticket, owner, friend):
    qr_before = seat_row(ticket.pk)["qr_version"]
    info = confirm_both(accepted(ticket, owner, friend, price="30.00"), owner, friend)
    assert (info.status, info.step) == ("COMPLETED", "DONE") and info.completed_at
    row = seat_row(ticket.pk)
    assert row["owner_id"] == friend.pk and row["status"] == "SOLD" and row["qr_version"] > qr_before
    assert balance(friend) == Decimal("70.00")
    assert balance(owner) == Decimal("80.00")  # 100 - 50 purchase + 30
    assert ledger_kinds(info.id) == {"TRANSFER_DEBIT": Decimal("-30.00"), "TRANSFER_CREDIT": Decimal("30.00")}
    assert_invariants()


def test_free_transfer_completes_without_moving_credits(ticket, owner, friend):
    info = confirm_both(accepted(ticket, owner, friend), owner, friend)
    assert info.status == "COMPLETED"
    assert seat_row(ticket.pk)["owner_id"] == friend.pk
    assert ledger_kinds(info.id) == {}
    assert_invariants()


def test_recipient_without_enough_credits_cannot_confirm_and_the_transfer_stays_open(ticket, owner, friend):
    account_services.credits_debit(user_id=friend.pk, amount=Decimal("80.00"), kind="PURCHASE", reference="spent")
    info = accepted(ticket, owner, friend, price="40.00")
    with pytest.raises(InsufficientCredits) as caught:
        confirm_both(info, owner, friend)
    assert caught.value.status == 402
    assert Transfer.objects.using("orders").get(pk=info.id).status == "ACCEPTED"
    assert seat_row(ticket.pk)["owner_id"] == owner.pk


def test_new_owner_can_pass_the_ticket_on(ticket, owner, friend, outsider):
    confirm_both(accepted(ticket, owner, friend), owner, friend)
    onward = svc.transfer_offer(seat_id=ticket.pk, from_user_id=friend.pk, to_email=outsider.email)
    assert onward.status == "OFFERED"
    with pytest.raises(NotFound):
        offer(ticket, owner, outsider)  # the former owner no longer has it


def test_listing_views_show_incoming_and_outgoing(ticket, owner, friend):
    info = offer(ticket, owner, friend)
    assert [t.id for t in svc.transfers_for_user(user_id=friend.pk, direction="incoming")] == [info.id]
    assert svc.transfers_for_user(user_id=friend.pk, direction="outgoing") == []
    assert [t.id for t in svc.transfers_for_user(user_id=owner.pk, direction="outgoing")] == [info.id]
    with pytest.raises(InvalidInput):
        svc.transfers_for_user(user_id=owner.pk, direction="sideways")


# --- Disputes and reversal --------------------------------------------------------------------------------------------


@pytest.fixture
def manager(ticket):
    return MembershipFactory(organization_id=ticket.setup.event.organization_id, role="BOX_OFFICE").user


def test_staff_of_the_events_organization_dispute_and_reverse_a_transfer(ticket, owner, friend, manager):
    done = confirm_both(accepted(ticket, owner, friend, price="20.00"), owner, friend)
    qr_after_transfer = seat_row(ticket.pk)["qr_version"]
    assert svc.transfer_get(transfer_id=done.id, user_id=manager.pk).status == "COMPLETED"

    disputed = svc.transfer_dispute(transfer_id=done.id, actor_id=manager.pk, reason="Buyer says it was stolen")
    assert disputed.status == "DISPUTED" and disputed.dispute_reason == "Buyer says it was stolen"
    assert_invariants()

    reversed_ = svc.transfer_reverse(transfer_id=done.id, actor_id=manager.pk, reason="Confirmed fraud")
    assert (reversed_.status, reversed_.step) == ("REVERSED", "REVERSED")
    row = seat_row(ticket.pk)
    assert row["owner_id"] == owner.pk and row["qr_version"] > qr_after_transfer
    assert balance(friend) == Decimal("100.00") and balance(owner) == Decimal("50.00")
    assert ledger_kinds(done.id)["TRANSFER_REVERSAL_CREDIT"] == Decimal("20.00")
    assert_invariants()
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT action FROM core_auditlog WHERE object_id = %s", [str(done.id)])
        assert {action for (action,) in cursor.fetchall()} == {"transfer.dispute", "transfer.reverse"}


def test_reverse_requires_a_dispute_first(ticket, owner, friend, manager):
    done = confirm_both(accepted(ticket, owner, friend), owner, friend)
    with pytest.raises(contract.TransferStateInvalid):
        svc.transfer_reverse(transfer_id=done.id, actor_id=manager.pk, reason="x")


def test_only_a_completed_transfer_can_be_disputed(ticket, owner, friend, manager):
    info = offer(ticket, owner, friend)
    with pytest.raises(contract.TransferStateInvalid):
        svc.transfer_dispute(transfer_id=info.id, actor_id=manager.pk, reason="x")


def test_dispute_needs_a_reason(ticket, owner, friend, manager):
    done = confirm_both(accepted(ticket, owner, friend), owner, friend)
    with pytest.raises(InvalidInput):
        svc.transfer_dispute(transfer_id=done.id, actor_id=manager.pk, reason="  ")


def test_parties_staff_of_other_organizations_and_gate_staff_cannot_dispute(ticket, owner, friend):
    done = confirm_both(accepted(ticket, owner, friend), owner, friend)
    elsewhere = MembershipFactory(role="OWNER").user
    gate = MembershipFactory(organization_id=ticket.setup.event.organization_id, role="GATE").user
    events_manager = MembershipFactory(organization_id=ticket.setup.event.organization_id, role="MANAGER").user
    for actor in (owner, friend, elsewhere, gate, events_manager, StaffFactory()):
        with pytest.raises(NotFound):
            svc.transfer_dispute(transfer_id=done.id, actor_id=actor.pk, reason="x")
    with pytest.raises(NotFound):
        svc.transfer_get(transfer_id=done.id, user_id=elsewhere.pk)


def test_reversal_is_refused_without_change_when_the_ticket_was_checked_in(ticket, owner, friend, manager):
    done = confirm_both(accepted(ticket, owner, friend, price="10.00"), owner, friend)
    svc.transfer_dispute(transfer_id=done.id, actor_id=manager.pk, reason="x")
    type(ticket).objects.using("seats").filter(pk=ticket.pk).update(status="CHECKED_IN", checked_in_at=timezone.now())
    with pytest.raises(DomainError) as caught:
        svc.transfer_reverse(transfer_id=done.id, actor_id=manager.pk, reason="x")
    assert caught.value.code == "TICKET_NOT_TRANSFERABLE"
    after = Transfer.objects.using("orders").get(pk=done.id)
    assert (after.status, after.step) == ("DISPUTED", "DONE")
    assert seat_row(ticket.pk)["owner_id"] == friend.pk
    assert "TRANSFER_REVERSAL_DEBIT" not in ledger_kinds(done.id)


def test_reversal_is_refused_when_the_original_owner_spent_the_proceeds(ticket, owner, friend, manager):
    done = confirm_both(accepted(ticket, owner, friend, price="50.00"), owner, friend)
    svc.transfer_dispute(transfer_id=done.id, actor_id=manager.pk, reason="x")

    account_services.credits_debit(user_id=owner.pk, amount=Decimal("100.00"), kind="PURCHASE", reference="spent")
    with pytest.raises(InsufficientCredits):
        svc.transfer_reverse(transfer_id=done.id, actor_id=manager.pk, reason="x")
    assert Transfer.objects.using("orders").get(pk=done.id).step == "DONE"
    assert seat_row(ticket.pk)["owner_id"] == friend.pk
