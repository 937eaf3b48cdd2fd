"""Public read API of an event's sections with live availability and of one section's seats.

Both may be answered by the seats read replica, at most REPLICA_MAX_LAG_SECONDS behind (core/routers.py): a hold
re-checks every seat on the primary, so a stale "available" costs at worst a 409 SEAT_UNAVAILABLE.

They combine the event (events) and its seats (inventory). Ids in the path are validated here so a malformed id is
the API's own 404 {"code": "NOT_FOUND"}, never an HTML page.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import InvalidInput, NotFound
from events import selectors
from inventory import selectors as inventory_selectors
from inventory.contract import TICKET_STATUSES
from orders.api.event_serializers import SeatMapSeatSerializer, SectionAvailabilitySerializer
from orders.ids import id_or_invalid, id_or_not_found


def _section_rows(event_id) -> list[dict]:
    availability = inventory_selectors.section_availability(event_id=event_id, stale_ok=True)
    rows = []
    for section in selectors.event_sections(event_id=event_id):
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


class EventSectionsView(APIView):
    """Each section the event sells: tier, price, capacity and live availability (an expired hold is available)."""

    cached_principal = True  # accounts/api/authentication.py: no users_db round trip per request
    permission_classes = [AllowAny]

    @extend_schema(responses=SectionAvailabilitySerializer(many=True))
    def get(self, request: Request, event_id: str) -> Response:
        event = selectors.event_published_get(event_id=id_or_not_found(event_id, name="event"))
        return Response(SectionAvailabilitySerializer(_section_rows(event.pk), many=True).data)


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
    def get(self, request: Request, event_id: str) -> Response:
        event = selectors.event_published_get(event_id=id_or_not_found(event_id, name="event"))
        raw = request.query_params.get("section", "")
        if not raw:
            raise InvalidInput(
                gettext("Name the section: ?section=<id>."),
                fields={"section": [gettext("This parameter is required.")]},
            )
        section_id = id_or_invalid(raw, field="section")
        if request.accepted_renderer.format == "json":
            # The seat map is the on-sale's hottest read: PostgreSQL builds the same JSON the serializer would
            # (tests/performance/test_lean_paths.py), with no Python object per seat (docs/PERFORMANCE.md). Seats
            # exist only for the sections the event sells, so the section check is needed only for an empty answer.
            body = inventory_selectors.seat_map_json(event_id=event.pk, section_id=section_id, stale_ok=True)
            if body == "[]" and not any(
                s.section_id == section_id for s in selectors.event_sections(event_id=event.pk)
            ):
                raise NotFound(gettext("This event sells no such section."))
            return HttpResponse(body, content_type="application/json")
        if not any(s.section_id == section_id for s in selectors.event_sections(event_id=event.pk)):
            raise NotFound(gettext("This event sells no such section."))
        seats = inventory_selectors.seat_map(event_id=event.pk, section_id=section_id, stale_ok=True)
        return Response(SeatMapSeatSerializer(seats, many=True).data)
