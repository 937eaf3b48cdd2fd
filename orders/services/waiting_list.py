"""The waiting list of a sold-out event, section or price tier (docs/BUYER.md, docs/STAFF.md).

- **Lines**: a verified buyer joins a line (the event, one section, or one price tier) with a quantity while fewer
  places than that are free in it; one live entry per buyer per line (a partial unique index). Each line is first
  come, first served by (created_at, id).
- **Offers**: when places come back (a refund, a lapsed hold, places returned to sale, an offer not taken), the
  matching job (`waiting_list_match_due`, every few seconds and nudged after each release commits) holds them in
  seats_db in the name of the next entry's buyer until the offer's expiry (``waiting_list_offer_seconds``), and
  mails a link to the offer. The buyer pays through the normal checkout, which sells the buyer's holds.
- **One writer per event**: the job takes a session advisory lock per event (try, never wait), so two workers
  never match one event at once and a place is never offered twice; the hold itself takes free places with
  SKIP LOCKED, so buyers holding at the same moment never get the same place either.
- **Crash safety**: the entry is recorded OFFERING with the offer's expiry before the hold, and OFFERED with its
  seats after it. The hold is idempotent by (buyer, event, expiry), so a run that finds an OFFERING entry (a worker
  died between the two) drives it again: it completes the offer with the places already held, or puts the entry
  back in line (at its old place) when too few are free.
- **Settling**: an OFFERED entry whose places were bought by its buyer is CLAIMED; one whose offer ran out (or
  whose places the buyer let go) is LAPSED, and its places, free again, pass to the next entry in the same run.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from accounts import selectors as accounts_selectors
from accounts.contract import UserInfo
from core import config
from core.errors import NotFound
from core.faults import fault_point
from core.locking import LockBusy, LockSpace, session_lock
from core.results import from_row
from events import selectors as events_selectors
from inventory import selectors as inventory_selectors
from inventory import services as inventory_services
from inventory.contract import TICKET_STATUSES
from orders import DB_ALIAS
from orders.contract import (
    WAITING_LIST_LIVE_STATUSES,
    EmailNotVerified,
    NotificationKind,
    WaitingListAlreadyJoined,
    WaitingListEntryClosed,
    WaitingListEntryInfo,
    WaitingListNotSoldOut,
    WaitingListStatus,
)
from orders.models import WaitingListEntry
from orders.notifications import notify
from orders.services.blocks import check_not_blocked
from orders.services.purchase.holds import check_section_and_tier, quantity_from_input
from orders.services.waiting_list_nudge import waiting_list_nudge

logger = logging.getLogger(__name__)

Status = WaitingListStatus
_MATCHER_NAMESPACE = uuid.UUID("6f0c2a57-5b1e-4c53-9a55-7d3c0f1e9a11")
Line = tuple[uuid.UUID | None, uuid.UUID | None]  # (section_id, tier_id); None = any


def _matcher_lock_id(event_id: uuid.UUID) -> uuid.UUID:
    """The flow id whose session lock makes one worker at a time the matcher of this event's waiting list."""
    return uuid.uuid5(_MATCHER_NAMESPACE, str(event_id))


def _free_in_line(free: dict[tuple[uuid.UUID, uuid.UUID | None], int], line: Line) -> int:
    section_id, tier_id = line
    return sum(
        count
        for (section, tier), count in free.items()
        if (section_id is None or section == section_id) and (tier_id is None or tier == tier_id)
    )


def _live(queryset=None):
    base = queryset if queryset is not None else WaitingListEntry.objects.using(DB_ALIAS)
    return base.filter(status__in=WAITING_LIST_LIVE_STATUSES)


def _position(entry: WaitingListEntry) -> int | None:
    """1 + the entries of the same line that joined before this one and still wait (index waiting_list_line_idx)."""
    if entry.status != Status.WAITING:
        return None
    ahead = (
        WaitingListEntry.objects.using(DB_ALIAS)
        .filter(
            event_id=entry.event_id,
            section_id=entry.section_id,
            tier_id=entry.tier_id,
            status=Status.WAITING,
        )
        .filter(Q(created_at__lt=entry.created_at) | Q(created_at=entry.created_at, id__lt=entry.id))
        .count()
    )
    return ahead + 1


def _info(entry: WaitingListEntry, *, with_position: bool = True) -> WaitingListEntryInfo:
    return from_row(
        WaitingListEntryInfo,
        entry,
        position=_position(entry) if with_position else None,
        offered_seat_ids=tuple(entry.offered_seat_ids or ()),
    )


# --- Buyers: join, look, leave ------------------------------------------------------------------------------------


