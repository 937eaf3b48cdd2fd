"""Staff operations on a whole event that span databases: publishing (events + inventory), repricing a tier
(events + inventory) and cancelling (events + every order's refund).

Both are long and resumable. The event's own state changes first in events_db (orders never writes there
itself: it calls events.services), the heavy work runs through idempotent services of the other domains, and
progress is stored on the event row, so a second run continues where the first stopped. One advisory lock per
event (on the events database) keeps two staff members, or a double click, from driving the same event at once.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Callable
from decimal import Decimal

from django.utils.translation import gettext

from core.audit import audit_record
from core.errors import InvalidInput
from core.locking import FlowBusy, flow_lock
from events import DB_ALIAS as EVENTS_DB_ALIAS
from events import services as events_services
from events.contract import SectionOnSale
from inventory import services as inventory_services
from orders.contract import CancelResult, EventBusy, PublishResult, RepriceInfo
from orders.services.purchase.refunds import orders_refund_for_event

Progress = Callable[[int, int], None]
EVENT_PROGRESS_INTERVAL = 0.5  # seconds between writes of a cancellation's counters to the event row


def event_publish(
    *, event_id: uuid.UUID, actor_id: uuid.UUID | None, progress: Progress | None = None
) -> PublishResult:
    """Create the event's inventory in bulk and put it on sale. Idempotent and resumable.

    The inventory insert skips places that exist already, so a second run (after a crash, or to add a section
    that was attached later) creates only what is missing and never a duplicate.
    """
    try:
        with flow_lock(event_id, using=EVENTS_DB_ALIAS):
            return _event_publish(event_id=event_id, actor_id=actor_id, progress=progress)
    except FlowBusy as exc:
        raise EventBusy() from exc


def _event_publish(*, event_id: uuid.UUID, actor_id: uuid.UUID | None, progress: Progress | None) -> PublishResult:
    plan = events_services.event_publish_begin(event_id=event_id)
    specs = [_inventory_spec(section) for section in plan.sections]

    def report(done: int, of: int) -> None:
        events_services.event_publish_progress(event_id=event_id, done=done, total=plan.total)
        if progress is not None:
            progress(done, of)

    created = inventory_services.inventory_create_for_event(
        event_id=event_id, organization_id=plan.organization_id, sections=specs, progress=report
    )
    first_publish = events_services.event_publish_finish(event_id=event_id, total=plan.total)
    audit_record(
        actor_id=actor_id,
        action="event.publish" if first_publish else "event.inventory_sync",
        object_type="event",
        object_id=event_id,
        organization_id=plan.organization_id,
        data={"created": created, "total": plan.total},
    )
    return PublishResult(event_id=event_id, created=created, total=plan.total)


def _inventory_spec(section: SectionOnSale) -> inventory_services.SectionInventorySpec:
    """What the inventory creates for a section on sale: each field of its spec, which the plan names alike."""
    spec = inventory_services.SectionInventorySpec
    return spec(**{field.name: getattr(section, field.name) for field in dataclasses.fields(spec)})


def tier_reprice(
    *, event_id: uuid.UUID, tier_id: uuid.UUID, price: Decimal, actor_id: uuid.UUID | None, reason: str = ""
) -> RepriceInfo:
    """A tier's new price, everywhere: the tier (what price tables show), then every free place of it in one seats_db
    transaction. Held and sold places keep the price they were taken at and take the new one when next free.

    Under the event's flow lock, so a publish cannot create places from the old price while this runs. Idempotent:
    a crash between the two steps is finished by running it again with the same price. Audited.
    """
    try:
        with flow_lock(event_id, using=EVENTS_DB_ALIAS):
            change = events_services.tier_set_price(event_id=event_id, tier_id=tier_id, price=price)
            seats = inventory_services.seats_reprice(event_id=event_id, tier_id=tier_id, price=change.new_price)
    except FlowBusy as exc:
        raise EventBusy() from exc
    audit_record(
        actor_id=actor_id,
        action="tier.reprice",
        object_type="pricetier",
        object_id=tier_id,
        organization_id=change.organization_id,
        reason=reason,
        data={
            "event_id": str(event_id),
            "tier": change.tier_name,
            "old_price": str(change.old_price),
            "new_price": str(change.new_price),
            "repriced": seats.repriced,
            "deferred": seats.deferred,
        },
    )
    return RepriceInfo(
        event_id=event_id,
        tier_id=tier_id,
        tier_name=change.tier_name,
        old_price=change.old_price,
        new_price=change.new_price,
        repriced=seats.repriced,
        deferred=seats.deferred,
    )


def event_cancel(
    *, event_id: uuid.UUID, actor_id: uuid.UUID | None, reason: str, progress: Progress | None = None
) -> CancelResult:
    """Stop sales at once, then refund every order of the event through the refund service. Resumable.

    The status changes first (nobody can buy while refunds run); calling again after an interruption refunds
    what is left, because each order refund is idempotent.
    """
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            gettext("A reason is required to cancel an event."), fields={"reason": [gettext("Give a reason.")]}
        )
    try:
        with flow_lock(event_id, using=EVENTS_DB_ALIAS):
            return _event_cancel(event_id=event_id, actor_id=actor_id, reason=reason, progress=progress)
    except FlowBusy as exc:
        raise EventBusy() from exc


def event_cancel_stop_sales(*, event_id: uuid.UUID, actor_id: uuid.UUID | None, reason: str) -> None:
    """The event CANCELLED (nobody can buy from the moment this commits), audited the first time. Idempotent."""
    organization_id, first_cancel = events_services.event_cancel_begin(event_id=event_id)
    if first_cancel:
        audit_record(
            actor_id=actor_id,
            action="event.cancel",
            object_type="event",
            object_id=event_id,
            organization_id=organization_id,
            reason=reason,
        )


def _event_cancel(
    *, event_id: uuid.UUID, actor_id: uuid.UUID | None, reason: str, progress: Progress | None
) -> CancelResult:
    event_cancel_stop_sales(event_id=event_id, actor_id=actor_id, reason=reason)

    last_written = 0.0

    def report(done: int, total: int) -> None:
        # The event row's counters at most twice a second (the final ones are written below): one commit per
        # refund on events_db would cost as much as the refund's own.
        nonlocal last_written
        now = time.monotonic()
        if now - last_written >= EVENT_PROGRESS_INTERVAL:
            last_written = now
            events_services.event_refunds_progress(event_id=event_id, done=done, total=total)
        if progress is not None:
            progress(done, total)

    done, total = orders_refund_for_event(event_id=event_id, actor_id=actor_id, reason=reason, progress=report)
    events_services.event_refunds_progress(event_id=event_id, done=done, total=total)
    return CancelResult(event_id=event_id, refunded=done, total=total)
