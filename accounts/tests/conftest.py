"""Fixtures of the accounts tests."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache


def code_from_mail(message) -> str:
    """The 6-digit code in an emailed one-time-code message."""
    match = re.search(r"^\s+(\d{6})\s*$", message.body, re.MULTILINE)
    assert match, message.body
    return match.group(1)


@pytest.fixture(autouse=True)
def _clear_cache():
    # DRF's throttle history lives in the process cache; one test's requests must not throttle the next.
    cache.clear()
    yield
    cache.clear()
