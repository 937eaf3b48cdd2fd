"""Input and output shapes of the transfer and resale API. Parsing only: every rule lives in the services."""

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy
from rest_framework import serializers

from core.api import MoneyField, StrictSerializer, UUIDField
from core.prices import MAX_AMOUNT


class TransferCreateSerializer(StrictSerializer):
    seat_id = UUIDField(help_text=gettext_lazy("The ticket (seat id) to offer; you must own it and it must be SOLD."))
    to_email = serializers.EmailField(max_length=254, help_text=gettext_lazy("The recipient's account email."))
    price = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=MAX_AMOUNT,
        required=False,
        default=Decimal("0.00"),
        help_text=gettext_lazy(
            "Credits the recipient pays you (at most the resale cap of face value; the platform fee is kept "
            "from it); 0 (default) for a gift."
        ),
    )


class TicketOfferSerializer(serializers.Serializer):
    """What a transfer and a listing both say about the ticket they offer."""

    id = serializers.UUIDField()
    seat_id = serializers.UUIDField()
    event_id = serializers.UUIDField()
    event_title = serializers.CharField(allow_blank=True)
    ticket_label = serializers.CharField(allow_blank=True)
    section_name = serializers.CharField(allow_blank=True)
    ticket_place = serializers.CharField(
        allow_blank=True, help_text=gettext_lazy('Section and seat: "Stalls · Row A, seat 10".')
    )


class CodeSerializer(StrictSerializer):
    code = serializers.CharField(
        max_length=12, trim_whitespace=True, help_text=gettext_lazy("The 6-digit code we emailed you.")
    )


class ReasonSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=2000, trim_whitespace=True)


class TransferSerializer(TicketOfferSerializer):
    from_user_id = serializers.UUIDField()
    from_email = serializers.CharField(allow_blank=True)
    to_user_id = serializers.UUIDField(
        allow_null=True, help_text=gettext_lazy("Null while the address names no account that may receive tickets.")
    )
    to_email = serializers.CharField(allow_blank=True)
    price = MoneyField()
    fee = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        help_text=gettext_lazy("Platform fee kept from the sender's proceeds (as for resale)."),
    )
    status = serializers.CharField()
    step = serializers.CharField()
    your_role = serializers.CharField(allow_null=True, help_text=gettext_lazy("sender, recipient or null (staff)."))
    you_confirmed = serializers.BooleanField()
    expires_at = serializers.DateTimeField()
    accepted_at = serializers.DateTimeField(allow_null=True)
    sender_confirmed_at = serializers.DateTimeField(allow_null=True)
    recipient_confirmed_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    failure_code = serializers.CharField(allow_blank=True)
    dispute_reason = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()


class ListingCreateSerializer(StrictSerializer):
    seat_id = UUIDField(help_text=gettext_lazy("The ticket (seat id) to sell; you must own it and it must be SOLD."))
    price = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=MAX_AMOUNT,
        help_text=gettext_lazy(
            "Asking price in credits: more than 0, at most the cap (config resale_price_cap_percent of face)."
        ),
    )


class ListingSerializer(TicketOfferSerializer):
    seller_id = serializers.UUIDField()
    price = MoneyField()
    face_value = MoneyField()
    fee = MoneyField()
    status = serializers.CharField()
    buyer_id = serializers.UUIDField(allow_null=True)
    sold_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
