"""Fixtures of the inventory tests; the builders they use are in factories.py."""

from __future__ import annotations

import pytest

from inventory.tests.factories import Venue


@pytest.fixture
def venue(db):
    """A small event: one section of 3 rows x 10 seats, all available."""
    return Venue()
