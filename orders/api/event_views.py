"""Public read API of an event's sections with live availability and of one section's seats.

Both may be answered by the seats read replica, at most REPLICA_MAX_LAG_SECONDS behind (core/routers.py): a hold
re-checks every seat on the primary, so a stale "available" costs at worst a 409 SEAT_UNAVAILABLE. For the same
reason their JSON, which is the same for every viewer, is shared through the cache for PUBLIC_READ_CACHE_SECONDS: in
an on-sale thousands of open maps ask for the same section every few seconds, and one of them pays for the query.

They combine the event (events) and its seats (inventory). Ids in the path are validated here so a malformed id is
the API's own 404 {"code": "NOT_FOUND"}, never an HTML page.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.translation import get_language, gettext, gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import InvalidInput, NotFound
from core.ids import as_uuid
from events import selectors
from inventory import selectors as inventory_selectors
from inventory.contract import TICKET_STATUSES
from orders.api.event_serializers import SeatMapSeatSerializer, SectionAvailabilitySerializer
from orders.ids import id_or_invalid, id_or_not_found

_CENTS = Decimal("0.01")


def shared_answer(key: str, build: Callable[[], str | bytes]) -> str | bytes:
    """The JSON body of a public read that is the same for every viewer, built at most once per
    PUBLIC_READ_CACHE_SECONDS (per cache: Redis shares it between the app servers) and in each language.

    Refusals (NotFound, InvalidInput) are raised by ``build`` and never stored; 0 seconds turns the sharing off.
    """
    seconds = settings.PUBLIC_READ_CACHE_SECONDS
    if seconds <= 0:
        return build()
    key = f"public-read:{key}:{get_language()}"
    body = cache.get(key)
    if body is None:
        body = build()
        cache.set(key, body, seconds)
    return body


def _section_rows(event_id: uuid.UUID) -> list[dict]:
    """Each section the published event sells with its live counts; NotFound when it is no published event."""
    sections = selectors.event_sections(event_id=event_id, published_only=True)
    if not sections and not selectors.event_is_published(event_id=event_id):
        raise NotFound(gettext("No such event."))
    availability = inventory_selectors.section_availability(event_id=event_id, stale_ok=True) if sections else {}
    rows = []
    for section in sections:
        counts = availability.get(section.section_id, {})
        rows.append(
            {
                **section.__dict__,
                "available": counts.get("AVAILABLE", 0),
                "held": counts.get("HELD", 0),
                "sold": sum(counts.get(status, 0) for status in TICKET_STATUSES),
                "blocked": counts.get("BLOCKED", 0),
            }
        )
    return rows


def _section_rows_json(rows: list[dict]) -> bytes:
    """What ``SectionAvailabilitySerializer(rows, many=True)`` renders as JSON, without a serializer field call per
    value (80 sections x 14 fields; tests/performance/test_lean_paths.py holds the two equal)."""
    return JSONRenderer().render(
        [
            {
                "section_id": str(row["section_id"]),
                "name": row["name"],
                "kind": row["kind"],
                "tier_id": str(row["tier_id"]),
                "tier_name": row["tier_name"],
                "price": str(Decimal(row["price"]).quantize(_CENTS)),
                "colour": row["colour"],
                "capacity": row["capacity"],
                "map_x": row["map_x"],
                "map_y": row["map_y"],
                "available": row["available"],
                "held": row["held"],
                "sold": row["sold"],
                "blocked": row["blocked"],
            }
            for row in rows
        ]
    )


class EventSectionsView(APIView):
    """Each section the event sells: tier, price, capacity and live availability (an expired hold is available)."""

    cached_principal = True  # accounts/api/authentication.py: no users_db round trip per request
    permission_classes = [AllowAny]

    @extend_schema(responses=SectionAvailabilitySerializer(many=True))
    def get(self, request: Request, event_id: str) -> Response | HttpResponse:
        # One events query (the sections, if the event is published) and one seats GROUP BY.
        event_pk = id_or_not_found(event_id, name="event")
        if request.accepted_renderer.format == "json":
            body = shared_answer(f"sections:{event_pk}", lambda: _section_rows_json(_section_rows(event_pk)))
            return HttpResponse(body, content_type="application/json")
        return Response(SectionAvailabilitySerializer(_section_rows(event_pk), many=True).data)


class EventSeatsView(APIView):
    """The seats of one section (required: ?section=<id>): position, status, tier, price, accessible."""

    cached_principal = True  # accounts/api/authentication.py: no users_db round trip per request
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[
            OpenApiParameter("section", OpenApiTypes.UUID, required=True, description=gettext_lazy("Section id."))
        ],
        responses=SeatMapSeatSerializer(many=True),
    )
    def get(self, request: Request, event_id: str) -> Response | HttpResponse:
        event_pk = id_or_not_found(event_id, name="event")
        raw = request.query_params.get("section", "")
        section_id = as_uuid(raw)
        if request.accepted_renderer.format == "json" and section_id is not None:
            body = shared_answer(
                f"seats:{event_pk}:{section_id}", lambda: _seat_map_json(event_id=event_pk, section_id=section_id)
            )
            return HttpResponse(body, content_type="application/json")
        _check_published(event_pk)
        if not raw:
            raise InvalidInput(
                gettext("Name the section: ?section=<id>."),
                fields={"section": [gettext("This parameter is required.")]},
            )
        section_id = id_or_invalid(raw, field="section")
        if not any(s.section_id == section_id for s in selectors.event_sections(event_id=event_pk)):
            raise NotFound(gettext("This event sells no such section."))
        seats = inventory_selectors.seat_map(event_id=event_pk, section_id=section_id, stale_ok=True)
        return Response(SeatMapSeatSerializer(seats, many=True).data)


def _check_published(event_id: uuid.UUID) -> None:
    if not selectors.event_is_published(event_id=event_id):
        raise NotFound(gettext("No such event."))


def _seat_map_json(*, event_id: uuid.UUID, section_id: uuid.UUID) -> str:
    """The seat map is the on-sale's hottest read: PostgreSQL builds the same JSON the serializer would
    (tests/performance/test_lean_paths.py), with no Python object per seat (docs/PERFORMANCE.md). Seats exist only
    for the sections the event sells, so the section check is needed only for an empty answer."""
    _check_published(event_id)
    body = inventory_selectors.seat_map_json(event_id=event_id, section_id=section_id, stale_ok=True)
    if body == "[]" and not any(s.section_id == section_id for s in selectors.event_sections(event_id=event_id)):
        raise NotFound(gettext("This event sells no such section."))
    return body
