"""An event's own steps of publishing, repricing and cancelling, the announcement of a changed time, and the
waiting room's switch.

Publishing and cancelling span databases (seats_db for the inventory, orders_db and users_db for refunds), so
``orders.services.event_publish`` / ``event_cancel`` drive them. The steps here are the event's own: each is a
short events_db transaction (state first, progress on the event row), so a second run continues where the first
stopped.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from core.errors import NotFound
from core.outbox import outbox_emit
from core.prices import price_checked
from events import DB_ALIAS
from events.contract import (
    EventInventoryStatus,
    EventNotCancellable,
    EventNotPublishable,
    EventStatus,
    PublishPlan,
    SectionKind,
    SectionOnSale,
    TierPriceChange,
)
from events.models import Event, EventSection, PriceTier


# --- publishing (driven by orders.services.event_publish, which creates the inventory) -------------------------
def _seat_rows_on_sale(layout: dict[str, Any] | None) -> list[dict[str, Any]]:
    """A seated section's layout as the inventory takes it: only the keys it reads, with their types enforced."""
    return [
        {
            "label": row["label"],
            "seats": [
                {
                    "number": int(seat["number"]),
                    "x": int(seat.get("x", 0)),
                    "y": int(seat.get("y", 0)),
                    "accessible": bool(seat.get("accessible", False)),
                }
                for seat in row.get("seats", [])
            ],
        }
        for row in (layout or {}).get("rows", [])
    ]


def _section_on_sale(event_section: EventSection) -> SectionOnSale:
    section = event_section.section
    places = event_section.places
    general = section.kind == SectionKind.GENERAL
    if places <= 0:
        raise EventNotPublishable(
            gettext("General-admission section “%(name)s” has no capacity.") % {"name": section.name}
            if general
            else gettext("Section “%(name)s” has no seats: generate its seat grid first.") % {"name": section.name}
        )
    return SectionOnSale(
        section_id=section.pk,
        tier_id=event_section.tier_id,
        price=Decimal(event_section.tier.price),
        kind=section.kind,
        rows=[] if general else _seat_rows_on_sale(section.layout),
        capacity=places,
        places=places,
    )


def event_publish_begin(*, event_id: uuid.UUID) -> PublishPlan:
    """Check the event can go on sale, mark its inventory BUILDING and return what must be created."""
    with transaction.atomic(using=DB_ALIAS):
        event = Event.objects.using(DB_ALIAS).select_for_update().filter(pk=event_id).first()
        if event is None:
            raise NotFound(gettext("No such event."))
        if event.status not in (EventStatus.DRAFT, EventStatus.PUBLISHED):
            raise EventNotPublishable(
                gettext("A %(status)s event cannot be published.") % {"status": event.get_status_display().lower()}
            )
        event_sections = (
            EventSection.objects.using(DB_ALIAS)
            .filter(event=event, is_active=True, section__deleted_at__isnull=True)
            .select_related("section", "tier")
            .order_by("section__sort_order", "section__name")
        )
        sections = [_section_on_sale(event_section) for event_section in event_sections]
        if not sections:
            raise EventNotPublishable(gettext("Add at least one section (with a price tier) before publishing."))
        total = sum(section.places for section in sections)
        event.inventory_status = EventInventoryStatus.BUILDING
        event.inventory_total = total
        event.save(using=DB_ALIAS, update_fields=["inventory_status", "inventory_total", "updated_at"])
    return PublishPlan(event_id=event.pk, organization_id=event.organization_id, sections=sections, total=total)


def event_publish_progress(*, event_id: uuid.UUID, done: int, total: int) -> None:
    """Its own tiny autocommit UPDATE, so staff see progress while the inventory is created."""
    Event.objects.using(DB_ALIAS).filter(pk=event_id).update(inventory_created=min(done, total))


