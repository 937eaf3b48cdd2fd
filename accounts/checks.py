"""Deployment checks of the payment configuration (``manage.py check --deploy``)."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security, deploy=True)
def payment_provider_check(app_configs, **kwargs) -> list[Error]:
    errors: list[Error] = []
    provider = getattr(settings, "PAYMENT_PROVIDER", "")
    if provider == "test" and not settings.DEBUG and getattr(settings, "ALLOW_TEST_PAYMENTS", False):
        errors.append(
            Error(
                "The test payment provider is active with debug off: any signed-in buyer can add credits for free.",
                hint="Set PAYMENT_PROVIDER=stripe with its keys (docs/PAYMENTS.md), or unset ALLOW_TEST_PAYMENTS.",
                id="accounts.E001",
            )
        )
    if provider == "stripe" and not (settings.STRIPE_SECRET_KEY and settings.STRIPE_WEBHOOK_SECRET):
        errors.append(
            Error(
                "PAYMENT_PROVIDER=stripe needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET.",
                hint="Copy both from the Stripe dashboard (docs/PAYMENTS.md).",
                id="accounts.E002",
            )
        )
    return errors
