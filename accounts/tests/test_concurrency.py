"""Balance changes under real concurrency: real threads, each on its own database connection."""

from __future__ import annotations

import functools
from decimal import Decimal

import pytest

from accounts import selectors, services
from accounts.contract import InsufficientCredits
from accounts.models import LedgerEntry, User
from accounts.tests.factories import UserFactory
from core.testing import race

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(databases=["default"], transaction=True)]


def run_threads(target, count: int) -> list:
    """``target(0)`` ... ``target(count - 1)`` at the same instant; each one's result or exception."""
    return race(*(functools.partial(target, index) for index in range(count)))


def test_ten_concurrent_debits_never_overdraw_and_match_the_ledger():
    user = UserFactory(credits="35.00")

    def debit(index: int):
        return services.credits_debit(
            user_id=user.pk, amount=Decimal("10.00"), kind=LedgerEntry.Kind.PURCHASE, reference=f"order-{index}"
        )

    results = run_threads(debit, 10)
    successes = [r for r in results if isinstance(r, Decimal)]
    refusals = [r for r in results if isinstance(r, InsufficientCredits)]
    assert len(successes) == 3 and len(refusals) == 7, results
    balance = User.objects.get(pk=user.pk).credit_balance
    assert balance == Decimal("5.00")
    assert balance == selectors.ledger_sum(user_id=user.pk)
    assert sorted(successes) == [Decimal("5.00"), Decimal("15.00"), Decimal("25.00")]


def test_the_same_debit_sent_ten_times_at_once_charges_once():
    user = UserFactory(credits="100.00")

    def debit(_index: int):
        return services.credits_debit(
            user_id=user.pk, amount=Decimal("30.00"), kind=LedgerEntry.Kind.PURCHASE, reference="order-same"
        )

    results = run_threads(debit, 10)
    assert all(r == Decimal("70.00") for r in results), results
    assert LedgerEntry.objects.filter(reference="order-same").count() == 1
    assert selectors.ledger_sum(user_id=user.pk) == Decimal("70.00")


def test_opposite_moves_between_two_users_do_not_deadlock():
    alice, bob = UserFactory(credits="1000.00"), UserFactory(credits="1000.00")

    def move(index: int):
        payer, payee = (alice, bob) if index % 2 else (bob, alice)
        for round_ in range(5):
            services.credits_move(
                payer_id=payer.pk,
                payee_id=payee.pk,
                amount=Decimal("1.00"),
                reference=f"t-{index}-{round_}",
                debit_kind=LedgerEntry.Kind.TRANSFER_DEBIT,
                credit_kind=LedgerEntry.Kind.TRANSFER_CREDIT,
            )
        return "ok"

    results = run_threads(move, 10)
    assert results == ["ok"] * 10, results
    total = sum(User.objects.filter(pk__in=[alice.pk, bob.pk]).values_list("credit_balance", flat=True))
    assert total == Decimal("2000.00")
    for user in (alice, bob):
        assert User.objects.get(pk=user.pk).credit_balance == selectors.ledger_sum(user_id=user.pk)
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.TRANSFER_DEBIT).count() == 50
