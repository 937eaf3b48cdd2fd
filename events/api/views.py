"""Public read API of events: browse, one event, its sections with availability, one section's seats.

Browsing needs no account (anonymous requests are throttled). Ids in the path are validated here so a malformed
id is the API's own 404 {"code": "NOT_FOUND"}, never an HTML page.
"""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from events import selectors
from events.api.filters import EventFilter
from events.api.serializers import EventSerializer, SeatMapSeatSerializer, SectionAvailabilitySerializer
from inventory import selectors as inventory_selectors
from ticketremaster.errors import InvalidInput, NotFound

TICKET_STATUSES = ("SOLD", "CHECKED_IN", "LISTED")


class EventListView(generics.ListAPIView):
    """Published events, soonest first; filter with q, venue, organization, date_from, date_to."""

    permission_classes = [AllowAny]
    serializer_class = EventSerializer
    filterset_class = EventFilter

    def get_queryset(self):
        return selectors.events_published()


class EventDetailView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=EventSerializer)
    def get(self, request: Request, event_id: str) -> Response:
        return Response(EventSerializer(selectors.event_published_get(event_id=event_id)).data)


def _section_rows(event_id) -> list[dict]:
    availability = inventory_selectors.section_availability(event_id=event_id)
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

    permission_classes = [AllowAny]

    @extend_schema(responses=SectionAvailabilitySerializer(many=True))
    def get(self, request: Request, event_id: str) -> Response:
        event = selectors.event_published_get(event_id=event_id)
        return Response(SectionAvailabilitySerializer(_section_rows(event.pk), many=True).data)


class EventSeatsView(APIView):
    """The seats of one section (required: ?section=<id>): position, status, tier, price, accessible."""

    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[OpenApiParameter("section", OpenApiTypes.UUID, required=True, description="Section id.")],
        responses=SeatMapSeatSerializer(many=True),
    )
    def get(self, request: Request, event_id: str) -> Response:
        event = selectors.event_published_get(event_id=event_id)
        raw = request.query_params.get("section", "")
        if not raw:
            raise InvalidInput("Name the section: ?section=<id>.", fields={"section": ["This parameter is required."]})
        section_id = selectors.parse_uuid(raw)
        if section_id is None:
            raise InvalidInput("section is not a valid id.", fields={"section": ["Not a valid UUID."]})
        if request.accepted_renderer.format == "json":
            # The seat map is the on-sale's hottest read: PostgreSQL builds the same JSON the serializer would
            # (tests/performance/test_lean_paths.py), with no Python object per seat (docs/PERFORMANCE.md). Seats
            # exist only for the sections the event sells, so the section check is needed only for an empty answer.
            body = inventory_selectors.seat_map_json(event_id=event.pk, section_id=section_id)
            if body == "[]" and not any(
                s.section_id == section_id for s in selectors.event_sections(event_id=event.pk)
            ):
                raise NotFound("This event sells no such section.")
            return HttpResponse(body, content_type="application/json")
        if not any(s.section_id == section_id for s in selectors.event_sections(event_id=event.pk)):
            raise NotFound("This event sells no such section.")
        seats = inventory_selectors.seat_map(event_id=event.pk, section_id=section_id)
        return Response(SeatMapSeatSerializer(seats, many=True).data)
