"""Reads of users_db. Other apps get plain frozen dataclasses and primitives, never model instances."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import QuerySet, Sum
from django.utils import timezone

from accounts import DB_ALIAS
from accounts.models import LedgerEntry, OneTimeCode, OrganizationMembership, TopUp, User
from ticketremaster.errors import NotFound
from ticketremaster.ids import as_uuid

# A verified CHECKOUT_STEP_UP code lets a flagged buyer pay for this long.
STEP_UP_VALID_FOR = timedelta(minutes=15)


@dataclass(frozen=True)
class UserInfo:
    id: uuid.UUID
    email: str
    full_name: str
    is_flagged: bool
    is_verified: bool
    is_staff: bool
    is_superuser: bool
    is_active: bool
    credit_balance: Decimal

    @property
    def display_name(self) -> str:
        return self.full_name or self.email


@dataclass(frozen=True)
class TopUpInfo:
    id: uuid.UUID
    user_id: uuid.UUID
    amount: Decimal
    provider: str
    provider_reference: str
    status: str
    created_at: datetime
    completed_at: datetime | None


def _info(user: User) -> UserInfo:
    return UserInfo(
        id=user.id,
        email=user.email,
        full_name=user.full_name,
        is_flagged=user.is_flagged,
        is_verified=user.is_verified,
        is_staff=user.is_staff,
        is_superuser=user.is_superuser,
        is_active=user.is_active,
        credit_balance=user.credit_balance,
    )


def topup_info(topup: TopUp) -> TopUpInfo:
    return TopUpInfo(
        id=topup.id,
        user_id=topup.user_id,
        amount=topup.amount,
        provider=topup.provider,
        provider_reference=topup.provider_reference,
        status=topup.status,
        created_at=topup.created_at,
        completed_at=topup.completed_at,
    )


def user_get(*, user_id: uuid.UUID) -> UserInfo:
    key = as_uuid(user_id)
    user = User.objects.using(DB_ALIAS).filter(pk=key).first() if key else None
    if user is None:
        raise NotFound("No such user.")
    return _info(user)


def user_get_many(*, user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, UserInfo]:
    keys = {key for key in (as_uuid(value) for value in user_ids) if key}
    if not keys:
        return {}
    return {user.id: _info(user) for user in User.objects.using(DB_ALIAS).filter(pk__in=keys)}


def user_find_by_email(*, email: str) -> UserInfo | None:
    email = (email or "").strip()
    if not email:
        return None
    user = User.objects.using(DB_ALIAS).filter(email__iexact=email).first()
    return _info(user) if user else None


def step_up_is_satisfied(*, user_id: uuid.UUID) -> bool:
    """True when the user verified a CHECKOUT_STEP_UP code within the last 15 minutes."""
    return (
        OneTimeCode.objects.using(DB_ALIAS)
        .filter(
            user_id=user_id,
            purpose=OneTimeCode.Purpose.CHECKOUT_STEP_UP,
            consumed_at__gte=timezone.now() - STEP_UP_VALID_FOR,
        )
        .exists()
    )


def step_up_valid_until(*, user_id: uuid.UUID) -> datetime | None:
    last = (
        OneTimeCode.objects.using(DB_ALIAS)
        .filter(user_id=user_id, purpose=OneTimeCode.Purpose.CHECKOUT_STEP_UP, consumed_at__isnull=False)
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
        raise NotFound("No such top-up.")
    return topup_info(topup)


def memberships_for_user(*, user_id: uuid.UUID) -> dict[uuid.UUID, str]:
    """organization_id -> role ("OWNER", "MANAGER", "BOX_OFFICE", "GATE")."""
    return dict(
        OrganizationMembership.objects.using(DB_ALIAS).filter(user_id=user_id).values_list("organization_id", "role")
    )
