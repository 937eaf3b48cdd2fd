"""Prices of places already on sale: a tier repriced after publishing."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from core.prices import price_checked
from inventory import DB_ALIAS
from inventory.selectors import SEAT_TABLE
from inventory.services._shared import FREE, require_id, seats_cursor


@dataclass(frozen=True)
class RepriceResult:
    repriced: int  # free places that cost the new price from now on
    deferred: int  # held or sold places that keep their price and take the new one when they are next free


def seats_reprice(*, event_id: uuid.UUID, tier_id: uuid.UUID, price: Decimal) -> RepriceResult:
    """Every place of the event's tier: a free one costs ``price`` at once; a held or sold one keeps its price.

    One seats_db transaction, so a buyer never sees part of a tier repriced. Each row is updated under its row
    lock: a hold taken at the same moment either sees the new price or holds the seat first (and keeps the old
    price, which it then says). Idempotent: repeating it with the same price changes nothing more.
    """
    event = require_id(event_id, name="event_id")
    tier = require_id(tier_id, name="tier_id")
    price = price_checked(price)
    now = timezone.now()
    scope = "event_id = %s AND tier_id = %s AND deleted_at IS NULL"
    with transaction.atomic(using=DB_ALIAS), seats_cursor() as cursor:
        cursor.execute(
            f"UPDATE {SEAT_TABLE} SET price = %s, next_price = NULL, updated_at = %s "  # noqa: S608 - fixed SQL
            f"WHERE {scope} AND {FREE}",
            [price, now, event, tier, now],
        )
        repriced = cursor.rowcount
        cursor.execute(
            f"UPDATE {SEAT_TABLE} SET next_price = %s, updated_at = %s "  # noqa: S608 - fixed SQL
            f"WHERE {scope} AND NOT {FREE}",
            [price, now, event, tier, now],
        )
        deferred = cursor.rowcount
    return RepriceResult(repriced=repriced, deferred=deferred)
