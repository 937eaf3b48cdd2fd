"""Public read API of events: browse and one event.

Browsing needs no account (anonymous requests are throttled). An event's sections with live availability and one
section's seats combine the seats database, so orders serves them (orders/api/event_views.py).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.ids import as_uuid
from events import selectors
from events.api.filters import EventFilter
from events.api.serializers import EventSerializer


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
        """One published event; 404 for an unknown, unpublished or malformed id."""
        return Response(EventSerializer(selectors.event_published_get(event_id=as_uuid(event_id))).data)
