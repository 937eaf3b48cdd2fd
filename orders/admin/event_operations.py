"""The event's operations pages in the staff admin: publish, cancel and refund (queued as jobs, with a live
progress page), the sales dashboard.

They span databases (events + inventory + orders), so they live here and are added to the admin under the event's
own URLs (``/admin/events/event/<id>/publish/``...) with the names the event admin links to.
"""

from __future__ import annotations

import time
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.cache import cache
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    JsonResponse,
)
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext, gettext_lazy

from core.admin_site import StaffAdminSite
from core.admin_tenancy import Capability, actor_id, has_capability
from core.errors import DomainError
from core.forms import ReasonField
from core.ids import as_uuid
from core.prices import MAX_AMOUNT
from events import selectors as events_selectors
from events.contract import EventOperationsInfo
from inventory import selectors as inventory_selectors
from inventory import services as inventory_services
from orders.admin.charts import entries_chart, sales_chart
from orders.contract import StaffOperationInfo, StaffOperationKind, StaffOperationStatus
from orders.services import staff_operations
from orders.services.waiting_list_nudge import waiting_list_nudge
from orders.staff_selectors import (
    event_entries_timeline,
    event_sales_table,
    event_sales_timeline,
    event_waiting_lines,
)

DASHBOARD_REFRESH_SECONDS = 5
# The charts' timelines scan every ticket and admission of the event (~100 ms at 50,000 tickets on a busy machine):
# computed at most this often per event and shared by every staff member watching; the table is counted afresh on
# each page load and at most every DASHBOARD_SHARED_SECONDS (settings) for the refreshes.
DASHBOARD_CHARTS_SECONDS = 30
OPERATION_POLL_SECONDS = 1


class CancelEventForm(forms.Form):
    reason = ReasonField(help_text=gettext_lazy("Shown in the audit log and the refunds."))
    confirm = forms.BooleanField(label=gettext_lazy("Yes, cancel the event and refund every order of it."))


class RepriceForm(forms.Form):
    tier = forms.TypedChoiceField(
        coerce=str, help_text=gettext_lazy("Every place of this tier still for sale takes the new price.")
    )
    price = forms.DecimalField(max_digits=10, decimal_places=2, min_value=0, max_value=MAX_AMOUNT)
    reason = forms.CharField(max_length=255, help_text=gettext_lazy("Shown in the audit log."))

    def __init__(self, *args, tiers: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tier"].choices = [(str(pk), f"{name} (now {price})") for pk, (name, price) in tiers.items()]


def event_for_staff(request: HttpRequest, object_id: str, capability: Capability) -> EventOperationsInfo:
    """The event, if the staff member holds ``capability`` in its organization; otherwise simply not found."""
    event_id = as_uuid(object_id)
    event = events_selectors.event_for_operations(event_id=event_id) if event_id else None
    if event is None or not has_capability(request, capability, event.organization_id):
        raise Http404("No such event.")
    return event


_ROW_FIGURES = ("issued", "checked_in", "listed", "held", "available", "blocked", "total")


def _group_row_figures(rows: list[dict]) -> None:
    """Each table row's counts as the page shows them (``intcomma``, in the page's language) under ``row["shown"]``,
    formatted once per distinct value: an arena's 80 sections x 7 counts through the template filter cost more CPU
    than the rest of a dashboard refresh, and most of the values repeat (0, the section's size)."""
    formatted: dict[int, str] = {}
    for row in rows:
        row["shown"] = {}
        for key in _ROW_FIGURES:
            value = row[key]
            if value not in formatted:
                formatted[value] = intcomma(value)
            row["shown"][key] = formatted[value]


def _change_page(event_id) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("admin:events_event_change", args=[event_id]))


def _dashboard_page(event_id) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("admin:events_event_dashboard", args=[event_id]))


def _start(request: HttpRequest, event: EventOperationsInfo, kind: str, reason: str = "", params=None):
    """Queue the operation (or find the live one); a message says which. None when it was refused."""
    try:
        operation, started = staff_operations.staff_operation_start(
            kind=kind, event_id=event.id, actor_id=actor_id(request), reason=reason, params=params
        )
    except DomainError as exc:
        messages.error(request, gettext("%(title)s: %(detail)s") % {"title": event.title, "detail": exc.detail})
        return None
    if started:
        messages.success(
            request,
            gettext("%(title)s: %(operation_label)s started; it runs in the background.")
            % {"title": event.title, "operation_label": operation_label(operation)},
        )
    else:
        messages.info(
            request,
            gettext("%(title)s: %(operation_label)s is already running; here is its progress.")
            % {"title": event.title, "operation_label": operation_label(operation)},
        )
    return operation


def operation_label(operation: StaffOperationInfo) -> str:
    return StaffOperationKind(operation.kind).label.lower()


