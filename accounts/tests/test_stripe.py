"""Stripe top-ups, the webhook and refunds to card, end to end: the real ``stripe`` library against the local
stand-in (accounts/tests/stripe_standin.py), webhook payloads with real Stripe signatures."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts import services
from accounts.models import CardRefund, LedgerEntry, PaymentEvent, TopUp, User
from accounts.tests.factories import StaffFactory, UserFactory
from accounts.tests.stripe_standin import event_body, signature_header
from core.testing import race

WEBHOOK = "/api/v1/payments/stripe/webhook/"


def deliver(client: Client, standin, event_type: str, obj: dict, *, event_id=None, timestamp=None, secret=None):
    body = event_body(event_type, obj, event_id=event_id)
    header = signature_header(body, secret or standin.secret, timestamp=timestamp)
    return client.post(WEBHOOK, data=body, content_type="application/json", headers={"Stripe-Signature": header})


def start_topup(user, amount="25.00") -> TopUp:
    started = services.topup_start(user_id=user.pk, amount=amount)
    return TopUp.objects.get(pk=started.topup.id)


def balance(user) -> Decimal:
    return User.objects.get(pk=user.pk).credit_balance


def paid_topup(client, standin, user, amount) -> TopUp:
    topup = start_topup(user, amount)
    deliver(client, standin, "checkout.session.completed", standin.pay(topup.provider_reference))
    topup.refresh_from_db()
    assert topup.status == "SUCCEEDED"
    return topup


@pytest.mark.django_db(databases=["default", "orders"])
class TestStripeTopUp:
    def test_a_top_up_creates_a_checkout_session_at_stripe(self, stripe_standin):
        buyer = UserFactory()
        api = APIClient()
        api.force_authenticate(buyer)
        response = api.post("/api/v1/wallet/topups/", {"amount": "25.00"}, format="json")
        assert response.status_code == 201, response.content
        topup = TopUp.objects.get()
        assert topup.provider == "stripe" and topup.provider_reference.startswith("cs_test_")
        session = stripe_standin.sessions[topup.provider_reference]
        assert (session["amount_total"], session["currency"]) == (2500, "eur")
        assert session["metadata"] == {"topup_id": str(topup.pk)}
        assert session["success_url"].endswith(f"/accounts/wallet/topups/{topup.pk}/")
        assert response.json()["pay_url"] == session["url"]
        assert balance(buyer) == 0  # nothing until the webhook says paid

    def test_paid_session_credits_once_and_the_return_page_waits_for_the_webhook(self, client, stripe_standin):
        buyer = UserFactory(credits="5.00")
        topup = start_topup(buyer)
        client.force_login(buyer)
        status_page = f"/accounts/wallet/topups/{topup.pk}/"
        # The buyer is back before the webhook: the page says pending and credits nothing.
        assert "Payment pending" in client.get(status_page).text
        assert balance(buyer) == Decimal("5.00")

        session = stripe_standin.pay(topup.provider_reference)
        response = deliver(client, stripe_standin, "checkout.session.completed", session)
        assert response.status_code == 200 and response.json() == {"status": "processed"}
        assert balance(buyer) == Decimal("30.00")
        topup.refresh_from_db()
        assert (topup.status, topup.payment_intent) == ("SUCCEEDED", session["payment_intent"])
        assert "Payment received" in client.get(status_page).text

        # Another event about the same payment (a late async success) and a replay of the first change nothing.
        again = deliver(client, stripe_standin, "checkout.session.async_payment_succeeded", session)
        assert again.status_code == 200
        assert balance(buyer) == Decimal("30.00")
        assert LedgerEntry.objects.filter(kind="TOPUP", reference=topup.provider_reference).count() == 1

    def test_a_replayed_event_id_is_a_duplicate(self, client, stripe_standin):
        buyer = UserFactory()
        topup = start_topup(buyer)
        session = stripe_standin.pay(topup.provider_reference)
        first = deliver(client, stripe_standin, "checkout.session.completed", session, event_id="evt_same")
        replay = deliver(client, stripe_standin, "checkout.session.completed", session, event_id="evt_same")
        assert first.json() == {"status": "processed"} and replay.json() == {"status": "duplicate"}
        assert balance(buyer) == Decimal("25.00")

    @pytest.mark.parametrize(
        "forgery",
        [
            {"secret": "whsec_someone_else"},  # signed with the wrong secret
            {"timestamp": int(time.time()) - 3600},  # a captured delivery replayed an hour later
        ],
    )
    def test_forged_and_stale_signatures_are_400_and_change_nothing(self, client, stripe_standin, forgery, caplog):
        buyer = UserFactory()
        topup = start_topup(buyer)
        session = stripe_standin.pay(topup.provider_reference)
        response = deliver(client, stripe_standin, "checkout.session.completed", session, **forgery)
        assert response.status_code == 400 and response.json()["code"] == "WEBHOOK_SIGNATURE_INVALID"
        assert balance(buyer) == 0 and not PaymentEvent.objects.exists()
        assert topup.provider_reference not in caplog.text  # the body is not logged

    def test_missing_signature_is_400(self, client, stripe_standin):
        response = client.post(WEBHOOK, data=b"{}", content_type="application/json")
        assert response.status_code == 400

    def test_expired_and_async_failed_sessions_fail_the_top_up(self, client, stripe_standin):
        buyer = UserFactory()
        expired = start_topup(buyer)
        deliver(client, stripe_standin, "checkout.session.expired", stripe_standin.expire(expired.provider_reference))
        slow = start_topup(buyer, "40.00")
        unpaid = stripe_standin.pay(slow.provider_reference, asynchronous=True)
        deliver(client, stripe_standin, "checkout.session.completed", unpaid)
        slow.refresh_from_db()
        assert slow.status == "PENDING"  # a bank debit still clearing
        failed = stripe_standin.settle_async(slow.provider_reference, succeeded=False)
        deliver(client, stripe_standin, "checkout.session.async_payment_failed", failed)
        assert set(TopUp.objects.values_list("status", flat=True)) == {"FAILED"}
        assert balance(buyer) == 0

    def test_async_success_credits(self, client, stripe_standin):
        buyer = UserFactory()
        topup = start_topup(buyer, "40.00")
        deliver(
            client,
            stripe_standin,
            "checkout.session.completed",
            stripe_standin.pay(topup.provider_reference, asynchronous=True),
        )
        paid = stripe_standin.settle_async(topup.provider_reference, succeeded=True)
        deliver(client, stripe_standin, "checkout.session.async_payment_succeeded", paid)
        assert balance(buyer) == Decimal("40.00")

    def test_a_session_whose_amount_differs_is_not_credited(self, client, stripe_standin):
        buyer = UserFactory()
        topup = start_topup(buyer)
        session = {**stripe_standin.pay(topup.provider_reference), "amount_total": 1}
        assert deliver(client, stripe_standin, "checkout.session.completed", session).status_code == 200
        assert balance(buyer) == 0

    def test_unknown_event_types_answer_200_and_change_nothing(self, client, stripe_standin):
        response = deliver(client, stripe_standin, "customer.created", {"id": "cus_1", "object": "customer"})
        assert response.status_code == 200 and response.json() == {"status": "ignored"}
        assert not PaymentEvent.objects.exists()

    def test_the_test_provider_pay_page_is_gone_with_stripe(self, client, stripe_standin):
        buyer = UserFactory()
        client.force_login(buyer)
        assert client.get("/accounts/pay/test_anything/").status_code == 404


@pytest.mark.concurrency
@pytest.mark.django_db(databases=["default", "orders"], transaction=True)
def test_the_same_event_delivered_eight_times_at_once_credits_once(stripe_standin):
    buyer = UserFactory()
    topup = start_topup(buyer)
    session = stripe_standin.pay(topup.provider_reference)
    body = event_body("checkout.session.completed", session, event_id="evt_eightfold")
    headers = {"Stripe-Signature": signature_header(body, stripe_standin.secret)}

    def post() -> tuple[int, str]:
        response = Client().post(WEBHOOK, data=body, content_type="application/json", headers=headers)
        return response.status_code, response.json()["status"]

    answers = race(*[post] * 8)
    assert sorted(answers) == [(200, "duplicate")] * 7 + [(200, "processed")]
    assert balance(buyer) == Decimal("25.00")
    assert LedgerEntry.objects.filter(kind="TOPUP").count() == 1
    assert PaymentEvent.objects.count() == 1


@pytest.mark.django_db(databases=["default", "orders"])
class TestRefundToCard:
    def test_refund_goes_to_the_newest_payments_first_partially(self, client, stripe_standin):
        buyer = UserFactory()
        older = paid_topup(client, stripe_standin, buyer, "30.00")
        newer = paid_topup(client, stripe_standin, buyer, "20.00")
        api = APIClient()
        api.force_authenticate(buyer)
        response = api.post(
            "/api/v1/wallet/card-refunds/", {"amount": "35.00"}, format="json", HTTP_IDEMPOTENCY_KEY="r1"
        )
        assert response.status_code == 201, response.content
        assert [(row["topup_id"], row["amount"], row["status"]) for row in response.json()] == [
            (str(newer.pk), "20.00", "SUCCEEDED"),
            (str(older.pk), "15.00", "SUCCEEDED"),
        ]
        assert stripe_standin.intents[newer.payment_intent]["amount_refunded"] == 2000
        assert stripe_standin.intents[older.payment_intent]["amount_refunded"] == 1500
        assert balance(buyer) == Decimal("15.00")
        # The same key again: the same refund, not a second one.
        replay = api.post("/api/v1/wallet/card-refunds/", {"amount": "35.00"}, format="json", HTTP_IDEMPOTENCY_KEY="r1")
        assert replay.status_code == 201 and len(replay.json()) == 2
        assert balance(buyer) == Decimal("15.00") and CardRefund.objects.count() == 2
        assert api.get("/api/v1/wallet/card-refunds/").json()["refundable"] == "15.00"

    def test_credits_not_from_a_card_never_go_to_one(self, client, stripe_standin):
        buyer = UserFactory(credits="100.00")  # e.g. resale proceeds: no card paid them in
        paid_topup(client, stripe_standin, buyer, "10.00")
        api = APIClient()
        api.force_authenticate(buyer)
        response = api.post(
            "/api/v1/wallet/card-refunds/", {"amount": "10.01"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
        )
        assert response.status_code == 400 and response.json()["code"] == "REFUND_EXCEEDS_CARD_PAYMENTS"
        assert balance(buyer) == Decimal("110.00") and not CardRefund.objects.exists()

    def test_a_refund_refused_by_the_provider_restores_the_credits(self, client, stripe_standin):
        buyer = UserFactory()
        topup = paid_topup(client, stripe_standin, buyer, "30.00")
        stripe_standin.refuse_refunds = True
        api = APIClient()
        api.force_authenticate(buyer)
        response = api.post(
            "/api/v1/wallet/card-refunds/", {"amount": "30.00"}, format="json", HTTP_IDEMPOTENCY_KEY="k"
        )
        assert response.status_code == 502 and response.json()["code"] == "PAYMENT_PROVIDER_REFUSED"
        assert balance(buyer) == Decimal("30.00")
        refund = CardRefund.objects.get()
        assert refund.status == "FAILED"
        assert sorted(LedgerEntry.objects.filter(reference=str(refund.pk)).values_list("kind", "amount")) == [
            ("CARD_REFUND", Decimal("-30.00")),
            ("CARD_REFUND_REVERSAL", Decimal("30.00")),
        ]
        topup.refresh_from_db()
        assert topup.refunded_amount == 0

    def test_a_refund_failing_later_is_compensated_by_its_webhook(self, client, stripe_standin):
        buyer = UserFactory()
        paid_topup(client, stripe_standin, buyer, "30.00")
        parts = services.card_refund_request(user_id=buyer.pk, amount="30.00", request_reference="later")
        refund = stripe_standin.refunds[parts[0].provider_refund_id]
        assert balance(buyer) == 0
        failed = {**refund, "status": "failed", "failure_reason": "expired_or_canceled_card"}
        assert deliver(client, stripe_standin, "refund.failed", failed).status_code == 200
        assert balance(buyer) == Decimal("30.00")
        assert CardRefund.objects.get().status == "FAILED"
        # Delivered again (another event id): compensated once.
        deliver(client, stripe_standin, "refund.updated", failed)
        assert balance(buyer) == Decimal("30.00")

    def test_staff_refund_to_card_is_audited(self, client, stripe_standin):
        buyer = UserFactory()
        staff = UserFactory(is_staff=True)
        paid_topup(client, stripe_standin, buyer, "30.00")
        parts = services.card_refund_request(
            user_id=buyer.pk, amount="12.50", request_reference="staff-1", actor_id=staff.pk, reason="Goodwill"
        )
        assert [p.amount for p in parts] == [Decimal("12.50")]
        assert balance(buyer) == Decimal("17.50")
        from core.models import AuditLog

        assert AuditLog.objects.filter(action="card_refund", actor_id=staff.pk).exists()

    def test_platform_staff_refund_to_card_from_the_admin_once_per_form(self, client, stripe_standin):
        buyer = UserFactory()
        paid_topup(client, stripe_standin, buyer, "30.00")
        client.force_login(StaffFactory(is_superuser=True))
        url = f"/admin/accounts/user/{buyer.pk}/card-refund/"
        assert (
            f"/admin/accounts/user/{buyer.pk}/card-refund/"
            in client.get(f"/admin/accounts/user/{buyer.pk}/change/").text
        )
        page = client.get(url)
        assert "to their card (up to 30.00)" in page.text
        key = page.context["form"].initial["idempotency_key"]
        form = {"amount": "12.00", "reason": "Closing the account", "idempotency_key": key}
        for _ in range(2):  # a double submit refunds once
            assert client.post(url, form).status_code == 302
        assert balance(buyer) == Decimal("18.00")
        assert [(p.amount, p.status) for p in CardRefund.objects.all()] == [(Decimal("12.00"), "SUCCEEDED")]
        too_much = client.post(url, {**form, "amount": "25.00", "idempotency_key": "another"})
        assert too_much.status_code == 200 and "came from cards" in too_much.text
        assert balance(buyer) == Decimal("18.00")

    def test_organization_staff_cannot_refund_a_buyer_to_card(self, client, stripe_standin):
        buyer = UserFactory()
        paid_topup(client, stripe_standin, buyer, "30.00")
        client.force_login(StaffFactory())
        url = f"/admin/accounts/user/{buyer.pk}/card-refund/"
        form = {"amount": "12.00", "reason": "x", "idempotency_key": "k"}
        assert client.post(url, form).status_code == 404  # platform-wide money: superusers only
        assert balance(buyer) == Decimal("30.00") and not CardRefund.objects.exists()

    def test_the_wallet_page_refunds_to_card(self, client, stripe_standin):
        buyer = UserFactory()
        paid_topup(client, stripe_standin, buyer, "30.00")
        client.force_login(buyer)
        page = client.get("/accounts/wallet/")
        assert "Refund to card (up to 30.00)" in page.text
        key = page.context["refund_key"]
        for _ in range(2):  # a double submit refunds once
            response = client.post(
                "/accounts/wallet/card-refund/", {"amount": "10.00", "idempotency_key": key}, follow=True
            )
        assert "on their way back to your card" in response.text
        assert balance(buyer) == Decimal("20.00")
