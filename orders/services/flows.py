"""What every cross-database flow of orders shares (docs/ARCHITECTURE.md, "Cross-database flows").

A flow (a purchase, a refund, a transfer completion or reversal, a resale attempt) records how far it got in its row's
``step``, one compare-and-set UPDATE at a time, and is driven by one worker at a time under its advisory flow lock. The
recovery command drives again, under the same lock, the flows a crash left half done.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from core.errors import DomainError
from core.faults import fault_point
from core.locking import FlowBusy, flow_lock
from orders import DB_ALIAS

T = TypeVar("T")
Item = TypeVar("Item")

# Recovery leaves younger flows alone: a live worker may still be driving them.
RECOVERY_GRACE_SECONDS = 60


def flow_drive(flow_id: Any, steps: Callable[[], T], *, busy: Callable[[], DomainError]) -> T:
    """Run ``steps`` holding the flow's lock; while another worker holds it, raise ``busy()`` at once (never wait)."""
    try:
        with flow_lock(flow_id, using=DB_ALIAS):
            return steps()
    except FlowBusy:
        raise busy() from None


def flow_advance(rows: QuerySet, *, expect_step: str | None = None, **changes: Any) -> bool:
    """Record a step: ``changes`` apply to the flow's row only while it is still as ``rows`` (and ``expect_step``) say.

    False when another worker (a duplicate request, recovery, staff) moved the flow on meanwhile.
    """
    if expect_step is not None:
        rows = rows.filter(step=expect_step)
    with transaction.atomic(using=DB_ALIAS):
        return rows.update(**changes, updated_at=timezone.now()) == 1


@dataclass(frozen=True)
class FlowStep:
    """One step of a recorded plan: from step ``at``, ``run`` changes another database, then ``then`` is recorded.

    When ``run`` refuses (a DomainError), ``refused`` undoes what moved or closes the flow before that error, or the one
    ``refused`` raises instead, goes to the caller. ``fault`` names the crash-injection point after the step; it is
    passed whether the step ran now or before the flow was resumed.
    """

    at: str
    then: str
    run: Callable[[], None]
    refused: Callable[[DomainError], None]
    fault: str


def flow_steps(step: str, plan: Sequence[FlowStep], *, record: Callable[[str, str], Any]) -> str:
    """Run ``plan`` from ``step`` (where the flow got to); ``record(at, then)`` writes each step done.

    Every step is idempotent, so one a crash interrupted runs again harmlessly. Returns the step reached.
    """
    for planned in plan:
        if step == planned.at:
            try:
                planned.run()
            except DomainError as error:
                planned.refused(error)
                raise
            record(planned.at, planned.then)
            step = planned.then
        fault_point(planned.fault)
    return step


def recovery_cutoff(older_than_seconds: int) -> dt.datetime:
    """Flows untouched since this moment are recovered; younger ones are left to their live worker."""
    return timezone.now() - dt.timedelta(seconds=max(0, int(older_than_seconds)))


def flows_recover(
    flows: Iterable[Item],
    *,
    report: Any,
    drive: Callable[[Item], str | None],
    describe: Callable[[Item, DomainError], str],
    lock_id: Callable[[Item], Any] = lambda flow: flow,
    settled: Callable[[Item], str | None] = lambda flow: None,
) -> None:
    """Drive each flow under its lock and count the outcome on ``report``.

    ``drive`` answers the name of the report's counter to add one to (``"confirmed"``, ``"undone"``...), or None when
    nothing changed. A flow another worker holds counts as ``busy``. When a step refuses (a DomainError), ``settled``
    may still name a settled outcome (the flow was undone, say); otherwise ``describe`` adds a line to ``errors``.
    """
    for flow in flows:
        report.examined += 1
        try:
            with flow_lock(lock_id(flow), using=DB_ALIAS):
                outcome = drive(flow)
        except FlowBusy:
            report.busy += 1
            continue
        except DomainError as error:
            outcome = settled(flow)
            if outcome is None:
                report.errors.append(describe(flow, error))
                continue
        if outcome is not None:
            setattr(report, outcome, getattr(report, outcome) + 1)
