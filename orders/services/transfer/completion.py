"""Confirming a transfer with one-time codes, and its completion across three databases (docs/ARCHITECTURE.md).

The second confirmation commits COMPLETING in orders_db first; then, under the transfer's flow lock, credits move
recipient -> owner in users_db (idempotent by the transfer id), ``step`` = PAID, ownership moves in seats_db
(compare-and-set, bumps the QR version), ``step`` = OWNERSHIP_MOVED, then COMPLETED/DONE. A domain failure undoes what
moved and ends FAILED; a crash leaves COMPLETING for ``transfer_recover``, which drives the same idempotent steps again.
"""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts import selectors as account_selectors
from accounts import services as account_services
from accounts.contract import InsufficientCredits, LedgerKind
from core.errors import DomainError, InvalidInput
from core.results import from_row
from inventory import selectors as inventory_selectors
from inventory import services as inventory_services
from orders import DB_ALIAS
from orders.contract import NotificationKind, TransferBusy, TransferExpired, TransferInfo, TransferStateInvalid
from orders.contract import TransferStatus as Status
from orders.contract import TransferStep as Step
from orders.models import Transfer
from orders.notifications import notify
from orders.services.flows import FlowStep, flow_advance, flow_drive, flow_steps
from orders.services.transfer.offers import OTP_PURPOSE, accepted_transfer_of, expire_if_due, transfer_locked


def transfer_advance(transfer_id: uuid.UUID, *, expect_status: str, expect_step: str | None = None, **changes) -> bool:
    """Compare-and-set on (status, step); False when another worker moved the transfer on."""
    rows = Transfer.objects.using(DB_ALIAS).filter(pk=transfer_id, status=expect_status)
    return flow_advance(rows, expect_step=expect_step, **changes)


def transfer_confirm(*, transfer_id: uuid.UUID, user_id: uuid.UUID, code: str) -> TransferInfo:
    """A party confirms with their one-time code; the second confirmation completes the transfer.

    The code is bound to this transfer (object_id) and to the caller's side (purpose), so a code for one transfer
    never confirms another, and the sender's code never stands in for the recipient's.
    """
    code = (code or "").strip()
    if not code:
        raise InvalidInput(
            gettext("Enter the code we emailed you."), fields={"code": [gettext("This field is required.")]}
        )
    current, who = accepted_transfer_of(transfer_id=transfer_id, user_id=user_id)
    if who == "recipient" and current.price > 0:
        recipient = account_selectors.user_get(user_id=user_id)
        if recipient.credit_balance < current.price:
            raise InsufficientCredits(
                gettext("You need %(price)s credits to accept this ticket; top up your wallet first.")
                % {"price": current.price}
            )

    account_services.otp_verify(user_id=user_id, purpose=OTP_PURPOSE[who], code=code, object_id=transfer_id)
    transfer, start = _record_confirmation(transfer_id, who=who)
    if start:
        return drive_completion(transfer.id)
    return from_row(TransferInfo, transfer)


def _record_confirmation(transfer_id: uuid.UUID, *, who: str) -> tuple[Transfer, bool]:
    """Stamp the party's confirmation; with both stamped, record COMPLETING. True when completion should start."""
    expired = False
    start = False
    with transaction.atomic(using=DB_ALIAS):
        # The row lock orders this confirmation against the other party's and against a cancel/decline: whichever
        # commits first decides, the other re-reads the state it left.
        transfer = transfer_locked(transfer_id)
        expire_if_due(transfer)
        if transfer.status == Status.EXPIRED:
            expired = True
        elif transfer.status != Status.ACCEPTED:
            raise TransferStateInvalid(
                gettext("The transfer is %(status)s.") % {"status": transfer.get_status_display().lower()}
            )
        else:
            field = "sender_confirmed_at" if who == "sender" else "recipient_confirmed_at"
            if getattr(transfer, field) is None:
                setattr(transfer, field, timezone.now())
            if transfer.sender_confirmed_at and transfer.recipient_confirmed_at:
                # The plan is recorded before any other database is touched (ARCHITECTURE.md step 1).
                transfer.status = Status.COMPLETING
                transfer.step = Step.NONE
                start = True
            transfer.save(using=DB_ALIAS)
    if expired:  # raised after the block so the EXPIRED status is committed
        raise TransferExpired()
    return transfer, start


def drive_completion(transfer_id: uuid.UUID) -> TransferInfo:
    """Run (or resume) the completion of a COMPLETING transfer. Every step is idempotent."""
    flow_drive(transfer_id, lambda: complete_steps(transfer_id), busy=TransferBusy)
    return from_row(TransferInfo, Transfer.objects.using(DB_ALIAS).get(pk=transfer_id))


