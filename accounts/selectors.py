"""Reads of users_db. Other apps get the plain frozen dataclasses of accounts.contract and primitives.

The querysets (``ledger_for_user``, ``topups_for_user``) are for accounts' own pages and API, which paginate them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext

from accounts import DB_ALIAS
from accounts.contract import PREFERENCE_KEYS, OneTimeCodePurpose, ProfileInfo, TopUpInfo, UserInfo
from accounts.models import CardRefund, LedgerEntry, OneTimeCode, OrganizationMembership, TopUp, User
from accounts.payments import topups_available
from core.errors import NotFound
from core.ids import as_uuid
from core.permissions import Capability, role_allows
from core.results import fetch_as, from_row

# A verified CHECKOUT_STEP_UP code lets a flagged buyer pay for this long.
STEP_UP_VALID_FOR = timedelta(minutes=15)


def _user_keys(values: Iterable[Any]) -> set[uuid.UUID]:
    return {key for key in (as_uuid(value) for value in values) if key}


def _user_row(user_id: uuid.UUID) -> User:
    """The user, or NotFound (also for a malformed id: callers may pass what they were given)."""
    key = as_uuid(user_id)
    user = User.objects.using(DB_ALIAS).filter(pk=key).first() if key else None
    if user is None:
        raise NotFound(gettext("No such user."))
    return user


# A user's UserInfo columns in its field order: checkout and the gate's holder name read it on every request, so it is
# raw SQL written once rather than a model instance built from a compiled queryset.
_USER_GET = (
    f"SELECT {', '.join(User._meta.get_field(field.name).column for field in dataclasses.fields(UserInfo))} "  # noqa: S608
    f"FROM {User._meta.db_table} WHERE id = %s"
)


def user_get(*, user_id: uuid.UUID) -> UserInfo:
    """The user, or NotFound (also for a malformed id)."""
    key = as_uuid(user_id)
    user = fetch_as(UserInfo, _USER_GET, [key], using=DB_ALIAS) if key is not None else None
    if user is None:
        raise NotFound(gettext("No such user."))
    return user


def user_info_of(user: Any) -> UserInfo:
    """The UserInfo of a user the caller already holds (the request's authenticated user): no query."""
    return from_row(UserInfo, user)


def user_get_many(*, user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, UserInfo]:
    """id -> UserInfo of the users that exist; malformed and unknown ids are left out."""
    keys = _user_keys(user_ids)
    if not keys:
        return {}
    return {user.id: from_row(UserInfo, user) for user in User.objects.using(DB_ALIAS).filter(pk__in=keys)}


def user_labels(*, user_ids: Iterable[Any]) -> dict[uuid.UUID, str]:
    """id -> "Full Name <email>" (or the email alone), for staff pages of other domains."""
    keys = _user_keys(user_ids)
    if not keys:
        return {}
    rows = User.objects.using(DB_ALIAS).filter(pk__in=keys).values_list("id", "full_name", "email")
    return {pk: f"{name} <{email}>" if name else email for pk, name, email in rows}


def user_find_by_email(*, email: str) -> UserInfo | None:
    """The account of this address (case-insensitive), or None."""
    email = (email or "").strip()
    if not email:
        return None
    user = User.objects.using(DB_ALIAS).filter(email__iexact=email).first()
    return from_row(UserInfo, user) if user else None


def user_profile(*, user_id: uuid.UUID) -> ProfileInfo:
    """The person's own view of their account; every preference key present (unset ones are False)."""
    user = _user_row(user_id)
    stored = user.preferences or {}
    return from_row(ProfileInfo, user, preferences={key: bool(stored.get(key)) for key in PREFERENCE_KEYS})


def step_up_is_satisfied(*, user_id: uuid.UUID) -> bool:
    """True when the user verified a CHECKOUT_STEP_UP code within the last 15 minutes."""
    return (
        OneTimeCode.objects.using(DB_ALIAS)
        .filter(
            user_id=user_id,
            purpose=OneTimeCodePurpose.CHECKOUT_STEP_UP,
            consumed_at__gte=timezone.now() - STEP_UP_VALID_FOR,
        )
        .exists()
    )


def step_up_valid_until(*, user_id: uuid.UUID) -> datetime | None:
    last = (
        OneTimeCode.objects.using(DB_ALIAS)
        .filter(user_id=user_id, purpose=OneTimeCodePurpose.CHECKOUT_STEP_UP, consumed_at__isnull=False)
        .order_by("-consumed_at")
        .values_list("consumed_at", flat=True)
        .first()
    )
    if last is None or last + STEP_UP_VALID_FOR <= timezone.now():
        return None
    return last + STEP_UP_VALID_FOR


def otp_last_issued_at(*, user_id: uuid.UUID, purpose: str, object_id: uuid.UUID | None = None) -> datetime | None:
    return (
        OneTimeCode.objects.using(DB_ALIAS)
        .filter(user_id=user_id, purpose=purpose, object_id=object_id)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )


def otp_has_open_code(*, user_id: uuid.UUID, purpose: str, object_id: uuid.UUID | None = None) -> bool:
    """An unexpired, unconsumed code exists (the step-up page then does not send another on every visit)."""
    return (
        OneTimeCode.objects.using(DB_ALIAS)
        .filter(
            user_id=user_id,
            purpose=purpose,
            object_id=object_id,
            consumed_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .exists()
    )


def ledger_entry_exists(*, kind: str, reference: str) -> bool:
    return LedgerEntry.objects.using(DB_ALIAS).filter(kind=kind, reference=str(reference)).exists()


def ledger_for_user(*, user_id: uuid.UUID) -> QuerySet[LedgerEntry]:
    """The user's ledger, newest first (served by ledger_user_recent_idx); the caller paginates."""
    return LedgerEntry.objects.using(DB_ALIAS).filter(user_id=user_id).order_by("-created_at", "-id")


def ledger_sum(*, user_id: uuid.UUID) -> Decimal:
    total = LedgerEntry.objects.using(DB_ALIAS).filter(user_id=user_id).aggregate(total=Sum("amount"))["total"]
    return total or Decimal("0.00")


def topups_for_user(*, user_id: uuid.UUID) -> QuerySet[TopUp]:
    return TopUp.objects.using(DB_ALIAS).filter(user_id=user_id).order_by("-created_at")


def topup_get_for_user(*, user_id: uuid.UUID, provider_reference: str) -> TopUpInfo:
    """A top-up of this user; NotFound for unknown references and for other users' top-ups alike."""
    topup = (
        TopUp.objects.using(DB_ALIAS).filter(user_id=user_id, provider_reference=str(provider_reference)[:100]).first()
    )
    if topup is None:
        raise NotFound(gettext("No such top-up."))
    return from_row(TopUpInfo, topup)


def memberships_for_user(*, user_id: uuid.UUID) -> dict[uuid.UUID, str]:
    """organization_id -> role (a core.permissions.Role value)."""
    return dict(
        OrganizationMembership.objects.using(DB_ALIAS).filter(user_id=user_id).values_list("organization_id", "role")
    )


def user_has_capability(*, user_id: uuid.UUID, capability: Capability, organization_id: uuid.UUID | None) -> bool:
    """Whether a user (named by id, as services get them) may do ``capability`` in ``organization_id``.

    The same answer as ``user.has_perm(capability, organization_id)`` on a request, from the one table in
    core/permissions.py: superusers always, otherwise active members whose role in that organization grants it.
    """
    key = as_uuid(user_id)
    user = User.objects.using(DB_ALIAS).filter(pk=key).first() if key else None
    if user is None or not user.is_active:
        return False
    if user.is_superuser:
        return True
    if organization_id is None:
        return False
    role = memberships_for_user(user_id=user.pk).get(as_uuid(organization_id))
    return role_allows(role, capability)


def card_refunds_for_user(*, user_id: uuid.UUID) -> QuerySet[CardRefund]:
    return CardRefund.objects.using(DB_ALIAS).filter(user_id=user_id).order_by("-created_at")


def topup_get(*, topup_id: uuid.UUID, user_id: uuid.UUID) -> TopUpInfo:
    """One of the user's top-ups; NotFound for another user's."""
    topup = TopUp.objects.using(DB_ALIAS).filter(pk=topup_id, user_id=user_id).first()
    if topup is None:
        raise NotFound(gettext("No such top-up."))
    return from_row(TopUpInfo, topup)


def topup_get_by_id(*, topup_id: uuid.UUID) -> TopUpInfo | None:
    topup = TopUp.objects.using(DB_ALIAS).filter(pk=topup_id).first()
    return from_row(TopUpInfo, topup) if topup is not None else None


def card_payments_available() -> bool:
    """A payment provider is configured here (top-ups and paying the difference at checkout are possible)."""
    return topups_available()


def ledger_for_references(
    *, references: Iterable[str], since: dt.datetime | None = None, until: dt.datetime | None = None
) -> list[dict[str, Any]]:
    """The ledger rows of these flows (orders, refunds, transfers, resale attempts), oldest first, for exports;
    only those written in [since, until) when given.

    Served by the unique (kind, reference) index: the kinds are listed so the index's leading column is bound.
    """
    wanted = sorted({str(reference) for reference in references if reference})
    if not wanted:
        return []
    kinds = [kind for kind, _label in LedgerEntry.Kind.choices]
    entries = LedgerEntry.objects.using(DB_ALIAS).filter(kind__in=kinds, reference__in=wanted)
    if since is not None:
        entries = entries.filter(created_at__gte=since)
    if until is not None:
        entries = entries.filter(created_at__lt=until)
    return list(
        entries.order_by("created_at", "id").values(
            "id", "created_at", "user_id", "kind", "amount", "reference", "memo"
        )
    )
