"""The invariant checker's money-by-card facts: credits only from succeeded payments (or flows and staff
adjustments), card refunds within what their payment brought in, and each refund's ledger rows."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.test import Client

from accounts import services
from accounts.models import CardRefund, LedgerEntry, TopUp, User
from accounts.tests.conftest import stripe_standin  # noqa: F401 - the fixture
from accounts.tests.factories import UserFactory
from accounts.tests.stripe_standin import event_body, signature_header
from core.databases import ALL_DATABASES
from ops import invariants


def _checks() -> set[str]:
    return {violation.check for violation in invariants.check_all().violations}


def _paid(standin, user, amount: str) -> TopUp:
    topup = TopUp.objects.get(pk=services.topup_start(user_id=user.pk, amount=amount).topup.id)
    body = event_body("checkout.session.completed", standin.pay(topup.provider_reference))
    Client().post(
        "/api/v1/payments/stripe/webhook/",
        data=body,
        content_type="application/json",
        headers={"Stripe-Signature": signature_header(body, standin.secret)},
    )
    topup.refresh_from_db()
    return topup


@pytest.mark.django_db(databases=ALL_DATABASES)
class TestCardInvariants:
    def test_paid_top_ups_and_refunds_to_card_pass(self, stripe_standin):  # noqa: F811
        buyer = UserFactory(credits="10.00")
        _paid(stripe_standin, buyer, "30.00")
        services.card_refund_request(user_id=buyer.pk, amount="12.00", request_reference="ok")
        stripe_standin.refuse_refunds = True
        with pytest.raises(services.refunds.ProviderRefused):
            services.card_refund_request(user_id=buyer.pk, amount="5.00", request_reference="refused")
        assert invariants.check_all().ok, invariants.check_all().as_dict()

    def test_credits_from_nothing_are_reported(self):
        buyer = UserFactory()
        services.credits_credit(user_id=buyer.pk, amount=Decimal("50.00"), kind="TOPUP", reference="minted")
        assert "CREDITS_WITHOUT_PAYMENT" in _checks()

    def test_a_succeeded_payment_never_credited_is_reported(self, stripe_standin):  # noqa: F811
        buyer = UserFactory()
        topup = _paid(stripe_standin, buyer, "30.00")
        LedgerEntry.objects.filter(reference=topup.provider_reference).delete()
        User.objects.filter(pk=buyer.pk).update(credit_balance=0)
        assert _checks() == {"PAYMENT_NOT_CREDITED"}

    def test_refunds_beyond_the_payment_are_reported(self, stripe_standin):  # noqa: F811
        buyer = UserFactory()
        topup = _paid(stripe_standin, buyer, "30.00")
        CardRefund.objects.create(user=buyer, topup=topup, amount=Decimal("31.00"), request_reference="x")
        assert {"CARD_REFUND_EXCEEDS_PAYMENT", "CARD_REFUND_LEDGER_MISMATCH"} <= _checks()

    def test_a_refund_ledger_row_of_no_refund_is_reported(self, stripe_standin):  # noqa: F811
        buyer = UserFactory(credits="10.00")
        services.credits_debit(
            user_id=buyer.pk, amount=Decimal("5.00"), kind="CARD_REFUND", reference=str(uuid.uuid4())
        )
        assert "CARD_REFUND_LEDGER_MISMATCH" in _checks()
