"""Tickets API for buyers and the scan API for gate devices. Thin: parse, call one service, describe the result.

A ticket of someone else answers 404 NOT_FOUND exactly like an unknown or malformed id, so ids leak nothing.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core import config
from core.api import paginated
from inventory import selectors, services
from orders import presentation
from orders.api.ticket_serializers import (
    ScanRequestSerializer,
    ScanResponseSerializer,
    TicketQrSerializer,
    TicketSerializer,
)
from orders.ids import id_or_not_found


class TicketListView(APIView):
    @extend_schema(responses=paginated(TicketSerializer), operation_id="tickets_list")
    def get(self, request: Request) -> Response:
        """Your tickets (sold, listed for resale, checked in), by event then seat."""
        tickets = selectors.tickets_for_owner(owner_id=request.user.pk)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(tickets, request, view=self)
        return paginator.get_paginated_response(TicketSerializer(presentation.tickets_describe(page), many=True).data)


class TicketDetailView(APIView):
    @extend_schema(responses=TicketSerializer)
    def get(self, request: Request, seat_id: str) -> Response:
        """One of your tickets."""
        ticket = selectors.ticket_get_for_owner(
            seat_id=id_or_not_found(seat_id, name="ticket"), owner_id=request.user.pk
        )
        (row,) = presentation.tickets_describe([ticket])
        return Response(TicketSerializer(row).data)


class TicketQrView(APIView):
    @extend_schema(responses=TicketQrSerializer)
    def get(self, request: Request, seat_id: str) -> Response:
        """A fresh QR code for one of your tickets: the signed token, its SVG image and when it expires.

        Fetch a new one before ``expires_at``; every earlier code dies when the ticket changes hands or is refunded.
        409 TICKET_LISTED while the ticket is listed for resale.
        """
        token, expires_at = services.ticket_qr(
            seat_id=id_or_not_found(seat_id, name="ticket"), owner_id=request.user.pk
        )
        body = {
            "token": token,
            "svg": services.ticket_qr_svg(token=token),
            "expires_at": expires_at,
            "lifetime_seconds": config.get("qr_lifetime_seconds"),
        }
        return Response(TicketQrSerializer(body).data, headers={"Cache-Control": "no-store"})


class ScanView(APIView):
    cached_principal = True  # accounts/api/authentication.py: no users_db round trip per request

    @extend_schema(request=ScanRequestSerializer, responses=ScanResponseSerializer)
    def post(self, request: Request) -> Response:
        """Scan a ticket's code at a gate (scanner devices). Staff of the event's organization and superusers only.

        Always 200 with ``result`` (SUCCESS, DUPLICATE, WRONG_EVENT, NOT_PAID, EXPIRED, INVALID, NOT_FOUND, REVOKED)
        and ``admitted``; every scan is written to the entry log. 404 for an unknown event, 403 SCAN_FORBIDDEN for
        staff of another organization, 409 SCAN_BUSY if the ticket is locked by a long change (scan again).
        """
        serializer = ScanRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        event = presentation.gate_event_for_staff(user=request.user, event_id=data["event_id"])
        outcome = services.ticket_scan(
            token=data["token"],
            event_id=event.id,
            gate=data["gate"],
            staff_id=request.user.pk,
            organization_id=event.organization_id,
        )
        return Response(ScanResponseSerializer(presentation.scan_describe(outcome)).data)