def waiting_list_join(
    *,
    buyer_id: uuid.UUID,
    event_id: uuid.UUID,
    quantity: Any,
    section_id: uuid.UUID | None = None,
    tier_id: uuid.UUID | None = None,
    buyer: UserInfo | None = None,
) -> WaitingListEntryInfo:
    """Put the buyer at the end of a line (the event, a section or a price tier) for ``quantity`` places.

    Refusals: the event is not on sale (SalesClosed), the buyer is not verified or is blocked, an unknown section or
    tier (404), enough places are free in the line to hold them now (WAITING_LIST_NOT_SOLD_OUT), the buyer already
    has a live entry in this line (WAITING_LIST_ALREADY_JOINED).
    """
    event = events_selectors.event_get_on_sale(event_id=event_id)
    if buyer is None or buyer.id != buyer_id or not buyer.is_verified:
        buyer = accounts_selectors.user_get(user_id=buyer_id)
    if not buyer.is_verified:
        raise EmailNotVerified()
    check_not_blocked(organization_id=event.organization_id, user_id=buyer.id)
    quantity = quantity_from_input(quantity, max_per_buyer=config.get("max_tickets_per_order"))
    check_section_and_tier(event_id=event.id, section_id=section_id, tier_id=tier_id)
    free = inventory_selectors.free_places_by_line(event_id=event.id)
    if _free_in_line(free, (section_id, tier_id)) >= quantity:
        raise WaitingListNotSoldOut()
    try:
        with transaction.atomic(using=DB_ALIAS):
            entry = WaitingListEntry.objects.using(DB_ALIAS).create(
                event_id=event.id,
                organization_id=event.organization_id,
                section_id=section_id,
                tier_id=tier_id,
                buyer_id=buyer.id,
                quantity=quantity,
            )
    except IntegrityError:
        raise WaitingListAlreadyJoined() from None
    return _info(entry)


def _buyer_entry(*, buyer_id: uuid.UUID, entry_id: uuid.UUID) -> WaitingListEntry:
    entry = WaitingListEntry.objects.using(DB_ALIAS).filter(pk=entry_id, buyer_id=buyer_id).first()
    if entry is None:
        raise NotFound(gettext("No such waiting-list entry."))
    return entry


def waiting_list_entry_get(*, buyer_id: uuid.UUID, entry_id: uuid.UUID) -> WaitingListEntryInfo:
    """The buyer's own entry (NotFound for anyone else's), its offer settled first if it was bought or ran out."""
    entry = _buyer_entry(buyer_id=buyer_id, entry_id=entry_id)
    if entry.status == Status.OFFERED:
        _settle_offered(entry, now=timezone.now())
    return _info(entry)


def waiting_list_for_buyer(
    *, buyer_id: uuid.UUID, event_id: uuid.UUID | None = None, live_only: bool = False
) -> list[WaitingListEntryInfo]:
    """The buyer's entries (newest first), open offers settled first; live ones only with ``live_only``."""
    entries = WaitingListEntry.objects.using(DB_ALIAS).filter(buyer_id=buyer_id).order_by("-created_at")
    if event_id is not None:
        entries = entries.filter(event_id=event_id)
    if live_only:
        entries = _live(entries)
    found = list(entries[:50])
    now = timezone.now()
    for entry in found:
        if entry.status == Status.OFFERED:
            _settle_offered(entry, now=now)
    return [_info(entry) for entry in found if not live_only or entry.status in WAITING_LIST_LIVE_STATUSES]


def waiting_list_leave(*, buyer_id: uuid.UUID, entry_id: uuid.UUID) -> WaitingListEntryInfo:
    """Leave the line, or turn an offer down: its places are let go at once and pass to the next entry."""
    entry = _buyer_entry(buyer_id=buyer_id, entry_id=entry_id)
    now = timezone.now()
    with transaction.atomic(using=DB_ALIAS):
        left = _live(WaitingListEntry.objects.using(DB_ALIAS).filter(pk=entry.pk)).update(
            status=Status.LEFT, closed_at=now, updated_at=now
        )
    if not left:
        raise WaitingListEntryClosed()
    if entry.status == Status.OFFERED and entry.offered_seat_ids:
        inventory_services.seats_release(
            buyer_id=entry.buyer_id, event_id=entry.event_id, seat_ids=entry.offered_seat_ids
        )
        waiting_list_nudge(event_id=entry.event_id)
    entry.refresh_from_db(using=DB_ALIAS)
    return _info(entry)


# --- The matcher -----------------------------------------------------------------------------------------------


def waiting_list_match_due() -> int:
    """One matching run over every event with a live entry; returns how many offers it made.

    Each event is matched under its own session advisory lock, tried without waiting: an event another worker is
    matching right now is skipped (that worker does it)."""
    event_ids = sorted(set(_live().values_list("event_id", flat=True).distinct()))
    offered = 0
    for event_id in event_ids:
        try:
            with session_lock(LockSpace.FLOW, _matcher_lock_id(event_id), using=DB_ALIAS):
                offered += waiting_list_match_event(event_id=event_id)
        except LockBusy:
            continue
    return offered


