"""Pay the difference by card at checkout, end to end against the Stripe stand-in (accounts/tests/stripe_standin.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from accounts.models import TopUp
from accounts.tests.conftest import stripe_standin  # noqa: F401 - the fixture
from accounts.tests.factories import UserFactory
from accounts.tests.stripe_standin import event_body, signature_header
from core.databases import ALL_DATABASES
from core.outbox import outbox_relay
from orders import services
from orders.models import Order
from orders.notifications.facts import fact_handle
from orders.tests.factories import Seat, make_event
from orders.tests.helpers import api_checkout, api_client, assert_invariants, balance, expire_holds, hold, page_client
from orders.tests.jobs_helpers import queued

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def webhook(standin, event_type: str, session: dict) -> None:
    body = event_body(event_type, session)
    response = Client().post(
        "/api/v1/payments/stripe/webhook/",
        data=body,
        content_type="application/json",
        headers={"Stripe-Signature": signature_header(body, standin.secret)},
    )
    assert response.status_code == 200, response.content


def start(buyer, setup) -> dict:
    response = api_client(buyer).post(
        "/api/v1/orders/",
        {"event_id": str(setup.event.pk), "pay_difference_by_card": True},
        format="json",
        HTTP_IDEMPOTENCY_KEY="card-1",
    )
    assert response.status_code == 202, response.content
    return response.json()


def _card_payment_started():
    """A buyer with 60 credits holding 100.00 of seats who chose to pay the difference by card, before paying:
    (buyer, setup, the pending order, its card top-up)."""
    buyer = UserFactory(credits="60.00")
    setup = make_event()
    hold(buyer, setup)
    order = Order.objects.get(pk=start(buyer, setup)["id"])
    return buyer, setup, order, TopUp.objects.get(pk=order.card_topup_id)


def test_the_shortfall_is_paid_by_card_and_the_checkout_completes(stripe_standin):  # noqa: F811
    buyer = UserFactory(credits="60.00")
    setup = make_event()
    hold(buyer, setup)  # 100.00
    body = start(buyer, setup)
    order = Order.objects.get(pk=body["id"])
    assert (order.status, order.step) == ("PENDING", "AWAITING_PAYMENT")
    topup = TopUp.objects.get(pk=order.card_topup_id)
    assert (topup.amount, topup.order_id) == (Decimal("40.00"), order.pk)
    assert body["pay_url"] == stripe_standin.sessions[topup.provider_reference]["url"]
    # The holds are kept while the payment page is open (extended to the configured bound).
    held = Seat.objects.filter(pk__in=setup.seat_ids[:2])
    assert all(seat.held_by_id == buyer.pk for seat in held)
    # Polling before the webhook: still waiting, nothing charged.
    poll = api_client(buyer).get(f"/api/v1/orders/{order.pk}/").json()
    assert (poll["status"], poll["step"]) == ("PENDING", "AWAITING_PAYMENT") and balance(buyer) == Decimal("60.00")

    webhook(stripe_standin, "checkout.session.completed", stripe_standin.pay(topup.provider_reference))
    # The recorded fact queues the completion job; the job (run here as a worker would) finishes the checkout.
    outbox_relay(using="default", handle=fact_handle)
    assert [job["args"] for job in queued("orders.card_checkout_complete")] == [{"order_id": str(order.pk)}]
    assert services.card_checkout_complete(order_id=order.pk).status == "CONFIRMED"
    assert balance(buyer) == Decimal("0.00")
    # The same key answers with the same order.
    again = api_checkout(api_client(buyer), setup, "card-1")
    assert again.status_code == 200 and again.json()["id"] == str(order.pk)
    assert_invariants()


def test_holds_expiring_before_the_webhook_leave_the_money_as_credits(stripe_standin):  # noqa: F811
    buyer, setup, order, topup = _card_payment_started()
    expire_holds(setup.seat_ids[:2])
    webhook(stripe_standin, "checkout.session.completed", stripe_standin.pay(topup.provider_reference))
    # The buyer comes back to the order page (before any job ran): the page finishes it from the truth.
    page = page_client(buyer).get(f"/orders/{order.pk}/")
    assert page.status_code == 200
    assert "the money is in your wallet as credits" in page.text
    order.refresh_from_db()
    assert (order.status, order.failure_code) == ("FAILED", "HOLD_EXPIRED")
    assert balance(buyer) == Decimal("100.00")
    assert_invariants()


def test_a_failed_card_payment_fails_the_order_and_charges_nothing(stripe_standin):  # noqa: F811
    buyer, setup, order, topup = _card_payment_started()
    webhook(stripe_standin, "checkout.session.expired", stripe_standin.expire(topup.provider_reference))
    assert services.card_checkout_complete(order_id=order.pk).failure_code == "CARD_PAYMENT_FAILED"
    assert balance(buyer) == Decimal("60.00")
    assert_invariants()


def test_recovery_waits_for_the_payment_then_finishes_the_checkout(stripe_standin):  # noqa: F811
    buyer, setup, order, _topup = _card_payment_started()
    services.purchase_recover(older_than_seconds=0)
    order.refresh_from_db()
    assert (order.status, order.step) == ("PENDING", "AWAITING_PAYMENT")  # the payment page is still open
    topup = TopUp.objects.get(pk=order.card_topup_id)
    webhook(stripe_standin, "checkout.session.completed", stripe_standin.pay(topup.provider_reference))
    services.purchase_recover(older_than_seconds=0)
    order.refresh_from_db()
    assert order.status == "CONFIRMED" and balance(buyer) == Decimal("0.00")
    assert_invariants()


def test_the_checkout_page_pays_the_difference_by_card(stripe_standin):  # noqa: F811
    buyer = UserFactory(credits="60.00")
    setup = make_event()
    hold(buyer, setup)
    client = page_client(buyer)
    page = client.get(f"/checkout/?event={setup.event.pk}")
    assert "+ 40.00 by card" in page.text
    response = client.post(
        "/checkout/",
        {
            "event": str(setup.event.pk),
            "idempotency_key": page.context["idempotency_key"],
            "pay_difference_by_card": "1",
        },
    )
    assert response.status_code == 302 and response["Location"].startswith(stripe_standin.url + "/pay/cs_test_")
    session_id = response["Location"].rsplit("/", 1)[-1]
    assert stripe_standin.sessions[session_id]["success_url"].endswith(
        f"/orders/{Order.objects.get(buyer_id=buyer.pk).pk}/"
    )
    # Back before the webhook: pending; after it: confirmed.
    order_page = f"/orders/{Order.objects.get(buyer_id=buyer.pk).pk}/"
    assert "waiting for your card payment" in client.get(order_page).text
    webhook(stripe_standin, "checkout.session.completed", stripe_standin.pay(session_id))
    assert "Confirmed" in client.get(order_page).text
    assert balance(buyer) == Decimal("0.00")
    assert_invariants()
