"""Buyer pages for tickets: "My tickets", a ticket with its rotating QR code, and the QR as JSON for the refresh.

Every lookup goes through selectors.ticket_get_for_owner: another person's ticket is a 404 like an unknown or
malformed id.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core import config, timefmt
from inventory import selectors, services
from orders import presentation
from orders.ids import id_or_404, missing_as_404


def _own_ticket(request: HttpRequest, seat_id: str):
    seat_key = id_or_404(seat_id, name="ticket")
    with missing_as_404("No such ticket."):
        return selectors.ticket_get_for_owner(seat_id=seat_key, owner_id=request.user.pk)


@login_required
@require_GET
def ticket_list(request: HttpRequest) -> HttpResponse:
    tickets = presentation.tickets_describe(selectors.tickets_for_owner(owner_id=request.user.pk))
    events: dict = {}
    for ticket in tickets:
        events.setdefault(ticket["event_id"], {"ticket": ticket, "tickets": []})["tickets"].append(ticket)
    groups = sorted(
        events.values(), key=lambda group: (group["ticket"]["starts_at"] is None, group["ticket"]["starts_at"])
    )
    return render(request, "orders/tickets/list.html", {"groups": groups, "count": len(tickets)})


@login_required
@require_GET
@never_cache
def ticket_detail(request: HttpRequest, seat_id: str) -> HttpResponse:
    ticket = _own_ticket(request, seat_id)
    (row,) = presentation.tickets_describe([ticket])
    context = {"ticket": row, "token": None, "svg": None, "expires_at": None}
    if row["can_show_qr"]:
        token, expires_at = services.ticket_qr(seat_id=ticket.id, owner_id=request.user.pk)
        context.update(token=token, svg=services.ticket_qr_svg(token=token), expires_at=expires_at)
    context["lifetime"] = config.get("qr_lifetime_seconds")
    context["scans"] = selectors.entry_logs_for_seat(seat_id=ticket.id)[:5]
    return render(request, "orders/tickets/detail.html", context)


@login_required
@require_GET
@never_cache
def ticket_qr(request: HttpRequest, seat_id: str) -> JsonResponse:
    """{token, svg, expires_at} for the page's refresh script; errors as {code, detail} with their status."""
    ticket = _own_ticket(request, seat_id)
    try:
        token, expires_at = services.ticket_qr(seat_id=ticket.id, owner_id=request.user.pk)
    except services.QrUnavailable as error:
        return JsonResponse(error.as_dict(), status=error.status)
    zone = presentation.event_timezone(event_id=ticket.event_id)
    return JsonResponse(
        {
            "token": token,
            "svg": services.ticket_qr_svg(token=token),
            "expires_at": expires_at.isoformat(),
            # Shown as the page first showed it (24-hour, the venue's zone), not in the phone's own format.
            "expires_at_display": timefmt.venue_clock_seconds(expires_at, zone),
            "lifetime_seconds": config.get("qr_lifetime_seconds"),
        }
    )