def waiting_list_match_event(*, event_id: uuid.UUID) -> int:
    """Settle the event's open offers, then offer free places to the entries in line. Call under the event's
    matcher lock (``waiting_list_match_due`` takes it)."""
    now = timezone.now()
    for entry in _live(WaitingListEntry.objects.using(DB_ALIAS).filter(event_id=event_id)).exclude(
        status=Status.WAITING
    ):
        if entry.status == Status.OFFERING:
            _drive_offer(entry)
        else:
            _settle_offered(entry, now=now)
    event = events_selectors.event_get(event_id=event_id)
    if not event.is_on_sale:
        _close_line(event_id=event_id, now=now)
        return 0
    free = inventory_selectors.free_places_by_line(event_id=event_id)
    if not any(free.values()):
        return 0
    offered = 0
    blocked: set[Line] = set()
    waiting = WaitingListEntry.objects.using(DB_ALIAS).filter(event_id=event_id, status=Status.WAITING)
    for entry in waiting.order_by("created_at", "id").iterator(chunk_size=500):
        line = (entry.section_id, entry.tier_id)
        if line in blocked:
            continue
        if _free_in_line(free, line) < entry.quantity:
            blocked.add(line)  # first come, first served: nobody behind this entry in its line goes first
            if not any(free.values()):
                break
            continue
        seats = _offer(entry)
        if not seats:
            blocked.add(line)
            continue
        offered += 1
        for seat in seats:
            key = (seat.section_id, seat.tier_id)
            free[key] = max(0, free.get(key, 0) - 1)
    return offered


def _close_line(*, event_id: uuid.UUID, now: dt.datetime) -> None:
    """Sales are over (ended, cancelled): those still waiting will get no places."""
    WaitingListEntry.objects.using(DB_ALIAS).filter(event_id=event_id, status=Status.WAITING).update(
        status=Status.CLOSED, closed_at=now, updated_at=now
    )


def _offer(entry: WaitingListEntry) -> list:
    """Record the offer (OFFERING, with its expiry), then drive it: hold the places, record OFFERED, mail."""
    now = timezone.now()
    expires = now + dt.timedelta(seconds=config.get("waiting_list_offer_seconds"))
    with transaction.atomic(using=DB_ALIAS):
        recorded = (
            WaitingListEntry.objects.using(DB_ALIAS)
            .filter(pk=entry.pk, status=Status.WAITING)
            .update(status=Status.OFFERING, offered_at=now, offer_expires_at=expires, updated_at=now)
        )
    if not recorded:
        return []  # the buyer left a moment ago
    entry.status, entry.offer_expires_at = Status.OFFERING, expires
    return _drive_offer(entry)


def _drive_offer(entry: WaitingListEntry) -> list:
    """Hold the offer's places (idempotent by its expiry) and record OFFERED, or put the entry back in line."""
    seats = inventory_services.seats_hold_for_offer(
        event_id=entry.event_id,
        buyer_id=entry.buyer_id,
        quantity=entry.quantity,
        expires_at=entry.offer_expires_at,
        section_id=entry.section_id,
        tier_id=entry.tier_id,
    )
    fault_point("waiting_list.after_hold")
    now = timezone.now()
    entries = WaitingListEntry.objects.using(DB_ALIAS).filter(pk=entry.pk, status=Status.OFFERING)
    if not seats:
        # Too few places after all (taken meanwhile, or the offer's time ran out before it was made): back in line,
        # at the place its join time gives it.
        entries.update(status=Status.WAITING, offered_at=None, offer_expires_at=None, updated_at=now)
        entry.status = Status.WAITING
        return []
    seat_ids = [seat.id for seat in seats]
    with transaction.atomic(using=DB_ALIAS):
        made = entries.update(status=Status.OFFERED, offered_seat_ids=seat_ids, updated_at=now)
        if made:
            notify(kind=NotificationKind.WAITING_LIST_OFFER, object_id=entry.pk, recipient_id=entry.buyer_id)
    if not made:
        # The buyer left while the places were being held: let them go again.
        inventory_services.seats_release(buyer_id=entry.buyer_id, event_id=entry.event_id, seat_ids=seat_ids)
        return []
    entry.status, entry.offered_seat_ids = Status.OFFERED, seat_ids
    logger.info("waiting list offer", extra={"entry_id": str(entry.pk), "places": len(seat_ids)})
    return seats


def _settle_offered(entry: WaitingListEntry, *, now: dt.datetime) -> None:
    """CLAIMED once the buyer bought any of the offered places; LAPSED when the offer ran out or the buyer let every
    place go; otherwise still OFFERED."""
    seats = inventory_selectors.seats_get_many(seat_ids=entry.offered_seat_ids).values()
    bought = any(seat.status in TICKET_STATUSES and seat.owner_id == entry.buyer_id for seat in seats)
    still_held = any(seat.status == "HELD" and seat.held_by_id == entry.buyer_id for seat in seats)
    if bought:
        outcome = Status.CLAIMED
    elif entry.offer_expires_at <= now or not still_held:
        outcome = Status.LAPSED
    else:
        return
    settled = (
        WaitingListEntry.objects.using(DB_ALIAS)
        .filter(pk=entry.pk, status=Status.OFFERED)
        .update(status=outcome, closed_at=now, updated_at=now)
    )
    if settled:
        entry.status, entry.closed_at = outcome, now