def _operation_page(event_id, operation_id) -> HttpResponseRedirect:
    return HttpResponseRedirect(
        reverse("admin:events_event_operation", kwargs={"object_id": event_id, "operation_id": operation_id})
    )


def operation_json(operation: StaffOperationInfo) -> dict:
    """What the progress page polls: counts, rate, time left, errors, result."""
    return {
        "id": str(operation.id),
        "kind": operation.kind,
        "status": operation.status,
        "status_label": StaffOperationStatus(operation.status).label,
        "live": operation.is_live,
        "done": operation.done,
        "total": operation.total,
        "percent": operation.percent,
        "rate": round(operation.rate, 1),
        "eta_seconds": None if operation.eta_seconds is None else round(operation.eta_seconds),
        "elapsed_seconds": round(operation.elapsed_seconds, 1),
        "errors": operation.errors,
        "error_detail": operation.error_detail,
        "result": operation.result,
    }


def publish_view(request: HttpRequest, object_id: str, *, site: StaffAdminSite) -> HttpResponse:
    event = event_for_staff(request, object_id, Capability.EVENTS_MANAGE)
    if request.method == "POST":
        operation = _start(request, event, StaffOperationKind.PUBLISH)
        return _operation_page(event.id, operation.id) if operation else _change_page(event.id)
    sections = events_selectors.event_sections_for_sale(event_id=event.id)
    title = gettext("Publish %(title)s") % {"title": event.title}
    return site.page(
        request,
        "admin/events/event/publish.html",
        title=title,
        event=event,
        sections=sections,
        total=sum(section.places for section in sections),
        operations=staff_operations.staff_operations_for_event(event_id=event.id, limit=5),
    )


def publish_many_view(request: HttpRequest) -> HttpResponse:
    """The event list's "publish selected" action lands here: each event the staff member may publish."""
    if request.method != "POST":
        return HttpResponseRedirect(reverse("admin:events_event_changelist"))
    for object_id in request.POST.getlist("event_ids"):
        try:
            event = event_for_staff(request, object_id, Capability.EVENTS_MANAGE)
        except Http404:
            messages.error(request, gettext("An event could not be published: you may not publish it, or it is gone."))
            continue
        _start(request, event, StaffOperationKind.PUBLISH)
    return HttpResponseRedirect(reverse("admin:events_event_changelist"))


def cancel_view(request: HttpRequest, object_id: str, *, site: StaffAdminSite) -> HttpResponse:
    event = event_for_staff(request, object_id, Capability.EVENTS_MANAGE)
    form = CancelEventForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        operation = _start(request, event, StaffOperationKind.CANCEL, reason=form.cleaned_data["reason"])
        return _operation_page(event.id, operation.id) if operation else _change_page(event.id)
    title = gettext("Cancel %(title)s") % {"title": event.title}
    return site.page(request, "admin/events/event/cancel.html", title=title, event=event, form=form)


def reprice_view(request: HttpRequest, object_id: str, *, site: StaffAdminSite) -> HttpResponse:
    """A tier's new price after publishing: queued as an operation, audited, applied to every free place."""
    event = event_for_staff(request, object_id, Capability.EVENTS_MANAGE)
    tiers = events_selectors.tier_prices(event_id=event.id)
    form = RepriceForm(request.POST or None, tiers=tiers, initial={"tier": request.GET.get("tier", "")})
    if request.method == "POST" and form.is_valid():
        params = {"tier_id": form.cleaned_data["tier"], "price": str(form.cleaned_data["price"])}
        operation = _start(
            request, event, StaffOperationKind.REPRICE, reason=form.cleaned_data["reason"], params=params
        )
        return _operation_page(event.id, operation.id) if operation else _change_page(event.id)
    title = gettext("Reprice %(title)s") % {"title": event.title}
    return site.page(request, "admin/events/event/reprice.html", title=title, event=event, form=form)


def return_to_sale_view(request: HttpRequest, object_id: str) -> HttpResponse:
    """Every place of the event kept off sale under one name (the dashboard's button) back on sale."""
    event = event_for_staff(request, object_id, Capability.EVENTS_MANAGE)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    kept_for = request.POST.get("kept_for", "")
    try:
        result = inventory_services.seats_return_to_sale(
            event_id=event.id, kept_for=kept_for, actor_id=actor_id(request)
        )
    except DomainError as exc:
        messages.error(request, exc.detail)
        return _dashboard_page(event.id)
    messages.success(
        request,
        gettext("%(count)s place(s) kept for %(kept_for)s returned to sale.")
        % {"count": len(result.changed), "kept_for": kept_for},
    )
    if result.changed:
        waiting_list_nudge(event_id=event.id)
    return _dashboard_page(event.id)


