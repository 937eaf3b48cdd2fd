"""The event's exports in the staff admin: a page listing them (door list, orders, ledger, entry logs) and the
downloads, under the event's admin URLs (``/admin/events/event/<id>/exports/``).

Each download needs its kind's capability in the event's organization; an event outside the staff member's scope
(or an unknown kind or format) is simply not found.
"""

from __future__ import annotations

import uuid

from django import forms
from django.http import Http404, HttpRequest, HttpResponseBase
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from core import directory
from core.admin_site import StaffAdminSite
from core.admin_tenancy import Capability, actor_id, has_capability, organization_ids
from core.errors import DomainError
from core.ids import as_uuid
from events import selectors as events_selectors
from events.contract import EventOperationsInfo
from orders.exports import EXPORTS, FORMATS, export_response
from orders.exports.organization import ORGANIZATION_EXPORTS, export_range, organization_export_response


class OrganizationExportForm(forms.Form):
    """What to export: whose data (the organizations where the staff member may), which, of which days, how."""

    organization = forms.TypedChoiceField(coerce=uuid.UUID)
    kind = forms.ChoiceField(choices=[(kind.name, kind.title) for kind in ORGANIZATION_EXPORTS.values()])
    date_from = forms.DateField(label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=gettext_lazy("To (included)"), widget=forms.DateInput(attrs={"type": "date"}))
    file = forms.ChoiceField(choices=[(fmt, fmt.upper()) for fmt in FORMATS], initial="csv")

    def __init__(self, *args, organizations: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].choices = [(str(pk), name) for pk, name in organizations.items()]
        if len(organizations) == 1:
            self.fields["organization"].initial = str(next(iter(organizations)))


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
        title = gettext("Exports: %(title)s") % {"title": event.title}
        return site.page(
            request, "admin/events/event/exports.html", title=title, event=event, kinds=kinds, formats=FORMATS
        )

    def export_view(request: HttpRequest, object_id: str, kind: str, file_format: str) -> HttpResponseBase:
        export = EXPORTS.get(kind)
        if export is None or file_format not in FORMATS:
            raise Http404("No such export.")
        event = _event(request, object_id, {export.capability})
        return export_response(kind=export, file_format=file_format, event=event, actor_id=actor_id(request))

    def organization_exports_view(request: HttpRequest) -> HttpResponseBase:
        """The form, or (when it is sent, by GET so the download is a plain link) the file."""
        if not has_capability(request, Capability.ORDERS):
            raise Http404("No exports for you here.")
        names = directory.names(directory.ORGANIZATION, organization_ids(request, Capability.ORDERS))
        today = timezone.now().date()
        initial = {"date_from": today.replace(day=1), "date_to": today, "file": "csv"}
        form = OrganizationExportForm(
            request.GET if "kind" in request.GET else None, organizations=names, initial=initial
        )
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            organization_id = data["organization"]
            export = ORGANIZATION_EXPORTS[data["kind"]]
            if not has_capability(request, export.capability, organization_id):
                raise Http404("No such organization.")
            try:
                scope = export_range(
                    organization_id=organization_id,
                    name=names.get(organization_id, ""),
                    first_day=data["date_from"],
                    last_day=data["date_to"],
                )
            except DomainError as exc:
                form.add_error("date_to", exc.detail)
            else:
                return organization_export_response(
                    kind=export, file_format=data["file"], scope=scope, actor_id=actor_id(request)
                )
        return site.page(
            request,
            "admin/orders/organization_exports.html",
            title=gettext("Organization exports"),
            form=form,
            kinds=list(ORGANIZATION_EXPORTS.values()),
        )

    site.register_view("orders/organization-exports/", organization_exports_view, name="orders_organization_exports")
    site.register_view("events/event/<str:object_id>/exports/", exports_view, name="events_event_exports")
    site.register_view(
        "events/event/<str:object_id>/export/<str:kind>.<str:file_format>", export_view, name="events_event_export"
    )
