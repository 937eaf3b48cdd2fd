"""Accounts that staff issue tickets to: found or opened by address (claimed later with a reset code), and each
organization's walk-in account for tickets that exist only on paper."""

from __future__ import annotations

import uuid

import pytest

from accounts import services
from accounts.models import User
from accounts.tests.factories import UserFactory
from core.databases import ALL_DATABASES
from core.errors import InvalidInput
from core.testing import race

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def test_an_address_with_an_account_gets_that_account_whatever_its_case():
    user = UserFactory(email="dana@example.com")
    found, created = services.user_for_tickets(email=" DANA@example.com ")
    assert (found.id, created) == (user.pk, False)


def test_a_new_address_opens_an_unverified_account_without_a_password():
    info, created = services.user_for_tickets(email="New@Example.com", full_name="  Nia   New ")
    user = User.objects.get(pk=info.id)
    assert created and user.email == "new@example.com" and user.full_name == "Nia New"
    assert not user.has_usable_password() and not user.is_verified and user.is_active


def test_a_wrong_address_is_refused():
    with pytest.raises(InvalidInput):
        services.user_for_tickets(email="not an address")


def test_the_walk_in_account_is_one_per_organization_and_cannot_log_in():
    organization = uuid.uuid4()
    first = services.user_walk_in(organization_id=organization)
    again = services.user_walk_in(organization_id=organization)
    other = services.user_walk_in(organization_id=uuid.uuid4())
    assert first.id == again.id != other.id
    user = User.objects.get(pk=first.id)
    assert not user.is_active and not user.has_usable_password()


@pytest.mark.concurrency
@pytest.mark.django_db(databases=ALL_DATABASES, transaction=True)
def test_two_staff_issuing_to_one_new_address_at_once_get_the_same_account():
    results = race(*[lambda: services.user_for_tickets(email="race@example.com") for _ in range(4)])
    assert len({info.id for info, _created in results}) == 1
    assert User.objects.filter(email="race@example.com").count() == 1
