"""Applying Stripe's webhook events: top-ups credited (or failed), card refunds confirmed (or compensated).

Each event is applied in one users_db transaction that first records its id (PaymentEvent, unique per provider):
a replayed delivery, or the same event delivered concurrently, finds the id taken and changes nothing. Different
events about one payment (completed, then async_payment_succeeded; a replay of an old event after a newer one) are
made harmless by the TopUp row lock and its status (only a PENDING top-up is settled) and by the ledger's unique
(TOPUP, session id).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.conf import settings
from django.db import connections
from django.utils.translation import gettext

from accounts import DB_ALIAS
from accounts.contract import CardRefundStatus, TopUpStatus
from accounts.models import CardRefund, TopUp
from accounts.services.money import money_transaction, set_lock_timeout
from accounts.services.refunds import card_refund_compensate
from accounts.services.topups import _settle
from accounts.stripe_payments import NAME, minor_units
from core.errors import NotFound

logger = logging.getLogger(__name__)

_SESSION_EVENTS = {
    "checkout.session.completed",
    "checkout.session.async_payment_succeeded",
    "checkout.session.async_payment_failed",
    "checkout.session.expired",
}
_REFUND_EVENTS = {"refund.updated", "refund.failed", "charge.refund.updated", "charge.refunded"}


def _record_event(event_id: str, event_type: str) -> bool:
    """Insert the event's id; False when it was applied before (or is being applied by a concurrent delivery,
    whose commit this insert waits for)."""
    with connections[DB_ALIAS].cursor() as cursor:
        cursor.execute(
            "INSERT INTO accounts_paymentevent (id, created_at, updated_at, provider, event_id, type) "
            "VALUES (%s, now(), now(), %s, %s, %s) ON CONFLICT (provider, event_id) DO NOTHING RETURNING id",
            [uuid.uuid4(), NAME, event_id[:255], event_type[:100]],
        )
        return cursor.fetchone() is not None


def stripe_event_apply(*, event: dict[str, Any]) -> str:
    """Apply one verified event; returns what happened: processed, duplicate or ignored.

    NotFound (404, so Stripe retries) when the event names one of our top-ups that is not recorded yet.
    """
    event_id, event_type = str(event.get("id") or ""), str(event.get("type") or "")
    obj = (event.get("data") or {}).get("object") or {}
    if not event_id or not isinstance(obj, dict):
        return "ignored"
    if event_type not in _SESSION_EVENTS | _REFUND_EVENTS:
        return "ignored"  # unknown types answer 200 and change nothing

    def operation() -> str:
        set_lock_timeout()
        if not _record_event(event_id, event_type):
            return "duplicate"
        if event_type in _SESSION_EVENTS:
            return _apply_session(event_type, obj)
        return _apply_refund(obj)

    return money_transaction(operation)


def _apply_session(event_type: str, session: dict[str, Any]) -> str:
    metadata = session.get("metadata") or {}
    topup = TopUp.objects.using(DB_ALIAS).select_for_update().filter(provider_reference=session.get("id")).first()
    if topup is None:
        if metadata.get("topup_id"):
            # Ours, but its row is not committed yet: roll the event back and let Stripe deliver it again.
            raise NotFound(gettext("No top-up has this Checkout Session yet."))
        return "ignored"  # a session of another integration on the same Stripe account
    if session.get("payment_intent") and not topup.payment_intent:
        topup.payment_intent = str(session["payment_intent"])[:100]
        topup.save(using=DB_ALIAS, update_fields=["payment_intent", "updated_at"])
    if topup.status != TopUpStatus.PENDING:
        return "processed"
    paid = session.get("payment_status") == "paid"
    if event_type in ("checkout.session.completed", "checkout.session.async_payment_succeeded") and paid:
        currency = str(session.get("currency") or "").lower()
        if session.get("amount_total") != minor_units(topup.amount, currency) or currency != settings.STRIPE_CURRENCY:
            logger.error("stripe session %s amount/currency does not match top-up %s", session.get("id"), topup.pk)
            return "ignored"
        _settle(topup, amount=topup.amount, succeeded=True)
    elif event_type in ("checkout.session.async_payment_failed", "checkout.session.expired"):
        _settle(topup, amount=topup.amount, succeeded=False, issue=event_type.rsplit(".", 1)[-1])
    # completed but unpaid (a bank debit still clearing): stays PENDING until async_payment_succeeded/failed.
    return "processed"


def _apply_refund(obj: dict[str, Any]) -> str:
    refunds = [obj] if obj.get("object") == "refund" else list(((obj.get("refunds") or {}).get("data")) or [])
    applied = False
    for refund in refunds:
        card_refund_id = (refund.get("metadata") or {}).get("card_refund_id")
        row = CardRefund.objects.using(DB_ALIAS).select_for_update().filter(provider_refund_id=refund.get("id")).first()
        if row is None and card_refund_id:
            row = CardRefund.objects.using(DB_ALIAS).select_for_update().filter(pk=card_refund_id).first()
        if row is None or row.status != CardRefundStatus.PENDING and refund.get("status") != "failed":
            continue
        status = refund.get("status")
        if status == "succeeded":
            row.status = CardRefundStatus.SUCCEEDED
            row.provider_refund_id = row.provider_refund_id or str(refund.get("id"))[:100]
            row.save(using=DB_ALIAS, update_fields=["status", "provider_refund_id", "updated_at"])
            applied = True
        elif status in ("failed", "canceled") and row.status != CardRefundStatus.FAILED:
            card_refund_compensate(row, reason=str(refund.get("failure_reason") or status))
            applied = True
    return "processed" if applied else "ignored"
