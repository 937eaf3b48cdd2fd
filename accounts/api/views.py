"""Accounts API: tokens, registration, verification, profile, wallet, top-ups, the payment webhook, step-up.

Each view parses input, calls one service and shapes the output. DomainErrors become the project's one error shape
through ticketremaster.errors.api_exception_handler.
"""

from __future__ import annotations

import json

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import DB_ALIAS, payments, selectors, services
from accounts.api import serializers as s
from accounts.errors import WebhookPayloadInvalid
from accounts.models import User
from ticketremaster.errors import InvalidInput

_ERROR = OpenApiResponse(description='Error: {"code": "STABLE_CODE", "detail": "...", "fields": {...}}')


def _me(request: Request) -> dict:
    info = selectors.user_get(user_id=request.user.pk)
    user = request.user
    user.refresh_from_db(fields=["phone", "preferences"])
    return s.MeSerializer(
        {
            "id": info.id,
            "email": info.email,
            "full_name": info.full_name,
            "phone": user.phone,
            "preferences": {key: bool((user.preferences or {}).get(key)) for key in services.PREFERENCE_KEYS},
            "is_verified": info.is_verified,
            "is_flagged": info.is_flagged,
            "credit_balance": info.credit_balance,
            "step_up_satisfied": services.step_up_is_satisfied(user_id=info.id),
        }
    ).data


def _token_for(user_id) -> str:
    token, _created = Token.objects.using(DB_ALIAS).get_or_create(user_id=user_id)
    return token.key


class TokenView(APIView):
    """Exchange email + password for an API token. Throttled per account and per address (LOGIN_LOCKED, 429)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []  # credentials are in the body; no session, so no CSRF to bypass

    @extend_schema(
        request=s.TokenRequestSerializer,
        responses={200: s.TokenResponseSerializer, 400: _ERROR, 429: _ERROR},
        tags=["auth"],
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = s.TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_authenticate(
            request=request._request,
            email=data.validated_data["email"],
            password=data.validated_data["password"],
            ip_address=services.client_ip(request._request),
        )
        request.user = user
        return Response({"token": _token_for(user.pk), "user": _me(request)})


class RegisterView(APIView):
    """Create an account; a VERIFY_EMAIL code is emailed. Returns an API token for the new account."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        request=s.RegisterSerializer,
        responses={201: s.TokenResponseSerializer, 400: _ERROR, 409: _ERROR},
        tags=["auth"],
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = s.RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        info = services.user_register(**data.validated_data)
        request.user = User.objects.db_manager(DB_ALIAS).get(pk=info.id)
        return Response({"token": _token_for(info.id), "user": _me(request)}, status=status.HTTP_201_CREATED)


class VerifyEmailView(APIView):
    @extend_schema(
        request=s.OneTimeCodeInputSerializer, responses={200: s.MeSerializer, 400: _ERROR, 429: _ERROR}, tags=["auth"]
    )
    def post(self, request: Request) -> Response:
        data = s.OneTimeCodeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.user_verify_email(user_id=request.user.pk, code=data.validated_data["code"])
        return Response(_me(request))


class VerifyResendView(APIView):
    @extend_schema(request=None, responses={202: s.AccountNoticeSerializer, 409: _ERROR, 429: _ERROR}, tags=["auth"])
    def post(self, request: Request) -> Response:
        s.NoBodySerializer(data=request.data).is_valid(raise_exception=True)
        services.user_resend_verification(user_id=request.user.pk)
        return Response({"detail": "A new code was emailed."}, status=status.HTTP_202_ACCEPTED)


class MeView(APIView):
    @extend_schema(responses={200: s.MeSerializer}, tags=["me"])
    def get(self, request: Request) -> Response:
        return Response(_me(request))

    @extend_schema(request=s.MeUpdateSerializer, responses={200: s.MeSerializer, 400: _ERROR}, tags=["me"])
    def patch(self, request: Request) -> Response:
        allowed = set(s.MeUpdateSerializer().fields)
        if isinstance(request.data, dict) and (extra := sorted(set(request.data) - allowed)):
            raise InvalidInput(
                "Only full_name, phone and preferences can be changed here.",
                fields={name: ["This field cannot be changed."] for name in extra},
            )
        data = s.MeUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.user_update_profile(user_id=request.user.pk, **data.validated_data)
        return Response(_me(request))


class WalletView(APIView):
    @extend_schema(responses={200: s.WalletSerializer}, tags=["wallet"])
    def get(self, request: Request) -> Response:
        info = selectors.user_get(user_id=request.user.pk)
        return Response(
            s.WalletSerializer(
                {
                    "balance": info.credit_balance,
                    "ledger_url": request.build_absolute_uri("/api/v1/wallet/ledger/"),
                    "topups_url": request.build_absolute_uri("/api/v1/wallet/topups/"),
                }
            ).data
        )


