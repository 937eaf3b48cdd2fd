"""Turn the dataclasses of inventory and orders into what pages and the API show, joined in Python with the events and
accounts reads.

Shared by the ticket, transfer and resale pages, their API, the scan API and the gate page (orders/gate_urls.py), so
every screen describes a ticket, a scan, a transfer and a listing the same way. Cross-domain lookups are batched (one
query per domain) and the few that are hot at the gate (an event's organization and section names, a staff member's
roles) are cached briefly in-process: an event's organization never changes, section names rarely, and a revoked role
stops working within MEMBERSHIP_CACHE_SECONDS.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.utils.translation import gettext

from accounts import selectors as accounts_selectors
from core.errors import NotFound
from core.permissions import Capability, role_allows
from events import selectors as events_selectors
from inventory import selectors as inventory_selectors
from inventory.selectors import SeatInfo
from inventory.services import ScanResult
from orders.contract import ListingInfo, ResaleListingStatus, ScanForbidden, TransferInfo, TransferStatus
from orders.services import resale

EVENT_CACHE_SECONDS = 60.0
MEMBERSHIP_CACHE_SECONDS = 5.0
_CACHE_LIMIT = 2048


class _TtlCache:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self._data: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Any, load: Callable[[], Any]) -> Any:
        now = time.monotonic()
        with self._lock:
            hit = self._data.get(key)
        if hit is not None and now - hit[0] < self.seconds:
            return hit[1]
        value = load()
        if value is None:  # "not found" is not cached: an event created a second later must be found
            return value
        with self._lock:
            if len(self._data) >= _CACHE_LIMIT:
                self._data.clear()
            self._data[key] = (now, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


_events = _TtlCache(EVENT_CACHE_SECONDS)
_sections = _TtlCache(EVENT_CACHE_SECONDS)
_memberships = _TtlCache(MEMBERSHIP_CACHE_SECONDS)


def clear_caches() -> None:
    for cache in (_events, _sections, _memberships):
        cache.clear()


def section_names(*, event_id: uuid.UUID) -> dict[uuid.UUID, str]:
    return _sections.get(
        event_id, lambda: {s.section_id: s.name for s in events_selectors.event_sections(event_id=event_id)}
    )


def event_timezone(*, event_id: uuid.UUID) -> str:
    """The venue's zone name of an event (cached like the gate's event lookups); UTC for an unknown event."""
    event = _events.get(("event", str(event_id)), lambda: _event_or_none(event_id))
    return event.venue_timezone if event is not None else "UTC"


def gate_event_for_staff(*, user: Any, event_id: Any) -> events_selectors.EventInfo:
    """The event a staff member may scan for: superusers any, staff any of their organizations' events.

    NotFound (404) for an unknown or malformed event id, ScanForbidden (403) for anyone else.
    """
    if not getattr(user, "is_authenticated", False):
        raise ScanForbidden()
    event = _events.get(("event", str(event_id)), lambda: _event_or_none(event_id))
    if event is None:
        raise NotFound(gettext("No such event."))
    if user.is_superuser:
        return event
    roles = _memberships.get(user.pk, lambda: accounts_selectors.memberships_for_user(user_id=user.pk))
    if not user.is_staff or not role_allows(roles.get(event.organization_id), Capability.GATE):
        raise ScanForbidden()
    return event


def _event_or_none(event_id: Any) -> events_selectors.EventInfo | None:
    try:
        return events_selectors.event_get(event_id=event_id)
    except NotFound:
        return None


def seat_place(*, section_name: str, label: str) -> str:
    """How every screen names a place: "Stalls · Row A, seat 10" (a stadium has many sections with the same rows)."""
    return f"{section_name} · {label}" if section_name else label


def seat_body(seat: SeatInfo, *, section_name: str = "") -> dict[str, Any]:
    return {
        "id": seat.id,
        "event_id": seat.event_id,
        "section_id": seat.section_id,
        "section_name": section_name,
        "row": seat.row_label,
        "number": seat.number,
        "label": seat.label,
        "place": seat_place(section_name=section_name, label=seat.label),
        "is_accessible": seat.is_accessible,
        "is_general_admission": seat.is_general_admission,
        "status": seat.status,
        "checked_in_at": seat.checked_in_at,
    }


def scan_describe(outcome: ScanResult) -> dict[str, Any]:
    """The scan answer every gate screen shows: {result, admitted, seat, holder_name, detail}."""
    holder_name = ""
    if outcome.holder_id is not None:
        try:
            holder_name = accounts_selectors.user_get(user_id=outcome.holder_id).display_name
        except NotFound:
            holder_name = ""
    seat = None
    if outcome.seat is not None:
        seat = seat_body(
            outcome.seat, section_name=section_names(event_id=outcome.seat.event_id).get(outcome.seat.section_id, "")
        )
    return {
        "result": outcome.result,
        "admitted": outcome.admitted,
        "seat": seat,
        "holder_name": holder_name,
        "detail": outcome.detail,
    }


def tickets_describe(tickets: Iterable[SeatInfo]) -> list[dict[str, Any]]:
    """Tickets with their event (title, venue, start) and section name, one events query per distinct event."""
    tickets = list(tickets)
    events = events_selectors.events_get_many(event_ids={t.event_id for t in tickets})
    rows = []
    for ticket in tickets:
        event = events.get(ticket.event_id)
        row = seat_body(ticket, section_name=section_names(event_id=ticket.event_id).get(ticket.section_id, ""))
        row.update(
            {
                "price": ticket.price,
                "order_id": ticket.order_id,
                "qr_version": ticket.qr_version,
                "tier_id": ticket.tier_id,
                "event_title": event.title if event else "",
                "venue_name": event.venue_name if event else "",
                "venue_timezone": event.venue_timezone if event else "UTC",
                "starts_at": event.starts_at if event else None,
                "event_status": event.status if event else "",
                "can_show_qr": ticket.status in ("SOLD", "CHECKED_IN"),
            }
        )
        rows.append(row)
    return rows


# --- Transfers and resale listings -------------------------------------------------------------------------------


def ticket_summaries(*, seat_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """seat id -> {"label", "section_name", "place", "event_id", "event_title", "starts_at", "venue_name"}."""
    seat_ids = set(seat_ids)
    described: dict[uuid.UUID, dict[str, Any]] = {}
    tickets = inventory_selectors.seats_get_many(seat_ids=seat_ids) if seat_ids else {}
    events = events_selectors.events_get_many(event_ids={ticket.event_id for ticket in tickets.values()})
    for seat_id, ticket in tickets.items():
        event = events.get(ticket.event_id)
        section_name = section_names(event_id=ticket.event_id).get(ticket.section_id, "")
        described[seat_id] = {
            "label": ticket.label,
            "section_name": section_name,
            "place": seat_place(section_name=section_name, label=ticket.label),
            "row": ticket.row_label,
            "number": ticket.number,
            "is_general_admission": ticket.is_general_admission,
            "event_id": ticket.event_id,
            "event_title": event.title if event else "",
            "starts_at": event.starts_at if event else None,
            "venue_name": event.venue_name if event else "",
            "venue_timezone": event.venue_timezone if event else "UTC",
        }
    return described


def transfers_describe(*, transfers: list[TransferInfo], viewer_id: uuid.UUID) -> list[dict[str, Any]]:
    """Transfers as dicts with the ticket, event and the parties' emails, and the viewer's role and next actions."""
    users = accounts_selectors.user_get_many(
        user_ids={t.from_user_id for t in transfers} | {t.to_user_id for t in transfers if t.to_user_id}
    )
    tickets = ticket_summaries(seat_ids=[t.seat_id for t in transfers])
    rows = []
    for transfer in transfers:
        role = transfer.role_of(viewer_id)
        ticket = tickets.get(transfer.seat_id, {})
        sender, recipient = users.get(transfer.from_user_id), users.get(transfer.to_user_id)
        confirmed = (role == "sender" and transfer.sender_confirmed_at is not None) or (
            role == "recipient" and transfer.recipient_confirmed_at is not None
        )
        is_open = transfer.status in (TransferStatus.OFFERED, TransferStatus.ACCEPTED)
        rows.append(
            {
                **dataclasses.asdict(transfer),
                "status_label": TransferStatus(transfer.status).label,
                "event_title": ticket.get("event_title", ""),
                "ticket_label": ticket.get("label", ""),
                "section_name": ticket.get("section_name", ""),
                "ticket_place": ticket.get("place", ""),
                "starts_at": ticket.get("starts_at"),
                "venue_timezone": ticket.get("venue_timezone", "UTC"),
                "from_email": sender.email if sender else "",
                "from_name": sender.display_name if sender else "",
                # The address the sender typed, whether or not it named an account that may receive the ticket; the
                # recipient's name only once they answered (before, it would tell the sender who has an account).
                "to_email": transfer.to_email or (recipient.email if recipient else ""),
                "to_name": recipient.display_name if recipient and (role != "sender" or transfer.accepted_at) else "",
                "your_role": role,
                "you_confirmed": confirmed,
                "can_accept": role == "recipient" and transfer.status == TransferStatus.OFFERED,
                "can_decline": role == "recipient" and is_open,
                "can_cancel": role == "sender" and is_open,
                "can_confirm": role is not None and transfer.status == TransferStatus.ACCEPTED and not confirmed,
            }
        )
    return rows


def listings_describe(*, listings: list[ListingInfo], viewer_id: uuid.UUID | None = None) -> list[dict[str, Any]]:
    """Listings as dicts with the ticket and event, what the seller receives, and the viewer's next actions."""
    tickets = ticket_summaries(seat_ids=[listing.seat_id for listing in listings])
    rows = []
    for listing in listings:
        ticket = tickets.get(listing.seat_id, {})
        yours = viewer_id is not None and str(viewer_id) == str(listing.seller_id)
        on_sale = listing.status == ResaleListingStatus.ACTIVE
        rows.append(
            {
                **dataclasses.asdict(listing),
                "status_label": ResaleListingStatus(listing.status).label,
                "event_title": ticket.get("event_title", ""),
                "ticket_label": ticket.get("label", ""),
                "section_name": ticket.get("section_name", ""),
                "ticket_place": ticket.get("place", ""),
                "seat_row": "" if ticket.get("is_general_admission") else ticket.get("row", ""),
                "seat_number": None if ticket.get("is_general_admission") else ticket.get("number"),
                "starts_at": ticket.get("starts_at"),
                "venue_name": ticket.get("venue_name", ""),
                "venue_timezone": ticket.get("venue_timezone", "UTC"),
                # A listing still for sale shows the fee the configuration would take now; a closed one its own.
                "seller_receives": listing.price - (resale.fee_for(listing.price) if on_sale else listing.fee),
                "is_yours": yours,
                "can_withdraw": yours and on_sale,
                "can_buy": on_sale and not yours,
            }
        )
    return rows
