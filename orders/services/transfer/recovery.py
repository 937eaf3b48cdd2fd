"""Recovery of transfers a crash left COMPLETING or mid-reversal, run by ``python manage.py recover_flows``."""

from __future__ import annotations

import uuid

from orders import DB_ALIAS
from orders.contract import TransferRecoveryReport
from orders.contract import TransferStatus as Status
from orders.contract import TransferStep as Step
from orders.models import Transfer
from orders.services.flows import RECOVERY_GRACE_SECONDS, flows_recover, recovery_cutoff
from orders.services.transfer.completion import complete_steps
from orders.services.transfer.offers import transfers_expire_due
from orders.services.transfer.staff import reverse_steps


def transfer_recover(*, older_than_seconds: int = RECOVERY_GRACE_SECONDS) -> TransferRecoveryReport:
    """Finish (or undo) every transfer a crash left COMPLETING or mid-reversal, and expire stale offers.

    Completion rolls forward: both parties confirmed, so the same idempotent steps run again; a step that cannot
    succeed any more (the ticket was refunded meanwhile) undoes what moved and ends FAILED. Flows another worker
    is driving right now (their flow lock is held) are skipped. Running it twice changes nothing.
    """
    report = TransferRecoveryReport()
    report.expired = transfers_expire_due()
    cutoff = recovery_cutoff(older_than_seconds)
    stuck = list(
        Transfer.objects.using(DB_ALIAS)
        .filter(updated_at__lte=cutoff)
        .filter(status=Status.COMPLETING)
        .values_list("id", flat=True)
    ) + list(
        Transfer.objects.using(DB_ALIAS)
        .filter(updated_at__lte=cutoff, status=Status.DISPUTED, step=Step.REVERSING)
        .values_list("id", flat=True)
    )
    flows_recover(
        stuck,
        report=report,
        drive=_recover,
        settled=_outcome,
        # Still unfinished (a reversal staff must unblock): reported so the command exits non-zero.
        describe=lambda transfer_id, error: f"transfer {transfer_id}: {error.code}",
    )
    return report


def _recover(transfer_id: uuid.UUID) -> str | None:
    if Transfer.objects.using(DB_ALIAS).get(pk=transfer_id).status == Status.COMPLETING:
        complete_steps(transfer_id)
    else:
        reverse_steps(transfer_id)
    return _outcome(transfer_id)


def _outcome(transfer_id: uuid.UUID) -> str | None:
    status = Transfer.objects.using(DB_ALIAS).get(pk=transfer_id).status
    if status in (Status.COMPLETED, Status.REVERSED):
        return "finished"
    if status == Status.FAILED:
        return "undone"  # a settled outcome (e.g. the recipient could no longer pay), not an error
    return None
