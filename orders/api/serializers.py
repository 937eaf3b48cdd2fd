"""Serializers of the buyer's holds and orders API: input validation and lean output, no business rules."""

from __future__ import annotations

from django.utils.translation import gettext
from rest_framework import serializers

from core.api import MoneyField, StrictSerializer, UUIDField

MAX_SEATS_PER_REQUEST = 50


class NoBodySerializer(StrictSerializer):
    """The body of an action that takes no input: empty, or ``{}``; any field is refused rather than ignored."""


class HoldRequestSerializer(StrictSerializer):
    seat_ids = serializers.ListField(
        child=UUIDField(), required=False, allow_empty=False, max_length=MAX_SEATS_PER_REQUEST
    )
    section_id = UUIDField(required=False, allow_null=True)
    tier_id = UUIDField(required=False, allow_null=True)
    quantity = serializers.IntegerField(required=False, min_value=1, max_value=MAX_SEATS_PER_REQUEST)

    def validate(self, attrs):
        if ("seat_ids" in attrs) == ("quantity" in attrs):
            raise serializers.ValidationError(
                gettext("Send either seat_ids, or quantity (with section_id or tier_id).")
            )
        if "seat_ids" in attrs and (attrs.get("section_id") or attrs.get("tier_id")):
            raise serializers.ValidationError(gettext("section_id and tier_id go with quantity, not with seat_ids."))
        return attrs


class ReleaseRequestSerializer(StrictSerializer):
    event_id = UUIDField(required=False, allow_null=True)
    seat_ids = serializers.ListField(
        child=UUIDField(), required=False, allow_empty=False, max_length=MAX_SEATS_PER_REQUEST
    )


class HeldSeatSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    event_id = serializers.UUIDField()
    section_id = serializers.UUIDField()
    tier_id = serializers.UUIDField(allow_null=True)
    row_label = serializers.CharField()
    number = serializers.IntegerField()
    label = serializers.CharField()
    price = MoneyField()
    is_accessible = serializers.BooleanField()
    is_general_admission = serializers.BooleanField()
    hold_expires_at = serializers.DateTimeField()


class CheckoutRequestSerializer(StrictSerializer):
    event_id = UUIDField()
    idempotency_key = serializers.CharField(required=False, max_length=100, allow_blank=False)
    # When the credits do not cover the order, pay the difference by card (202 with pay_url) instead of a 402.
    pay_difference_by_card = serializers.BooleanField(required=False, default=False)


class RefundRequestSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=255)
    block_seats = serializers.BooleanField(default=False)
    # Only these tickets of the order (a partial refund); absent: the whole order.
    seat_ids = serializers.ListField(child=UUIDField(), required=False, allow_empty=False, max_length=1000)


class OrderLineSerializer(serializers.Serializer):
    seat_id = serializers.UUIDField()
    price = MoneyField()
    is_active = serializers.BooleanField()


class OrderSerializer(serializers.Serializer):
    """Renders an OrderInfo (services) or an Order row (lists) alike."""

    id = serializers.UUIDField()
    event_id = serializers.UUIDField()
    status = serializers.CharField()
    step = serializers.CharField()
    total = MoneyField()
    idempotency_key = serializers.CharField()
    failure_code = serializers.CharField()
    created_at = serializers.DateTimeField()
    confirmed_at = serializers.DateTimeField(allow_null=True)
    refunded_at = serializers.DateTimeField(allow_null=True)
    refunded_amount = MoneyField()
    lines = serializers.SerializerMethodField()
    pay_url = serializers.SerializerMethodField()

    def get_pay_url(self, order) -> str:
        return getattr(order, "pay_url", "") or ""

    def get_lines(self, order) -> list[dict]:
        lines = order.lines if isinstance(order.lines, tuple) else order.lines.all()
        return OrderLineSerializer(lines, many=True).data
