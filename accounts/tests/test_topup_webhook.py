"""Top-ups through the payment provider and the signed webhook that confirms them."""

from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounts import payments, selectors, services
from accounts.contract import InvalidAmount, TopUpInfo, TopUpLimitExceeded
from accounts.models import LedgerEntry, TopUp, User
from accounts.tests.factories import UserFactory
from core import config
from core.testing import race

WEBHOOK = "/api/v1/payments/webhook/"


def signed_post(client: Client, body: bytes, *, timestamp: int | None = None, signature: str | None = None):
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = payments.sign(body, timestamp) if signature is None else signature
    return client.post(
        WEBHOOK,
        data=body,
        content_type="application/json",
        headers={"X-Signature": signature, "X-Timestamp": str(timestamp)},
    )


def event(topup: TopUp | TopUpInfo, *, succeeded: bool = True, amount: str | None = None) -> bytes:
    return payments.build_event(
        provider_reference=topup.provider_reference, amount=amount or str(topup.amount), succeeded=succeeded
    )


@pytest.mark.django_db(databases=["default"])
class TestTopUpStart:
    def test_start_records_a_pending_top_up_with_a_pay_url(self):
        user = UserFactory()
        started = services.topup_start(user_id=user.pk, amount="25.00")
        assert started.topup.status == "PENDING" and started.topup.amount == Decimal("25.00")
        assert started.pay_url == reverse("accounts:test-pay", args=[started.topup.provider_reference])
        assert User.objects.get(pk=user.pk).credit_balance == 0  # nothing until the provider confirms

    @pytest.mark.parametrize("amount", ["0", "-5", "1.234", "NaN", "inf", "", "ten", "1e400"])
    def test_start_rejects_bad_amounts(self, amount):
        user = UserFactory()
        with pytest.raises(InvalidAmount):
            services.topup_start(user_id=user.pk, amount=amount)
        assert not TopUp.objects.exists()

    def test_start_refuses_more_than_the_configured_maximum(self):
        config.set_value("max_topup_amount", "100")
        user = UserFactory()
        with pytest.raises(TopUpLimitExceeded):
            services.topup_start(user_id=user.pk, amount="100.01")
        assert services.topup_start(user_id=user.pk, amount="100.00").topup.amount == Decimal("100.00")


