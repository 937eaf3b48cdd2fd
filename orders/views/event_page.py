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
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from core import config
from core.errors import InvalidInput, NotFound
from core.ids import as_uuid
from core.middleware import viewer_independent
from events import geometry
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


def _seat_state(seat: dict, mine: set) -> str:
    if seat["id"] in mine:
        return "mine"
    return {"AVAILABLE": "available", "HELD": "held", "BLOCKED": "blocked"}.get(seat["status"], "sold")


def _seat_map(seats: list[dict], *, colours: dict, mine: set, arc_radius: int = 0) -> dict:
    """Geometry for one section's SVG: seats where events.geometry puts them (rows curved for an ARC section),
    coloured by status and tier, grouped by row, with the stage's edge drawn in front of row A."""
    extent = geometry.seat_extent((seat["x"], seat["y"]) for seat in seats)
    if extent is None:
        return {"seats": [], "rows": [], "width": 0, "height": 0}
    pitch = extent.pitch
    positions = geometry.seat_positions(
        [(seat["x"], seat["y"]) for seat in seats], extent=extent, arc_radius=arc_radius
    )
    steps = [extent.width * i / 24 for i in range(25)]
    edge = [geometry.bend(x, -pitch, width=extent.width, radius=arc_radius) for x in steps]
    every = positions + edge
    min_x, min_y = min(x for x, _ in every), min(y for _, y in every)
    pad, top = pitch * 2, pitch * 2.5  # room for row labels at the sides and the stage's name above its edge

    def shift(point: tuple[float, float]) -> tuple[float, float]:
        return round(point[0] - min_x + pad, 1), round(point[1] - min_y + top, 1)

    rows: dict[str, dict] = {}
    drawn = []
    for seat, position in zip(seats, positions, strict=True):
        cx, cy = shift(position)
        state = _seat_state(seat, mine)
        row = rows.setdefault(seat["row"], {"label": seat["row"], "x": cx, "y": cy, "index": len(rows)})
        if cx < row["x"]:
            row["x"], row["y"] = cx, cy
        drawn.append(
            {
                "id": seat["id"],
                "row": seat["row"],
                "row_index": row["index"],
                "number": seat["number"],
                "cx": cx,
                "cy": cy,
                "state": state,
                "fill": colours.get(seat["tier_id"], "#3b82f6") if state == "available" else "",
                "accessible": seat["accessible"],
                "price": seat["price"],
            }
        )
    for row in rows.values():
        row["x"] = round(max(row["x"] - pitch * 1.6, 1), 1)
    edge_points = [shift(point) for point in edge]
    width = round(max(x for x, _ in every) - min_x + 2 * pad)
    height = round(max(y for _, y in every) - min_y + top + pad)
    radius = round(pitch * 0.4, 1)
    scale = max(1.0, SEAT_SCREEN_PITCH / pitch)
    return {
        "seats": drawn,
        "rows": list(rows.values()),
        "width": width,
        "height": height,
        "r": radius,
        "ring": round(radius + max(1.5, pitch * 0.12), 1),
        "stage_edge": "M" + " L".join(f"{x} {y}" for x, y in edge_points),
        "stage_label": (round(width / 2, 1), round(top * 0.45, 1)),
        "font": round(pitch * 0.8, 1),
        # Drawn so a seat is about 20 px across whatever the layout's units; the map scrolls inside its frame.
        "display_width": round(width * scale),
        "display_height": round(height * scale),
        "screen_pitch": round(pitch * scale, 1),
    }


def _seat_section_context(event_id, section_row: dict, *, mine: set, picked: frozenset = frozenset()) -> dict:
    info = section_row["info"]
    # The map polls for changes from the moment before it was read (a replica's lag is covered by the first poll's
    # overlap, CHANGES_OVERLAP, as long as the replica is at most that far behind).
    version = changes_version(timezone.now() - CHANGES_OVERLAP)
    # Seat maps may be a few seconds old (the read replica); the buyer's own holds come from the primary.
    seats = inventory_selectors.seat_map(event_id=event_id, section_id=info.section_id, stale_ok=True)
    arc_radius = info.map_arc_radius if info.map_shape == "ARC" else 0
    drawn = _seat_map(seats, colours={info.tier_id: info.colour}, mine=mine, arc_radius=arc_radius)
    return {
        **section_row,
        "map": drawn,
        "changes_version": version,
        "svg_seats": _svg_seats(drawn, picked=picked),
        "seat_options": _seat_options(drawn["seats"], picked=picked),
    }


