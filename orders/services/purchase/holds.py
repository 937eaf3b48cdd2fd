"""Holds as a buyer operation: the event must be on sale, the buyer verified, and the limits those of the
system configuration; inventory does the holding itself (seats_db), all or nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

from django.utils.translation import gettext

from accounts import selectors as accounts_selectors
from accounts.contract import UserInfo
from core import config
from core.errors import InvalidInput, NotFound
from events import selectors as events_selectors
from inventory import services as inventory_services
from orders.contract import EmailNotVerified
from orders.services.blocks import check_not_blocked
from orders.services.waiting_list_nudge import waiting_list_nudge
from orders.services.waiting_room import waiting_room_pass_check


def hold_seats(
    *,
    buyer_id: uuid.UUID,
    event_id: uuid.UUID,
    seat_ids: Collection[uuid.UUID] | None = None,
    section_id: uuid.UUID | None = None,
    tier_id: uuid.UUID | None = None,
    quantity: Any = None,
    waiting_room_pass: str | None = None,
    buyer: UserInfo | None = None,
) -> list:
    """Hold chosen seats (``seat_ids``) or ``quantity`` best-available places (in a section, a tier or anywhere).

    All or nothing. A busy seat is SEAT_UNAVAILABLE (409) at once, never a wait. Hold time and the per-buyer limit
    come from system configuration. ``quantity`` may come straight from a form: anything but a whole number in range
    is a validation error. While the event's waiting room is on, ``waiting_room_pass`` must be the buyer's own
    unexpired pass (WAITING_ROOM_PASS_REQUIRED, 403); checking it reads no database.

    ``buyer``: the buyer as the request already knows them (its authenticated user), so they are not read again. A
    buyer not verified there is read afresh: they may have verified their address a moment ago.
    """
    event = events_selectors.event_get_on_sale(event_id=event_id)
    waiting_room_pass_check(event=event, user_id=buyer_id, token=waiting_room_pass)
    max_per_buyer = config.get("max_tickets_per_order")
    hold_seconds = config.get("hold_seconds")
    if buyer is None or buyer.id != buyer_id or not buyer.is_verified:
        buyer = accounts_selectors.user_get(user_id=buyer_id)
    if not buyer.is_verified:
        raise EmailNotVerified()
    check_not_blocked(organization_id=event.organization_id, user_id=buyer.id)
    if seat_ids is not None and quantity is not None:
        raise InvalidInput(gettext("Choose seats or a quantity, not both."))
    # The hold's terms, the same for chosen seats and the best available.
    terms = {
        "event_id": event.id,
        "buyer_id": buyer_id,
        "hold_seconds": hold_seconds,
        "max_per_buyer": max_per_buyer,
    }
    if seat_ids is not None:
        ids = _chosen_seats(seat_ids, event=event, max_per_buyer=max_per_buyer)
        return inventory_services.seats_hold(seat_ids=ids, **terms)
    quantity = quantity_from_input(quantity, max_per_buyer=max_per_buyer)
    check_section_and_tier(event_id=event.id, section_id=section_id, tier_id=tier_id)
    return inventory_services.seats_hold_best_available(
        quantity=quantity, section_id=section_id, tier_id=tier_id, **terms
    )


def _chosen_seats(seat_ids: Collection[uuid.UUID], *, event, max_per_buyer: int) -> list[uuid.UUID]:
    ids = sorted(set(seat_ids))
    if not ids:
        raise InvalidInput(
            gettext("Choose at least one seat."), fields={"seat_ids": [gettext("Choose at least one seat.")]}
        )
    if len(ids) > max_per_buyer:
        raise InvalidInput(
            gettext("You can hold at most %(max_per_buyer)s places for this event.") % {"max_per_buyer": max_per_buyer},
            fields={"seat_ids": [f"At most {max_per_buyer} seats."]},
        )
    if event.selection_mode == "BEST_AVAILABLE":
        raise InvalidInput(
            gettext("This event sells the best available places: choose a quantity, not seats."),
            fields={"seat_ids": [gettext("Seat choice is not offered for this event.")]},
        )
    return ids


def check_section_and_tier(*, event_id: uuid.UUID, section_id: uuid.UUID | None, tier_id: uuid.UUID | None) -> None:
    """NotFound unless the event sells the section and the price tier asked for (either may be None)."""
    if not (section_id or tier_id):
        return
    section_sold, tier_sold = events_selectors.event_sells(event_id=event_id, section_id=section_id, tier_id=tier_id)
    if section_id and not section_sold:
        raise NotFound(gettext("This event sells no such section."))
    if tier_id and not tier_sold:
        raise NotFound(gettext("This event has no such price tier."))


def quantity_from_input(value: Any, *, max_per_buyer: int) -> int:
    """A quantity straight from a form or a body: a whole number from 1 to ``max_per_buyer``, or InvalidInput."""
    if value is None:
        raise InvalidInput(
            gettext("Choose seats or a quantity."), fields={"quantity": [gettext("This field is required.")]}
        )
    if isinstance(value, bool):
        raise InvalidInput(
            gettext("quantity must be a whole number."), fields={"quantity": [gettext("A whole number is required.")]}
        )
    try:
        quantity = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(
            gettext("quantity must be a whole number."), fields={"quantity": [gettext("A whole number is required.")]}
        ) from None
    if not 1 <= quantity <= max_per_buyer:
        raise InvalidInput(
            gettext("Choose between 1 and %(max_per_buyer)s places.") % {"max_per_buyer": max_per_buyer},
            fields={"quantity": [f"Must be between 1 and {max_per_buyer}."]},
        )
    return quantity


def release_holds(
    *, buyer_id: uuid.UUID, event_id: uuid.UUID | None = None, seat_ids: Collection[uuid.UUID] | None = None
) -> int:
    """Release the buyer's own unexpired holds (all, one event's, or the listed seats). Returns how many."""
    ids = None
    if seat_ids is not None:
        ids = sorted(set(seat_ids))
        if not ids:
            return 0
    released = inventory_services.seats_release(buyer_id=buyer_id, event_id=event_id, seat_ids=ids)
    if released and event_id is not None:
        waiting_list_nudge(event_id=event_id)
    return released
