"""Stripe: card top-ups through Checkout Sessions (Stripe's hosted payment page), refunds back to the card, and
the signed webhook that tells us the outcome (docs/PAYMENTS.md).

Credits are 1:1 with the major unit of ``STRIPE_CURRENCY``; Stripe takes amounts in the minor unit (cents). The
official ``stripe`` library does the HTTP and the signature check; ``STRIPE_API_BASE`` points it elsewhere (the
offline stand-in of accounts/tests/stripe_standin.py) without changing any other line.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import stripe
from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext

from accounts.contract import PaymentProviderUnavailable, ProviderRefused
from accounts.payments import PaymentStart

NAME = "stripe"
# Currencies without a minor unit: one credit is one unit there (Stripe's list of zero-decimal currencies).
_ZERO_DECIMAL = frozenset(
    "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split()  # noqa: SIM905 - a plain list
)
# Bounded network waits: a slow Stripe must not hold a request (or a worker) for ever.
_TIMEOUT_SECONDS = 20


def minor_units(amount: Decimal, currency: str | None = None) -> int:
    currency = (currency or settings.STRIPE_CURRENCY).lower()
    if currency in _ZERO_DECIMAL:
        return int(amount.to_integral_value())
    return int((amount * 100).to_integral_value())


def client() -> stripe.StripeClient:
    if not settings.STRIPE_SECRET_KEY:
        raise PaymentProviderUnavailable(gettext("Stripe is selected but STRIPE_SECRET_KEY is not set."))
    base = {"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else None
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses=base,
        max_network_retries=2,
        http_client=stripe.RequestsClient(timeout=_TIMEOUT_SECONDS),
    )


def construct_event(*, payload: bytes, signature: str | None) -> dict[str, Any]:
    """The verified event (``stripe.Webhook.construct_event``: HMAC-SHA256 with the endpoint's signing secret,
    timestamp inside ``STRIPE_WEBHOOK_TOLERANCE``). Raises ``stripe.SignatureVerificationError`` or ValueError."""
    event = stripe.Webhook.construct_event(
        payload, signature, settings.STRIPE_WEBHOOK_SECRET, tolerance=settings.STRIPE_WEBHOOK_TOLERANCE
    )
    return event.to_dict()


class StripeProvider:
    name = NAME

    def start_payment(
        self, *, topup_id: uuid.UUID, amount: Decimal, user_email: str, return_path: str = ""
    ) -> PaymentStart:
        """A Checkout Session for ``amount`` credits; the buyer pays on Stripe's page and comes back to the
        top-up's status page, which waits for the webhook (the redirect itself proves nothing)."""
        status_url = settings.SITE_URL + (return_path or reverse("accounts:topup-status", args=[topup_id]))
        params: dict[str, Any] = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": settings.STRIPE_CURRENCY,
                        "unit_amount": minor_units(amount),
                        "product_data": {"name": "TicketRemaster credits"},
                    },
                }
            ],
            "client_reference_id": str(topup_id),
            "metadata": {"topup_id": str(topup_id)},
            "payment_intent_data": {"metadata": {"topup_id": str(topup_id)}},
            "success_url": status_url,
            "cancel_url": f"{status_url}{'&' if '?' in status_url else '?'}cancelled=1",
        }
        if user_email:
            params["customer_email"] = user_email
        try:
            session = client().v1.checkout.sessions.create(
                params,  # type: ignore[arg-type]
                options={"idempotency_key": f"topup-{topup_id}"},
            )
        except stripe.StripeError as exc:
            raise PaymentProviderUnavailable(
                gettext("Stripe could not start the payment: %(user_message)s")
                % {"user_message": exc.user_message or exc}
            ) from exc
        return PaymentStart(provider_reference=session.id, pay_url=session.url or "")

    def refund(self, *, payment_intent: str, amount: Decimal, refund_id: uuid.UUID) -> tuple[str, str]:
        """Refund ``amount`` of one payment to its card; returns (Stripe's refund id, its status).

        The idempotency key is our refund's id: a retry after a lost answer never refunds twice.
        Raises ProviderRefused when Stripe says no.
        """
        try:
            refund = client().v1.refunds.create(
                {
                    "payment_intent": payment_intent,
                    "amount": minor_units(amount),
                    "metadata": {"card_refund_id": str(refund_id)},
                },
                options={"idempotency_key": f"refund-{refund_id}"},
            )
        except (stripe.CardError, stripe.InvalidRequestError) as exc:
            raise ProviderRefused(
                gettext("Stripe refused the refund: %(user_message)s") % {"user_message": exc.user_message or exc}
            ) from exc
        return refund.id, refund.status or "pending"
