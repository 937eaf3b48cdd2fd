"""Credits back to the card they came from: refunds against the original card payments, newest first.

A request is split over the buyer's succeeded card top-ups, newest first, never more than what each payment
brought in (TopUp.refunded_amount, CHECK <= amount). In one users_db transaction, under the buyer's row lock and
the top-ups' row locks, each part is recorded (CardRefund PENDING), reserved on its top-up and debited from the
credits (a CARD_REFUND ledger row, reference = the part's id). Only then, with no lock held, is the provider asked;
a refusal is compensated at once (CARD_REFUND_REVERSAL, credits and the reservation restored, part FAILED). The
request's reference makes the whole request idempotent, the part's id makes each provider call idempotent.
Credits from transfers, resale or refunds of orders are spent like any others, but what goes back to a card is
bounded by what that card paid in.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.db.models import F
from django.utils.translation import gettext

from accounts import DB_ALIAS
from accounts.contract import (
    CardRefundInfo,
    CardRefundStatus,
    LedgerKind,
    PaymentProviderUnavailable,
    ProviderRefused,
    RefundExceedsCardPayments,
    TopUpStatus,
)
from accounts.models import CardRefund, TopUp
from accounts.payments import get_provider
from accounts.services.money import (
    apply_movement,
    apply_movement_once,
    check_reference,
    lock_users,
    money_transaction,
    parse_amount,
    user_key,
)
from accounts.services.staff import require_staff
from core.audit import audit_record
from core.results import from_row


def card_refundable_amount(*, user_id: uuid.UUID) -> Decimal:
    rows = (
        TopUp.objects.using(DB_ALIAS).filter(user_id=user_id, status=TopUpStatus.SUCCEEDED).exclude(payment_intent="")
    )
    return sum((row.amount - row.refunded_amount for row in rows), Decimal("0.00"))


def card_refund_request(
    *, user_id: uuid.UUID, amount: Any, request_reference: str, actor_id: uuid.UUID | None = None, reason: str = ""
) -> list[CardRefundInfo]:
    """Send ``amount`` of the user's credits back to their cards. ``actor_id``: a staff member doing it for them.

    Errors: INVALID_AMOUNT, REFUND_EXCEEDS_CARD_PAYMENTS (400), INSUFFICIENT_CREDITS (402),
    PAYMENT_PROVIDER_UNAVAILABLE (503), PAYMENT_PROVIDER_REFUSED (502, credits restored).
    """
    amount = parse_amount(amount)
    reference = check_reference(request_reference)
    user_id = user_key(user_id)
    if actor_id is not None:
        require_staff(actor_id)
    provider = get_provider()
    if not hasattr(provider, "refund"):
        raise PaymentProviderUnavailable(gettext("This payment provider cannot refund to cards."))
    parts = money_transaction(
        lambda: _parts_reserve(user_id=user_id, amount=amount, reference=reference, actor_id=actor_id, reason=reason)
    )
    refused: list[ProviderRefused] = []
    for part in parts:
        if part.status != CardRefundStatus.PENDING or part.provider_refund_id:
            continue
        try:
            card_refund_send(part, provider=provider)
        except ProviderRefused as error:
            refused.append(error)
    if refused:
        raise refused[0]
    return [from_row(CardRefundInfo, part) for part in parts]


def _parts_reserve(
    *, user_id: uuid.UUID, amount: Decimal, reference: str, actor_id: uuid.UUID | None, reason: str
) -> list[CardRefund]:
    """The request's parts, recorded, reserved on their top-ups and debited under the buyer's lock (or the parts a
    first attempt of the same request recorded). Runs inside money_transaction."""
    user = lock_users([user_id])[user_id]
    existing = list(CardRefund.objects.using(DB_ALIAS).filter(user_id=user_id, request_reference=reference))
    if existing:
        return existing  # a retry of this request: its parts, whatever became of them
    topups = list(
        TopUp.objects.using(DB_ALIAS)
        .select_for_update()
        .filter(user_id=user_id, status=TopUpStatus.SUCCEEDED, refunded_amount__lt=F("amount"))
        .exclude(payment_intent="")
        .order_by("-created_at", "-id")
    )
    if amount > sum((t.amount - t.refunded_amount for t in topups), Decimal("0.00")):
        raise RefundExceedsCardPayments(
            gettext("At most %(amount)s of your credits came from cards.")
            % {"amount": card_refundable_amount(user_id=user_id)},
            fields={"amount": [gettext("More than your card payments brought in.")]},
        )
    parts: list[CardRefund] = []
    left = amount
    for topup in topups:
        if left <= 0:
            break
        part_amount = min(left, topup.amount - topup.refunded_amount)
        part = CardRefund.objects.using(DB_ALIAS).create(
            user_id=user_id,
            topup=topup,
            amount=part_amount,
            actor_id=actor_id,
            request_reference=reference,
        )
        TopUp.objects.using(DB_ALIAS).filter(pk=topup.pk).update(refunded_amount=F("refunded_amount") + part_amount)
        # The debit comes first and under the lock: credits spent meanwhile can never be sent to a card too.
        apply_movement(
            user,
            kind=LedgerKind.CARD_REFUND,
            amount=-part_amount,
            reference=str(part.pk),
            memo=reason or f"Refund to card ({topup.provider})",
            actor_id=actor_id,
        )
        parts.append(part)
        left -= part_amount
    if actor_id is not None:
        audit_record(
            actor_id=actor_id,
            action="card_refund",
            object_type="user",
            object_id=user_id,
            reason=reason or "Refund to card",
            data={"amount": str(amount), "reference": reference, "parts": [str(p.pk) for p in parts]},
        )
    return parts


def card_refund_send(part: CardRefund, *, provider=None) -> None:
    """Ask the provider for one recorded part (idempotent by the part's id); compensate a refusal."""
    provider = provider or get_provider()
    topup = TopUp.objects.using(DB_ALIAS).get(pk=part.topup_id)
    try:
        refund_id, status = provider.refund(payment_intent=topup.payment_intent, amount=part.amount, refund_id=part.pk)
    except ProviderRefused as error:
        detail = error.detail
        money_transaction(lambda: card_refund_compensate(part, reason=detail))
        raise
    fields: dict[str, Any] = {"provider_refund_id": refund_id[:100]}
    if status == "succeeded":
        fields["status"] = CardRefundStatus.SUCCEEDED
    CardRefund.objects.using(DB_ALIAS).filter(pk=part.pk, status=CardRefundStatus.PENDING).update(**fields)
    part.refresh_from_db(using=DB_ALIAS)


def card_refund_compensate(part: CardRefund, *, reason: str) -> None:
    """A refused refund: credits back (CARD_REFUND_REVERSAL, same reference), reservation released, part FAILED.

    Must run inside a users_db transaction (money_transaction); idempotent by the part's id.
    """
    user = lock_users([part.user_id])[part.user_id]
    locked = CardRefund.objects.using(DB_ALIAS).select_for_update().get(pk=part.pk)
    if locked.status == CardRefundStatus.FAILED:
        return
    apply_movement_once(
        user,
        kind=LedgerKind.CARD_REFUND_REVERSAL,
        amount=locked.amount,
        reference=str(part.pk),
        memo="Refund to card refused; credits restored",
    )
    TopUp.objects.using(DB_ALIAS).filter(pk=locked.topup_id).update(
        refunded_amount=F("refunded_amount") - locked.amount
    )
    locked.status = CardRefundStatus.FAILED
    locked.failure_reason = reason[:255]
    locked.save(using=DB_ALIAS, update_fields=["status", "failure_reason", "updated_at"])
    part.status, part.failure_reason = locked.status, locked.failure_reason
