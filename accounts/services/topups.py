"""Buying credits: a TopUp is recorded PENDING when the payment starts and credited once, when the payment
provider's signed webhook says it succeeded (accounts/payments.py)."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts import DB_ALIAS
from accounts.contract import LedgerKind, TopUpInfo, TopUpLimitExceeded, TopUpStart, TopUpStatus, WebhookPayloadInvalid
from accounts.models import TopUp
from accounts.payments import get_provider
from accounts.selectors import user_get
from accounts.services.money import (
    apply_movement_once,
    check_reference,
    lock_users,
    money_transaction,
    parse_amount,
    set_lock_timeout,
)
from core import config
from core.errors import NotFound
from core.outbox import outbox_emit
from core.results import from_row


def topup_start(
    *, user_id: uuid.UUID, amount: Any, order_id: uuid.UUID | None = None, return_path: str = ""
) -> TopUpStart:
    """Validate the amount, ask the payment provider for a payment, record the TopUp as PENDING.

    ``order_id``: the checkout this top-up pays the difference of (orders completes it when the payment lands);
    ``return_path``: where the buyer comes back to from the provider's page.
    """
    amount = parse_amount(amount)
    maximum = config.get("max_topup_amount")
    if amount > maximum:
        raise TopUpLimitExceeded(
            gettext("A single top-up can be at most %(maximum)s.") % {"maximum": maximum},
            fields={"amount": [f"At most {maximum}."]},
        )
    user = user_get(user_id=user_id)
    if not user.is_active:
        raise NotFound(gettext("No such user."))
    provider = get_provider()
    topup_id = uuid.uuid4()
    # The provider call happens before any transaction: no lock or open transaction waits on the network.
    payment = provider.start_payment(topup_id=topup_id, amount=amount, user_email=user.email, return_path=return_path)
    with transaction.atomic(using=DB_ALIAS):
        topup = TopUp.objects.using(DB_ALIAS).create(
            id=topup_id,
            user_id=user.id,
            amount=amount,
            provider=provider.name,
            provider_reference=payment.provider_reference,
            status=TopUpStatus.PENDING,
            order_id=order_id,
        )
    return TopUpStart(topup=from_row(TopUpInfo, topup), pay_url=payment.pay_url)


def _settle(topup: TopUp, *, amount: Any, succeeded: bool, issue: str = "") -> None:
    """Credit a locked PENDING top-up (or mark it failed). Runs inside the money transaction."""
    if topup.amount != amount:
        raise WebhookPayloadInvalid(gettext("The paid amount does not match the top-up."))
    if succeeded:
        apply_movement_once(
            lock_users([topup.user_id])[topup.user_id],
            kind=LedgerKind.TOPUP,
            amount=amount,
            reference=topup.provider_reference,
            memo=f"Top-up via {topup.provider}",
        )
        topup.status = TopUpStatus.SUCCEEDED
    else:
        topup.status = TopUpStatus.FAILED
    topup.completed_at = timezone.now()
    topup.save(using=DB_ALIAS, update_fields=["status", "completed_at", "updated_at"])
    # The buyer's receipt (or the failure notice), committed with the verdict itself (core/outbox.py).
    outbox_emit(
        using=DB_ALIAS,
        topic="accounts.topup_settled",
        payload={
            "topup_id": str(topup.pk),
            "user_id": str(topup.user_id),
            "amount": str(topup.amount),
            "provider": topup.provider,
            "reference": topup.provider_reference,
            "succeeded": succeeded,
            "issue": issue,
            "order_id": str(topup.order_id) if topup.order_id else "",
        },
    )


def topup_complete(*, provider_reference: str, amount: Any, succeeded: bool, issue: str = "") -> tuple[TopUpInfo, bool]:
    """Apply the provider's verdict on a payment. Returns (top-up, changed now).

    The TopUp row is locked first, so concurrent deliveries of one webhook queue up and only the first credits;
    the ledger's unique (TOPUP, provider_reference) would refuse a second credit even without the lock.
    """
    amount = parse_amount(amount)
    reference = check_reference(provider_reference)

    def operation() -> tuple[TopUpInfo, bool]:
        set_lock_timeout()
        topup = TopUp.objects.using(DB_ALIAS).select_for_update().filter(provider_reference=reference).first()
        if topup is None:
            raise NotFound(gettext("No top-up has this payment reference."))
        if topup.status != TopUpStatus.PENDING:
            return from_row(TopUpInfo, topup), False
        _settle(topup, amount=amount, succeeded=succeeded, issue=(issue or "")[:500])
        return from_row(TopUpInfo, topup), True

    return money_transaction(operation)
