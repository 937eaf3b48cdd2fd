"""Exports of an organization's own data across its events, over a date range: its orders with their lines, and the
ledger movements of its money flows (purchases, refunds, transfers, resales). Same formats, batches and bounded
memory as the event exports (orders/exports/__init__.py); times in UTC, since the events may be in several zones.

The caller checks Capability.ORDERS in the organization (the admin page and the API); ``organization_export_response``
audits the download against the organization.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.http import HttpResponseBase
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext

from accounts import selectors as accounts_selectors
from accounts.contract import LedgerKind
from core.audit import audit_record
from core.errors import InvalidInput
from core.permissions import Capability
from events import selectors as events_selectors
from orders import DB_ALIAS
from orders.exports import download, sources
from orders.exports.sources import money_flows, order_batches, order_line_cells, order_status_label, people_names
from orders.models import Order

MAX_RANGE_DAYS = 3660


@dataclass(frozen=True)
class OrganizationRange:
    """One organization's data written in [since, until) (UTC)."""

    organization_id: uuid.UUID
    name: str
    since: dt.datetime
    until: dt.datetime


@dataclass(frozen=True)
class OrganizationExportKind:
    name: str
    title: str
    capability: Capability
    header: list[str]
    rows: Callable[[OrganizationRange], Iterator[list[Any]]]


def export_range(*, organization_id: uuid.UUID, name: str, first_day: dt.date, last_day: dt.date) -> OrganizationRange:
    """The range from the start of ``first_day`` to the end of ``last_day`` (UTC days, both included)."""
    if last_day < first_day:
        raise InvalidInput(
            gettext("The range ends before it starts."), fields={"to": [gettext("On or after the first day.")]}
        )
    if (last_day - first_day).days > MAX_RANGE_DAYS:
        raise InvalidInput(gettext("At most ten years at once."), fields={"to": [f"At most {MAX_RANGE_DAYS} days."]})
    since = dt.datetime.combine(first_day, dt.time.min, tzinfo=dt.UTC)
    until = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
    return OrganizationRange(organization_id=organization_id, name=name, since=since, until=until)


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    return None if moment is None else moment.astimezone(dt.UTC).replace(tzinfo=None)


# The event export's columns, with the time in UTC and the event named after it.
ORDER_HEADER = ["order", "created at (UTC)", "event", *sources.ORDER_HEADER[2:]]
LEDGER_HEADER = ["at (UTC)", "event", "name", "email", "kind", "amount", "flow", "reference", "memo"]


def order_rows(scope: OrganizationRange) -> Iterator[list[Any]]:
    """The organization's orders placed in the range, across its events, one row per line, oldest first."""
    orders = Order.objects.using(DB_ALIAS).filter(
        organization_id=scope.organization_id, created_at__gte=scope.since, created_at__lt=scope.until
    )
    for batch, lines, seats, people in order_batches(orders):
        titles = events_selectors.event_titles(event_ids={order.event_id for order in batch})
        sections = events_selectors.section_names(section_ids={seat.section_id for seat in seats.values()})
        for order in batch:
            name, email = people.get(order.buyer_id, ("", ""))
            head = [str(order.pk), _utc(order.created_at), titles.get(order.event_id, ""), order_status_label(order)]
            tail = sources.order_money_cells(order)
            for line in lines.get(order.pk, []):
                cells = order_line_cells(order, line, seats.get(line.seat_id), sections)
                yield [*head, name, email, *cells, *tail]


def ledger_rows(scope: OrganizationRange) -> Iterator[list[Any]]:
    """The ledger movements written in the range for the organization's money flows, by flow kind, each batch oldest
    first. A flow started before the range may move money inside it (a refund), so every flow started before its
    end is asked, for entries inside it only."""
    kinds = dict(LedgerKind.choices)
    flows = money_flows(organization_id=scope.organization_id, created_at__lt=scope.until)
    for flow, references in flows:
        event_of = dict(references)
        entries = accounts_selectors.ledger_for_references(
            references=list(event_of), since=scope.since, until=scope.until
        )
        if not entries:
            continue
        people = people_names({entry["user_id"] for entry in entries})
        titles = events_selectors.event_titles(event_ids={event_of[entry["reference"]] for entry in entries} - {None})
        for entry in entries:
            name, email = people.get(entry["user_id"], ("", ""))
            yield [
                _utc(entry["created_at"]),
                titles.get(event_of.get(entry["reference"]), ""),
                name,
                email,
                kinds.get(entry["kind"], entry["kind"]),
                entry["amount"],
                flow,
                entry["reference"],
                entry["memo"],
            ]


ORGANIZATION_EXPORTS: dict[str, OrganizationExportKind] = {
    kind.name: kind
    for kind in (
        OrganizationExportKind("orders", "Orders of every event", Capability.ORDERS, ORDER_HEADER, order_rows),
        OrganizationExportKind("ledger", "Ledger movements", Capability.ORDERS, LEDGER_HEADER, ledger_rows),
    )
}


def organization_export_response(
    *, kind: OrganizationExportKind, file_format: str, scope: OrganizationRange, actor_id: uuid.UUID | None
) -> HttpResponseBase:
    """The organization's export as a download, audited when it starts; the caller checked the capability."""
    first_day, last_day = scope.since.date(), (scope.until - dt.timedelta(days=1)).date()
    audit_record(
        actor_id=actor_id,
        action=f"export.organization_{kind.name}",
        object_type="organization",
        object_id=str(scope.organization_id),
        organization_id=scope.organization_id,
        data={"format": file_format, "from": first_day.isoformat(), "to": last_day.isoformat()},
    )
    filename = (
        f"{slugify(scope.name) or 'organization'}-{kind.name}-{first_day:%Y%m%d}-{last_day:%Y%m%d}"
        f"-{timezone.now():%Y%m%d-%H%M}.{file_format}"
    )
    return download(
        header=kind.header, rows=kind.rows(scope), title=kind.title, filename=filename, file_format=file_format
    )
