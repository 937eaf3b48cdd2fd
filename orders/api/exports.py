"""The event's exports through the API: the same files as the admin's export page, for integrators."""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponseBase
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from core import directory
from core.errors import InvalidInput, NotFound
from events import selectors as events_selectors
from orders.contract import ExportNotAllowed
from orders.exports import EXPORTS, FORMATS, export_response
from orders.exports.organization import ORGANIZATION_EXPORTS, export_range, organization_export_response
from orders.ids import id_or_not_found


def _file_format(request: Request) -> str:
    file_format = request.query_params.get("file", "csv")
    if file_format not in FORMATS:
        raise InvalidInput(gettext("file must be csv or xlsx."), fields={"file": [f"One of: {', '.join(FORMATS)}."]})
    return file_format


def _day(request: Request, name: str) -> dt.date:
    raw = request.query_params.get(name, "")
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            gettext("%(name)s must be a day (YYYY-MM-DD).") % {"name": name},
            fields={name: [gettext("A day: YYYY-MM-DD.")]},
        ) from None


class EventExportView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "file", str, enum=list(FORMATS), description=gettext_lazy("csv (default, streamed) or xlsx")
            ),
        ],
        responses={(200, "text/csv"): OpenApiTypes.BINARY, (200, FORMATS[1]): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, event_id: str, kind: str) -> HttpResponseBase:
        """Download an export of the event: ``attendees`` (the door list), ``orders`` (one row per line),
        ``ledger`` (the money movements of its orders, refunds, transfers and resales) or ``entries`` (gate scans).

        Staff with the export's capability in the event's organization, and superusers; audited.
        """
        export = EXPORTS.get(kind)
        if export is None:
            raise NotFound(gettext("No such export."))
        file_format = _file_format(request)
        # Someone who may export this nowhere learns nothing about which events exist.
        if not request.user.has_perm(export.capability):
            raise ExportNotAllowed()
        event_pk = id_or_not_found(event_id, name="event")
        event = events_selectors.event_for_operations(event_id=event_pk)
        if event is None or not request.user.has_perm(export.capability, event.organization_id):
            raise NotFound(gettext("No such event."))
        return export_response(kind=export, file_format=file_format, event=event, actor_id=request.user.pk)


class OrganizationExportView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "from", OpenApiTypes.DATE, required=True, description=gettext_lazy("first day (UTC), included")
            ),
            OpenApiParameter(
                "to", OpenApiTypes.DATE, required=True, description=gettext_lazy("last day (UTC), included")
            ),
            OpenApiParameter(
                "file", str, enum=list(FORMATS), description=gettext_lazy("csv (default, streamed) or xlsx")
            ),
        ],
        responses={(200, "text/csv"): OpenApiTypes.BINARY, (200, FORMATS[1]): OpenApiTypes.BINARY},
    )
    def get(self, request: Request, organization_id: str, kind: str) -> HttpResponseBase:
        """Download an export of the organization's own data across its events for the days from..to: ``orders``
        (one row per line) or ``ledger`` (the money movements of its orders, refunds, transfers and resales).

        Staff with the ORDERS capability in the organization, and superusers; audited.
        """
        export = ORGANIZATION_EXPORTS.get(kind)
        if export is None:
            raise NotFound(gettext("No such export."))
        file_format = _file_format(request)
        first_day, last_day = _day(request, "from"), _day(request, "to")
        if not request.user.has_perm(export.capability):
            raise ExportNotAllowed()
        organization_pk = id_or_not_found(organization_id, name="organization")
        name = directory.names(directory.ORGANIZATION, {organization_pk}).get(organization_pk)
        if name is None or not request.user.has_perm(export.capability, organization_pk):
            raise NotFound(gettext("No such organization."))
        scope = export_range(organization_id=organization_pk, name=name, first_day=first_day, last_day=last_day)
        return organization_export_response(kind=export, file_format=file_format, scope=scope, actor_id=request.user.pk)
