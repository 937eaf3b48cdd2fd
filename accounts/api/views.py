"""Accounts API: tokens, registration, verification, profile, wallet, top-ups, the payment webhook, step-up.

Each view parses input, calls one service and shapes the output. DomainErrors become the project's one error shape
through core.errors.api_exception_handler.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import asdict

import stripe
from django.conf import settings
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import UnsupportedMediaType
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import payments, selectors, services, stripe_payments
from accounts.api import serializers as s
from accounts.contract import (
    OneTimeCodePurpose,
    PaymentProviderUnavailable,
    WebhookPayloadInvalid,
    WebhookSignatureInvalid,
)
from accounts.services import two_factor
from core.errors import InvalidInput

logger = logging.getLogger(__name__)

_ERROR = OpenApiResponse(description=gettext_lazy('Error: {"code": "STABLE_CODE", "detail": "...", "fields": {...}}'))


def _me(user_id: uuid.UUID) -> dict:
    profile = selectors.user_profile(user_id=user_id)
    step_up = selectors.step_up_is_satisfied(user_id=profile.id)
    return s.MeSerializer({**asdict(profile), "step_up_satisfied": step_up}).data


def _token_for(user_id: uuid.UUID) -> str:
    return services.api_token_issue(user_id=user_id)


class TokenView(APIView):
    """Exchange email + password for an API token. Throttled per account and per address (LOGIN_LOCKED, 429)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []  # credentials are in the body; no session, so no CSRF to bypass

    @extend_schema(
        request=s.TokenRequestSerializer,
        responses={200: s.TokenResponseSerializer, 400: _ERROR, 403: _ERROR, 429: _ERROR},
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
        )
        two_factor.two_factor_check_for_token(user=user, token=data.validated_data.get("otp", ""))
        return Response({"token": _token_for(user.pk), "user": _me(user.pk)})


class TokenRevokeView(APIView):
    """Revoke the caller's API token (every client using it must log in again)."""

    @extend_schema(request=None, responses={204: None, 401: _ERROR}, tags=["auth"])
    def post(self, request: Request) -> Response:
        services.api_token_revoke(user_id=request.user.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


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
        return Response({"token": _token_for(info.id), "user": _me(info.id)}, status=status.HTTP_201_CREATED)


class VerifyEmailView(APIView):
    @extend_schema(
        request=s.OneTimeCodeInputSerializer, responses={200: s.MeSerializer, 400: _ERROR, 429: _ERROR}, tags=["auth"]
    )
    def post(self, request: Request) -> Response:
        data = s.OneTimeCodeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.user_verify_email(user_id=request.user.pk, code=data.validated_data["code"])
        return Response(_me(request.user.pk))


class VerifyResendView(APIView):
    @extend_schema(request=None, responses={202: s.AccountNoticeSerializer, 409: _ERROR, 429: _ERROR}, tags=["auth"])
    def post(self, request: Request) -> Response:
        s.NoBodySerializer(data=request.data).is_valid(raise_exception=True)
        services.user_resend_verification(user_id=request.user.pk)
        return Response({"detail": "A new code was emailed."}, status=status.HTTP_202_ACCEPTED)


class MeView(APIView):
    @extend_schema(responses={200: s.MeSerializer}, tags=["me"])
    def get(self, request: Request) -> Response:
        return Response(_me(request.user.pk))

    @extend_schema(request=s.MeUpdateSerializer, responses={200: s.MeSerializer, 400: _ERROR}, tags=["me"])
    def patch(self, request: Request) -> Response:
        allowed = set(s.MeUpdateSerializer().fields)
        if isinstance(request.data, dict) and (extra := sorted(set(request.data) - allowed)):
            raise InvalidInput(
                gettext("Only full_name, phone and preferences can be changed here."),
                fields={name: ["This field cannot be changed."] for name in extra},
            )
        data = s.MeUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.user_update_profile(user_id=request.user.pk, **data.validated_data)
        return Response(_me(request.user.pk))


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
        description=gettext_lazy(
            "Start a top-up: the buyer then pays at `pay_url`; credits arrive with the provider's webhook."
        ),
    )
    def post(self, request: Request) -> Response:
        data = s.TopUpRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        started = services.topup_start(user_id=request.user.pk, amount=data.validated_data["amount"])
        topup = self.get_queryset().get(pk=started.topup.id)
        body = self.get_serializer(topup).data
        body["pay_url"] = request.build_absolute_uri(started.pay_url)
        return Response(body, status=status.HTTP_201_CREATED)


