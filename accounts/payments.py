"""Payment providers for credit top-ups, and the signed webhook they confirm payments with.

A provider starts a payment (returns its reference and the page where the buyer pays) and later tells us the
outcome by POSTing a webhook to ``/api/v1/payments/webhook/``::

    X-Timestamp: 1764000000
    X-Signature: hex(HMAC-SHA256(PAYMENT_WEBHOOK_SECRET, "<timestamp>.<raw body>"))
    {"id": "evt_...", "type": "payment.succeeded" | "payment.failed",
     "data": {"provider_reference": "...", "amount": "25.00"}}

The built-in :class:`TestProvider` (development and demos) "pays" on its own page and delivers exactly such a signed
webhook through the real webhook view, so the same verification and crediting code runs as with a real provider.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.urls import resolve, reverse
from django.utils.translation import gettext

from accounts.contract import PaymentProviderUnavailable, WebhookSignatureInvalid, WebhookTimestampStale
from core import config

SIGNATURE_HEADER = "X-Signature"
TIMESTAMP_HEADER = "X-Timestamp"


@dataclass(frozen=True)
class PaymentStart:
    provider_reference: str
    pay_url: str


@dataclass(frozen=True)
class WebhookDelivery:
    status_code: int
    body: bytes


class Provider(Protocol):
    name: str

    def start_payment(
        self, *, topup_id: uuid.UUID, amount: Decimal, user_email: str, return_path: str = ""
    ) -> PaymentStart:
        """Create the payment at the provider; return its reference and where the buyer pays. ``return_path``:
        where the buyer comes back to after paying (default: the top-up's status page)."""
        ...


def sign(body: bytes, timestamp: int, *, secret: str | None = None) -> str:
    secret = secret if secret is not None else settings.PAYMENT_WEBHOOK_SECRET
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_signature(*, body: bytes, signature: str | None, timestamp: str | None, now: float | None = None) -> None:
    """Raise unless the signature is ours over "<timestamp>.<body>" and the timestamp is inside the window.

    The tolerance window bounds how long a captured delivery can be replayed; replays inside it are harmless
    because crediting is idempotent per provider payment.
    """
    if not signature or not timestamp:
        raise WebhookSignatureInvalid(gettext("The X-Signature and X-Timestamp headers are required."))
    try:
        stamp = int(timestamp)
    except ValueError:
        raise WebhookSignatureInvalid(gettext("X-Timestamp must be a Unix time in seconds."))
    expected = sign(body, stamp)
    # Constant-time compare: a byte-by-byte compare would leak how much of a forged signature is right.
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise WebhookSignatureInvalid()
    tolerance = config.get("webhook_tolerance_seconds")
    current = time.time() if now is None else now
    if abs(current - stamp) > tolerance:
        raise WebhookTimestampStale(
            gettext("The webhook timestamp is more than %(tolerance)s seconds away from now.")
            % {"tolerance": tolerance}
        )


def build_event(*, provider_reference: str, amount: Decimal, succeeded: bool) -> bytes:
    event = {
        "id": f"evt_{secrets.token_hex(12)}",
        "type": "payment.succeeded" if succeeded else "payment.failed",
        "data": {"provider_reference": provider_reference, "amount": str(amount)},
    }
    return json.dumps(event, separators=(",", ":")).encode()


class TestProvider:
    """Completes payments locally: its page has a Pay button that makes it send the signed webhook."""

    __test__ = False  # not a pytest test class despite the name
    name = "test"

    def start_payment(
        self, *, topup_id: uuid.UUID, amount: Decimal, user_email: str, return_path: str = ""
    ) -> PaymentStart:
        reference = f"test_{secrets.token_urlsafe(18)}"
        return PaymentStart(provider_reference=reference, pay_url=reverse("accounts:test-pay", args=[reference]))

    def complete_payment(self, *, provider_reference: str, amount: Decimal, succeeded: bool = True) -> WebhookDelivery:
        body = build_event(provider_reference=provider_reference, amount=amount, succeeded=succeeded)
        timestamp = int(time.time())
        return deliver_webhook(body=body, timestamp=timestamp, signature=sign(body, timestamp))


def deliver_webhook(*, body: bytes, timestamp: int, signature: str) -> WebhookDelivery:
    """POST a webhook into our own webhook view as an HTTP request (headers, raw body), the way a provider would.

    It goes through the view in-process rather than over the network so the test provider also works with a
    single-worker server.
    """
    from django.test import RequestFactory  # a request builder, used here as a tiny in-process HTTP client

    path = reverse("payments-webhook")
    request = RequestFactory().post(
        path,
        data=body,
        content_type="application/json",
        headers={SIGNATURE_HEADER: signature, TIMESTAMP_HEADER: str(timestamp)},
    )
    match = resolve(path)
    response = match.func(request, *match.args, **match.kwargs)
    if hasattr(response, "render"):
        response.render()
    return WebhookDelivery(status_code=response.status_code, body=response.content)


_PROVIDERS: dict[str, Provider] = {"test": TestProvider()}


def register_provider(provider: Provider) -> None:
    _PROVIDERS[provider.name] = provider


def test_payments_allowed() -> bool:
    """The test provider mints credits from nothing: only in debug mode or with ALLOW_TEST_PAYMENTS=true."""
    return bool(settings.DEBUG or getattr(settings, "ALLOW_TEST_PAYMENTS", False))


def get_provider(name: str | None = None) -> Provider:
    """The configured provider (settings.PAYMENT_PROVIDER); PAYMENT_PROVIDER_UNAVAILABLE when there is none.

    The test provider counts as configured only where test payments are allowed (test_payments_allowed).
    """
    name = name or getattr(settings, "PAYMENT_PROVIDER", "")
    if not name:
        raise PaymentProviderUnavailable(gettext("Top-ups are disabled: no payment provider is configured."))
    provider = _PROVIDERS.get(name)
    if provider is None:
        raise PaymentProviderUnavailable(f"Payment provider {name!r} is not configured.")
    if isinstance(provider, TestProvider) and not test_payments_allowed():
        raise PaymentProviderUnavailable(
            gettext("Top-ups are disabled: the test payment provider is off outside development.")
        )
    return provider


def topups_available() -> bool:
    try:
        get_provider()
    except PaymentProviderUnavailable:
        return False
    return True


def test_provider_active() -> bool:
    return getattr(settings, "PAYMENT_PROVIDER", "") == TestProvider.name and test_payments_allowed()
