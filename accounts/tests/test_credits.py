"""credits_debit / credits_credit / credits_move / credit_adjust / user_set_flag / audit_record."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts import selectors, services
from accounts.contract import InsufficientCredits, InvalidAmount, LedgerReferenceConflict, StaffOnly
from accounts.models import LedgerEntry, User
from accounts.tests.factories import MembershipFactory, StaffFactory, UserFactory
from core.audit import audit_record
from core.errors import InvalidInput, NotFound
from core.models import AuditLog

pytestmark = pytest.mark.django_db(databases=["default"])
Kind = LedgerEntry.Kind


def balance(user) -> Decimal:
    return User.objects.get(pk=user.pk).credit_balance


def assert_balance_matches_ledger(user) -> None:
    assert balance(user) == selectors.ledger_sum(user_id=user.pk)


TRANSFER_KINDS = {"debit_kind": Kind.TRANSFER_DEBIT, "credit_kind": Kind.TRANSFER_CREDIT}
RESALE_KINDS = {"debit_kind": Kind.RESALE_DEBIT, "credit_kind": Kind.RESALE_CREDIT}


def move(payer_id, payee_id, amount: str, *, reference: str, kinds: dict = TRANSFER_KINDS, **options) -> None:
    """credits_move of ``amount`` with the ledger kinds of a flow (a transfer's unless said otherwise);
    ``options``: the fee and its kind."""
    services.credits_move(
        payer_id=payer_id, payee_id=payee_id, amount=Decimal(amount), reference=reference, **kinds, **options
    )


def test_debit_takes_credits_and_writes_a_negative_ledger_row():
    user = UserFactory(credits="100.00")
    new_balance = services.credits_debit(
        user_id=user.pk, amount=Decimal("30.50"), kind=Kind.PURCHASE, reference="order-1", memo="2 seats"
    )
    assert new_balance == Decimal("69.50") == balance(user)
    entry = LedgerEntry.objects.get(kind=Kind.PURCHASE, reference="order-1")
    assert (entry.amount, entry.balance_after, entry.memo) == (Decimal("-30.50"), Decimal("69.50"), "2 seats")
    assert_balance_matches_ledger(user)


def test_debit_refuses_more_than_the_balance_and_changes_nothing():
    user = UserFactory(credits="10.00")
    with pytest.raises(InsufficientCredits) as caught:
        services.credits_debit(user_id=user.pk, amount=Decimal("10.01"), kind=Kind.PURCHASE, reference="order-2")
    assert caught.value.status == 402 and caught.value.code == "INSUFFICIENT_CREDITS"
    assert balance(user) == Decimal("10.00")
    assert not LedgerEntry.objects.filter(reference="order-2").exists()


def test_debit_of_the_whole_balance_leaves_zero():
    user = UserFactory(credits="10.00")
    assert services.credits_debit(user_id=user.pk, amount="10", kind=Kind.PURCHASE, reference="o") == Decimal("0.00")


def test_debit_is_idempotent_by_kind_and_reference():
    user = UserFactory(credits="100.00")
    services.credits_debit(user_id=user.pk, amount=Decimal("40"), kind=Kind.PURCHASE, reference="order-3")
    again = services.credits_debit(user_id=user.pk, amount=Decimal("40"), kind=Kind.PURCHASE, reference="order-3")
    assert again == Decimal("60.00") == balance(user)
    assert LedgerEntry.objects.filter(reference="order-3").count() == 1


def test_reusing_a_reference_for_another_user_or_amount_is_a_conflict():
    user, other = UserFactory(credits="100.00"), UserFactory(credits="100.00")
    services.credits_debit(user_id=user.pk, amount=Decimal("5"), kind=Kind.PURCHASE, reference="order-4")
    with pytest.raises(LedgerReferenceConflict):
        services.credits_debit(user_id=other.pk, amount=Decimal("5"), kind=Kind.PURCHASE, reference="order-4")
    with pytest.raises(LedgerReferenceConflict):
        services.credits_debit(user_id=user.pk, amount=Decimal("6"), kind=Kind.PURCHASE, reference="order-4")
    assert balance(other) == Decimal("100.00")


@pytest.mark.parametrize(
    "amount",
    [
        Decimal("0"),
        Decimal("-1"),
        Decimal("1.001"),
        Decimal("NaN"),
        Decimal("Infinity"),
        "abc",
        1.5,
        None,
        True,
        Decimal("1e12"),
    ],
)
def test_debit_rejects_bad_amounts(amount):
    user = UserFactory(credits="100.00")
    with pytest.raises(InvalidAmount):
        services.credits_debit(user_id=user.pk, amount=amount, kind=Kind.PURCHASE, reference="bad")
    assert balance(user) == Decimal("100.00")


def test_debit_rejects_unknown_kind_blank_reference_and_unknown_user():
    user = UserFactory(credits="100.00")
    with pytest.raises(InvalidInput):
        services.credits_debit(user_id=user.pk, amount=Decimal("1"), kind="GIFT", reference="r")
    with pytest.raises(InvalidInput):
        services.credits_debit(user_id=user.pk, amount=Decimal("1"), kind=Kind.PURCHASE, reference=" ")
    with pytest.raises(NotFound):
        services.credits_debit(user_id=uuid.uuid4(), amount=Decimal("1"), kind=Kind.PURCHASE, reference="r")


def test_credit_adds_and_is_idempotent():
    user = UserFactory()
    assert services.credits_credit(
        user_id=user.pk, amount="12.34", kind=Kind.PURCHASE_REFUND, reference="o"
    ) == Decimal("12.34")
    assert services.credits_credit(
        user_id=user.pk, amount="12.34", kind=Kind.PURCHASE_REFUND, reference="o"
    ) == Decimal("12.34")
    assert LedgerEntry.objects.filter(user=user).count() == 1
    assert_balance_matches_ledger(user)


def test_ledger_entry_exists_reports_movements():
    user = UserFactory(credits="5")
    assert not selectors.ledger_entry_exists(kind=Kind.PURCHASE, reference="order-x")
    services.credits_debit(user_id=user.pk, amount="1", kind=Kind.PURCHASE, reference="order-x")
    assert selectors.ledger_entry_exists(kind=Kind.PURCHASE, reference="order-x")
    assert not selectors.ledger_entry_exists(kind=Kind.PURCHASE_REFUND, reference="order-x")


def test_move_pays_the_payee_minus_the_fee_with_three_ledger_rows():
    buyer, seller = UserFactory(credits="100.00"), UserFactory(credits="1.00")
    move(
        buyer.pk,
        seller.pk,
        "50.00",
        reference="listing-1",
        kinds=RESALE_KINDS,
        fee=Decimal("2.50"),
        fee_kind=Kind.RESALE_FEE,
    )
    assert balance(buyer) == Decimal("50.00")
    assert balance(seller) == Decimal("48.50")
    kinds = set(LedgerEntry.objects.filter(reference="listing-1").values_list("kind", "amount"))
    assert kinds == {
        (Kind.RESALE_DEBIT, Decimal("-50.00")),
        (Kind.RESALE_CREDIT, Decimal("50.00")),
        (Kind.RESALE_FEE, Decimal("-2.50")),
    }
    assert_balance_matches_ledger(buyer)
    assert_balance_matches_ledger(seller)


def test_move_is_idempotent_and_zero_is_a_no_op():
    payer, payee = UserFactory(credits="10.00"), UserFactory()
    move(payer.pk, payee.pk, "4", reference="t-1")
    move(payer.pk, payee.pk, "4", reference="t-1")
    assert (balance(payer), balance(payee)) == (Decimal("6.00"), Decimal("4.00"))
    move(payer.pk, payee.pk, "0", reference="t-free")
    assert not LedgerEntry.objects.filter(reference="t-free").exists()


def test_move_refuses_insufficient_credits_without_any_row():
    payer, payee = UserFactory(credits="3.00"), UserFactory()
    with pytest.raises(InsufficientCredits):
        move(payer.pk, payee.pk, "4", reference="t-2")
    assert not LedgerEntry.objects.filter(reference="t-2").exists()
    assert balance(payee) == 0


def test_move_refuses_self_payment_bad_fee_and_missing_fee_kind():
    payer, payee = UserFactory(credits="30.00"), UserFactory()
    resale = {"reference": "t-3", "kinds": RESALE_KINDS}
    with pytest.raises(InvalidInput):
        move(payer.pk, payer.pk, "1", **resale)
    with pytest.raises(InvalidAmount):
        move(payer.pk, payee.pk, "1", fee=Decimal("2"), fee_kind=Kind.RESALE_FEE, **resale)
    with pytest.raises(InvalidInput):
        move(payer.pk, payee.pk, "5", fee=Decimal("1"), **resale)
    with pytest.raises(NotFound):
        move(payer.pk, uuid.uuid4(), "5", **resale)
    assert balance(payer) == Decimal("30.00")


def test_staff_credit_adjustment_writes_a_ledger_row_and_an_audit_entry():
    staff, user = StaffFactory(), UserFactory(credits="10.00")
    assert services.credit_adjust(actor_id=staff.pk, user_id=user.pk, amount="-4.00", reason="Duplicate refund") == (
        Decimal("6.00")
    )
    entry = LedgerEntry.objects.filter(user=user, kind=Kind.ADJUSTMENT).exclude(reference__startswith="factory-").get()
    assert entry.actor_id == staff.pk and entry.amount == Decimal("-4.00")
    audit = AuditLog.objects.get(action="credit_adjust")
    assert (audit.actor_id, audit.object_id, audit.reason) == (staff.pk, str(user.pk), "Duplicate refund")
    assert_balance_matches_ledger(user)


def test_credit_adjustment_needs_a_reason_staff_and_enough_credits():
    staff, user = StaffFactory(), UserFactory(credits="10.00")
    with pytest.raises(InvalidInput):
        services.credit_adjust(actor_id=staff.pk, user_id=user.pk, amount="5", reason="  ")
    with pytest.raises(StaffOnly):
        services.credit_adjust(actor_id=UserFactory().pk, user_id=user.pk, amount="5", reason="Gift")
    with pytest.raises(InsufficientCredits):
        services.credit_adjust(actor_id=staff.pk, user_id=user.pk, amount="-11", reason="Claw back")
    assert not AuditLog.objects.exists()
    assert balance(user) == Decimal("10.00")


def test_flagging_and_clearing_a_user_is_audited():
    staff, user = StaffFactory(), UserFactory()
    services.user_set_flag(actor_id=staff.pk, user_id=user.pk, flagged=True, reason="Chargebacks")
    assert selectors.user_get(user_id=user.pk).is_flagged
    assert User.objects.get(pk=user.pk).flag_reason == "Chargebacks"
    services.user_set_flag(actor_id=staff.pk, user_id=user.pk, flagged=False, reason="Cleared by bank")
    assert not selectors.user_get(user_id=user.pk).is_flagged
    assert list(AuditLog.objects.order_by("created_at").values_list("action", flat=True)) == [
        "user_flag",
        "user_unflag",
    ]


def test_flagging_refuses_missing_reason_non_staff_and_unknown_user():
    staff, user = StaffFactory(), UserFactory()
    with pytest.raises(InvalidInput):
        services.user_set_flag(actor_id=staff.pk, user_id=user.pk, flagged=True, reason="")
    with pytest.raises(StaffOnly):
        services.user_set_flag(actor_id=user.pk, user_id=user.pk, flagged=True, reason="x")
    with pytest.raises(NotFound):
        services.user_set_flag(actor_id=staff.pk, user_id=uuid.uuid4(), flagged=True, reason="x")
    assert not AuditLog.objects.exists()


def test_audit_record_stores_system_actions_too():
    org = uuid.uuid4()
    audit_record(
        actor_id=None,
        action="event_cancel",
        object_type="event",
        object_id=uuid.UUID(int=7),
        organization_id=org,
        reason="Storm",
        data={"orders": 3},
    )
    row = AuditLog.objects.get()
    assert (row.actor_id, row.object_id, row.organization_id, row.data) == (
        None,
        str(uuid.UUID(int=7)),
        org,
        {"orders": 3},
    )


def test_user_selectors_return_plain_dataclasses():
    user = UserFactory(email="Mixed@Example.com", full_name="Mia Mixed", credits="7.00")
    info = selectors.user_get(user_id=user.pk)
    assert (info.email, info.full_name, info.credit_balance, info.is_verified) == (
        "Mixed@Example.com",
        "Mia Mixed",
        Decimal("7.00"),
        True,
    )
    assert selectors.user_find_by_email(email="mixed@example.COM ").id == user.pk
    assert selectors.user_find_by_email(email="nobody@example.com") is None
    assert selectors.user_get_many(user_ids=[user.pk, uuid.uuid4(), "not-a-uuid"]) == {user.pk: info}
    with pytest.raises(NotFound):
        selectors.user_get(user_id=uuid.uuid4())
    with pytest.raises(NotFound):
        selectors.user_get(user_id="not-a-uuid")


def test_user_profile_lists_every_preference_and_the_phone():
    user = UserFactory(full_name="Pat Prefs", phone="+44 20 7946 0000", preferences={"aisle_seat": True, "old": 1})
    profile = selectors.user_profile(user_id=user.pk)
    assert (profile.full_name, profile.phone, profile.credit_balance) == ("Pat Prefs", "+44 20 7946 0000", Decimal("0"))
    assert profile.preferences == {
        "newsletter": False,
        "accessible_seating": False,
        "aisle_seat": True,
        "essential_emails_only": False,
    }
    with pytest.raises(NotFound):
        selectors.user_profile(user_id=uuid.uuid4())


def test_memberships_for_user_maps_organization_to_role():
    membership = MembershipFactory(role="GATE")
    assert selectors.memberships_for_user(user_id=membership.user_id) == {membership.organization_id: "GATE"}
    assert selectors.memberships_for_user(user_id=UserFactory().pk) == {}


def test_a_debit_is_one_statement_guarded_update_and_ledger_insert_together():
    user = UserFactory(credits="50.00")
    with CaptureQueriesContext(connection) as captured:
        services.credits_debit(user_id=user.pk, amount=Decimal("20"), kind=Kind.PURCHASE, reference="order-fast")
    # The test's own transaction turns the service's atomic block into a savepoint; those are not statements of it.
    statements = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 1
    assert statements[0].startswith("WITH timeout AS MATERIALIZED (SELECT set_config('lock_timeout'")
    assert "UPDATE accounts_user" in statements[0] and "INSERT INTO accounts_ledgerentry" in statements[0]
    assert balance(user) == Decimal("30.00")
    assert_balance_matches_ledger(user)


@pytest.mark.django_db(databases=["default"], transaction=True)
def test_a_debit_waiting_on_a_locked_user_row_gives_up_after_the_lock_timeout(monkeypatch):
    import threading

    from django.db import connections, transaction

    from accounts.contract import CreditsBusy
    from accounts.services import money

    user = UserFactory(credits="50.00")
    locked, done = threading.Event(), threading.Event()

    def hold_the_row() -> None:
        try:
            with transaction.atomic():
                User.objects.select_for_update().get(pk=user.pk)
                locked.set()
                done.wait(10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    try:
        assert locked.wait(10)
        monkeypatch.setattr(money, "_LOCK_TIMEOUT", "200ms")
        with pytest.raises(CreditsBusy):
            services.credits_debit(user_id=user.pk, amount=Decimal("20"), kind=Kind.PURCHASE, reference="busy-1")
    finally:
        done.set()
        holder.join()
    assert balance(user) == Decimal("50.00")
    assert not LedgerEntry.objects.filter(reference="busy-1").exists()
    services.credits_debit(user_id=user.pk, amount=Decimal("20"), kind=Kind.PURCHASE, reference="busy-1")
    assert balance(user) == Decimal("30.00")
    assert_balance_matches_ledger(user)


def test_a_replayed_debit_returns_the_balance_even_after_it_was_spent_elsewhere():
    user = UserFactory(credits="50.00")
    services.credits_debit(user_id=user.pk, amount=Decimal("30"), kind=Kind.PURCHASE, reference="order-r1")
    services.credits_debit(user_id=user.pk, amount=Decimal("15"), kind=Kind.PURCHASE, reference="order-r2")
    # 5.00 left: a new 30.00 debit would be refused, the replay of the first one is not charged and not refused.
    assert services.credits_debit(
        user_id=user.pk, amount=Decimal("30"), kind=Kind.PURCHASE, reference="order-r1"
    ) == Decimal("5.00")
    assert LedgerEntry.objects.filter(reference="order-r1").count() == 1
    assert_balance_matches_ledger(user)


def test_a_replayed_credit_leaves_the_balance_and_the_ledger_unchanged():
    user = UserFactory()
    assert services.credits_credit(user_id=user.pk, amount="25", kind=Kind.TOPUP, reference="top-1") == Decimal("25.00")
    assert services.credits_credit(user_id=user.pk, amount="25", kind=Kind.TOPUP, reference="top-1") == Decimal("25.00")
    assert balance(user) == Decimal("25.00")
    assert LedgerEntry.objects.filter(reference="top-1").count() == 1
    with pytest.raises(LedgerReferenceConflict):
        services.credits_credit(user_id=user.pk, amount="26", kind=Kind.TOPUP, reference="top-1")
    assert balance(user) == Decimal("25.00")


def test_a_credit_past_the_largest_balance_is_refused_and_changes_nothing():
    user = UserFactory(credits="99999990.00")
    with pytest.raises(InvalidAmount):
        services.credits_credit(user_id=user.pk, amount="10.00", kind=Kind.TOPUP, reference="top-big")
    assert balance(user) == Decimal("99999990.00")
    assert not LedgerEntry.objects.filter(reference="top-big").exists()
    assert services.credits_credit(user_id=user.pk, amount="9.99", kind=Kind.TOPUP, reference="top-fits") == Decimal(
        "99999999.99"
    )
