"""Holding and releasing seats from the event page (plain form POSTs; the API does the same in orders/api)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit, urlunsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import DomainError
from core.ids import as_uuid
from inventory import selectors as inventory_selectors
from orders import presentation
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
        messages.info(request, _("You are logged in: choose your seats and hold them."))
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
            messages.error(request, _("Choose at least one seat, or a number of places, first."))
            return redirect(_back(request, event.pk))
    except WaitingRoomPassRequired as error:
        return pass_required_page(request, error)
    except DomainError as error:
        messages.error(request, _hold_error_message(error, event.pk, chosen=seat_ids))
        return redirect(_with_still_free(_back(request, event.pk), error, chosen=seat_ids))
    seconds = max(0, int(min(seat.hold_expires_at for seat in held).timestamp() - timezone.now().timestamp()))
    messages.success(
        request,
        format_html(
            ngettext(
                'Holding {} place for you for {} min {} s. <a href="{}">Go to checkout</a> before the hold runs out.',
                'Holding {} places for you for {} min {} s. <a href="{}">Go to checkout</a> before the hold runs out.',
                len(held),
            ),
            len(held),
            seconds // 60,
            f"{seconds % 60:02d}",
            f"{reverse('orders:checkout')}?{urlencode({'event': event.pk})}",
        ),
    )
    return redirect(_back(request, event.pk))


def _taken_places(error: DomainError, event_id) -> list[str]:
    """The places a lost race was lost on, named as the map names them ("North 1 · Row A, seat 3")."""
    seat_ids = [seat_id for seat_id in map(as_uuid, error.context.get("seat_ids") or []) if seat_id is not None]
    if not seat_ids:
        return []
    seats = inventory_selectors.seats_get_many(seat_ids=seat_ids)
    names = presentation.section_names(event_id=event_id)
    ordered = sorted(seats.values(), key=lambda seat: (names.get(seat.section_id, ""), seat.row_label, seat.number))
    return [presentation.seat_place(section_name=names.get(seat.section_id, ""), label=seat.label) for seat in ordered]


def _still_free(error: DomainError, chosen: list[str]) -> list[str]:
    """The seats of a lost race that nobody took: the buyer chose them and may hold them at once."""
    if error.code != "SEAT_UNAVAILABLE" or not chosen:
        return []
    taken = {str(as_uuid(seat_id)) for seat_id in error.context.get("seat_ids") or []}
    return [str(seat_id) for seat_id in map(as_uuid, chosen) if seat_id is not None and str(seat_id) not in taken]


def _with_still_free(url: str, error: DomainError, *, chosen: list[str]) -> str:
    """Back to the map with the still-free seats chosen again (``?pick=``), one tap from holding them."""
    still_free = _still_free(error, chosen)
    if not still_free:
        return url
    parts = urlsplit(url)
    query = [(key, value) for key, value in parse_qsl(parts.query) if key != "pick"]
    query.append(("pick", ",".join(still_free)))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _hold_error_message(error: DomainError, event_id, *, chosen: list[str]) -> str:
    if error.code == "SEAT_UNAVAILABLE":
        taken = _taken_places(error, event_id)
        still_free = _still_free(error, chosen)
        if taken and still_free:
            return ngettext(
                "Sorry, someone else just took %(taken)s. Nothing was held; your other %(count)s seat is still "
                "chosen on the map: press Hold to take it, or choose again.",
                "Sorry, someone else just took %(taken)s. Nothing was held; your other %(count)s seats are still "
                "chosen on the map: press Hold to take them, or choose again.",
                len(still_free),
            ) % {"taken": ", ".join(taken), "count": len(still_free)}
        if taken:
            return _(
                "Sorry, someone else just took %(taken)s. Nothing was held; the map now shows what is "
                "still free, so please choose again."
            ) % {"taken": ", ".join(taken)}
        return _("Sorry, someone else just took one of those seats. Nothing was held; please choose again.")
    if error.code == "NOT_ENOUGH_SEATS":
        return _("There are not that many places left together. Try fewer places or another section.")
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
            messages.success(
                request,
                ngettext("Released %(count)s place.", "Released %(count)s places.", released) % {"count": released},
            )
        else:
            messages.info(request, _("Nothing to release: those holds had already ended."))
    return redirect(_back(request, event.pk))
