"""The waiting room through the API: join (POST) and read your place (GET); once admitted, the GET answers the
pass to send as ``X-Waiting-Room-Pass`` with holds and checkout of the event."""

from __future__ import annotations

from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services as accounts_services
from core.errors import NotFound
from events import selectors as events_selectors
from orders.contract import WaitingRoomPlace
from orders.ids import id_or_not_found
from orders.services import waiting_room as rooms

PlaceSerializer = inline_serializer(
    "WaitingRoomPlace",
    {
        "event_id": serializers.UUIDField(),
        "position": serializers.IntegerField(allow_null=True),
        "ahead": serializers.IntegerField(allow_null=True),
        "admitted_up_to": serializers.IntegerField(),
        "rate_per_minute": serializers.IntegerField(),
        "admitted": serializers.BooleanField(),
        "paused": serializers.BooleanField(),
        "sold_out": serializers.BooleanField(),
        "starts_at": serializers.DateTimeField(),
        "status_url": serializers.CharField(),
        "position_token": serializers.CharField(allow_null=True),
        "pass": serializers.CharField(allow_null=True),
        "pass_expires_at": serializers.DateTimeField(allow_null=True),
    },
)


def _body(place: WaitingRoomPlace, *, with_pass: bool) -> dict:
    valid = with_pass and place.is_admitted and place.pass_expires_at is not None
    token = (
        rooms.waiting_room_pass_issue(event_id=place.event_id, user_id=place.user_id, expires_at=place.pass_expires_at)
        if valid and place.pass_expires_at
        else None
    )
    return {
        "event_id": str(place.event_id),
        "position": place.position,
        "ahead": place.ahead,
        "admitted_up_to": place.admitted_up_to,
        "rate_per_minute": place.rate_per_minute,
        "admitted": place.is_admitted,
        "paused": place.is_paused,
        "sold_out": place.is_sold_out,
        "starts_at": place.starts_at.isoformat(),
        "status_url": rooms.status_url(place.event_id),
        "position_token": rooms.position_token(event_id=place.event_id, user_id=place.user_id, position=place.position)
        if place.position
        else None,
        "pass": token,
        "pass_expires_at": place.pass_expires_at.isoformat() if token and place.pass_expires_at else None,
    }


class WaitingRoomView(APIView):
    """Your place in the event's waiting room (GET) or take one (POST): one per verified account."""

    @extend_schema(responses={200: PlaceSerializer})
    def get(self, request: Request, event_id: str) -> Response:
        event = events_selectors.event_get(event_id=id_or_not_found(event_id, name="event"))
        place = rooms.waiting_room_place(event_id=event.id, user_id=request.user.pk)
        if place is None:
            raise NotFound(gettext("You have no place in this waiting room; POST to join."))
        return Response(_body(place, with_pass=True))

    @extend_schema(request=None, responses={201: PlaceSerializer})
    def post(self, request: Request, event_id: str) -> Response:
        event = events_selectors.event_get(event_id=id_or_not_found(event_id, name="event"))
        place = rooms.waiting_room_join(
            event_id=event.id, user_id=request.user.pk, client_address=accounts_services.client_ip(request) or ""
        )
        return Response(_body(place, with_pass=False), status=status.HTTP_201_CREATED)
