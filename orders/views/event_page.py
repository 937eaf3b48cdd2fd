"""The event page buyers see: sections with availability and price, the seat map, their holds.

It combines three domains (the event from events, seats and availability from inventory, the buyer's holds), so
it lives in orders. Holding works as a plain form POST (orders/views/holds.py); static/js/seatmap.js only enhances
it (click and keyboard selection on the SVG, the hold countdown).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from core import config
from core.errors import InvalidInput, NotFound
from core.ids import as_uuid
from core.middleware import viewer_independent
from events import selectors as events_selectors
from inventory import selectors as inventory_selectors
from orders import presentation
from orders.services import resale

# Up to this many seated places the event page draws every seat; above it, a venue overview and one section at a time.
INLINE_SEAT_LIMIT = 2000
SEAT_SCREEN_PITCH = 24  # px between seat centres on screen
PICK_LIMIT = 50  # at most this many ?pick= ids are read (a hold takes far fewer)
# Live availability: open maps poll seat_changes every CHANGES_POLL_SECONDS with the version of their last answer.
# Writers stamp updated_at a moment before they commit, so a poll also looks CHANGES_OVERLAP behind its version and
# may report a seat twice; harmless, each answer gives absolute states. The answer is the same for every viewer and
# versions are whole seconds, so all the maps of a section ask the same URL and the edge answers them from its cache
# (deploy/templates/nginx.conf: one answer per URL and half second, at most 0.5 s late): a seat changes on every
# open map within 2 s. CHANGES_SHARED_SECONDS is what the answer tells shared caches (s-maxage).
CHANGES_POLL_SECONDS = 1
CHANGES_SHARED_SECONDS = 1
CHANGES_OVERLAP = dt.timedelta(seconds=5)
CHANGES_SECTION_LIMIT = 20


def event_or_404(event_id):
    try:
        return events_selectors.event_published_get(event_id=event_id)
    except NotFound:
        raise Http404("No such event.") from None


def _section_rows(event_id, *, availability: dict) -> list[dict]:
    rows = []
    for section in events_selectors.event_sections(event_id=event_id):
        counts = availability.get(section.section_id, {})
        available = counts.get("AVAILABLE", 0)
        total = sum(counts.values())
        rows.append(
            {
                "info": section,
                "available": available,
                "total": total,
                "percent": round(100 * available / total) if total else 0,
                "is_general": section.kind == "GENERAL",
            }
        )
    return rows


def _picked(request: HttpRequest) -> frozenset:
    """Seats to show as chosen (``?pick=id,id``): after a lost race, the ones still free, ready to hold in one tap."""
    ids = (as_uuid(value) for value in request.GET.get("pick", "").split(",")[:PICK_LIMIT])
    return frozenset(seat_id for seat_id in ids if seat_id is not None)


def _my_holds(request: HttpRequest, event_id) -> list:
    if not request.user.is_authenticated:
        return []
    return inventory_selectors.holds_for_buyer(buyer_id=request.user.pk, event_id=event_id)


def _holds_context(holds: list, *, section_names: dict) -> dict:
    if not holds:
        return {"holds": [], "hold_rows": [], "holds_total": Decimal("0.00"), "holds_expire_at": None}
    holds = sorted(holds, key=lambda seat: (section_names.get(seat.section_id, ""), seat.row_label, seat.number))
    return {
        "holds": holds,
        "hold_rows": [
            {
                "seat": seat,
                "place": presentation.seat_place(section_name=section_names.get(seat.section_id, ""), label=seat.label),
            }
            for seat in holds
        ],
        "holds_total": sum((Decimal(seat.price) for seat in holds), Decimal("0.00")),
        "holds_expire_at": min(seat.hold_expires_at for seat in holds),
    }


def _seat_map(seats: list[dict], *, colours: dict, mine: set) -> dict:
    """Geometry for one section's SVG: seats positioned, coloured by status and tier, grouped by row."""
    if not seats:
        return {"seats": [], "rows": [], "width": 0, "height": 0}
    xs = sorted({seat["x"] for seat in seats})
    steps = [b - a for a, b in zip(xs, xs[1:], strict=False) if b > a]
    pitch = min(steps) if steps else 12
    radius = round(pitch * 0.4, 1)
    pad = pitch * 2
    min_x, min_y = xs[0], min(seat["y"] for seat in seats)
    rows: dict[str, dict] = {}
    drawn = []
    for seat in seats:
        status = seat["status"]
        if seat["id"] in mine:
            state = "mine"
        elif status == "AVAILABLE":
            state = "available"
        elif status == "HELD":
            state = "held"
        elif status == "BLOCKED":
            state = "blocked"
        else:
            state = "sold"
        row = rows.setdefault(seat["row"], {"label": seat["row"], "y": seat["y"] - min_y + pad, "index": len(rows)})
        drawn.append(
            {
                "id": seat["id"],
                "row": seat["row"],
                "row_index": row["index"],
                "number": seat["number"],
                "cx": seat["x"] - min_x + pad,
                "cy": seat["y"] - min_y + pad,
                "state": state,
                "fill": colours.get(seat["tier_id"], "#3b82f6") if state == "available" else "",
                "accessible": seat["accessible"],
                "price": seat["price"],
            }
        )
    width = xs[-1] - min_x + 2 * pad
    height = max(seat["y"] for seat in seats) - min_y + 2 * pad
    return {
        "seats": drawn,
        "rows": list(rows.values()),
        "width": width,
        "height": height,
        "r": radius,
        "ring": round(radius + max(1.5, pitch * 0.12), 1),
        # Drawn so a seat is about 20 px across whatever the layout's units; the map scrolls inside its frame.
        "display_width": round(width * max(1.0, SEAT_SCREEN_PITCH / pitch)),
        "display_height": round(height * max(1.0, SEAT_SCREEN_PITCH / pitch)),
        "screen_pitch": round(pitch * max(1.0, SEAT_SCREEN_PITCH / pitch), 1),
    }