def seat_section_map(*, event_id, section_id) -> dict | None:
    """A seated section's map as buyers see it (SVG, live updates, the plain list behind it), for staff pages that
    pick places the same way (the box office); None for a standing section or one the event does not sell."""
    availability = inventory_selectors.section_availability(event_id=event_id)
    rows = _section_rows(event_id, availability=availability)
    row = next((row for row in rows if row["info"].section_id == section_id and not row["is_general"]), None)
    return None if row is None else _seat_section_context(event_id, row, mine=set())


# A stadium section has thousands of seats: their markup is built here in one pass (about 10x faster than a
# template loop). Every interpolated value is a UUID, a number, a fixed word or an escaped row label.
_STATE_WORDS = {"mine": "held by you", "available": "available", "held": "held", "sold": "sold", "blocked": "blocked"}


def _svg_seats(drawn: dict, *, picked: frozenset = frozenset()) -> str:
    r, ring, font = drawn.get("r", 0), drawn.get("ring", 0), drawn.get("font", 10)
    parts = []
    if drawn["seats"]:
        label_x, label_y = drawn["stage_label"]
        parts.append(
            f'<path class="stage-edge" d="{drawn["stage_edge"]}"/><text class="stage-label" x="{label_x}" '
            f'y="{label_y}" font-size="{font * 1.2}" text-anchor="middle">Stage</text>'
        )
    parts += [
        f'<text class="row-label" x="{row["x"]}" y="{row["y"]}" dy="{font * 0.35}" font-size="{font}">'
        f"{escape(row['label'])}</text>"
        for row in drawn["rows"]
    ]
    for seat in drawn["seats"]:
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


def _overview(venue, sections: list[dict]) -> dict:
    """The venue map: its stage and each section's outline (events.geometry, as the admin previews it), filled
    with its tier's colour, paler as it sells out, grey when nothing is left."""
    drawing = geometry.venue_drawing(
        stage=geometry.Stage.of(venue),
        sections=[(str(row["info"].section_id), geometry.Placement.of(row["info"])) for row in sections],
    )
    view_width = drawing.view_box[2]
    shapes = []
    for row, shape in zip(sections, drawing.sections, strict=True):
        share = row["available"] / row["total"] if row["total"] else 0
        count = gettext("%(count)s free") % {"count": row["available"]} if row["available"] else gettext("sold out")
        # Labels as big as their outline allows, up to a size that reads as a label; too small to read, none (the
        # link's accessible name and the table below still say it).
        font = min(shape.label_size([row["info"].name, count]), view_width / 24)
        shapes.append(
            {
                **row,
                "shape": shape,
                "count_text": count,
                "font": round(font) if font >= view_width / 90 else 0,
                "opacity": round(0.35 + 0.65 * share, 2) if row["available"] else 1,
                "sold_out": not row["available"],
            }
        )
    return {
        "drawing": drawing,
        "shapes": shapes,
        "stage_font": round(view_width / 30),
        "stage_label": venue.stage_label or gettext("Stage"),
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
            _seat_section_context(event.pk, row, mine=mine, picked=_picked(request))
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
            "overview": _overview(event.venue, sections),
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
        else _seat_section_context(event.pk, row, mine={h.id for h in holds}, picked=_picked(request))
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
            gettext("since must be the version of the map's last answer."),
            fields={"since": [gettext("A whole number is required.")]},
        )
        return JsonResponse(error.as_dict(), status=error.status)
    sections = [as_uuid(value) for value in request.GET.getlist("section")]
    if not sections or None in sections or len(sections) > CHANGES_SECTION_LIMIT:
        error = InvalidInput(
            gettext("Name the map's sections."),
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
