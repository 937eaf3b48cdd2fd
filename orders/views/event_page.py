"""The event page buyers see: sections with availability and price, the seat map, their holds.

It combines three domains (the event from events, seats and availability from inventory, the buyer's holds), so
it lives in orders. Holding works as a plain form POST (orders/views/holds.py): static/js/seatmap.js draws the seats
from the JSON the page carries and posts the chosen ones; without JavaScript, section_seat_list offers the same seats
as a plain list in a form.
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
from core.errors import InvalidInput
from core.ids import as_uuid
from core.middleware import viewer_independent
from events import geometry
from events import selectors as events_selectors
from inventory import selectors as inventory_selectors
from orders import live_changes, presentation
from orders.ids import missing_as_404
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
    with missing_as_404("No such event."):
        return events_selectors.event_published_get(event_id=event_id)


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


def _seat_map(seats: list[dict], *, mine: set, arc_radius: int = 0) -> dict:
    """Geometry for one section's SVG: seats where events.geometry puts them (rows curved for an ARC section),
    with their state, grouped by row, with the stage's edge drawn in front of row A."""
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

    drawn, rows = _drawn_seats(seats, [shift(position) for position in positions], mine=mine)
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


def _drawn_seats(
    seats: list[dict], centres: list[tuple[float, float]], *, mine: set
) -> tuple[list[dict], dict[str, dict]]:
    """Each seat at its centre on screen with its state, and each row with where its label goes: by the row's
    leftmost seat."""
    rows: dict[str, dict] = {}
    drawn = []
    for seat, (cx, cy) in zip(seats, centres, strict=True):
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
                "accessible": seat["accessible"],
                "price": seat["price"],
            }
        )
    return drawn, rows


def _seat_section_context(event_id, section_row: dict, *, mine: set, picked: frozenset = frozenset()) -> dict:
    info = section_row["info"]
    # The map polls for changes from the moment before it was read (a replica's lag is covered by the first poll's
    # overlap, CHANGES_OVERLAP, as long as the replica is at most that far behind).
    version = changes_version(timezone.now() - CHANGES_OVERLAP)
    # Seat maps may be a few seconds old (the read replica); the buyer's own holds come from the primary.
    seats = inventory_selectors.seat_map(event_id=event_id, section_id=info.section_id, stale_ok=True)
    arc_radius = info.map_arc_radius if info.map_shape == "ARC" else 0
    drawn = _seat_map(seats, mine=mine, arc_radius=arc_radius)
    return {
        **section_row,
        "map": drawn,
        "changes_version": version,
        "svg_frame": _svg_frame(drawn),
        "seat_data": _seat_data(drawn, picked=picked),
        "seats_element_id": f"seats-{info.section_id}",
    }


def seat_section_map(*, event_id, section_id) -> dict | None:
    """A seated section's map as buyers see it (SVG, live updates, the plain list behind it), for staff pages that
    pick places the same way (the box office); None for a standing section or one the event does not sell."""
    availability = inventory_selectors.section_availability(event_id=event_id)
    rows = _section_rows(event_id, availability=availability)
    row = next((row for row in rows if row["info"].section_id == section_id and not row["is_general"]), None)
    if row is None:
        return None
    context = _seat_section_context(event_id, row, mine=set())
    # Staff pages post the map's form themselves: without JavaScript they get the plain list in place (<noscript>).
    return {**context, "staff_form": True, "seat_options": _seat_options(context["map"]["seats"])}


# A stadium section has thousands of seats. The page carries them as one compact JSON array per column (about a
# sixth of the markup of a <circle> per seat with its name) and seatmap.js draws them after the first paint; the
# stage's edge and the row labels, a few dozen elements, stay in the markup. Every interpolated value is a number, a
# fixed word or an escaped row label.
_STATE_CODES = {"available": "a", "held": "h", "sold": "s", "blocked": "b", "mine": "m"}


def _svg_frame(drawn: dict) -> str:
    font = drawn.get("font", 10)
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
    return mark_safe("".join(parts))  # noqa: S308 - built from escaped and typed values only