@pytest.mark.django_db(databases=["default"])
class TestWebhook:
    def test_signed_success_credits_the_top_up_once(self, client):
        user = UserFactory(credits="5.00")
        topup = services.topup_start(user_id=user.pk, amount="20.00").topup
        response = signed_post(client, event(topup))
        assert response.status_code == 200, response.content
        assert response.json() == {"status": "processed", "topup_status": "SUCCEEDED"}
        assert User.objects.get(pk=user.pk).credit_balance == Decimal("25.00")
        entry = LedgerEntry.objects.get(kind="TOPUP", reference=topup.provider_reference)
        assert entry.amount == Decimal("20.00")
        assert TopUp.objects.get(pk=topup.id).completed_at is not None

    def test_replayed_delivery_changes_nothing(self, client):
        user = UserFactory()
        topup = services.topup_start(user_id=user.pk, amount="20.00").topup
        body, stamp = event(topup), int(time.time())
        assert signed_post(client, body, timestamp=stamp).json()["status"] == "processed"
        replay = signed_post(client, body, timestamp=stamp)
        assert replay.status_code == 200 and replay.json()["status"] == "already_processed"
        # A fresh event for the same payment (a provider retry) does not credit again either.
        assert signed_post(client, event(topup)).json()["status"] == "already_processed"
        assert User.objects.get(pk=user.pk).credit_balance == Decimal("20.00")
        assert LedgerEntry.objects.filter(kind="TOPUP").count() == 1

    def test_bad_signature_is_refused_and_credits_nothing(self, client):
        user = UserFactory()
        topup = services.topup_start(user_id=user.pk, amount="20.00").topup
        body = event(topup)
        forged = payments.sign(body, int(time.time()), secret="not-the-secret")
        response = signed_post(client, body, signature=forged)
        assert response.status_code == 400 and response.json()["code"] == "WEBHOOK_SIGNATURE_INVALID"
        # A valid signature of another body does not carry over to a tampered body.
        tampered = body.replace(b"20.00", b"2000.00")
        stamp = int(time.time())
        response = signed_post(client, tampered, timestamp=stamp, signature=payments.sign(body, stamp))
        assert response.json()["code"] == "WEBHOOK_SIGNATURE_INVALID"
        assert User.objects.get(pk=user.pk).credit_balance == 0
        assert TopUp.objects.get(pk=topup.id).status == "PENDING"

    def test_missing_headers_are_refused(self, client):
        response = client.post(WEBHOOK, data=b"{}", content_type="application/json")
        assert response.status_code == 400 and response.json()["code"] == "WEBHOOK_SIGNATURE_INVALID"
        response = client.post(
            WEBHOOK, data=b"{}", content_type="application/json", headers={"X-Signature": "x", "X-Timestamp": "soon"}
        )
        assert response.json()["code"] == "WEBHOOK_SIGNATURE_INVALID"

    def test_stale_timestamp_is_refused_even_with_a_valid_signature(self, client):
        config.set_value("webhook_tolerance_seconds", 60)
        user = UserFactory()
        topup = services.topup_start(user_id=user.pk, amount="20.00").topup
        for skew in (-61, 61):
            response = signed_post(client, event(topup), timestamp=int(time.time()) + skew)
            assert response.status_code == 400 and response.json()["code"] == "WEBHOOK_TIMESTAMP_STALE"
        assert User.objects.get(pk=user.pk).credit_balance == 0
        assert signed_post(client, event(topup), timestamp=int(time.time()) - 50).status_code == 200

    def test_failed_payment_marks_the_top_up_failed_without_credit(self, client):
        user = UserFactory()
        topup = services.topup_start(user_id=user.pk, amount="20.00").topup
        assert signed_post(client, event(topup, succeeded=False)).json()["topup_status"] == "FAILED"
        assert signed_post(client, event(topup)).json()["status"] == "already_processed"
        assert User.objects.get(pk=user.pk).credit_balance == 0

    @pytest.mark.parametrize(
        "body",
        [
            b"not json",
            b"[]",
            b'{"id": "e", "type": "payment.refunded", "data": {"provider_reference": "x", "amount": "1"}}',
            b'{"id": "e", "type": "payment.succeeded"}',
        ],
    )
    def test_signed_but_malformed_payloads_are_refused(self, client, body):
        response = signed_post(client, body)
        assert response.status_code == 400 and response.json()["code"] == "WEBHOOK_PAYLOAD_INVALID"

    def test_amount_mismatch_and_unknown_reference_are_refused(self, client):
        user = UserFactory()
        topup = services.topup_start(user_id=user.pk, amount="20.00").topup
        response = signed_post(client, event(topup, amount="2000.00"))
        assert response.status_code == 400 and response.json()["code"] == "WEBHOOK_PAYLOAD_INVALID"
        unknown = payments.build_event(provider_reference="test_nope", amount=Decimal("1.00"), succeeded=True)
        assert signed_post(client, unknown).status_code == 404
        bad_amount = payments.build_event(provider_reference=topup.provider_reference, amount="NaN", succeeded=True)
        assert signed_post(client, bad_amount).json()["code"] == "INVALID_AMOUNT"
        assert User.objects.get(pk=user.pk).credit_balance == 0

    def test_test_provider_delivers_a_signed_webhook_through_the_view(self):
        user = UserFactory()
        topup = services.topup_start(user_id=user.pk, amount="12.50").topup
        delivery = payments.get_provider().complete_payment(
            provider_reference=topup.provider_reference, amount=topup.amount
        )
        assert delivery.status_code == 200 and json.loads(delivery.body)["status"] == "processed"
        assert User.objects.get(pk=user.pk).credit_balance == Decimal("12.50")


@pytest.mark.concurrency
@pytest.mark.django_db(databases=["default", "orders"], transaction=True)
def test_concurrent_duplicate_webhook_deliveries_credit_once():
    user = UserFactory()
    topup = services.topup_start(user_id=user.pk, amount="40.00").topup
    body, stamp = event(topup), int(time.time())

    def deliver() -> tuple[int, str]:
        response = signed_post(Client(), body, timestamp=stamp)
        return response.status_code, response.json().get("status")

    statuses = race(*[deliver] * 8)
    assert sorted(statuses) == sorted([(200, "processed")] + [(200, "already_processed")] * 7)
    assert User.objects.get(pk=user.pk).credit_balance == Decimal("40.00")
    assert LedgerEntry.objects.filter(kind="TOPUP", reference=topup.provider_reference).count() == 1
    assert selectors.ledger_sum(user_id=user.pk) == Decimal("40.00")
