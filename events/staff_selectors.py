"""Reads of the events domain for staff tooling (admin scoping, gate page, dashboard).

Kept apart from events/selectors.py (the buyer-facing reads): these see every event of an organization whatever
its status, soft-deleted ones included, because staff must be able to reach them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from events import DB_ALIAS
from events.models import Event, Organization
from events.selectors import EventInfo


def _uuids(values: Iterable[Any]) -> set[uuid.UUID]:
    result = set()
    for value in values:
        try:
            result.add(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))
        except (TypeError, ValueError, AttributeError):
            continue
    return result


def event_ids_for_organizations(*, organization_ids: Iterable[Any]) -> set[uuid.UUID]:
    """Every event (any status, soft-deleted too) of these organizations. Served by event_org_idx."""
    orgs = _uuids(organization_ids)
    if not orgs:
        return set()
    return set(Event.all_objects.using(DB_ALIAS).filter(organization_id__in=orgs).values_list("id", flat=True))


def organizations_of_events(*, event_ids: Iterable[Any]) -> dict[uuid.UUID, uuid.UUID]:
    """event id -> organization id (unknown ids are left out)."""
    ids = _uuids(event_ids)
    if not ids:
        return {}
    rows = Event.all_objects.using(DB_ALIAS).filter(pk__in=ids).values_list("id", "organization_id")
    return dict(rows)


def events_for_organizations(
    *, organization_ids: Iterable[Any] | None, statuses: Iterable[str] = ("PUBLISHED",)
) -> list[EventInfo]:
    """Live events of these organizations (``None``: every organization) in start order, for pickers."""
    queryset = Event.objects.using(DB_ALIAS).filter(status__in=list(statuses))
    if organization_ids is not None:
        queryset = queryset.filter(organization_id__in=_uuids(organization_ids))
    rows = queryset.order_by("starts_at").values(
        "id",
        "organization_id",
        "venue_id",
        "venue__name",
        "title",
        "status",
        "starts_at",
        "doors_at",
        "sales_start",
        "sales_end",
        "selection_mode",
    )
    return [
        EventInfo(
            id=row["id"],
            organization_id=row["organization_id"],
            venue_id=row["venue_id"],
            venue_name=row["venue__name"],
            title=row["title"],
            status=row["status"],
            starts_at=row["starts_at"],
            doors_at=row["doors_at"],
            sales_start=row["sales_start"],
            sales_end=row["sales_end"],
            selection_mode=row["selection_mode"],
        )
        for row in rows
    ]


def event_choices(*, event_ids: Iterable[Any] | None) -> list[tuple[uuid.UUID, str]]:
    """(id, "title — date") of these events (``None``: all), newest first, for admin filters."""
    queryset = Event.all_objects.using(DB_ALIAS)
    if event_ids is not None:
        queryset = queryset.filter(pk__in=_uuids(event_ids))
    rows = queryset.order_by("-starts_at").values_list("id", "title", "starts_at")[:200]
    return [(pk, f"{title} — {starts_at:%Y-%m-%d}") for pk, title, starts_at in rows]


def event_titles(*, event_ids: Iterable[Any]) -> dict[uuid.UUID, str]:
    ids = _uuids(event_ids)
    if not ids:
        return {}
    return dict(Event.all_objects.using(DB_ALIAS).filter(pk__in=ids).values_list("id", "title"))


def organization_names(*, organization_ids: Iterable[Any] | None) -> dict[uuid.UUID, str]:
    """id -> name of these live organizations (``None``: all), for pickers and labels."""
    queryset = Organization.objects.using(DB_ALIAS).order_by("name")
    if organization_ids is not None:
        queryset = queryset.filter(pk__in=_uuids(organization_ids))
    return dict(queryset.values_list("id", "name"))
