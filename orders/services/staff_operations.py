"""Long staff operations on an event (publish, reprice a tier, cancel and refund) as jobs, with progress.

The admin calls ``staff_operation_start``: the operation's row and its job are written in one orders_db
transaction, so a pressed button either queued the work or did nothing. A partial unique index allows one live
operation per event: a second press (or a second staff member) gets the operation already running. Cancelling also
stops sales at once, in the request, so nobody buys while the refunds wait for a worker.

The job (orders/tasks.py) calls ``staff_operation_execute``, which drives the resumable services of
orders.services.event_operations and writes progress to the row. A job killed half-way runs again and continues
where the services left off; a refusal (a DomainError) ends the operation FAILED with its reason.
"""

from __future__ import annotations

import logging
import time
import uuid
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from core import jobs
from core.errors import Conflict, DomainError, InvalidInput, NotFound
from core.faults import fault_point
from core.prices import price_checked
from core.results import from_row
from events import selectors as events_selectors
from orders import DB_ALIAS
from orders.contract import (
    STAFF_OPERATION_LIVE_STATUSES,
    EventBusy,
    NotificationKind,
    StaffOperationInfo,
    StaffOperationKind,
    StaffOperationStatus,
)
from orders.models import StaffOperation
from orders.notifications import notify
from orders.services import event_operations

logger = logging.getLogger(__name__)

RUN_TASK = "staff_operations.run"
OPERATIONS_QUEUE = "operations"
# Progress is written at most this often (seconds): often enough for a live bar, rarely enough to cost nothing.
PROGRESS_INTERVAL = 0.5

Kind = StaffOperationKind
Status = StaffOperationStatus


class OperationRunning(Conflict):
    code = "OPERATION_RUNNING"
    default_detail = gettext_lazy("Another operation on this event is still running; wait for it to finish.")


def _info(operation: StaffOperation) -> StaffOperationInfo:
    return from_row(StaffOperationInfo, operation)


def staff_operation_get(*, operation_id: uuid.UUID, event_id: uuid.UUID) -> StaffOperationInfo:
    operation = StaffOperation.objects.using(DB_ALIAS).filter(pk=operation_id, event_id=event_id).first()
    if operation is None:
        raise NotFound(gettext("No such operation."))
    return _info(operation)


def staff_operations_for_event(*, event_id: uuid.UUID, limit: int = 10) -> list[StaffOperationInfo]:
    rows = StaffOperation.objects.using(DB_ALIAS).filter(event_id=event_id).order_by("-created_at")[:limit]
    return [_info(row) for row in rows]


def _reprice_params(params: dict | None) -> dict:
    """A reprice names its tier and its new price (kept as text: JSON has no decimals)."""
    params = params or {}
    try:
        tier_id = uuid.UUID(str(params.get("tier_id")))
        price = Decimal(str(params.get("price")))
    except (ValueError, InvalidOperation):
        raise InvalidInput(
            gettext("A reprice needs a tier and a price."), fields={"price": [gettext("Give a price.")]}
        ) from None
    return {"tier_id": str(tier_id), "price": str(price_checked(price))}


def staff_operation_start(
    *, kind: str, event_id: uuid.UUID, actor_id: uuid.UUID | None, reason: str = "", params: dict | None = None
) -> tuple[StaffOperationInfo, bool]:
    """Queue ``kind`` on the event; returns (operation, started now). The live one is returned if there is one."""
    reason = (reason or "").strip()[:255]
    if kind == Kind.CANCEL and not reason:
        raise InvalidInput(
            gettext("A reason is required to cancel an event."), fields={"reason": [gettext("Give a reason.")]}
        )
    params = _reprice_params(params) if kind == Kind.REPRICE else {}
    event = events_selectors.event_for_operations(event_id=event_id)
    if event is None:
        raise NotFound(gettext("No such event."))
    try:
        with transaction.atomic(using=DB_ALIAS):
            operation = StaffOperation.objects.using(DB_ALIAS).create(
                kind=kind,
                event_id=event_id,
                organization_id=event.organization_id,
                actor_id=actor_id,
                reason=reason,
                params=params,
            )
            jobs.job_defer(RUN_TASK, lock=f"event-operation:{event_id}", operation_id=str(operation.pk))
    except IntegrityError:
        live = StaffOperation.objects.using(DB_ALIAS).filter(
            event_id=event_id, status__in=STAFF_OPERATION_LIVE_STATUSES
        )
        operation = live.first()
        if operation is None:  # it finished between the insert and this read: press again
            raise OperationRunning() from None
        if operation.kind != kind:
            raise OperationRunning(
                gettext("%(kind)s of this event is still running.") % {"kind": operation.get_kind_display()}
            ) from None
        return _info(operation), False
    if kind == Kind.CANCEL:
        # Sales stop now, not when a worker gets to the job; the job does this again (idempotent) in any case.
        event_operations.event_cancel_stop_sales(event_id=event_id, actor_id=actor_id, reason=reason)
    return _info(operation), True


