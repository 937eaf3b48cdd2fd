"""Disputes and reversals by staff of the event's organization, audited.

A reversal is a recorded flow like a completion: ``step`` REVERSING is committed first, then, under the transfer's
flow lock, ownership moves back to the sender (QR bump) and the recipient's payment is returned; a step that cannot
succeed puts back what moved and leaves the dispute open for staff.
"""

from __future__ import annotations

import uuid

from django.utils.translation import gettext

from accounts import selectors as account_selectors
from accounts.contract import InsufficientCredits, LedgerKind
from core.audit import audit_record
from core.errors import DomainError, InvalidInput, NotFound
from core.results import from_row
from inventory import services as inventory_services
from orders import DB_ALIAS
from orders.contract import TransferBusy, TransferInfo, TransferStateInvalid
from orders.contract import TransferStatus as Status
from orders.contract import TransferStep as Step
from orders.models import Transfer
from orders.services.flows import flow_drive
from orders.services.transfer.completion import money_back, transfer_advance
from orders.services.transfer.offers import staff_may_manage


def _staff_transfer(transfer_id: uuid.UUID, actor_id: uuid.UUID) -> Transfer:
    transfer = Transfer.objects.using(DB_ALIAS).filter(pk=transfer_id).first()
    if transfer is None or not staff_may_manage(user_id=actor_id, organization_id=transfer.organization_id):
        raise NotFound(gettext("No such transfer."))
    return transfer


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(gettext("A reason is required."), fields={"reason": [gettext("This field is required.")]})
    return reason[:2000]


def _audit(action: str, transfer: Transfer, *, actor_id: uuid.UUID, reason: str, data: dict | None = None) -> None:
    audit_record(
        actor_id=actor_id,
        action=action,
        object_type="transfer",
        object_id=str(transfer.id),
        organization_id=transfer.organization_id,
        reason=reason,
        data=data,
    )


def transfer_dispute(*, transfer_id: uuid.UUID, actor_id: uuid.UUID, reason: str) -> TransferInfo:
    """Staff mark a completed transfer DISPUTED while they investigate (audited)."""
    reason = _reason(reason)
    transfer = _staff_transfer(transfer_id, actor_id)
    if not transfer_advance(transfer.id, expect_status=Status.COMPLETED, status=Status.DISPUTED, dispute_reason=reason):
        raise TransferStateInvalid(gettext("Only a completed transfer can be disputed."))
    _audit("transfer.dispute", transfer, actor_id=actor_id, reason=reason)
    return from_row(TransferInfo, Transfer.objects.using(DB_ALIAS).get(pk=transfer.id))


def transfer_reverse(*, transfer_id: uuid.UUID, actor_id: uuid.UUID, reason: str) -> TransferInfo:
    """Staff undo a disputed transfer: ownership back to the sender (QR bumps), credits back to the recipient."""
    reason = _reason(reason)
    transfer = _staff_transfer(transfer_id, actor_id)
    if transfer.status == Status.REVERSED:
        return from_row(TransferInfo, transfer)
    if transfer.status != Status.DISPUTED:
        raise TransferStateInvalid(gettext("Mark the transfer disputed before reversing it."))
    if not transfer_advance(transfer.id, expect_status=Status.DISPUTED, expect_step=Step.DONE, step=Step.REVERSING):
        if transfer.step != Step.REVERSING:
            raise TransferStateInvalid()
    flow_drive(transfer.id, lambda: reverse_steps(transfer.id), busy=TransferBusy)
    _audit("transfer.reverse", transfer, actor_id=actor_id, reason=reason, data={"price": str(transfer.price)})
    return from_row(TransferInfo, Transfer.objects.using(DB_ALIAS).get(pk=transfer.id))


def reverse_steps(transfer_id: uuid.UUID) -> None:
    """The reversal's steps; the caller holds the transfer's flow lock. A refusal re-opens the dispute (step DONE)."""
    transfer = Transfer.objects.using(DB_ALIAS).get(pk=transfer_id)
    if transfer.status != Status.DISPUTED or transfer.step != Step.REVERSING:
        return

    def reopen() -> None:
        transfer_advance(transfer.id, expect_status=Status.DISPUTED, expect_step=Step.REVERSING, step=Step.DONE)

    paid_back = transfer.price <= 0 or account_selectors.ledger_entry_exists(
        kind=LedgerKind.TRANSFER_REVERSAL_DEBIT, reference=str(transfer.id)
    )
    if not paid_back:
        sender = account_selectors.user_get(user_id=transfer.from_user_id)
        if sender.credit_balance < transfer.price - transfer.fee:
            reopen()
            raise InsufficientCredits(
                gettext("The original owner no longer has the credits to refund; adjust their balance first.")
            )
    try:
        inventory_services.ticket_change_owner(
            seat_id=transfer.seat_id, from_owner_id=transfer.to_user_id, to_owner_id=transfer.from_user_id
        )
    except DomainError:
        # Checked in, listed or refunded since: nothing moved, the dispute stays open for staff.
        reopen()
        raise
    if transfer.price > 0:  # idempotent: a second run after a crash finishes what the first began
        try:
            money_back(transfer)
        except DomainError:
            # The sender spent the credits in the meantime: put the ticket back where it was, keep the dispute open.
            inventory_services.ticket_change_owner(
                seat_id=transfer.seat_id, from_owner_id=transfer.from_user_id, to_owner_id=transfer.to_user_id
            )
            reopen()
            raise
    transfer_advance(
        transfer.id,
        expect_status=Status.DISPUTED,
        expect_step=Step.REVERSING,
        status=Status.REVERSED,
        step=Step.REVERSED,
    )
