"""The waiting list through the API: join a sold-out line, list your entries (with your place in line or your
offer), read one, leave it. An offer's places are your holds: pay for them with ``POST /orders/``."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors as accounts_selectors
from core.api import StrictSerializer, UUIDField
from orders.api.serializers import NoBodySerializer
from orders.ids import id_or_not_found
from orders.services import waiting_list

MAX_QUANTITY = 50


class WaitingListJoinSerializer(StrictSerializer):
    event_id = UUIDField()
    section_id = UUIDField(required=False, allow_null=True)
    tier_id = UUIDField(required=False, allow_null=True)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


class WaitingListEntrySerializer(serializers.Serializer):
    """Renders a WaitingListEntryInfo: ``position`` (1 = next) while it waits, the offer while it is OFFERED."""

    id = serializers.UUIDField()
    event_id = serializers.UUIDField()
    section_id = serializers.UUIDField(allow_null=True)
    tier_id = serializers.UUIDField(allow_null=True)
    quantity = serializers.IntegerField()
    status = serializers.CharField()
    position = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    offer_expires_at = serializers.DateTimeField(allow_null=True)
    offered_seat_ids = serializers.ListField(child=serializers.UUIDField())


class WaitingListView(APIView):
    @extend_schema(responses=WaitingListEntrySerializer(many=True), operation_id="waiting_list_mine")
    def get(self, request: Request) -> Response:
        """Your waiting-list entries, newest first (at most 50)."""
        entries = waiting_list.waiting_list_for_buyer(buyer_id=request.user.pk)
        return Response(WaitingListEntrySerializer(entries, many=True).data)

    @extend_schema(request=WaitingListJoinSerializer, responses={201: WaitingListEntrySerializer})
    def post(self, request: Request) -> Response:
        """Join the line of a sold-out event, section (section_id) or price tier (tier_id) for quantity places.

        409 WAITING_LIST_NOT_SOLD_OUT while enough places are free to hold; 409 WAITING_LIST_ALREADY_JOINED."""
        body = WaitingListJoinSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        entry = waiting_list.waiting_list_join(
            buyer_id=request.user.pk,
            event_id=data["event_id"],
            section_id=data.get("section_id"),
            tier_id=data.get("tier_id"),
            quantity=data["quantity"],
            buyer=accounts_selectors.user_info_of(request.user),
        )
        return Response(WaitingListEntrySerializer(entry).data, status=status.HTTP_201_CREATED)


class WaitingListEntryView(APIView):
    @extend_schema(responses=WaitingListEntrySerializer)
    def get(self, request: Request, entry_id: str) -> Response:
        """One of your entries (404 for anyone else's)."""
        entry = waiting_list.waiting_list_entry_get(
            buyer_id=request.user.pk, entry_id=id_or_not_found(entry_id, name="waiting-list entry")
        )
        return Response(WaitingListEntrySerializer(entry).data)


class WaitingListLeaveView(APIView):
    @extend_schema(request=NoBodySerializer, responses=WaitingListEntrySerializer)
    def post(self, request: Request, entry_id: str) -> Response:
        """Leave the line, or turn an offer down (its places pass to the next in line at once)."""
        NoBodySerializer(data=request.data).is_valid(raise_exception=True)
        entry = waiting_list.waiting_list_leave(
            buyer_id=request.user.pk, entry_id=id_or_not_found(entry_id, name="waiting-list entry")
        )
        return Response(WaitingListEntrySerializer(entry).data)
