"""Platform staff acting on a person's account: flags and credit adjustments, each audited with a reason."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts import DB_ALIAS
from accounts.contract import LedgerKind, StaffOnly
from accounts.models import User
from accounts.services.money import apply_movement, lock_users, money_transaction, parse_amount, user_key
from core.audit import audit_record
from core.errors import InvalidInput, NotFound


def require_staff(actor_id: uuid.UUID) -> None:
    actor = User.objects.using(DB_ALIAS).filter(pk=actor_id, is_active=True).first()
    if actor is None or not (actor.is_staff or actor.is_superuser):
        raise StaffOnly()


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(gettext("A reason is required."), fields={"reason": [gettext("Say why.")]})
    return reason


def credit_adjust(*, actor_id: uuid.UUID, user_id: uuid.UUID, amount: Decimal, reason: str) -> Decimal:
    """A staff correction of a balance (positive or negative): an ADJUSTMENT ledger row plus an audit entry."""
    amount = parse_amount(amount, allow_negative=True)
    reason = _require_reason(reason)
    require_staff(actor_id)
    user_id = user_key(user_id)
    reference = f"adjust-{uuid.uuid4()}"

    def operation() -> Decimal:
        user = lock_users([user_id])[user_id]
        new_balance = apply_movement(
            user, kind=LedgerKind.ADJUSTMENT, amount=amount, reference=reference, memo=reason, actor_id=actor_id
        )
        audit_record(
            actor_id=actor_id,
            action="credit_adjust",
            object_type="user",
            object_id=user.pk,
            reason=reason,
            data={"amount": str(amount), "balance_after": str(new_balance), "reference": reference},
        )
        return new_balance

    return money_transaction(operation)


def user_set_flag(*, actor_id: uuid.UUID, user_id: uuid.UUID, flagged: bool, reason: str) -> None:
    """Flag (must pass a step-up to pay) or clear a user; audited."""
    reason = _require_reason(reason)
    require_staff(actor_id)
    with transaction.atomic(using=DB_ALIAS):
        updated = (
            User.objects.using(DB_ALIAS)
            .filter(pk=user_id)
            .update(is_flagged=bool(flagged), flag_reason=reason[:255] if flagged else "", updated_at=timezone.now())
        )
        if not updated:
            raise NotFound(gettext("No such user."))
        audit_record(
            actor_id=actor_id,
            action="user_flag" if flagged else "user_unflag",
            object_type="user",
            object_id=user_id,
            reason=reason,
        )
