"""The one capability table, checked as every caller sees it: every capability x every role x own/other organization.

The cases are generated from core.permissions.CAPABILITY_ROLES, so a new capability or role is covered without a
new test. Three doors must give the same answer: ``user.has_perm`` (pages, admin, API), ``organization_ids``
(admin scoping) and ``accounts.selectors.user_has_capability`` (services that get an actor id).
"""

from __future__ import annotations

import itertools
import uuid

import pytest

from accounts import selectors as accounts_selectors
from accounts.models import OrganizationMembership, User
from accounts.tests.factories import UserFactory
from core.permissions import CAPABILITY_ROLES, Capability, Role, has_capability, organization_ids

OWN_ORG = uuid.UUID("00000000-0000-4000-8000-0000000000a1")
OTHER_ORG = uuid.UUID("00000000-0000-4000-8000-0000000000b2")
CASES = list(itertools.product(Capability, Role))


def _staff(role: Role) -> User:
    user = UserFactory(is_staff=True)
    OrganizationMembership.objects.create(user=user, organization_id=OWN_ORG, role=role)
    return User.objects.get(pk=user.pk)  # a fresh object: no cached roles


def test_every_capability_has_a_row_in_the_table():
    assert set(CAPABILITY_ROLES) == set(Capability)
    assert all(roles <= set(Role) for roles in CAPABILITY_ROLES.values())


@pytest.mark.django_db
@pytest.mark.parametrize(("capability", "role"), CASES, ids=[f"{c.name}-{r.name}" for c, r in CASES])
def test_role_grants_exactly_what_the_table_says_in_its_own_organization_only(capability, role):
    user = _staff(role)
    granted = role in CAPABILITY_ROLES[capability]

    assert user.has_perm(capability, OWN_ORG) is granted
    assert user.has_perm(capability) is granted  # "somewhere"
    assert user.has_perm(capability, OTHER_ORG) is False
    assert has_capability(user, capability, str(OWN_ORG)) is granted
    assert organization_ids(user, capability) == (frozenset({OWN_ORG}) if granted else frozenset())
    assert (
        accounts_selectors.user_has_capability(user_id=user.pk, capability=capability, organization_id=OWN_ORG)
        is granted
    )
    assert (
        accounts_selectors.user_has_capability(user_id=user.pk, capability=capability, organization_id=OTHER_ORG)
        is False
    )


@pytest.mark.django_db
@pytest.mark.parametrize("capability", list(Capability), ids=lambda c: c.name)
def test_superusers_may_do_everything_everywhere(capability):
    admin = UserFactory(is_staff=True, is_superuser=True)
    assert admin.has_perm(capability, OTHER_ORG)
    assert organization_ids(admin, capability) is None
    assert accounts_selectors.user_has_capability(user_id=admin.pk, capability=capability, organization_id=OTHER_ORG)


@pytest.mark.django_db
@pytest.mark.parametrize("capability", list(Capability), ids=lambda c: c.name)
def test_the_role_counts_not_the_staff_flag_and_an_inactive_account_grants_nothing(capability):
    member = _staff(Role.OWNER)
    User.objects.filter(pk=member.pk).update(is_staff=False)
    not_staff = User.objects.get(pk=member.pk)
    assert not_staff.has_perm(capability, OWN_ORG)
    assert organization_ids(not_staff, capability) == frozenset({OWN_ORG})

    User.objects.filter(pk=member.pk).update(is_staff=True, is_active=False)
    inactive = User.objects.get(pk=member.pk)
    assert not inactive.has_perm(capability, OWN_ORG)
    assert organization_ids(inactive, capability) == frozenset()
    assert not accounts_selectors.user_has_capability(
        user_id=inactive.pk, capability=capability, organization_id=OWN_ORG
    )


@pytest.mark.django_db
def test_memberships_are_read_once_per_user_object(django_assert_num_queries):
    user = _staff(Role.BOX_OFFICE)
    with django_assert_num_queries(1):
        for capability in Capability:
            user.has_perm(capability, OWN_ORG)
            organization_ids(user, capability)


@pytest.mark.django_db
def test_a_manager_may_refund_but_not_resolve_transfer_disputes():
    """The decision written in docs/STAFF.md: a manager answers for the sales of the events they run."""
    manager = _staff(Role.MANAGER)
    assert manager.has_perm(Capability.EVENTS_MANAGE, OWN_ORG)
    assert manager.has_perm(Capability.REFUND, OWN_ORG)
    assert not manager.has_perm(Capability.TRANSFER_DISPUTES, OWN_ORG)
