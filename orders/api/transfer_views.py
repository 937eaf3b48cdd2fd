"""API for transfers and resale listings: state changes are POST actions, every refusal a stable error code.

Ids in the path are parsed here, so a malformed id answers 404 NOT_FOUND like an unknown one, and nobody but the
parties (and managing staff of the event's organization) learns that a transfer exists.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import paginated
from core.errors import InvalidInput
from orders import presentation
from orders.api.serializers import NoBodySerializer
from orders.api.transfer_serializers import (
    CodeSerializer,
    ListingCreateSerializer,
    ListingSerializer,
    ReasonSerializer,
    TransferCreateSerializer,
    TransferSerializer,
)
from orders.contract import ListingInfo, TransferInfo
from orders.ids import id_or_not_found
from orders.services import resale, transfer


def _transfer_rows(infos: list[TransferInfo], user_id: uuid.UUID) -> list:
    return TransferSerializer(presentation.transfers_describe(transfers=infos, viewer_id=user_id), many=True).data


def _listing_rows(infos: list[ListingInfo], user_id: uuid.UUID) -> list:
    return ListingSerializer(presentation.listings_describe(listings=infos, viewer_id=user_id), many=True).data


def _transfer_body(info: TransferInfo, user_id: uuid.UUID) -> dict:
    return _transfer_rows([info], user_id)[0]


def _listing_body(info: ListingInfo, user_id: uuid.UUID) -> dict:
    return _listing_rows([info], user_id)[0]


def _page_of(view: APIView, request: Request, infos: list, rows: Callable[[list, uuid.UUID], list]) -> Response:
    """One page of ``infos``, described for the caller by ``rows``."""
    paginator = PageNumberPagination()
    page = paginator.paginate_queryset(infos, request, view=view)
    return paginator.get_paginated_response(rows(page, request.user.id))


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in ("1", "true", "yes")


class TransferListCreateView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("direction", OpenApiTypes.STR, enum=["all", "incoming", "outgoing"]),
            OpenApiParameter(
                "active", OpenApiTypes.BOOL, description=gettext_lazy("Only open offers (offered/accepted/completing).")
            ),
        ],
        responses=paginated(TransferSerializer),
        operation_id="transfers_list",
    )
    def get(self, request: Request) -> Response:
        """Transfers you sent or received, newest first."""
        direction = request.query_params.get("direction", "all")
        infos = transfer.transfers_for_user(
            user_id=request.user.id, direction=direction, active_only=_flag(request, "active")
        )
        return _page_of(self, request, infos, _transfer_rows)

    @extend_schema(request=TransferCreateSerializer, responses={201: TransferSerializer})
    def post(self, request: Request) -> Response:
        """Offer one of your SOLD tickets to another verified user (free, or for a price in credits)."""
        data = TransferCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        info = transfer.transfer_offer(
            seat_id=data.validated_data["seat_id"],
            from_user_id=request.user.id,
            to_email=data.validated_data["to_email"],
            price=data.validated_data["price"],
        )
        return Response(_transfer_body(info, request.user.id), status=status.HTTP_201_CREATED)


class TransferDetailView(APIView):
    @extend_schema(responses=TransferSerializer)
    def get(self, request: Request, transfer_id: str) -> Response:
        info = transfer.transfer_get(transfer_id=id_or_not_found(transfer_id, name="transfer"), user_id=request.user.id)
        return Response(_transfer_body(info, request.user.id))


class TransferActionView(APIView):
    """POST /transfers/{id}/{action}/: one subclass per action, so the schema names each one."""

    action: str = ""
    body_serializer: type | None = None

    def post(self, request: Request, transfer_id: str) -> Response:
        user_id = request.user.id
        # An action without input still refuses a body with fields (e.g. a "price" sent to accept) instead of
        # silently ignoring it.
        data = (self.body_serializer or NoBodySerializer)(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        transfer_key = id_or_not_found(transfer_id, name="transfer")
        if self.action == "accept":
            info = transfer.transfer_accept(transfer_id=transfer_key, user_id=user_id)
        elif self.action == "decline":
            info = transfer.transfer_decline(transfer_id=transfer_key, user_id=user_id)
        elif self.action == "cancel":
            info = transfer.transfer_cancel(transfer_id=transfer_key, user_id=user_id)
        elif self.action == "send-code":
            info = transfer.transfer_send_code(transfer_id=transfer_key, user_id=user_id)
        elif self.action == "confirm":
            info = transfer.transfer_confirm(transfer_id=transfer_key, user_id=user_id, code=values["code"])
        elif self.action == "dispute":
            info = transfer.transfer_dispute(transfer_id=transfer_key, actor_id=user_id, reason=values["reason"])
        elif self.action == "reverse":
            info = transfer.transfer_reverse(transfer_id=transfer_key, actor_id=user_id, reason=values["reason"])
        else:  # pragma: no cover - the URLconf routes only the actions above
            raise InvalidInput(gettext("Unknown action."))
        return Response(_transfer_body(info, user_id))


def _action(name: str, body: type | None, summary: str) -> type[TransferActionView]:
    """A TransferActionView subclass for one action, documented in the OpenAPI schema."""

    # A fresh function per action: decorating the shared TransferActionView.post itself would give every action the
    # last one's schema (and seven colliding operationIds).
    def action_post(self, request: Request, transfer_id: str) -> Response:
        return TransferActionView.post(self, request, transfer_id)

    post = extend_schema(
        request=body, responses=TransferSerializer, operation_id=f"transfers_{name.replace('-', '_')}", summary=summary
    )(action_post)
    return type(
        f"Transfer{name.title().replace('-', '')}View",
        (TransferActionView,),
        {"action": name, "body_serializer": body, "post": post},
    )


TransferAcceptView = _action("accept", None, "Recipient accepts an offer; both parties are emailed their codes.")
TransferDeclineView = _action("decline", None, "Recipient declines an offer.")
TransferCancelView = _action("cancel", None, "Owner cancels an offer that has not started completing.")
TransferSendCodeView = _action("send-code", None, "Send (again) your confirmation code for an accepted transfer.")
TransferConfirmView = _action("confirm", CodeSerializer, "Confirm with your code; the second confirmation completes.")
TransferDisputeView = _action("dispute", ReasonSerializer, "Staff: mark a completed transfer disputed.")
TransferReverseView = _action("reverse", ReasonSerializer, "Staff: reverse a disputed transfer.")


class ListingListCreateView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter(
                "event",
                OpenApiTypes.UUID,
                description=gettext_lazy("Listings for sale for this event, cheapest first."),
            ),
            OpenApiParameter("mine", OpenApiTypes.BOOL, description=gettext_lazy("Your own listings in every state.")),
        ],
        responses=paginated(ListingSerializer),
        operation_id="listings_list",
    )
    def get(self, request: Request) -> Response:
        """Listings for sale for an event (``?event=``), or your own listings (``?mine=1``)."""
        if _flag(request, "mine"):
            infos = resale.listings_for_seller(seller_id=request.user.id)
        elif request.query_params.get("event"):
            infos = resale.listings_for_event(event_id=id_or_not_found(request.query_params["event"], name="event"))
        else:
            raise InvalidInput(
                gettext("Pass ?event=<event id> or ?mine=1."),
                fields={"event": [gettext("This parameter is required.")]},
            )
        return _page_of(self, request, infos, _listing_rows)

    @extend_schema(request=ListingCreateSerializer, responses={201: ListingSerializer})
    def post(self, request: Request) -> Response:
        """List one of your SOLD tickets for resale at a price no higher than the cap."""
        data = ListingCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        info = resale.listing_create(
            seat_id=data.validated_data["seat_id"], seller_id=request.user.id, price=data.validated_data["price"]
        )
        return Response(_listing_body(info, request.user.id), status=status.HTTP_201_CREATED)


class ListingDetailView(APIView):
    @extend_schema(responses=ListingSerializer)
    def get(self, request: Request, listing_id: str) -> Response:
        info = resale.listing_get(listing_id=id_or_not_found(listing_id, name="listing"), user_id=request.user.id)
        return Response(_listing_body(info, request.user.id))


class ListingBuyView(APIView):
    @extend_schema(request=None, responses=ListingSerializer)
    def post(self, request: Request, listing_id: str) -> Response:
        """Buy a listing in one step (all or nothing); 409 LISTING_UNAVAILABLE when someone else got it first."""
        NoBodySerializer(data=request.data).is_valid(raise_exception=True)  # the price is the listing's, never sent
        info = resale.listing_buy(listing_id=id_or_not_found(listing_id, name="listing"), buyer_id=request.user.id)
        return Response(_listing_body(info, request.user.id))


class ListingWithdrawView(APIView):
    @extend_schema(request=None, responses=ListingSerializer)
    def post(self, request: Request, listing_id: str) -> Response:
        """Take your unsold listing down; the ticket is yours to use again."""
        NoBodySerializer(data=request.data).is_valid(raise_exception=True)
        info = resale.listing_withdraw(
            listing_id=id_or_not_found(listing_id, name="listing"), seller_id=request.user.id
        )
        return Response(_listing_body(info, request.user.id))
