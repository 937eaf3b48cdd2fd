"""No test money outside development: with debug off and no real provider, no request path adds credits."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings
from rest_framework.test import APIClient

from accounts import payments, services
from accounts.checks import payment_provider_check
from accounts.models import LedgerEntry, TopUp, User
from accounts.tests.factories import UserFactory

PRODUCTION = {"DEBUG": False, "PAYMENT_PROVIDER": "", "ALLOW_TEST_PAYMENTS": False}


def _signed_test_webhook(client, topup: TopUp):
    body = payments.build_event(provider_reference=topup.provider_reference, amount=topup.amount, succeeded=True)
    stamp = int(time.time())
    return client.post(
        "/api/v1/payments/webhook/",
        data=body,
        content_type="application/json",
        headers={"X-Signature": payments.sign(body, stamp), "X-Timestamp": str(stamp)},
    )


@pytest.mark.django_db(databases=["default"])
class TestProductionWithoutProvider:
    @pytest.mark.parametrize(
        "overrides",
        [
            PRODUCTION,
            # Naming the test provider is not enough with debug off: the opt-in must name its danger.
            {**PRODUCTION, "PAYMENT_PROVIDER": "test"},
        ],
    )
    def test_every_top_up_route_refuses_and_no_credits_appear(self, client, overrides):
        buyer = UserFactory()
        # A top-up started while test payments were allowed (say, before the switch to production).
        pending = services.topup_start(user_id=buyer.pk, amount="50.00").topup
        pending_row = TopUp.objects.get(pk=pending.id)
        client.force_login(buyer)
        api = APIClient()
        api.force_authenticate(buyer)
        with override_settings(**overrides):
            assert not payments.test_provider_active()

            wallet = client.get("/accounts/wallet/")
            assert wallet.status_code == 200
            assert b"Top-ups are disabled" in wallet.content
            assert b'action="/accounts/wallet/topup/"' not in wallet.content

            form = client.post("/accounts/wallet/topup/", {"amount": "100.00"})
            assert form.status_code == 400
            assert b"Top-ups are disabled" in form.content

            started = api.post("/api/v1/wallet/topups/", {"amount": "100.00"}, format="json")
            assert started.status_code == 503
            assert started.json()["code"] == "PAYMENT_PROVIDER_UNAVAILABLE"

            pay_page = f"/accounts/pay/{pending.provider_reference}/"
            assert client.get(pay_page).status_code == 404
            assert client.post(pay_page, {"action": "pay"}).status_code == 404

            webhook = _signed_test_webhook(client, pending_row)
            assert webhook.status_code == 503
            assert webhook.json()["code"] == "PAYMENT_PROVIDER_UNAVAILABLE"

            stripe_webhook = client.post(
                "/api/v1/payments/stripe/webhook/",
                data=b'{"id": "evt_1", "type": "checkout.session.completed"}',
                content_type="application/json",
                headers={"Stripe-Signature": "t=1,v1=00"},
            )
            assert stripe_webhook.status_code in (400, 503)

        assert TopUp.objects.count() == 1
        assert TopUp.objects.get().status == "PENDING"
        assert User.objects.get(pk=buyer.pk).credit_balance == Decimal("0.00")
        assert not LedgerEntry.objects.filter(user=buyer).exists()

    def test_the_service_refuses_with_the_api_code(self):
        buyer = UserFactory()
        with override_settings(**PRODUCTION), pytest.raises(payments.PaymentProviderUnavailable):
            services.topup_start(user_id=buyer.pk, amount="10.00")
        assert not TopUp.objects.exists()


class TestDeployCheck:
    def test_check_deploy_reports_the_test_provider_with_debug_off(self):
        with override_settings(DEBUG=False, PAYMENT_PROVIDER="test", ALLOW_TEST_PAYMENTS=True):
            with pytest.raises(SystemCheckError, match="accounts.E001"):
                call_command("check", "--deploy", "--tag", "security", "--fail-level", "ERROR")

    def test_check_deploy_is_quiet_for_a_configured_stripe(self):
        stripe = {
            "PAYMENT_PROVIDER": "stripe",
            "ALLOW_TEST_PAYMENTS": False,
            "STRIPE_SECRET_KEY": "sk_test_x",
            "STRIPE_WEBHOOK_SECRET": "whsec_x",
        }
        with override_settings(DEBUG=False, **stripe):
            assert payment_provider_check(None) == []

    def test_check_deploy_reports_stripe_without_keys(self):
        with override_settings(DEBUG=False, PAYMENT_PROVIDER="stripe", STRIPE_SECRET_KEY="", STRIPE_WEBHOOK_SECRET=""):
            assert [error.id for error in payment_provider_check(None)] == ["accounts.E002"]

    def test_debug_mode_keeps_the_test_provider_for_development(self):
        with override_settings(DEBUG=True, PAYMENT_PROVIDER="test", ALLOW_TEST_PAYMENTS=False):
            assert payments.test_provider_active()
            assert payments.get_provider().name == "test"