def _seat_section_context(event, section_row: dict, *, mine: set, picked: frozenset = frozenset()) -> dict:
    info = section_row["info"]
    # The map polls for changes from the moment before it was read (a replica's lag is covered by the first poll's
    # overlap, CHANGES_OVERLAP, as long as the replica is at most that far behind).
    version = changes_version(timezone.now() - CHANGES_OVERLAP)
    # Seat maps may be a few seconds old (the read replica); the buyer's own holds come from the primary.
    seats = inventory_selectors.seat_map(event_id=event.pk, section_id=info.section_id, stale_ok=True)
    geometry = _seat_map(seats, colours={info.tier_id: info.colour}, mine=mine)
    return {
        **section_row,
        "map": geometry,
        "changes_version": version,
        "svg_seats": _svg_seats(geometry, picked=picked),
        "seat_options": _seat_options(geometry["seats"], picked=picked),
    }


# A stadium section has thousands of seats: their markup is built here in one pass (about 10x faster than a
# template loop). Every interpolated value is a UUID, a number, a fixed word or an escaped row label.
_STATE_WORDS = {"mine": "held by you", "available": "available", "held": "held", "sold": "sold", "blocked": "blocked"}


def _svg_seats(geometry: dict, *, picked: frozenset = frozenset()) -> str:
    r, ring = geometry.get("r", 0), geometry.get("ring", 0)
    parts = [
        f'<text class="row-label" x="2" y="{row["y"]}" dy="3">{escape(row["label"])}</text>' for row in geometry["rows"]
    ]
    for seat in geometry["seats"]:
        row = escape(seat["row"])
        state = seat["state"]
        if seat["accessible"]:
            parts.append(f'<circle class="seat-ring" cx="{seat["cx"]}" cy="{seat["cy"]}" r="{ring}"/>')
        fill = f' fill="{seat["fill"]}"' if seat["fill"] else ""
        disabled = "" if state == "available" else ' aria-disabled="true"'
        chosen = state == "available" and seat["id"] in picked
        classes = f"seat {state} selected" if chosen else f"seat {state}"
        checked = "true" if chosen else "false"
        accessible = ", accessible" if seat["accessible"] else ""
        parts.append(
            f'<circle class="{classes}" cx="{seat["cx"]}" cy="{seat["cy"]}" r="{r}"{fill} data-id="{seat["id"]}" '
            f'data-row="{seat["row_index"]}" data-price="{seat["price"]}" data-label="{row}{seat["number"]}" '
            f'tabindex="-1" role="checkbox" aria-checked="{checked}"{disabled} aria-label="Row {row} seat '
            f'{seat["number"]}, {seat["price"]} credits, {_STATE_WORDS[state]}{accessible}"/>'
        )
    return mark_safe("".join(parts))  # noqa: S308 - built from escaped and typed values only


