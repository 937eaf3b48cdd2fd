"""Staff permissions from organization memberships, answered through Django's ``has_perm``.

``user.has_perm(Capability.REFUND, organization_id)`` lands here; the table of which role may do what is
core/permissions.py. The user's memberships are read once per user object (for a request: once per request, as
``request.user`` is built per request) and kept on it, as Django's ModelBackend keeps ``_perm_cache``.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.backends import BaseBackend

from accounts import DB_ALIAS
from accounts.models import OrganizationMembership
from core.ids import as_uuid
from core.permissions import Capability, organizations_allowing, role_allows

_CACHE_ATTR = "_organization_roles_cache"


def organization_roles(user: Any) -> dict[uuid.UUID, str]:
    """organization id -> role of ``user``, read once per user object."""
    roles = getattr(user, _CACHE_ATTR, None)
    if roles is None:
        roles = dict(
            OrganizationMembership.objects.using(DB_ALIAS)
            .filter(user_id=user.pk)
            .values_list("organization_id", "role")
        )
        setattr(user, _CACHE_ATTR, roles)
    return roles


class OrganizationRoleBackend(BaseBackend):
    """Answers capability checks (core.permissions.Capability) for active members; authenticates nobody.

    The role in the organization is what counts, not Django's ``is_staff`` flag (which only opens the admin).
    """

    def _is_member(self, user_obj: Any) -> bool:
        return bool(user_obj.is_active and not user_obj.is_anonymous)

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        try:
            capability = Capability(perm)
        except ValueError:
            return False
        if not self._is_member(user_obj):
            return False
        roles = organization_roles(user_obj)
        if obj is None:
            return any(role_allows(role, capability) for role in roles.values())
        organization_id = as_uuid(obj)
        return organization_id is not None and role_allows(roles.get(organization_id), capability)

    def organization_ids(self, user_obj: Any, capability: Capability) -> frozenset[uuid.UUID]:
        if not self._is_member(user_obj):
            return frozenset()
        return organizations_allowing(organization_roles(user_obj), capability)