def complete_steps(transfer_id: uuid.UUID) -> None:
    """The completion's steps from wherever it got to; the caller holds the transfer's flow lock."""
    transfer = Transfer.objects.using(DB_ALIAS).get(pk=transfer_id)
    if transfer.status != Status.COMPLETING:
        return

    def pay() -> None:
        # Both user rows are locked in sorted id order inside accounts; a retry finds the (kind, reference) rows and
        # changes nothing. A free transfer moves no money (amount 0 is a no-op).
        account_services.credits_move(
            payer_id=transfer.to_user_id,
            payee_id=transfer.from_user_id,
            amount=transfer.price,
            reference=str(transfer.id),
            debit_kind=LedgerKind.TRANSFER_DEBIT,
            credit_kind=LedgerKind.TRANSFER_CREDIT,
            fee=transfer.fee,
            fee_kind=LedgerKind.TRANSFER_FEE,
            memo=f"Ticket transfer {str(transfer.id)[:8]}",
        )

    def payment_refused(error: DomainError) -> None:
        # Nothing moved (credits_move is one users_db transaction): the transfer simply fails.
        transfer_advance(transfer.id, expect_status=Status.COMPLETING, status=Status.FAILED, failure_code=error.code)

    def hand_over() -> None:
        inventory_services.ticket_change_owner(
            seat_id=transfer.seat_id,
            from_owner_id=transfer.from_user_id,
            to_owner_id=transfer.to_user_id,
            from_statuses=("SOLD",),
        )

    def hand_over_refused(error: DomainError) -> None:
        # The ticket was checked in, refunded or listed meanwhile: give the recipient their credits back.
        _compensate(transfer, failure_code=error.code)

    plan = (
        FlowStep(Step.NONE, Step.PAID, pay, payment_refused, fault="transfer.after_payment"),
        FlowStep(Step.PAID, Step.OWNERSHIP_MOVED, hand_over, hand_over_refused, fault="transfer.after_ownership"),
    )
    reached = flow_steps(
        transfer.step,
        plan,
        record=lambda at, then: transfer_advance(
            transfer.id, expect_status=Status.COMPLETING, expect_step=at, step=then
        ),
    )
    if reached == Step.OWNERSHIP_MOVED:
        _complete(transfer)


def _complete(transfer: Transfer) -> None:
    """COMPLETED and DONE; both parties hear of it, queued in the transaction of the completion itself."""
    with transaction.atomic(using=DB_ALIAS):
        completed = transfer_advance(
            transfer.id,
            expect_status=Status.COMPLETING,
            expect_step=Step.OWNERSHIP_MOVED,
            status=Status.COMPLETED,
            step=Step.DONE,
            completed_at=timezone.now(),
        )
        if completed:
            for person in (transfer.from_user_id, transfer.to_user_id):
                notify(kind=NotificationKind.TRANSFER_COMPLETED, object_id=transfer.id, recipient_id=person)


def _compensate(transfer: Transfer, *, failure_code: str) -> None:
    """Undo a completion that cannot finish: ownership back if it moved, credits back, FAILED."""
    ticket = inventory_selectors.ticket_get(seat_id=transfer.seat_id)
    if str(ticket.owner_id) == str(transfer.to_user_id):
        inventory_services.ticket_change_owner(
            seat_id=transfer.seat_id, from_owner_id=transfer.to_user_id, to_owner_id=transfer.from_user_id
        )
    money_back(transfer)
    transfer_advance(
        transfer.id,
        expect_status=Status.COMPLETING,
        status=Status.FAILED,
        step=Step.COMPENSATED,
        failure_code=failure_code[:64],
    )


def money_back(transfer: Transfer) -> None:
    """Return the recipient's payment, if one was taken (idempotent by the reversal kinds and the transfer id): the
    sender gives back what they received (the price less the fee), the platform gives back its fee."""
    if transfer.price <= 0:
        return
    if not account_selectors.ledger_entry_exists(kind=LedgerKind.TRANSFER_DEBIT, reference=str(transfer.id)):
        return
    account_services.credits_move(
        payer_id=transfer.from_user_id,
        payee_id=transfer.to_user_id,
        amount=transfer.price - transfer.fee,
        reference=str(transfer.id),
        debit_kind=LedgerKind.TRANSFER_REVERSAL_DEBIT,
        credit_kind=LedgerKind.TRANSFER_REVERSAL_CREDIT,
        memo=f"Transfer {str(transfer.id)[:8]} undone",
    )
    if transfer.fee > 0:
        account_services.credits_credit(
            user_id=transfer.to_user_id,
            amount=transfer.fee,
            kind=LedgerKind.TRANSFER_FEE_REFUND,
            reference=str(transfer.id),
            memo=f"Transfer {str(transfer.id)[:8]} undone: platform fee returned",
        )
