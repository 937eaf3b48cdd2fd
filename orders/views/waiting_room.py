"""The waiting room's buyer pages: join, wait (position, number ahead, estimated wait, progress), get the pass.

While waiting, the page's script polls the room's status file (``WAITING_ROOM_STATUS_URL``, served by the reverse
proxy, no Django) and compares "admitted up to N" with the position it was given; only when its turn has come does
it load this page again, which then sets the pass cookie and sends the buyer to the event. Without JavaScript the
page refreshes itself (meta refresh) at a slower pace.
"""

from __future__ import annotations

import math
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django.views.static import serve

from accounts import services as accounts_services
from core.errors import DomainError, NotFound
from events import selectors as events_selectors
from orders.contract import WaitingRoomPassRequired, WaitingRoomPlace
from orders.services import waiting_room as rooms

POLL_SECONDS = 10  # the script's pace (with jitter); 20,000 waiting buyers make 2,000 polls/s of the static file
REFRESH_SECONDS = 30  # without JavaScript: a full page load, so slower


def pass_required_page(request: HttpRequest, error: WaitingRoomPassRequired) -> HttpResponse:
    """A hold or checkout refused for want of a pass: 403 with the way to the room."""
    return render(
        request,
        "orders/waiting_room/pass_required.html",
        {"detail": error.detail, "room_url": error.context.get("waiting_room_url")},
        status=403,
    )


def _estimate(place: WaitingRoomPlace) -> dict:
    if place.position is None:
        return {"ahead": None, "wait_minutes": None, "percent": 0}
    remaining = max(0, place.position - place.admitted_up_to)
    return {
        "ahead": place.ahead,
        "wait_minutes": math.ceil(remaining / place.rate_per_minute) if remaining else 0,
        "percent": min(100, round(100 * place.admitted_up_to / place.position)) if place.position else 0,
    }


@login_required
@require_http_methods(["GET", "POST"])
def waiting_room(request: HttpRequest, event_id: uuid.UUID) -> HttpResponse:
    try:
        event = events_selectors.event_get(event_id=event_id)
    except NotFound:
        raise Http404("No such event.") from None
    room = rooms.waiting_room_get(event_id=event.id)
    context: dict = {"event": event, "room": room, "status_url": rooms.status_url(event.id)}
    if room is None or not room.is_active:
        return render(request, "orders/waiting_room/closed.html", context)
    if request.method == "POST":
        try:
            rooms.waiting_room_join(
                event_id=event.id, user_id=request.user.pk, client_address=accounts_services.client_ip(request) or ""
            )
        except DomainError as error:
            messages.error(request, error.detail)
        return redirect("orders:waiting_room", event_id=event.id)

    place = rooms.waiting_room_place(event_id=event.id, user_id=request.user.pk)
    context["place"] = place
    if place is None:
        context["opens_later"] = timezone.now() < room.opens_at
        return render(request, "orders/waiting_room/join.html", context)
    if place.is_admitted and place.pass_expires_at and place.pass_expires_at > timezone.now():
        token = rooms.waiting_room_pass_issue(
            event_id=event.id, user_id=request.user.pk, expires_at=place.pass_expires_at
        )
        response = redirect("orders:event", event_id=event.id)
        response.set_cookie(
            rooms.pass_cookie_name(event.id),
            token,
            expires=place.pass_expires_at,
            secure=request.is_secure(),
            httponly=True,
            samesite="Lax",
        )
        minutes = max(1, round((place.pass_expires_at - timezone.now()).total_seconds() / 60))
        messages.success(
            request, _("It is your turn. You have %(minutes)s minutes to choose and pay.") % {"minutes": minutes}
        )
        return response
    context.update(_estimate(place))
    context.update(
        {
            "expired": place.is_admitted,
            "position_token": rooms.position_token(event_id=event.id, user_id=request.user.pk, position=place.position)
            if place.position
            else "",
            "poll_seconds": POLL_SECONDS,
            "refresh_seconds": REFRESH_SECONDS,
        }
    )
    return render(request, "orders/waiting_room/wait.html", context)


def status_file(request: HttpRequest, name: str) -> HttpResponse:
    """The status files, for the demo and tests. In production the reverse proxy serves the folder itself
    (docs/WAITING_ROOM.md); this view reads no database either."""
    response = serve(request, name, document_root=settings.WAITING_ROOM_STATUS_ROOT)
    response["Cache-Control"] = "public, max-age=2"
    return response
