"""Reads of orders_db for staff tooling (the admin's buyer scoping)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from orders import DB_ALIAS
from orders.models import Order


def buyer_ids_for_events(*, event_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """Buyers with at least one order (any status) for these events. Served by order_event_status_idx."""
    ids = list(event_ids)
    if not ids:
        return set()
    return set(
        Order.objects.using(DB_ALIAS).filter(event_id__in=ids).order_by().values_list("buyer_id", flat=True).distinct()
    )
