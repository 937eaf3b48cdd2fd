"""Project-wide test fixtures. Every test states the databases it touches; most flows touch all four."""

from __future__ import annotations

import pytest

ALL_DATABASES = ["default", "seats", "orders", "events"]


@pytest.fixture(autouse=True)
def _fresh_config_cache():
    """System settings are cached per process; a test that changes one must not leak it to the next."""
    from ticketremaster import config

    config.clear_cache()
    yield
    config.clear_cache()


@pytest.fixture
def buyer(db):
    from accounts.tests.factories import UserFactory

    return UserFactory(email="buyer@example.com", full_name="Bea Buyer", credits="500.00")


@pytest.fixture
def other_buyer(db):
    from accounts.tests.factories import UserFactory

    return UserFactory(email="other@example.com", full_name="Otto Other", credits="500.00")
