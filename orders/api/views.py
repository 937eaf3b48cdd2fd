"""Holds and orders API. Each view validates input, calls one service and renders the result.

Checkout takes the idempotency key from the ``Idempotency-Key`` header (or ``idempotency_key`` in the body): the
first request answers 201 with the order, a retry with the same key 200 with the same order (never a second
charge), and a retry while the first is still running 409 IDEMPOTENCY_IN_PROGRESS.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors as accounts_selectors
from events import selectors as events_selectors
from inventory import selectors as inventory_selectors
from orders import DB_ALIAS
from orders import services as order_services
from orders.api.serializers import (
    CheckoutRequestSerializer,
    HeldSeatSerializer,
    HoldRequestSerializer,
    OrderSerializer,
    RefundRequestSerializer,
    ReleaseRequestSerializer,
)
from orders.models import Order
from ticketremaster.api import paginated
from ticketremaster.errors import InvalidInput, NotFound


class HoldCreateView(APIView):
    """Hold chosen seats ({seat_ids}) or N best-available places ({quantity, section_id | tier_id})."""

    @extend_schema(request=HoldRequestSerializer, responses={201: HeldSeatSerializer(many=True)})
    def post(self, request: Request, event_id: str) -> Response:
        event_pk = events_selectors.parse_uuid(event_id)
        if event_pk is None:
            raise NotFound("No such event.")
        body = HoldRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        held = order_services.hold_seats(
            buyer_id=request.user.pk,
            event_id=event_pk,
            seat_ids=data.get("seat_ids"),
            section_id=data.get("section_id"),
            tier_id=data.get("tier_id"),
            quantity=data.get("quantity"),
        )
        return Response(HeldSeatSerializer(held, many=True).data, status=status.HTTP_201_CREATED)


class HoldListView(APIView):
    """Your unexpired holds (optionally of one event: ?event=<id>), with their expiry."""

    @extend_schema(
        parameters=[OpenApiParameter("event", OpenApiTypes.UUID, required=False)],
        responses=HeldSeatSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        raw = request.query_params.get("event")
        event_id = None
        if raw:
            event_id = events_selectors.parse_uuid(raw)
            if event_id is None:
                raise InvalidInput("event is not a valid id.", fields={"event": ["Not a valid UUID."]})
        holds = inventory_selectors.holds_for_buyer(buyer_id=request.user.pk, event_id=event_id)
        return Response(HeldSeatSerializer(holds, many=True).data)


class HoldReleaseView(APIView):
    """Release your holds: all of them, one event's ({event_id}) or some seats ({seat_ids})."""

    @extend_schema(
        request=ReleaseRequestSerializer,
        responses=inline_serializer("ReleaseResult", {"released": serializers.IntegerField()}),
    )
    def post(self, request: Request) -> Response:
        body = ReleaseRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        released = order_services.release_holds(
            buyer_id=request.user.pk,
            event_id=body.validated_data.get("event_id"),
            seat_ids=body.validated_data.get("seat_ids"),
        )
        return Response({"released": released})


class OrderListCreateView(APIView):
    @extend_schema(responses=paginated(OrderSerializer), operation_id="orders_list")
    def get(self, request: Request) -> Response:
        """Your orders, newest first (paginated)."""
        orders = (
            Order.objects.using(DB_ALIAS)
            .filter(buyer_id=request.user.pk)
            .prefetch_related("lines")
            .order_by("-created_at", "id")
        )
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(orders, request, view=self)
        return paginator.get_paginated_response(OrderSerializer(page, many=True).data)

    @extend_schema(
        request=CheckoutRequestSerializer,
        parameters=[OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False)],
        responses={201: OrderSerializer, 200: OrderSerializer},
    )
    def post(self, request: Request) -> Response:
        """Pay for your holds of one event. Send an Idempotency-Key header; a retry with it never charges twice."""
        body = CheckoutRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key") or body.validated_data.get("idempotency_key", "")
        order = order_services.order_checkout(
            buyer_id=request.user.pk, event_id=body.validated_data["event_id"], idempotency_key=key
        )
        return Response(
            OrderSerializer(order).data, status=status.HTTP_200_OK if order.is_replay else status.HTTP_201_CREATED
        )


class OrderDetailView(APIView):
    @extend_schema(responses=OrderSerializer)
    def get(self, request: Request, order_id: str) -> Response:
        """One of your orders (another buyer's order is 404)."""
        order_pk = events_selectors.parse_uuid(order_id)
        if order_pk is None:
            raise NotFound("No such order.")
        order = order_services.order_get_for_buyer(order_id=order_pk, buyer_id=request.user.pk)
        return Response(OrderSerializer(order).data)


class OrderRefundView(APIView):
    @extend_schema(request=RefundRequestSerializer, responses=OrderSerializer)
    def post(self, request: Request, order_id: str) -> Response:
        """Refund a confirmed order (staff: superuser, or OWNER / MANAGER / BOX_OFFICE of the event's organization)."""
        # Someone with no staff role anywhere learns nothing about which orders exist.
        if not request.user.is_superuser and not accounts_selectors.memberships_for_user(user_id=request.user.pk):
            raise order_services.RefundNotAllowed()
        order_pk = events_selectors.parse_uuid(order_id)
        if order_pk is None:
            raise NotFound("No such order.")
        body = RefundRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        order = order_services.order_refund(
            order_id=order_pk,
            actor_id=request.user.pk,
            reason=body.validated_data["reason"],
            block_seats=body.validated_data["block_seats"],
        )
        return Response(OrderSerializer(order).data)