def event_publish_finish(*, event_id: uuid.UUID, total: int) -> bool:
    """Put the event on sale once its inventory exists; True when this was its first publication."""
    with transaction.atomic(using=DB_ALIAS):
        event = Event.objects.using(DB_ALIAS).select_for_update().get(pk=event_id)
        first_publish = event.status == EventStatus.DRAFT
        if first_publish:
            event.status = EventStatus.PUBLISHED
            event.published_at = timezone.now()
        event.inventory_status = EventInventoryStatus.READY
        event.inventory_created = total
        event.save(
            using=DB_ALIAS,
            update_fields=["status", "published_at", "inventory_status", "inventory_created", "updated_at"],
        )
    return first_publish


# --- repricing (driven by orders.services.tier_reprice, which reprices the places on sale) ---------------------
def tier_set_price(*, event_id: uuid.UUID, tier_id: uuid.UUID, price: Decimal) -> TierPriceChange:
    """The tier's price from now on (the price tables buyers see); its places follow in seats_db."""
    price = price_checked(price)
    with transaction.atomic(using=DB_ALIAS):
        tiers = PriceTier.objects.using(DB_ALIAS).select_for_update().select_related("event")
        tier = tiers.filter(pk=tier_id, event_id=event_id).first()
        if tier is None:
            raise NotFound(gettext("This event has no such price tier."))
        if tier.event.status in (EventStatus.CANCELLED, EventStatus.ENDED):
            raise EventNotPublishable(
                gettext("A %(status)s event cannot be repriced.") % {"status": tier.event.get_status_display().lower()}
            )
        old = tier.price
        if old != price:
            tier.price = price
            tier.save(using=DB_ALIAS, update_fields=["price", "updated_at"])
    return TierPriceChange(
        tier_id=tier.pk,
        tier_name=tier.name,
        event_id=tier.event_id,
        organization_id=tier.event.organization_id,
        old_price=old,
        new_price=price,
    )


# --- cancelling (driven by orders.services.event_cancel, which refunds the orders) -------------------------------
def event_cancel_begin(*, event_id: uuid.UUID) -> tuple[uuid.UUID, bool]:
    """Stop sales at once: the event is CANCELLED before any refund runs. Returns (organization id, first time)."""
    with transaction.atomic(using=DB_ALIAS):
        event = Event.objects.using(DB_ALIAS).select_for_update().filter(pk=event_id).first()
        if event is None:
            raise NotFound(gettext("No such event."))
        if event.status == EventStatus.ENDED:
            raise EventNotCancellable(gettext("An event that has ended cannot be cancelled."))
        first_cancel = event.status != EventStatus.CANCELLED
        if first_cancel:
            event.status = EventStatus.CANCELLED
            event.cancelled_at = timezone.now()
            event.save(using=DB_ALIAS, update_fields=["status", "cancelled_at", "updated_at"])
    return event.organization_id, first_cancel


def event_refunds_progress(*, event_id: uuid.UUID, done: int, total: int) -> None:
    Event.objects.using(DB_ALIAS).filter(pk=event_id).update(refunds_done=done, refunds_total=total)


# --- the waiting room's switch (the room itself is orders_db's) ---------------------------------------------------
def event_set_waiting_room(*, event_id: uuid.UUID, active: bool) -> None:
    """Turn the pass check of holds and checkout on or off for one event (idempotent)."""
    with transaction.atomic(using=DB_ALIAS):
        changed = (
            Event.objects.using(DB_ALIAS).filter(pk=event_id).update(waiting_room=active, updated_at=timezone.now())
        )
    if not changed:
        raise NotFound(gettext("No such event."))


# --- announcing changes buyers must hear of ------------------------------------------------------------------------
def event_change_announce(*, event_id: uuid.UUID, before: dict[str, Any]) -> None:
    """Record that a published event's time changed, in the caller's events_db transaction (the admin's save).

    The fact goes to this database's outbox (core/outbox.py) and becomes a mail to every ticket holder; if the
    save rolls back, so does the fact.
    """
    event = Event.objects.using(DB_ALIAS).select_related("venue").get(pk=event_id)
    was = {key: value.isoformat() if hasattr(value, "isoformat") else value for key, value in before.items()}
    outbox_emit(
        using=DB_ALIAS,
        topic="events.event_changed",
        payload={
            "event_id": str(event.pk),
            "before": was,
            "after": {"starts_at": event.starts_at.isoformat(), "venue_name": event.venue.name},
        },
    )