def _seat_data(drawn: dict, *, picked: frozenset = frozenset()) -> dict:
    """The seats as seatmap.js reads them: one array per field, in map order (rows, then numbers). ``state`` is one
    letter a seat (a available, h held, s sold, b blocked, m held by you); ``price`` indexes ``prices``;
    ``accessible`` and ``picked`` list seat positions."""
    seats = drawn["seats"]
    prices: dict[str, int] = {}
    return {
        "r": drawn.get("r", 0),
        "ring": drawn.get("ring", 0),
        "rows": [row["label"] for row in drawn["rows"]],
        "id": [str(seat["id"]) for seat in seats],
        "x": [seat["cx"] for seat in seats],
        "y": [seat["cy"] for seat in seats],
        "row": [seat["row_index"] for seat in seats],
        "number": [seat["number"] for seat in seats],
        "state": "".join(_STATE_CODES[seat["state"]] for seat in seats),
        "price": [prices.setdefault(str(seat["price"]), len(prices)) for seat in seats],
        "prices": list(prices),
        "accessible": [i for i, seat in enumerate(seats) if seat["accessible"]],
        "picked": [i for i, seat in enumerate(seats) if seat["state"] == "available" and seat["id"] in picked],
    }


def _seat_options(seats: list[dict], *, picked: frozenset = frozenset()) -> str:
    """The no-JavaScript fallback: available seats as <option>s grouped by row."""
    groups: dict[str, list[str]] = {}
    for seat in seats:
        if seat["state"] != "available":
            continue
        row = escape(seat["row"])
        name = gettext("Row %(row)s, seat %(number)s") % {"row": row, "number": escape(seat["number"])}
        if seat["accessible"]:
            name = gettext("%(name)s, accessible") % {"name": name}
        selected = " selected" if seat["id"] in picked else ""
        groups.setdefault(row, []).append(f'<option value="{seat["id"]}"{selected}>{name} · {seat["price"]}</option>')
    row_label = gettext("Row %(row)s")
    return mark_safe(  # noqa: S308 - built from escaped and typed values only
        "".join(
            f'<optgroup label="{row_label % {"row": row}}">{"".join(options)}</optgroup>'
            for row, options in groups.items()
        )
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


@require_GET
def section_seat_list(request: HttpRequest, event_id, section_id) -> HttpResponse:
    """A seated section's available seats as a plain list in a form: how seats are held without JavaScript (the
    section page's map is drawn by seatmap.js and links here from a <noscript>). ``?pick=`` preselects, as on the
    map, so a lost race comes back with the seats still free chosen."""
    event = event_or_404(event_id)
    if event.selection_mode == event.SelectionMode.BEST_AVAILABLE:
        raise Http404("This event sells places by quantity.")
    availability = inventory_selectors.section_availability(event_id=event.pk, stale_ok=True)
    sections = _section_rows(event.pk, availability=availability)
    row = next((row for row in sections if row["info"].section_id == section_id and not row["is_general"]), None)
    if row is None:
        raise Http404("This event sells no such seated section.")
    seats = inventory_selectors.seat_map(event_id=event.pk, section_id=section_id, stale_ok=True)
    listed = [{**seat, "state": _seat_state(seat, set())} for seat in seats]
    return render(
        request,
        "orders/event/section_seats.html",
        {
            "event": event,
            "on_sale": events_selectors.sales_open(event.status, event.sales_start, event.sales_end),
            "section": row,
            "seat_options": _seat_options(listed, picked=_picked(request)),
            "max_per_order": config.get("max_tickets_per_order"),
            **_holds_context(_my_holds(request, event.pk), section_names=_names(sections)),
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
def seat_change_stream(request: HttpRequest, event_id) -> HttpResponse:
    """Where open maps subscribe to pushed changes (server-sent events). The production edge answers this URL
    itself (nginx's nchan, fed by ``manage.py publish_seat_changes``); a request that reaches Django has no edge in
    front of it, and 204 tells the browser's EventSource not to reconnect: the map polls ``seat_changes`` instead."""
    return HttpResponse(status=204)


@viewer_independent
@require_GET
def seat_changes(request: HttpRequest, event_id) -> JsonResponse:
    """{"version", "read_at", "poll_seconds", "seats": [{"id", "status"}]}: seats of the ``?section=`` sections (one
    or more, up to CHANGES_SECTION_LIMIT) changed since ``?since=`` (the version of the page or of the previous answer).
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
    response = JsonResponse(
        {
            "version": changes_version(now),
            # The exact moment it was read: a map fed by pushed messages (orders.live_changes) continues from here.
            "read_at": live_changes.version_of(now),
            "poll_seconds": CHANGES_POLL_SECONDS,
            "seats": seats,
        }
    )
    # Shared caches may keep it a second; a browser must ask again (its next poll may ask the same URL).
    patch_cache_control(response, public=True, max_age=0, s_maxage=CHANGES_SHARED_SECONDS)
    return response