def operation_view(request: HttpRequest, object_id: str, operation_id: str, *, site: StaffAdminSite) -> HttpResponse:
    """The live progress page; ``?format=json`` is what its script polls (it works without, by refreshing)."""
    event = event_for_staff(request, object_id, Capability.EVENTS_MANAGE)
    op_id = as_uuid(operation_id)
    if op_id is None:
        raise Http404("No such operation.")
    try:
        operation = staff_operations.staff_operation_get(operation_id=op_id, event_id=event.id)
    except DomainError as exc:
        raise Http404("No such operation.") from exc
    if request.GET.get("format") == "json":
        return JsonResponse(operation_json(operation))
    return site.page(
        request,
        "admin/events/event/operation.html",
        title=gettext("%(operation)s: %(title)s")
        % {"operation": StaffOperationKind(operation.kind).label, "title": event.title},
        event=event,
        operation=operation,
        state=operation_json(operation),
        poll_seconds=OPERATION_POLL_SECONDS,
    )


def _dashboard_figures(event: EventOperationsInfo) -> dict[str, Any]:
    """The sales table, the places kept off sale and the waiting lines, with when and in how long they were counted."""
    started = time.perf_counter()
    table = event_sales_table(event_id=event.id, venue_id=event.venue_id)
    _group_row_figures(table["rows"])
    return dict(
        table=table,
        kept_off_sale=inventory_selectors.event_places_kept_off_sale(event_id=event.id),
        waiting=event_waiting_lines(event_id=event.id, section_names=table["section_names"]),
        computed_at=timezone.now(),
        took_ms=(time.perf_counter() - started) * 1000,
    )


def dashboard_view(request: HttpRequest, object_id: str, *, site: StaffAdminSite) -> HttpResponse:
    event = event_for_staff(request, object_id, Capability.EVENTS_VIEW)
    fragment = bool(request.GET.get("fragment"))
    if fragment and settings.DASHBOARD_SHARED_SECONDS > 0:
        # What every open dashboard of the event polls: counted once per DASHBOARD_SHARED_SECONDS for all of them.
        # A page load (where a staff member lands after an action) always counts afresh.
        figures = cache.get_or_set(
            f"dashboard-figures:{event.id}:{get_language()}",
            lambda: _dashboard_figures(event),
            settings.DASHBOARD_SHARED_SECONDS,
        )
    else:
        figures = _dashboard_figures(event)
    table = figures["table"]
    zone = event.venue_timezone
    sales, entries = cache.get_or_set(
        f"dashboard-timelines:{event.id}:{zone}",
        lambda: (
            event_sales_timeline(event_id=event.id, timezone_name=zone),
            event_entries_timeline(event_id=event.id, timezone_name=zone),
        ),
        DASHBOARD_CHARTS_SECONDS,
    )
    by_section = sales_chart(sales, split="by_section", names=table["section_names"], what=gettext("section"))
    charts = [
        sales_chart(sales, split="by_tier", names=table["tier_names"], what=gettext("price tier")),
        *([by_section] if by_section.legend else []),  # drawn when the tickets fall in more than one section
        entries_chart(entries, ticket_holders=table["totals"]["issued"]),
    ]
    context = dict(
        event=event,
        **figures,
        charts=charts,
        can_manage=has_capability(request, Capability.EVENTS_MANAGE, event.organization_id),
        charts_seconds=DASHBOARD_CHARTS_SECONDS,
        seats_url=reverse("admin:inventory_seat_changelist"),
        refresh_seconds=DASHBOARD_REFRESH_SECONDS,
    )
    if fragment:
        # The table the open page swaps in every few seconds: no admin chrome, so none of the admin site's
        # context (its app list asks every registered model's permissions).
        return TemplateResponse(request, "admin/events/event/dashboard_table.html", context)
    title = gettext("Sales: %(title)s") % {"title": event.title}
    return site.page(request, "admin/events/event/dashboard.html", title=title, **context)


def register(site: StaffAdminSite) -> None:
    """Add the pages under the event admin's URLs, with the URL names the event admin links to."""
    site.register_view("events/event/publish/", publish_many_view, name="events_event_publish_many")
    site.register_page("events/event/<str:object_id>/publish/", publish_view, name="events_event_publish")
    site.register_page("events/event/<str:object_id>/cancel/", cancel_view, name="events_event_cancel")
    site.register_page("events/event/<str:object_id>/reprice/", reprice_view, name="events_event_reprice")
    site.register_page("events/event/<str:object_id>/dashboard/", dashboard_view, name="events_event_dashboard")
    site.register_view(
        "events/event/<str:object_id>/return-to-sale/", return_to_sale_view, name="events_event_return_to_sale"
    )
    site.register_page(
        "events/event/<str:object_id>/operations/<str:operation_id>/", operation_view, name="events_event_operation"
    )
