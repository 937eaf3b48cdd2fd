"""Buyer pages: browse, event page with the seat map, one section's seats, holding and releasing seats.

Views parse input, call one selector or service and render. Holding works as a plain form POST; static/js/seatmap.js
only enhances it (click and keyboard selection on the SVG, the hold countdown).
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from events import selectors
from inventory import selectors as inventory_selectors
from orders import services as order_services
from ticketremaster import config
from ticketremaster.errors import DomainError, NotFound

PAGE_SIZE = 12
# Up to this many seated places the event page draws every seat; above it, a venue overview and one section at a time.
INLINE_SEAT_LIMIT = 2000
SEAT_SCREEN_PITCH = 24  # px between seat centres on screen


class BrowseForm(forms.Form):
    q = forms.CharField(required=False, max_length=100, label="Search")
    venue = forms.UUIDField(required=False)
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date_from") and cleaned.get("date_to") and cleaned["date_from"] > cleaned["date_to"]:
            raise forms.ValidationError("The 'from' date must not be after the 'to' date.")
        return cleaned


@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    form = BrowseForm(request.GET or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    events = selectors.events_search(
        q=filters.get("q", ""),
        venue_id=filters.get("venue"),
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
    )
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "events/event_list.html",
        {
            "form": form,
            "page": page,
            "venues": selectors.venues_with_published_events(),
            "query": query.urlencode(),
        },
    )


def _event_or_404(event_id):
    try:
        return selectors.event_published_get(event_id=event_id)
    except NotFound:
        raise Http404("No such event.") from None


def _section_rows(event_id, *, availability: dict) -> list[dict]:
    rows = []
    for section in selectors.event_sections(event_id=event_id):
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


def _my_holds(request: HttpRequest, event_id) -> list:
    if not request.user.is_authenticated:
        return []
    return inventory_selectors.holds_for_buyer(buyer_id=request.user.pk, event_id=event_id)


def _holds_context(holds: list) -> dict:
    if not holds:
        return {"holds": [], "holds_total": Decimal("0.00"), "holds_expire_at": None}
    return {
        "holds": sorted(holds, key=lambda seat: (seat.row_label, seat.number)),
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
    }


def _seat_section_context(event, section_row: dict, *, mine: set) -> dict:
    info = section_row["info"]
    seats = inventory_selectors.seat_map(event_id=event.pk, section_id=info.section_id)
    geometry = _seat_map(seats, colours={info.tier_id: info.colour}, mine=mine)
    return {
        **section_row,
        "map": geometry,
        "svg_seats": _svg_seats(geometry),
        "seat_options": _seat_options(geometry["seats"]),
    }


# A stadium section has thousands of seats: their markup is built here in one pass (about 10x faster than a
# template loop). Every interpolated value is a UUID, a number, a fixed word or an escaped row label.
_STATE_WORDS = {"mine": "held by you", "available": "available", "held": "held", "sold": "sold", "blocked": "blocked"}


def _svg_seats(geometry: dict) -> str:
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
        accessible = ", accessible" if seat["accessible"] else ""
        parts.append(
            f'<circle class="seat {state}" cx="{seat["cx"]}" cy="{seat["cy"]}" r="{r}"{fill} data-id="{seat["id"]}" '
            f'data-row="{seat["row_index"]}" data-price="{seat["price"]}" data-label="{row}{seat["number"]}" '
            f'tabindex="-1" role="checkbox" aria-checked="false"{disabled} aria-label="Row {row} seat '
            f'{seat["number"]}, {seat["price"]} credits, {_STATE_WORDS[state]}{accessible}"/>'
        )
    return mark_safe("".join(parts))  # noqa: S308 - built from escaped and typed values only


def _seat_options(seats: list[dict]) -> str:
    """The no-JavaScript fallback: available seats as <option>s grouped by row."""
    groups: dict[str, list[str]] = {}
    for seat in seats:
        if seat["state"] != "available":
            continue
        row = escape(seat["row"])
        accessible = " (accessible)" if seat["accessible"] else ""
        groups.setdefault(row, []).append(
            f'<option value="{seat["id"]}">Row {row}, seat {seat["number"]}{accessible} · {seat["price"]}</option>'
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
    tiles = [
        {**row, "x": row["info"].map_x - xs[0], "y": row["info"].map_y - ys[0], "w": size, "h": int(size * 0.6)}
        for row in sections
    ]
    return {
        "tiles": tiles,
        "width": xs[-1] - xs[0] + size,
        "height": ys[-1] - ys[0] + int(size * 0.6),
        "font": max(10, size // 9),
    }


@require_GET
def event_detail(request: HttpRequest, event_id) -> HttpResponse:
    event = _event_or_404(event_id)
    availability = inventory_selectors.section_availability(event_id=event.pk)
    sections = _section_rows(event.pk, availability=availability)
    holds = _my_holds(request, event.pk)
    mine = {seat.id for seat in holds}
    seated_total = sum(row["total"] for row in sections if not row["is_general"])
    best_available = event.selection_mode == event.SelectionMode.BEST_AVAILABLE
    inline = not best_available and seated_total <= INLINE_SEAT_LIMIT
    seated = (
        [_seat_section_context(event, row, mine=mine) for row in sections if not row["is_general"]] if inline else []
    )
    return render(
        request,
        "events/event_detail.html",
        {
            "event": event,
            "on_sale": selectors.sales_open(event.status, event.sales_start, event.sales_end),
            "sections": sections,
            "seated_sections": seated,
            "general_sections": [row for row in sections if row["is_general"] or best_available],
            "inline": inline,
            "best_available": best_available,
            "overview": _overview(sections),
            "max_per_order": config.get("max_tickets_per_order"),
            "tiers": _tiers(sections),
            **_holds_context(holds),
        },
    )


def _tiers(sections: list[dict]) -> list[dict]:
    tiers: dict = {}
    for row in sections:
        info = row["info"]
        tiers.setdefault(info.tier_id, {"name": info.tier_name, "price": info.price, "colour": info.colour})
    return list(tiers.values())


@require_GET
def section_detail(request: HttpRequest, event_id, section_id) -> HttpResponse:
    event = _event_or_404(event_id)
    availability = inventory_selectors.section_availability(event_id=event.pk)
    sections = _section_rows(event.pk, availability=availability)
    row = next((row for row in sections if row["info"].section_id == section_id), None)
    if row is None:
        raise Http404("This event sells no such section.")
    holds = _my_holds(request, event.pk)
    best_available = event.selection_mode == event.SelectionMode.BEST_AVAILABLE
    section = (
        row if (row["is_general"] or best_available) else _seat_section_context(event, row, mine={h.id for h in holds})
    )
    return render(
        request,
        "events/section_detail.html",
        {
            "event": event,
            "on_sale": selectors.sales_open(event.status, event.sales_start, event.sales_end),
            "section": section,
            "sections": sections,
            "best_available": best_available,
            "max_per_order": config.get("max_tickets_per_order"),
            "tiers": _tiers([row]),
            **_holds_context(holds),
        },
    )


def _back(request: HttpRequest, event_id) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("events:detail", kwargs={"event_id": event_id})


@login_required
@require_http_methods(["GET", "POST"])
def hold_create(request: HttpRequest, event_id) -> HttpResponse:
    event = _event_or_404(event_id)
    if request.method == "GET":
        # Reached after logging in from a hold form (login_required sends the browser back here with a GET).
        messages.info(request, "You are logged in: choose your seats and hold them.")
        return redirect("events:detail", event_id=event.pk)
    seat_ids = request.POST.getlist("seat_ids")
    quantity = request.POST.get("quantity", "").strip()
    try:
        if seat_ids:
            held = order_services.hold_seats(buyer_id=request.user.pk, event_id=event.pk, seat_ids=seat_ids)
        elif quantity:
            held = order_services.hold_seats(
                buyer_id=request.user.pk,
                event_id=event.pk,
                quantity=quantity,
                section_id=request.POST.get("section_id") or None,
                tier_id=request.POST.get("tier_id") or None,
            )
        else:
            messages.error(request, "Choose at least one seat, or a number of places, first.")
            return redirect(_back(request, event.pk))
    except DomainError as error:
        messages.error(request, _hold_error_message(error))
        return redirect(_back(request, event.pk))
    seconds = max(0, int(min(seat.hold_expires_at for seat in held).timestamp() - timezone.now().timestamp()))
    messages.success(
        request,
        f"Holding {len(held)} place{'s' if len(held) != 1 else ''} for you for "
        f"{seconds // 60} min {seconds % 60:02d} s. Pay before the hold runs out.",
    )
    return redirect(_back(request, event.pk))


def _hold_error_message(error: DomainError) -> str:
    if error.code == "SEAT_UNAVAILABLE":
        return "Sorry, someone else just took one of those seats. Nothing was held; please choose again."
    if error.code == "NOT_ENOUGH_SEATS":
        return "There are not that many places left together. Try fewer places or another section."
    return error.detail


@login_required
@require_POST
def hold_release(request: HttpRequest, event_id) -> HttpResponse:
    event = _event_or_404(event_id)
    seat_ids = request.POST.getlist("seat_ids") or None
    try:
        released = order_services.release_holds(buyer_id=request.user.pk, event_id=event.pk, seat_ids=seat_ids)
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        if released:
            messages.success(request, f"Released {released} place{'s' if released != 1 else ''}.")
        else:
            messages.info(request, "Nothing to release: those holds had already ended.")
    return redirect(_back(request, event.pk))
