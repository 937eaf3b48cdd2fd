"""The event's waiting room in the staff admin (``/admin/events/event/<id>/waiting-room/``): switch it on with the
on-sale time, rate and pass validity; live counts; pause, resume, change the rate; the log of admissions.

Seeing the page takes EVENTS_VIEW in the event's organization, changing anything EVENTS_MANAGE. The writes are the
services' (orders/services/waiting_room/configuration.py), which audit them.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from core.admin_site import StaffAdminSite
from core.admin_tenancy import Capability, actor_id, has_capability
from core.errors import DomainError, InvalidInput
from events import selectors as events_selectors
from events.contract import EventOperationsInfo
from orders import DB_ALIAS
from orders.admin.event_operations import event_for_staff
from orders.contract import WaitingRoomMode
from orders.models import WaitingRoom, WaitingRoomAdmission
from orders.services import waiting_room as rooms

LOG_ROWS = 50
REFRESH_SECONDS = 5


class WaitingRoomForm(forms.Form):
    active = forms.BooleanField(
        required=False, help_text=gettext_lazy("While on, holds and checkout of this event need a pass.")
    )
    opens_at = forms.DateTimeField(help_text=gettext_lazy("Buyers may join from this time."))
    starts_at = forms.DateTimeField(
        help_text=gettext_lazy("The on-sale: who joined before it gets a random place; then admission.")
    )
    rate_per_minute = forms.IntegerField(min_value=1, max_value=rooms.MAX_RATE_PER_MINUTE, initial=100)
    pass_minutes = forms.IntegerField(
        min_value=1, max_value=1440, initial=15, help_text=gettext_lazy("How long a pass is valid.")
    )
    per_address_cap = forms.IntegerField(
        min_value=1,
        max_value=1000,
        initial=4,
        help_text=gettext_lazy("Places per client address (shared networks need a few)."),
    )
    max_in_flight = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=rooms.MAX_RATE_PER_MINUTE,
        label=gettext_lazy("At most this many buying at once"),
        help_text=gettext_lazy(
            "Admit (up to the rate) only while fewer admitted buyers than this hold a valid pass and have not "
            "bought yet. Empty: no bound (following throughput needs one)."
        ),
    )
    admission_mode = forms.ChoiceField(
        choices=WaitingRoomMode.choices,
        initial=WaitingRoomMode.RATE,
        required=False,
        label=gettext_lazy("Admission"),
        help_text=gettext_lazy(
            "Fixed rate: the rate above. Follow throughput: start at a quarter of it and speed up while the "
            "p95 of hold and checkout latency stays under the target; halve it when the p95 goes over."
        ),
    )
    latency_target_ms = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=rooms.MAX_LATENCY_TARGET_MS,
        label=gettext_lazy("Latency target (p95, ms)"),
        help_text=gettext_lazy("Follow throughput: the p95 of the last 30 s of holds and checkouts to stay under."),
    )

    def clean(self):
        data = super().clean()
        if data.get("opens_at") and data.get("starts_at") and data["opens_at"] > data["starts_at"]:
            raise ValidationError(gettext("The room must open before the on-sale starts."))
        if data.get("admission_mode") == WaitingRoomMode.THROUGHPUT:
            if not data.get("latency_target_ms"):
                self.add_error("latency_target_ms", gettext("Following throughput needs a latency target."))
            if not data.get("max_in_flight"):
                self.add_error("max_in_flight", gettext("Following throughput needs a bound on buyers in flight."))
        return data


class PaceForm(forms.Form):
    rate_per_minute = forms.IntegerField(min_value=1, max_value=rooms.MAX_RATE_PER_MINUTE)


def _initial(event: EventOperationsInfo, room) -> dict:
    if room is not None:
        return {
            "active": room.is_active,
            "opens_at": room.opens_at,
            "starts_at": room.starts_at,
            "rate_per_minute": room.rate_per_minute,
            "pass_minutes": room.pass_minutes,
            "per_address_cap": room.per_address_cap,
            "max_in_flight": room.max_in_flight,
            "admission_mode": room.admission_mode,
            "latency_target_ms": room.latency_target_ms,
        }
    sales_start = events_selectors.event_get(event_id=event.id).sales_start
    now = timezone.now()
    starts = sales_start if sales_start and sales_start > now else now + dt.timedelta(hours=1)
    return {"active": True, "opens_at": starts - dt.timedelta(minutes=30), "starts_at": starts}


def waiting_room_view(request: HttpRequest, object_id: str, *, site: StaffAdminSite) -> HttpResponse:
    event = event_for_staff(request, object_id, Capability.EVENTS_VIEW)
    room = rooms.waiting_room_get(event_id=event.id)
    self_url = reverse("admin:events_event_waiting_room", args=[event.id])
    may_manage = has_capability(request, Capability.EVENTS_MANAGE, event.organization_id)
    form = WaitingRoomForm(initial=_initial(event, room))
    if request.method == "POST":
        if not may_manage:
            raise Http404("No such event.")
        action = request.POST.get("action", "configure")
        if action == "configure":
            form = WaitingRoomForm(request.POST)
        try:
            if _act(request, event=event, room=room, action=action, form=form):
                return HttpResponseRedirect(self_url)
        except DomainError as exc:
            messages.error(request, exc.detail)
            if not form.is_bound:
                return HttpResponseRedirect(self_url)
    counts = rooms.waiting_room_counts(room=room) if room else None
    if request.GET.get("format") == "json":
        return JsonResponse({"counts": counts, "status": rooms.waiting_room_status(room) if room else None})
    log = (
        WaitingRoomAdmission.objects.using(DB_ALIAS).filter(room=room).order_by("-created_at")[:LOG_ROWS]
        if room
        else []
    )
    return site.page(
        request,
        "orders/waiting_room/admin.html",
        title=gettext("Waiting room: %(title)s") % {"title": event.title},
        event=event,
        admission_rate=rooms.admission_rate(room) if room else None,
        room=room,
        form=form,
        counts=counts,
        log=log,
        following=room is not None and room.admission_mode == WaitingRoomMode.THROUGHPUT,
        may_manage=may_manage,
        refresh_seconds=REFRESH_SECONDS,
        back=reverse("admin:events_event_change", args=[event.id]),
    )


def _act(
    request: HttpRequest, *, event: EventOperationsInfo, room: WaitingRoom | None, action: str, form: WaitingRoomForm
) -> bool:
    """Do what the staff member asked; True when it is done (the page reloads), False when the page shows again
    (the configuration form with its errors, an unknown action)."""
    if action == "configure":
        if not form.is_valid():
            return False
        data = form.cleaned_data
        rooms.waiting_room_configure(
            event_id=event.id,
            active=data["active"],
            opens_at=data["opens_at"],
            starts_at=data["starts_at"],
            rate_per_minute=data["rate_per_minute"],
            pass_minutes=data["pass_minutes"],
            per_address_cap=data["per_address_cap"],
            max_in_flight=data.get("max_in_flight"),
            admission_mode=data["admission_mode"] or WaitingRoomMode.RATE,
            latency_target_ms=data.get("latency_target_ms"),
            actor_id=actor_id(request),
        )
        messages.success(request, gettext("Waiting room saved."))
        return True
    if room is None:
        raise InvalidInput(gettext("Set the waiting room up first."))
    if action in ("pause", "resume"):
        rooms.waiting_room_set_pace(room_id=room.pk, paused=action == "pause", actor_id=actor_id(request))
        messages.success(
            request, gettext("Admissions paused.") if action == "pause" else gettext("Admissions resumed.")
        )
        return True
    if action == "rate":
        pace = PaceForm(request.POST)
        if not pace.is_valid():
            raise InvalidInput(gettext("Give a rate between 1 and 100000 per minute."))
        rate = pace.cleaned_data["rate_per_minute"]
        rooms.waiting_room_set_pace(room_id=room.pk, rate_per_minute=rate, actor_id=actor_id(request))
        messages.success(request, gettext("Admitting %(rate)s per minute from now on.") % {"rate": rate})
        return True
    return False


def register(site: StaffAdminSite) -> None:
    site.register_page(
        "events/event/<str:object_id>/waiting-room/", waiting_room_view, name="events_event_waiting_room"
    )