def _seat_options(seats: list[dict], *, picked: frozenset = frozenset()) -> str:
    """The no-JavaScript fallback: available seats as <option>s grouped by row."""
    groups: dict[str, list[str]] = {}
    for seat in seats:
        if seat["state"] != "available":
            continue
        row = escape(seat["row"])
        accessible = " (accessible)" if seat["accessible"] else ""
        selected = " selected" if seat["id"] in picked else ""
        groups.setdefault(row, []).append(
            f'<option value="{seat["id"]}"{selected}>Row {row}, seat {seat["number"]}{accessible} · '
            f"{seat['price']}</option>"
        )
    return mark_safe(  # noqa: S308 - built from escaped and typed values only
        "".join(f'<optgroup label="Row {row}">{"".join(options)}</optgroup>' for row, options in groups.items())
    )


def _overview(sections: list[dict]) -> dict:
    """Venue overview: one tile per section at its map position (SVG units), sized from the spacing of the tiles."""
    if not sections:
        return {"tiles": [], "width": 0, "height": 0}
    xs = sorted({row["info"].map_x for row in sections})
    ys = sorted({row["info"].map_y for row in sections})
    gaps = [b - a for axis in (xs, ys) for a, b in zip(axis, axis[1:], strict=False) if b > a]
    size = int(min(gaps) * 0.85) if gaps else 200
    # Labels big enough to read when a whole stadium is drawn across a phone; a long name is squeezed to its tile.
    font = max(10, size // 6)
    tiles = [
        {
            **row,
            "x": row["info"].map_x - xs[0],
            "y": row["info"].map_y - ys[0],
            "w": size,
            "h": int(size * 0.6),
            "text_length": size - 40 if len(row["info"].name) * font * 0.6 > size - 40 else None,
        }
        for row in sections
    ]
    return {
        "tiles": tiles,
        "width": xs[-1] - xs[0] + size,
        "height": ys[-1] - ys[0] + int(size * 0.6),
        "font": font,
    }


@require_GET
def event_detail(request: HttpRequest, event_id) -> HttpResponse:
    event = event_or_404(event_id)
    availability = inventory_selectors.section_availability(event_id=event.pk, stale_ok=True)
    sections = _section_rows(event.pk, availability=availability)
    holds = _my_holds(request, event.pk)
    mine = {seat.id for seat in holds}
    seated_total = sum(row["total"] for row in sections if not row["is_general"])
    best_available = event.selection_mode == event.SelectionMode.BEST_AVAILABLE
    inline = not best_available and seated_total <= INLINE_SEAT_LIMIT
    seated = (
        [
            _seat_section_context(event, row, mine=mine, picked=_picked(request))
            for row in sections
            if not row["is_general"]
        ]
        if inline
        else []
    )
    return render(
        request,
        "orders/event/detail.html",
        {
            "event": event,
            "on_sale": events_selectors.sales_open(event.status, event.sales_start, event.sales_end),
            "sections": sections,
            "sold_out": bool(sections) and not any(row["available"] for row in sections),
            "seated_sections": seated,
            "general_sections": [row for row in sections if row["is_general"] or best_available],
            "inline": inline,
            "best_available": best_available,
            "overview": _overview(sections),
            "max_per_order": config.get("max_tickets_per_order"),
            "tiers": _tiers(sections),
            "inline_map": inline and bool(seated),
            **_resale_context(request, event.pk),
            **_holds_context(holds, section_names=_names(sections)),
        },
    )


# The event page shows the cheapest few resale tickets; the resale page lists them all.
RESALE_ON_EVENT_PAGE = 10


def _resale_context(request: HttpRequest, event_id) -> dict:
    listings = resale.listings_for_event(event_id=event_id)
    viewer_id = request.user.pk if request.user.is_authenticated else None
    shown = presentation.listings_describe(listings=listings[:RESALE_ON_EVENT_PAGE], viewer_id=viewer_id)
    return {"resale_listings": shown, "resale_count": len(listings)}


def _names(sections: list[dict]) -> dict:
    return {row["info"].section_id: row["info"].name for row in sections}


def _tiers(sections: list[dict]) -> list[dict]:
    tiers: dict = {}
    for row in sections:
        info = row["info"]
        tiers.setdefault(info.tier_id, {"name": info.tier_name, "price": info.price, "colour": info.colour})
    return list(tiers.values())


@require_GET
def section_detail(request: HttpRequest, event_id, section_id) -> HttpResponse:
    event = event_or_404(event_id)
    availability = inventory_selectors.section_availability(event_id=event.pk, stale_ok=True)
    sections = _section_rows(event.pk, availability=availability)
    row = next((row for row in sections if row["info"].section_id == section_id), None)
    if row is None:
        raise Http404("This event sells no such section.")
    holds = _my_holds(request, event.pk)
    best_available = event.selection_mode == event.SelectionMode.BEST_AVAILABLE
    section = (
        row
        if (row["is_general"] or best_available)
        else _seat_section_context(event, row, mine={h.id for h in holds}, picked=_picked(request))
    )
    return render(
        request,
        "orders/event/section.html",
        {
            "event": event,
            "on_sale": events_selectors.sales_open(event.status, event.sales_start, event.sales_end),
            "section": section,
            "sections": sections,
            "best_available": best_available,
            "max_per_order": config.get("max_tickets_per_order"),
            "tiers": _tiers([row]),
            **_holds_context(holds, section_names=_names(sections)),
        },
    )


def _held_by(row: dict, buyer_id) -> bool:
    return row["status"] == "HELD" and buyer_id is not None and row["held_by_id"] == buyer_id


def changes_version(moment: dt.datetime) -> int:
    """A map's version: the whole second before its state was read, in milliseconds since the epoch. Rounded down
    so that the maps of a section converge on the same ``since`` and share one cached answer."""
    return int(moment.timestamp()) * 1000


@viewer_independent
@require_GET
def seat_changes(request: HttpRequest, event_id) -> JsonResponse:
    """{"version", "poll_seconds", "seats": [{"id", "status"}]}: seats of the ``?section=`` sections (one or more,
    up to CHANGES_SECTION_LIMIT) changed since ``?since=`` (the version of the page or of the previous answer).
    status is AVAILABLE, HELD, SOLD, CHECKED_IN, LISTED or BLOCKED: the same answer for every viewer (the buyer's
    own holds are drawn by the page that made them), so it is public and shared caches may keep it for
    CHANGES_SHARED_SECONDS.

    One indexed query on the seats primary and nothing else (no session, no user, no event lookup: an unknown event
    or section simply has no seats); the cost of a thousand open maps is measured in docs/PERFORMANCE.md."""
    try:
        since_ms = int(request.GET.get("since", ""))
    except ValueError:
        error = InvalidInput(
            "since must be the version of the map's last answer.", fields={"since": ["A whole number is required."]}
        )
        return JsonResponse(error.as_dict(), status=error.status)
    sections = [as_uuid(value) for value in request.GET.getlist("section")]
    if not sections or None in sections or len(sections) > CHANGES_SECTION_LIMIT:
        error = InvalidInput(
            "Name the map's sections.",
            fields={"section": [f"One to {CHANGES_SECTION_LIMIT} section ids are required."]},
        )
        return JsonResponse(error.as_dict(), status=error.status)
    now = timezone.now()
    since = min(dt.datetime.fromtimestamp(max(since_ms, 0) / 1000, tz=dt.UTC), now) - CHANGES_OVERLAP
    rows = inventory_selectors.seat_changes(event_id=event_id, section_ids=sections, since=since, now=now)
    seats = [{"id": str(row["id"]), "status": row["status"]} for row in rows]
    response = JsonResponse({"version": changes_version(now), "poll_seconds": CHANGES_POLL_SECONDS, "seats": seats})
    # Shared caches may keep it a second; a browser must ask again (its next poll may ask the same URL).
    patch_cache_control(response, public=True, max_age=0, s_maxage=CHANGES_SHARED_SECONDS)
    return response
