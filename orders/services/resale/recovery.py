"""Recovery of resale attempts and withdrawals a crash interrupted, run by ``python manage.py recover_flows``."""

from __future__ import annotations

import uuid

from accounts import selectors as account_selectors
from accounts.contract import LedgerKind
from core.errors import DomainError
from orders import DB_ALIAS
from orders.contract import ResaleListingStatus as Status
from orders.contract import ResaleListingStep as Step
from orders.contract import ResaleRecoveryReport
from orders.models import ResaleListing
from orders.services.flows import RECOVERY_GRACE_SECONDS, flows_recover, recovery_cutoff
from orders.services.resale.listings import withdrawal_finish
from orders.services.resale.repair import listings_sweep
from orders.services.resale.sales import sale_advance, sale_release, sale_steps

Attempt = tuple[uuid.UUID, uuid.UUID]  # (listing id, sale attempt id)


def resale_recover(*, older_than_seconds: int = RECOVERY_GRACE_SECONDS) -> ResaleRecoveryReport:
    """Finish or undo every sale attempt a crash left SELLING, finish interrupted withdrawals, repair mismatches.

    The truth is read from users_db: no RESALE_DEBIT row for the attempt means no money moved, so the listing is
    released to ACTIVE; a debit means the attempt rolls forward (ownership moves, SOLD), or is refunded and
    CANCELLED if the ticket can no longer move. Busy attempts (their flow lock is held) are skipped.
    """
    report = ResaleRecoveryReport()
    cutoff = recovery_cutoff(older_than_seconds)
    selling = ResaleListing.objects.using(DB_ALIAS).filter(status=Status.SELLING, updated_at__lte=cutoff)
    flows_recover(
        list(selling.values_list("id", "sale_attempt_id")),
        report=report,
        lock_id=lambda attempt: attempt[1],
        drive=_recover_attempt,
        settled=_outcome,
        describe=lambda attempt, error: f"listing {attempt[0]}: {error.code}",
    )

    withdrawing = ResaleListing.objects.using(DB_ALIAS).filter(
        status=Status.WITHDRAWN, step=Step.NONE, updated_at__lte=cutoff
    )
    for listing_id in withdrawing.values_list("id", flat=True):
        report.examined += 1
        try:
            withdrawal_finish(listing_id)
            report.finished += 1
        except DomainError as exc:
            report.errors.append(f"listing {listing_id}: {exc.code}")
    report.repaired = listings_sweep(cutoff)
    return report


def _recover_attempt(attempt: Attempt) -> str | None:
    listing_id, attempt_id = attempt
    listing = ResaleListing.objects.using(DB_ALIAS).get(pk=listing_id)
    if listing.status != Status.SELLING or listing.sale_attempt_id != attempt_id:
        return None
    if listing.step == Step.NONE:
        if account_selectors.ledger_entry_exists(kind=LedgerKind.RESALE_DEBIT, reference=str(attempt_id)):
            # Paid before the crash, step not yet recorded: record it and roll forward.
            sale_advance(listing_id, attempt_id, expect_step=Step.NONE, step=Step.SELLER_CREDITED)
        else:
            sale_release(listing_id, attempt_id)
            return "undone"
    sale_steps(listing_id, attempt_id)
    return _outcome(attempt)


def _outcome(attempt: Attempt) -> str | None:
    status = ResaleListing.objects.using(DB_ALIAS).get(pk=attempt[0]).status
    if status == Status.SOLD:
        return "finished"
    if status in (Status.CANCELLED, Status.ACTIVE):
        return "undone"  # settled: refunded or released
    return None
