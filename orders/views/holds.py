"""Holding and releasing seats from the event page (plain form POSTs; the API does the same in orders/api)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import DomainError
from orders import services as order_services
from orders.contract import WaitingRoomPassRequired
from orders.ids import id_or_invalid, ids_or_invalid
from orders.services.waiting_room import waiting_room_pass_from_request
from orders.views.event_page import event_or_404
from orders.views.waiting_room import pass_required_page


def _back(request: HttpRequest, event_id) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("orders:event", kwargs={"event_id": event_id})


@login_required
@require_http_methods(["GET", "POST"])
def hold_create(request: HttpRequest, event_id) -> HttpResponse:
    event = event_or_404(event_id)
    if request.method == "GET":
        # Reached after logging in from a hold form (login_required sends the browser back here with a GET).
        messages.info(request, "You are logged in: choose your seats and hold them.")
        return redirect("orders:event", event_id=event.pk)
    seat_ids = request.POST.getlist("seat_ids")
    quantity = request.POST.get("quantity", "").strip()
    section_id, tier_id = request.POST.get("section_id"), request.POST.get("tier_id")
    room_pass = waiting_room_pass_from_request(request, event.pk)
    try:
        if seat_ids:
            held = order_services.hold_seats(
                buyer_id=request.user.pk,
                event_id=event.pk,
                seat_ids=ids_or_invalid(seat_ids, field="seat_ids"),
                waiting_room_pass=room_pass,
            )
        elif quantity:
            held = order_services.hold_seats(
                buyer_id=request.user.pk,
                event_id=event.pk,
                quantity=quantity,
                section_id=id_or_invalid(section_id, field="section_id") if section_id else None,
                tier_id=id_or_invalid(tier_id, field="tier_id") if tier_id else None,
                waiting_room_pass=room_pass,
            )
        else:
            messages.error(request, "Choose at least one seat, or a number of places, first.")
            return redirect(_back(request, event.pk))
    except WaitingRoomPassRequired as error:
        return pass_required_page(request, error)
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
    event = event_or_404(event_id)
    seat_ids = request.POST.getlist("seat_ids")
    try:
        released = order_services.release_holds(
            buyer_id=request.user.pk,
            event_id=event.pk,
            seat_ids=ids_or_invalid(seat_ids, field="seat_ids") if seat_ids else None,
        )
    except DomainError as error:
        messages.error(request, error.detail)
    else:
        if released:
            messages.success(request, f"Released {released} place{'s' if released != 1 else ''}.")
        else:
            messages.info(request, "Nothing to release: those holds had already ended.")
    return redirect(_back(request, event.pk))
