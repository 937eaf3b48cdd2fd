"""Who may do what: the one table of staff roles and capabilities.

A staff member belongs to organizations with one :class:`Role` each. A :class:`Capability` names a kind of work;
:data:`CAPABILITY_ROLES` grants each to a set of roles. Everything that decides whether staff may act reads this
table through Django's permission API, with the organization as the object::

    request.user.has_perm(Capability.REFUND, organization_id)      # may refund orders of this organization
    organization_ids(request.user, Capability.EVENTS_VIEW)        # where may they see events (None: everywhere)

The memberships themselves live in accounts; its authentication backend (accounts/backends.py) answers both
questions from them, so no other domain needs to import accounts. Superusers may do everything.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from django.contrib import auth
from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

from core.ids import as_uuid


class Role(StrEnum):
    OWNER = "OWNER"
    MANAGER = "MANAGER"
    BOX_OFFICE = "BOX_OFFICE"
    GATE = "GATE"

    @property
    def label(self) -> Promise:
        """Its name for people, in the language of the page that shows it."""
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.OWNER: pgettext_lazy("staff role", "Owner"),
    Role.MANAGER: pgettext_lazy("staff role", "Manager"),
    Role.BOX_OFFICE: pgettext_lazy("staff role", "Box office"),
    Role.GATE: pgettext_lazy("staff role", "Gate"),
}


class Capability(StrEnum):
    """A kind of staff work. The values are the permission names passed to ``user.has_perm``."""

    GATE = "staff.gate"  # scan tickets at the gate page and through the scan API
    ENTRY_LOGS = "staff.entry_logs"  # read entry logs
    EVENTS_VIEW = "staff.events_view"  # see events, seats, the sales dashboard
    EVENTS_MANAGE = "staff.events_manage"  # venues, sections, events, tiers, publishing, cancelling an event
    ORDERS = "staff.orders"  # see orders, transfers and resale listings of the organization's events
    REFUND = "staff.refund"  # refund an order
    TRANSFER_DISPUTES = "staff.transfer_disputes"  # dispute and reverse transfers
    BUYERS_VIEW = "staff.buyers_view"  # see the buyers of the organization's events
    BUYERS_MANAGE = "staff.buyers_manage"  # flag / unflag buyers, adjust credits
    STAFF = "staff.staff"  # memberships of the organization, its audit log
    BOX_OFFICE_SELL = "staff.box_office_sell"  # sell places at the box office for cash or card, print tickets
    COMPS = "staff.comps"  # give free tickets to a guest list


ALL_ROLES = frozenset(Role)

# The one table. A MANAGER runs events and answers for their sales: they see the orders and may refund one (as
# cancelling an event, which is theirs too, refunds all of them); disputed transfers stay with the box office and
# the owner. Buyers' wallets and platform-wide flags are nobody's here: platform staff (superusers) only.
CAPABILITY_ROLES: dict[Capability, frozenset[Role]] = {
    Capability.GATE: ALL_ROLES,
    Capability.ENTRY_LOGS: ALL_ROLES,
    Capability.EVENTS_VIEW: frozenset({Role.OWNER, Role.MANAGER, Role.BOX_OFFICE}),
    Capability.EVENTS_MANAGE: frozenset({Role.OWNER, Role.MANAGER}),
    Capability.ORDERS: frozenset({Role.OWNER, Role.MANAGER, Role.BOX_OFFICE}),
    Capability.REFUND: frozenset({Role.OWNER, Role.MANAGER, Role.BOX_OFFICE}),
    Capability.TRANSFER_DISPUTES: frozenset({Role.OWNER, Role.BOX_OFFICE}),
    Capability.BUYERS_VIEW: frozenset({Role.OWNER, Role.MANAGER, Role.BOX_OFFICE}),
    Capability.BUYERS_MANAGE: frozenset({Role.OWNER, Role.BOX_OFFICE}),
    Capability.STAFF: frozenset({Role.OWNER}),
    Capability.BOX_OFFICE_SELL: frozenset({Role.OWNER, Role.MANAGER, Role.BOX_OFFICE}),
    Capability.COMPS: frozenset({Role.OWNER, Role.MANAGER, Role.BOX_OFFICE}),
}


# Work that moves money or shows buyers' data: a role holding any of it logs in with a second factor (TOTP), as do
# superusers (accounts/services/two_factor.py).
TWO_FACTOR_CAPABILITIES = frozenset(
    {
        Capability.ORDERS,
        Capability.REFUND,
        Capability.TRANSFER_DISPUTES,
        Capability.BUYERS_VIEW,
        Capability.BUYERS_MANAGE,
        Capability.BOX_OFFICE_SELL,
        Capability.COMPS,
    }
)


def role_requires_two_factor(role: str | None) -> bool:
    return any(role_allows(role, capability) for capability in TWO_FACTOR_CAPABILITIES)


def may_reset_two_factor(user: Any) -> bool:
    """Resetting someone's lost authenticator is platform staff's (superusers') work: an organization must not be
    able to take over the second factor of a person who may also work for another one."""
    return _is_superuser(user)


def role_allows(role: str | None, capability: Capability | str) -> bool:
    """The table itself: may a member with ``role`` do ``capability``?"""
    return role is not None and role in CAPABILITY_ROLES[Capability(capability)]


def organizations_allowing(roles: dict[uuid.UUID, str], capability: Capability | str) -> frozenset[uuid.UUID]:
    """Of ``organization id -> role``, the organizations whose role grants ``capability``."""
    return frozenset(org_id for org_id, role in roles.items() if role_allows(role, capability))


def _is_superuser(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_superuser)


def organization_ids(user: Any, capability: Capability | str) -> frozenset[uuid.UUID] | None:
    """Organizations where ``user`` holds ``capability``; ``None`` means every organization (a superuser).

    Asks each authentication backend that knows organizations (Django's way of asking ``has_perm``), so the
    answer comes from the memberships without this module importing the app that keeps them.
    """
    if _is_superuser(user):
        return None
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return frozenset()
    found: set[uuid.UUID] = set()
    for backend in auth.get_backends():
        lookup = getattr(backend, "organization_ids", None)
        if lookup is not None:
            found |= lookup(user, Capability(capability))
    return frozenset(found)


def has_capability(user: Any, capability: Capability | str, organization_id: Any = None) -> bool:
    """``user`` holds ``capability`` somewhere, or in ``organization_id`` when one is given."""
    if organization_id is None:
        return user.has_perm(Capability(capability))
    org = as_uuid(organization_id)
    return org is not None and user.has_perm(Capability(capability), org)


def allowed_organizations(user: Any, capability: Capability | str, candidates: Iterable[Any]) -> set[uuid.UUID]:
    """The subset of ``candidates`` (organization ids) where ``user`` holds ``capability``."""
    orgs = organization_ids(user, capability)
    ids = {org for org in (as_uuid(c) for c in candidates) if org is not None}
    return ids if orgs is None else ids & orgs