class LedgerView(generics.ListAPIView):
    """The caller's ledger, newest first, paginated."""

    serializer_class = s.LedgerEntrySerializer
    filter_backends: list = []

    def get_queryset(self):
        return selectors.ledger_for_user(user_id=self.request.user.pk)

    @extend_schema(tags=["wallet"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class TopUpListCreateView(generics.GenericAPIView):
    serializer_class = s.TopUpSerializer
    filter_backends: list = []

    def get_queryset(self):
        return selectors.topups_for_user(user_id=self.request.user.pk)

    @extend_schema(responses={200: s.TopUpSerializer(many=True)}, tags=["wallet"])
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        request=s.TopUpRequestSerializer,
        responses={201: s.TopUpSerializer, 400: _ERROR, 503: _ERROR},
        tags=["wallet"],
        description="Start a top-up: the buyer then pays at `pay_url`; credits arrive with the provider's webhook.",
    )
    def post(self, request: Request) -> Response:
        data = s.TopUpRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        started = services.topup_start(user_id=request.user.pk, amount=data.validated_data["amount"])
        topup = self.get_queryset().get(pk=started.topup.id)
        body = self.get_serializer(topup).data
        body["pay_url"] = request.build_absolute_uri(started.pay_url)
        return Response(body, status=status.HTTP_201_CREATED)


class PaymentWebhookView(APIView):
    """The payment provider's confirmation. Signed with HMAC-SHA256 over "<X-Timestamp>.<raw body>"."""

    permission_classes = [AllowAny]
    authentication_classes: list = []  # the HMAC signature is the authentication; no session, no CSRF
    throttle_classes: list = []  # providers retry in bursts; forged calls stop at the signature check
    parser_classes = [JSONParser]  # the envelope is JSON only (this also keeps the schema honest)

    @extend_schema(
        request=s.WebhookEventSerializer,
        responses={200: s.WebhookResultSerializer, 400: _ERROR, 404: _ERROR},
        tags=["payments"],
        auth=[],
    )
    def post(self, request: Request) -> Response:
        # The raw body is parsed by hand below (the signature covers those exact bytes), so DRF's content
        # negotiation never runs: refuse anything but JSON here, like every other endpoint does.
        if request.content_type.partition(";")[0].strip().lower() != "application/json":
            raise UnsupportedMediaType(request.content_type or "(none)")
        body = request.body  # the raw bytes the signature covers, before any parsing
        payments.verify_signature(
            body=body,
            signature=request.headers.get(payments.SIGNATURE_HEADER),
            timestamp=request.headers.get(payments.TIMESTAMP_HEADER),
        )
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise WebhookPayloadInvalid("The webhook body is not JSON.")
        event = s.WebhookEventSerializer(data=payload)
        if not event.is_valid():
            raise WebhookPayloadInvalid(fields=event.errors)
        data = event.validated_data["data"]
        topup, changed = services.topup_complete(
            provider_reference=data["provider_reference"],
            amount=data["amount"],
            succeeded=event.validated_data["type"] == "payment.succeeded",
        )
        return Response({"status": "processed" if changed else "already_processed", "topup_status": topup.status})


class StepUpView(APIView):
    """Email a CHECKOUT_STEP_UP code (flagged buyers must confirm one before checkout)."""

    @extend_schema(request=None, responses={202: s.AccountNoticeSerializer, 429: _ERROR}, tags=["me"])
    def post(self, request: Request) -> Response:
        s.NoBodySerializer(data=request.data).is_valid(raise_exception=True)
        services.otp_resend(user_id=request.user.pk, purpose=services.Purpose.CHECKOUT_STEP_UP)
        return Response({"detail": "A code was emailed."}, status=status.HTTP_202_ACCEPTED)


class StepUpVerifyView(APIView):
    @extend_schema(
        request=s.OneTimeCodeInputSerializer,
        responses={200: s.StepUpStatusSerializer, 400: _ERROR, 429: _ERROR},
        tags=["me"],
    )
    def post(self, request: Request) -> Response:
        data = s.OneTimeCodeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.otp_verify(
            user_id=request.user.pk, purpose=services.Purpose.CHECKOUT_STEP_UP, code=data.validated_data["code"]
        )
        return Response(
            {"step_up_satisfied": True, "valid_until": selectors.step_up_valid_until(user_id=request.user.pk)}
        )