class _Progress:
    """Writes done/total to the operation's row, at most every PROGRESS_INTERVAL seconds (and always the last)."""

    def __init__(self, operation_id: uuid.UUID):
        self.operation_id = operation_id
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        if 0 < done < total:
            fault_point("staff_operation.part_done")
        now = time.monotonic()
        if now - self.last < PROGRESS_INTERVAL and done < total:
            return
        self.last = now
        StaffOperation.objects.using(DB_ALIAS).filter(pk=self.operation_id, status=Status.RUNNING).update(
            done=done, total=total, updated_at=timezone.now()
        )


def _finish(operation: StaffOperation, *, status: str, **fields) -> None:
    """The end state and the staff member's summary mail, in one transaction."""
    now = timezone.now()
    with transaction.atomic(using=DB_ALIAS):
        finished = (
            StaffOperation.objects.using(DB_ALIAS)
            .filter(pk=operation.pk, status=Status.RUNNING)
            .update(status=status, finished_at=now, updated_at=now, **fields)
        )
        if finished and operation.actor_id:
            notify(kind=NotificationKind.STAFF_SUMMARY, object_id=operation.pk, recipient_id=operation.actor_id)


def staff_operation_execute(*, operation_id: uuid.UUID) -> str:
    """Run (or resume) the operation; returns its final status. Other exceptions propagate: the job retries."""
    operation = StaffOperation.objects.using(DB_ALIAS).filter(pk=operation_id).first()
    if operation is None or operation.status not in STAFF_OPERATION_LIVE_STATUSES:
        return operation.status if operation else "GONE"
    now = timezone.now()
    StaffOperation.objects.using(DB_ALIAS).filter(pk=operation.pk).update(
        status=Status.RUNNING, started_at=operation.started_at or now, updated_at=now
    )
    progress = _Progress(operation.pk)
    try:
        if operation.kind == Kind.PUBLISH:
            published = event_operations.event_publish(
                event_id=operation.event_id, actor_id=operation.actor_id, progress=progress
            )
            result = {"created": published.created, "total": published.total}
            fields = {"done": published.total, "total": published.total, "errors": 0}
        elif operation.kind == Kind.REPRICE:
            repriced = event_operations.tier_reprice(
                event_id=operation.event_id,
                tier_id=uuid.UUID(operation.params["tier_id"]),
                price=Decimal(operation.params["price"]),
                actor_id=operation.actor_id,
                reason=operation.reason,
            )
            result = {
                "tier": repriced.tier_name,
                "old_price": str(repriced.old_price),
                "new_price": str(repriced.new_price),
                "repriced": repriced.repriced,
                "deferred": repriced.deferred,
            }
            # One seats_db transaction: every free place of the tier at once, so progress goes from 0 to all.
            places = repriced.repriced + repriced.deferred
            fields = {"done": places, "total": places, "errors": 0}
        else:
            cancelled = event_operations.event_cancel(
                event_id=operation.event_id, actor_id=operation.actor_id, reason=operation.reason, progress=progress
            )
            result = {"refunded": cancelled.refunded, "total": cancelled.total}
            fields = {"done": cancelled.refunded, "total": cancelled.total}
            fields["errors"] = cancelled.total - cancelled.refunded
    except EventBusy:
        raise  # someone drives the event right now (an in-request operation): the job tries again later
    except DomainError as error:
        _finish(operation, status=Status.FAILED, error_detail=f"{error.code}: {error.detail}", errors=1)
        return Status.FAILED
    _finish(operation, status=Status.SUCCEEDED, result=result, **fields)
    return Status.SUCCEEDED


def staff_operation_note_error(*, operation_id: uuid.UUID, error: BaseException, final: bool) -> None:
    """An unexpected error of a run: shown on the progress page; after the last attempt the operation FAILED."""
    detail = f"{type(error).__name__}: {error}"[:2000]
    operation = StaffOperation.objects.using(DB_ALIAS).filter(pk=operation_id).first()
    if operation is None:
        return
    if final:
        _finish(operation, status=Status.FAILED, error_detail=detail)
        return
    StaffOperation.objects.using(DB_ALIAS).filter(pk=operation_id, status=Status.RUNNING).update(
        error_detail=detail, updated_at=timezone.now()
    )
