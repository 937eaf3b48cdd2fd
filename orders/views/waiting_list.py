"""The waiting list from the buyer's side: join from a sold-out event or section, see one's place in line, see an
offer with its countdown and buy it through the normal checkout, leave (plain forms; the API is orders/api)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import DomainError, NotFound
from events import selectors as events_selectors
from orders.contract import WaitingListEntryInfo
from orders.ids import id_or_invalid, missing_as_404
from orders.notifications.render import seat_lines
from orders.services import waiting_list
from orders.views.event_page import event_or_404


def _line_name(entry: WaitingListEntryInfo, *, sections: dict, tiers: dict) -> str:
    if entry.section_id:
        return sections.get(entry.section_id, gettext("a section"))
    if entry.tier_id:
        return tiers.get(entry.tier_id, gettext("a price"))
    return gettext("any place")


def _rows(entries: list[WaitingListEntryInfo]) -> list[dict]:
    """Each entry with its event, the name of its line and the seconds its offer has left."""
    events = events_selectors.events_get_many(event_ids={entry.event_id for entry in entries})
    sections: dict = {}
    tiers: dict = {}
    for event_id in {entry.event_id for entry in entries}:
        for section in events_selectors.event_sections(event_id=event_id):
            sections[section.section_id] = section.name
            tiers[section.tier_id] = section.tier_name
    now = timezone.now()
    return [
        {
            "entry": entry,
            "event": events.get(entry.event_id),
            "line": _line_name(entry, sections=sections, tiers=tiers),
            "seconds_left": (
                max(0, int((entry.offer_expires_at - now).total_seconds())) if entry.has_open_offer else None
            ),
        }
        for entry in entries
    ]


@login_required
@require_GET
def waiting_list_mine(request: HttpRequest) -> HttpResponse:
    entries = waiting_list.waiting_list_for_buyer(buyer_id=request.user.pk)
    return render(request, "orders/waiting_list/mine.html", {"rows": _rows(entries)})


@login_required
@require_GET
def waiting_list_offer(request: HttpRequest, entry_id) -> HttpResponse:
    with missing_as_404("No such waiting-list entry."):
        entry = waiting_list.waiting_list_entry_get(buyer_id=request.user.pk, entry_id=entry_id)
    (row,) = _rows([entry])
    seats = seat_lines(list(entry.offered_seat_ids)) if entry.has_open_offer else []
    checkout_url = f"{reverse('orders:checkout')}?{urlencode({'event': entry.event_id})}"
    return render(request, "orders/waiting_list/offer.html", {**row, "seats": seats, "checkout_url": checkout_url})


@login_required
@require_http_methods(["GET", "POST"])
def waiting_list_join(request: HttpRequest, event_id) -> HttpResponse:
    event = event_or_404(event_id)
    if request.method == "GET":
        # Reached after logging in from the join form (login_required comes back here with a GET).
        return redirect("orders:event", event_id=event.pk)
    section_id, tier_id = request.POST.get("section_id"), request.POST.get("tier_id")
    try:
        entry = waiting_list.waiting_list_join(
            buyer_id=request.user.pk,
            event_id=event.pk,
            quantity=request.POST.get("quantity", "").strip() or None,
            section_id=id_or_invalid(section_id, field="section_id") if section_id else None,
            tier_id=id_or_invalid(tier_id, field="tier_id") if tier_id else None,
        )
    except DomainError as error:
        messages.error(request, error.detail)
        return redirect("orders:event", event_id=event.pk)
    messages.success(
        request,
        ngettext(
            "You are on the waiting list: #%(position)s in line for %(quantity)s place. We will email you when "
            "places are held for you.",
            "You are on the waiting list: #%(position)s in line for %(quantity)s places. We will email you when "
            "places are held for you.",
            entry.quantity,
        )
        % {"position": entry.position, "quantity": entry.quantity},
    )
    return redirect("orders:waiting_list")


@login_required
@require_POST
def waiting_list_leave(request: HttpRequest, entry_id) -> HttpResponse:
    try:
        entry = waiting_list.waiting_list_leave(buyer_id=request.user.pk, entry_id=entry_id)
    except NotFound:
        raise Http404("No such waiting-list entry.") from None
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        messages.success(request, gettext("You left the waiting list.") if entry.status == "LEFT" else gettext("Done."))
    return redirect("orders:waiting_list")
