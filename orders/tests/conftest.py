"""Fixtures of the orders tests: the people who pass tickets on, and the ticket they start with.

``buyer`` and ``other_buyer`` (500 credits each) come from the project's conftest. Here: the ``owner`` of a sold
``ticket`` and the ``friend`` they pass it to (100 credits each), an ``outsider`` who is party to nothing, and the
same two people under their resale names, ``seller`` and ``shopper``. World builders live in factories.py, the
steps and checks the tests share in helpers.py.
"""

from __future__ import annotations

import pytest

from accounts.tests.factories import UserFactory
from orders.tests.factories import sold_ticket
from orders.tests.helpers import api_client


@pytest.fixture
def owner():
    return UserFactory(email="owner@example.com", full_name="Olga Owner", credits="100.00")


@pytest.fixture
def friend():
    return UserFactory(email="friend@example.com", full_name="Fred Friend", credits="100.00")


@pytest.fixture
def outsider():
    return UserFactory(email="outsider@example.com", credits="100.00")


@pytest.fixture
def seller(owner):
    """The owner, in the resale tests' words."""
    return owner


@pytest.fixture
def shopper(friend):
    """The friend, in the resale tests' words."""
    return friend


@pytest.fixture
def ticket(owner):
    """The owner's SOLD ticket (50 credits) of an on-sale event, as a checkout leaves it."""
    return sold_ticket(owner)


@pytest.fixture
def api(buyer):
    """The API as the buyer."""
    return api_client(buyer)
