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
from core.api import paginated
from core.permissions import Capability
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
from orders.ids import id_or_invalid, id_or_not_found
from orders.models import Order
from orders.services.waiting_room import waiting_room_pass_from_request


class HoldCreateView(APIView):
    """Hold chosen seats ({seat_ids}) or N best-available places ({quantity, section_id | tier_id})."""

    cached_principal = True  # accounts/api/authentication.py: no users_db round trip per request

    @extend_schema(request=HoldRequestSerializer, responses={201: HeldSeatSerializer(many=True)})
    def post(self, request: Request, event_id: str) -> Response:
        event_pk = id_or_not_found(event_id, name="event")
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
            waiting_room_pass=waiting_room_pass_from_request(request, event_pk),
            buyer=accounts_selectors.user_info_of(request.user),
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
        event_id = id_or_invalid(raw, field="event") if raw else None
        holds = inventory_selectors.holds_for_buyer(buyer_id=request.user.pk, event_id=event_id)
        return Response(HeldSeatSerializer(holds, many=True).data)


class HoldReleaseView(APIView):
    """Release your holds: all of them, one event's ({event_id}) or some seats ({seat_ids})."""

    cached_principal = True  # accounts/api/authentication.py: no users_db round trip per request

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
    cached_principal = True  # accounts/api/authentication.py: no users_db round trip per request

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
        responses={201: OrderSerializer, 200: OrderSerializer, 202: OrderSerializer},
    )
    def post(self, request: Request) -> Response:
        """Pay for your holds of one event. Send an Idempotency-Key header; a retry with it never charges twice.

        With ``pay_difference_by_card`` a shortfall of credits is paid by card: 202 with the PENDING order and its
        ``pay_url``; the order completes when the payment's webhook lands (poll ``GET /orders/{id}/``).
        """
        body = CheckoutRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key") or body.validated_data.get("idempotency_key", "")
        checkout = (
            order_services.order_checkout_by_card
            if body.validated_data.get("pay_difference_by_card")
            else order_services.order_checkout
        )
        event_id = body.validated_data["event_id"]
        order = checkout(
            buyer_id=request.user.pk,
            event_id=event_id,
            idempotency_key=key,
            waiting_room_pass=waiting_room_pass_from_request(request, event_id),
        )
        if order.pay_url:
            answer = status.HTTP_202_ACCEPTED
        else:
            answer = status.HTTP_200_OK if order.is_replay else status.HTTP_201_CREATED
        return Response(OrderSerializer(order).data, status=answer)


class OrderDetailView(APIView):
    @extend_schema(responses=OrderSerializer)
    def get(self, request: Request, order_id: str) -> Response:
        """One of your orders (another buyer's order is 404)."""
        order_pk = id_or_not_found(order_id, name="order")
        order = order_services.order_get_for_buyer(order_id=order_pk, buyer_id=request.user.pk)
        if order.step == "AWAITING_PAYMENT":
            # The webhook may have landed before its job ran: finishing here is the same idempotent step.
            order = order_services.card_checkout_poll(order_id=order.id, buyer_id=request.user.pk)
        return Response(OrderSerializer(order).data)


class OrderRefundView(APIView):
    @extend_schema(request=RefundRequestSerializer, responses=OrderSerializer)
    def post(self, request: Request, order_id: str) -> Response:
        """Refund a confirmed order, or only the tickets named in ``seat_ids`` (staff with the refund capability in the
        event's organization, or a superuser)."""
        # Someone who may refund nowhere learns nothing about which orders exist.
        if not request.user.has_perm(Capability.REFUND):
            raise order_services.RefundNotAllowed()
        order_pk = id_or_not_found(order_id, name="order")
        body = RefundRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if "seat_ids" in body.validated_data:
            order = order_services.order_refund_tickets(
                order_id=order_pk,
                seat_ids=body.validated_data["seat_ids"],
                actor_id=request.user.pk,
                reason=body.validated_data["reason"],
                block_seats=body.validated_data["block_seats"],
            )
        else:
            order = order_services.order_refund(
                order_id=order_pk,
                actor_id=request.user.pk,
                reason=body.validated_data["reason"],
                block_seats=body.validated_data["block_seats"],
            )
        return Response(OrderSerializer(order).data)
