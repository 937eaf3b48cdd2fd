"""The gate scan page (/gate/): staff pick an event and a gate, then scan tickets with a phone.

Server-rendered and usable without JavaScript (paste a code, submit, read the answer). With JavaScript the page
reads codes from the camera (vendored jsQR on a canvas) and posts them with fetch, getting JSON back so the camera
keeps running between scans. The decision itself is inventory.services.ticket_scan, which logs every attempt.
"""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts import selectors as accounts_selectors
from core import timefmt
from core.admin_tenancy import Capability, has_capability, organization_ids
from core.errors import DomainError
from events import selectors as events_selectors
from inventory import selectors as inventory_selectors
from inventory.contract import ScanResult
from inventory.services import ticket_scan
from orders import presentation

GATE_NAME_MAX = 64
RESULT_STYLE = {
    # result -> (css class, headline)
    "SUCCESS": ("admit", gettext_lazy("ADMIT")),
    "DUPLICATE": ("refuse", gettext_lazy("REFUSE — already checked in")),
    "WRONG_EVENT": ("refuse", gettext_lazy("REFUSE — another event")),
    "NOT_PAID": ("refuse", gettext_lazy("REFUSE — not a valid ticket")),
    "EXPIRED": ("refuse", gettext_lazy("REFUSE — code expired")),
    "INVALID": ("refuse", gettext_lazy("REFUSE — invalid code")),
    "NOT_FOUND": ("refuse", gettext_lazy("REFUSE — no such ticket")),
    "REVOKED": ("refuse", gettext_lazy("REFUSE — code revoked")),
}


def _require_gate_staff(request: HttpRequest) -> None:
    if not request.user.is_staff or not has_capability(request, Capability.GATE):
        raise PermissionDenied("The gate page is for staff of an organization.")


def _allowed_events(request: HttpRequest):
    return events_selectors.events_for_organizations(organization_ids=organization_ids(request, Capability.GATE))


def _event_for(request: HttpRequest, raw_event_id: str | None):
    """The published event the gate scans for, if the user may scan for it; else 404 (no leak)."""
    try:
        event_id = uuid.UUID(str(raw_event_id))
    except ValueError:
        raise Http404("Choose an event.") from None
    event = next((e for e in _allowed_events(request) if e.id == event_id), None)
    if event is None:
        raise Http404("No such event on sale for your organizations.")
    return event


def _clean_gate(raw: str | None) -> str:
    return (raw or "").strip()[:GATE_NAME_MAX]


@login_required
@require_http_methods(["GET"])
def gate_home(request: HttpRequest) -> HttpResponse:
    _require_gate_staff(request)
    events = _allowed_events(request)
    error = ""
    if "event" in request.GET:
        gate = _clean_gate(request.GET.get("gate"))
        if not gate:
            error = _("Name the gate you are at (for example “North 1”).")
        else:
            try:
                event = _event_for(request, request.GET.get("event"))
            except Http404:
                error = _("Choose one of the events listed.")
            else:
                return redirect(f"{reverse('gate:scan', args=[event.id])}?gate={gate}")
    return render(
        request,
        "orders/gate/choose.html",
        {"events": events, "error": error, "gate": request.GET.get("gate", ""), "selected": request.GET.get("event")},
        status=400 if error else 200,
    )


def _scan_detail(scan: ScanResult, zone_name: str) -> str:
    """The scan's explanation in the page's language; a repeat scan names the first one's time in the venue's zone."""
    if scan.result == "DUPLICATE" and scan.seat is not None and scan.seat.checked_in_at is not None:
        return _("Already checked in at %(time)s.") % {
            "time": timefmt.venue_clock_seconds(scan.seat.checked_in_at, zone_name)
        }
    return _(scan.detail)


def _holder_name(holder_id) -> str:
    if holder_id is None:
        return ""
    info = accounts_selectors.user_get_many(user_ids=[holder_id]).get(holder_id)
    return (info.full_name or info.email) if info else ""


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@login_required
@require_http_methods(["GET", "POST"])
def gate_scan(request: HttpRequest, event_id: uuid.UUID) -> HttpResponse:
    _require_gate_staff(request)
    event = _event_for(request, event_id)
    gate = _clean_gate(request.POST.get("gate") if request.method == "POST" else request.GET.get("gate"))
    if not gate:
        return redirect(f"{reverse('gate:home')}?event={event.id}")
    outcome, status = None, 200
    if request.method == "POST":
        token = (request.POST.get("token") or "").strip()
        if not token:
            outcome = {"result": "", "css": "refuse", "headline": _("No code"), "detail": _("Scan or paste a code.")}
            status = 400
        else:
            try:
                scan = ticket_scan(
                    token=token,
                    event_id=event.id,
                    gate=gate,
                    staff_id=request.user.pk,
                    organization_id=event.organization_id,
                )
            except DomainError as exc:
                # Busy row (another gate is admitting this very ticket) or bad input: say so, try again.
                outcome = {"result": exc.code, "css": "refuse", "headline": _("Try again"), "detail": exc.detail}
                status = exc.status
            else:
                css, headline = RESULT_STYLE.get(
                    scan.result, ("refuse", _("REFUSE — %(result)s") % {"result": scan.result})
                )
                # A ticket of another event (maybe another organization's) shows neither seat nor holder.
                ours = scan.seat is not None and scan.seat.event_id == event.id
                outcome = {
                    "result": scan.result,
                    "admitted": scan.admitted,
                    "css": css,
                    "headline": str(headline),
                    "detail": _scan_detail(scan, event.venue_timezone),
                    "seat": presentation.seat_place(
                        section_name=presentation.section_names(event_id=event.id).get(scan.seat.section_id, ""),
                        label=scan.seat.label,
                    )
                    if ours
                    else "",
                    "holder": _holder_name(scan.holder_id) if ours else "",
                }
        # The recent-scans list shows this time as the server-rendered ones: 24-hour, in the venue's zone.
        outcome["at"] = timefmt.venue_clock_seconds(timezone.now(), event.venue_timezone)
        if _wants_json(request):
            return JsonResponse(outcome, status=status)
    return render(
        request,
        "orders/gate/scan.html",
        {
            "event": event,
            "gate": gate,
            "outcome": outcome,
            "recent": inventory_selectors.entry_logs_at_gate(event_id=event.id, gate=gate),
        },
        status=status,
    )
