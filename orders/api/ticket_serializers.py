from django.utils.translation import gettext_lazy
from rest_framework import serializers

from core.api import MoneyField, StrictSerializer, UUIDField
from inventory.contract import EntryLogResult


class SeatSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    event_id = serializers.UUIDField()
    section_id = serializers.UUIDField()
    section_name = serializers.CharField()
    row = serializers.CharField()
    number = serializers.IntegerField()
    label = serializers.CharField()
    place = serializers.CharField(
        help_text=gettext_lazy('The section and the seat, as every screen names it: "North 1 · Row A, seat 3".')
    )
    is_accessible = serializers.BooleanField()
    is_general_admission = serializers.BooleanField()
    status = serializers.CharField()
    checked_in_at = serializers.DateTimeField(allow_null=True)


class TicketSerializer(SeatSerializer):
    price = MoneyField()
    order_id = serializers.UUIDField()
    tier_id = serializers.UUIDField(allow_null=True)
    qr_version = serializers.IntegerField()
    event_title = serializers.CharField()
    venue_name = serializers.CharField()
    starts_at = serializers.DateTimeField(allow_null=True)
    event_status = serializers.CharField()
    can_show_qr = serializers.BooleanField()


class TicketQrSerializer(serializers.Serializer):
    token = serializers.CharField(help_text=gettext_lazy("The signed code; valid until expires_at."))
    svg = serializers.CharField(help_text=gettext_lazy("The QR image of the token, inline SVG markup."))
    expires_at = serializers.DateTimeField()
    lifetime_seconds = serializers.IntegerField()


class ScanRequestSerializer(StrictSerializer):
    event_id = UUIDField()
    gate = serializers.CharField(max_length=64)
    # Garbage codes are answered (and logged) as INVALID by the service; only absurd sizes are refused here.
    token = serializers.CharField(max_length=4096, allow_blank=True, trim_whitespace=True)


class ScanResponseSerializer(serializers.Serializer):
    result = serializers.ChoiceField(choices=EntryLogResult.choices)
    admitted = serializers.BooleanField()
    seat = SeatSerializer(allow_null=True)
    holder_name = serializers.CharField(allow_blank=True)
    detail = serializers.CharField()
