"""Fixtures of the accounts tests."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache

from core.testing import cleared_around_each_test


def code_from_mail(message) -> str:
    """The 6-digit code in an emailed one-time-code message."""
    match = re.search(r"^\s+(\d{6})\s*$", message.body, re.MULTILINE)
    assert match, message.body
    return match.group(1)


# DRF's throttle history lives in the process cache; one test's requests must not throttle the next.
_clear_cache = cleared_around_each_test(cache.clear)


@pytest.fixture
def stripe_standin(settings):
    """The Stripe stand-in on a free port, and the settings that point the real ``stripe`` library at it."""
    from accounts.tests.stripe_standin import StripeStandIn

    standin = StripeStandIn(secret="whsec_test_standin").start()  # noqa: S106 - a test secret
    settings.PAYMENT_PROVIDER = "stripe"
    settings.ALLOW_TEST_PAYMENTS = False
    settings.STRIPE_SECRET_KEY = "sk_test_standin"  # noqa: S105 - a test key
    settings.STRIPE_WEBHOOK_SECRET = standin.secret
    settings.STRIPE_API_BASE = standin.url
    settings.PAYMENT_PAGE_ORIGINS = [standin.url]
    settings.STRIPE_CURRENCY = "eur"
    yield standin
    standin.stop()
