"""Exports of an event's data for staff: the door list, the orders with their lines, the ledger movements and the
gate's entry logs, as CSV (streamed) or XLSX (written row by row to a temporary file), scoped to the event's
organization and audited.

``EXPORTS`` names each kind with its title, the capability it needs (core/permissions.py), its header and its rows;
the admin page (orders/admin/exports.py) and the API (orders/api/exports.py) both answer with ``export_response``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.http import FileResponse, HttpResponseBase, StreamingHttpResponse
from django.utils import timezone
from django.utils.text import slugify

from core.audit import audit_record
from core.permissions import Capability
from events.contract import EventOperationsInfo
from orders.exports import sources
from orders.exports.formats import CONTENT_TYPES, FORMATS, csv_stream, xlsx_file


@dataclass(frozen=True)
class ExportKind:
    name: str
    title: str
    capability: Capability
    header: list[str]
    rows: Callable[[EventOperationsInfo], Iterator[list[Any]]]


EXPORTS: dict[str, ExportKind] = {
    kind.name: kind
    for kind in (
        ExportKind(
            "attendees", "Attendees (door list)", Capability.ORDERS, sources.ATTENDEE_HEADER, sources.attendee_rows
        ),
        ExportKind("orders", "Orders with lines", Capability.ORDERS, sources.ORDER_HEADER, sources.order_rows),
        ExportKind("ledger", "Ledger movements", Capability.ORDERS, sources.LEDGER_HEADER, sources.ledger_rows),
        ExportKind("entries", "Entry logs", Capability.ENTRY_LOGS, sources.ENTRY_HEADER, sources.entry_rows),
    )
}

__all__ = ["EXPORTS", "FORMATS", "ExportKind", "download", "export_response"]


def export_response(
    *, kind: ExportKind, file_format: str, event: EventOperationsInfo, actor_id: uuid.UUID | None
) -> HttpResponseBase:
    """The export as a download; the caller has checked the capability in the event's organization.

    Audited when it starts (who exported what of which event, in which format).
    """
    audit_record(
        actor_id=actor_id,
        action=f"export.{kind.name}",
        object_type="event",
        object_id=str(event.id),
        organization_id=event.organization_id,
        data={"format": file_format, "title": event.title},
    )
    filename = f"{slugify(event.title) or 'event'}-{kind.name}-{timezone.now():%Y%m%d-%H%M}.{file_format}"
    return download(
        header=kind.header, rows=kind.rows(event), title=kind.title, filename=filename, file_format=file_format
    )


def download(
    *, header: list[str], rows: Iterator[list[Any]], title: str, filename: str, file_format: str
) -> HttpResponseBase:
    """The rows as a file download: CSV streamed as it is produced, XLSX from its temporary file."""
    if file_format == "xlsx":
        return FileResponse(
            xlsx_file(header, rows, title=title),
            as_attachment=True,
            filename=filename,
            content_type=CONTENT_TYPES["xlsx"],
        )
    response = StreamingHttpResponse(csv_stream(header, rows), content_type=CONTENT_TYPES["csv"])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
