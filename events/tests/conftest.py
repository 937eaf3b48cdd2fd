"""Fixtures shared by the events tests."""

from __future__ import annotations

import pytest

from events.tests.staff_world import Tenant, make_world


@pytest.fixture
def world(db) -> tuple[Tenant, Tenant]:
    """(ours, theirs) of the staff world: see events.tests.staff_world.make_world."""
    return make_world()