class CardRefundView(APIView):
    """Unused credits back to the cards they were bought with (newest payment first)."""

    @extend_schema(responses={200: s.CardRefundSerializer(many=True)}, tags=["wallet"])
    def get(self, request: Request) -> Response:
        rows = selectors.card_refunds_for_user(user_id=request.user.pk)[:50]
        return Response(
            {
                "refundable": str(services.card_refundable_amount(user_id=request.user.pk)),
                "results": s.CardRefundSerializer(rows, many=True).data,
            }
        )

    @extend_schema(
        request=s.CardRefundRequestSerializer,
        responses={201: s.CardRefundSerializer(many=True), 400: _ERROR, 402: _ERROR, 502: _ERROR, 503: _ERROR},
        tags=["wallet"],
        description=gettext_lazy(
            "Send `amount` credits back to your cards. Needs an `Idempotency-Key` header: a retry with the "
            "same key returns the same refund and never refunds twice."
        ),
    )
    def post(self, request: Request) -> Response:
        data = s.CardRefundRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        key = (request.headers.get("Idempotency-Key") or "").strip()
        if not key or len(key) > 60:
            raise InvalidInput(
                gettext("An Idempotency-Key header of 1 to 60 characters is required."),
                fields={"idempotency_key": [gettext("Send an Idempotency-Key header.")]},
            )
        parts = services.card_refund_request(
            user_id=request.user.pk, amount=data.validated_data["amount"], request_reference=f"{request.user.pk}:{key}"
        )
        return Response(s.CardRefundSerializer(parts, many=True).data, status=status.HTTP_201_CREATED)


class PaymentWebhookView(APIView):
    """The payment provider's confirmation. Signed with HMAC-SHA256 over "<X-Timestamp>.<raw body>"."""

    permission_classes = [AllowAny]
    authentication_classes: list = []  # the HMAC signature is the authentication; no session, no CSRF
    throttle_classes: list = []  # providers retry in bursts; forged calls stop at the signature check
    parser_classes = [JSONParser]  # the envelope is JSON only (this also keeps the schema honest)

    @extend_schema(
        request=s.WebhookEventSerializer,
        responses={200: s.WebhookResultSerializer, 400: _ERROR, 404: _ERROR, 503: _ERROR},
        tags=["payments"],
        auth=[],
    )
    def post(self, request: Request) -> Response:
        # The raw body is parsed by hand below (the signature covers those exact bytes), so DRF's content
        # negotiation never runs: refuse anything but JSON here, like every other endpoint does.
        if request.content_type.partition(";")[0].strip().lower() != "application/json":
            raise UnsupportedMediaType(request.content_type or "(none)")
        if not payments.test_provider_active():
            # This endpoint settles the test provider's payments only; outside development nothing may credit here.
            raise PaymentProviderUnavailable(gettext("The test payment provider is not enabled."))
        body = request.body  # the raw bytes the signature covers, before any parsing
        payments.verify_signature(
            body=body,
            signature=request.headers.get(payments.SIGNATURE_HEADER),
            timestamp=request.headers.get(payments.TIMESTAMP_HEADER),
        )
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise WebhookPayloadInvalid(gettext("The webhook body is not JSON."))
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


class StripeWebhookView(APIView):
    """Stripe's events, verified with ``stripe.Webhook.construct_event`` against STRIPE_WEBHOOK_SECRET.

    Served whenever a signing secret is configured, whatever PAYMENT_PROVIDER says now: the settlements and refunds
    of top-ups paid by card before a switch of provider still arrive and must still land.
    """

    permission_classes = [AllowAny]
    authentication_classes: list = []  # the Stripe-Signature is the authentication; no session, no CSRF
    throttle_classes: list = []  # Stripe retries in bursts; forged calls stop at the signature check

    @extend_schema(
        request=None,
        responses={200: s.StripeWebhookResultSerializer, 400: _ERROR, 404: _ERROR, 503: _ERROR},
        tags=["payments"],
        auth=[],
    )
    def post(self, request: Request) -> Response:
        if not settings.STRIPE_WEBHOOK_SECRET:
            raise PaymentProviderUnavailable(gettext("Stripe is not configured here."))
        body = request.body  # the exact bytes the signature covers
        try:
            event = stripe_payments.construct_event(payload=body, signature=request.headers.get("Stripe-Signature"))
        except stripe.SignatureVerificationError as exc:
            # Logged without the body: a forged call must not write what it likes into the logs.
            logger.warning("stripe webhook refused: %s", str(exc).split(":", 1)[0][:120])
            raise WebhookSignatureInvalid(gettext("The Stripe-Signature does not verify.")) from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise WebhookPayloadInvalid(gettext("The webhook body is not a Stripe event.")) from exc
        outcome = services.stripe_event_apply(event=event)
        return Response({"status": outcome})


class StepUpView(APIView):
    """Email a CHECKOUT_STEP_UP code (flagged buyers must confirm one before checkout)."""

    @extend_schema(request=None, responses={202: s.AccountNoticeSerializer, 429: _ERROR}, tags=["me"])
    def post(self, request: Request) -> Response:
        s.NoBodySerializer(data=request.data).is_valid(raise_exception=True)
        services.otp_resend(user_id=request.user.pk, purpose=OneTimeCodePurpose.CHECKOUT_STEP_UP)
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
            user_id=request.user.pk, purpose=OneTimeCodePurpose.CHECKOUT_STEP_UP, code=data.validated_data["code"]
        )
        return Response(
            {"step_up_satisfied": True, "valid_until": selectors.step_up_valid_until(user_id=request.user.pk)}
        )
