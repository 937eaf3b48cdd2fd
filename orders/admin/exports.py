"""The event's exports in the staff admin: a page listing them (door list, orders, ledger, entry logs) and the
downloads, under the event's admin URLs (``/admin/events/event/<id>/exports/``).

Each download needs its kind's capability in the event's organization; an event outside the staff member's scope
(or an unknown kind or format) is simply not found.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponseBase
from django.template.response import TemplateResponse

from core.admin_site import StaffAdminSite
from core.admin_tenancy import actor_id, has_capability
from core.ids import as_uuid
from events import selectors as events_selectors
from events.contract import EventOperationsInfo
from orders.exports import EXPORTS, FORMATS, export_response


def _event(request: HttpRequest, object_id: str, capabilities) -> EventOperationsInfo:
    event_id = as_uuid(object_id)
    event = events_selectors.event_for_operations(event_id=event_id) if event_id else None
    if event is None or not any(has_capability(request, cap, event.organization_id) for cap in capabilities):
        raise Http404("No such event.")
    return event


def register(site: StaffAdminSite) -> None:
    def exports_view(request: HttpRequest, object_id: str) -> TemplateResponse:
        event = _event(request, object_id, {kind.capability for kind in EXPORTS.values()})
        kinds = [kind for kind in EXPORTS.values() if has_capability(request, kind.capability, event.organization_id)]
        context = {
            **site.each_context(request),
            "title": f"Exports: {event.title}",
            "event": event,
            "kinds": kinds,
            "formats": FORMATS,
        }
        return TemplateResponse(request, "admin/events/event/exports.html", context)

    def export_view(request: HttpRequest, object_id: str, kind: str, file_format: str) -> HttpResponseBase:
        export = EXPORTS.get(kind)
        if export is None or file_format not in FORMATS:
            raise Http404("No such export.")
        event = _event(request, object_id, {export.capability})
        return export_response(kind=export, file_format=file_format, event=event, actor_id=actor_id(request))

    site.register_view("events/event/<str:object_id>/exports/", exports_view, name="events_event_exports")
    site.register_view(
        "events/event/<str:object_id>/export/<str:kind>.<str:file_format>", export_view, name="events_event_export"
    )
