"""Lean API serializers: input parsing and output shapes only; accounts.services holds every rule."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from accounts.contract import TopUpStatus
from accounts.models import LedgerEntry, TopUp
from core.api import MoneyField, StrictSerializer


class NoBodySerializer(StrictSerializer):
    """The body of an action that takes no input: empty, or ``{}``; any field is refused rather than ignored."""


class TokenRequestSerializer(StrictSerializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=256, trim_whitespace=False, style={"input_type": "password"})
    otp = serializers.CharField(
        max_length=32,
        required=False,
        help_text=gettext_lazy("Staff who log in with two factors: the current authenticator code or a recovery code."),
    )


class RegisterSerializer(StrictSerializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=256, trim_whitespace=False, style={"input_type": "password"})
    full_name = serializers.CharField(max_length=200)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")


class OneTimeCodeInputSerializer(StrictSerializer):
    code = serializers.RegexField(
        r"^\s*\d{6}\s*$", max_length=12, help_text=gettext_lazy("The 6-digit code from the email.")
    )


class PreferencesSerializer(serializers.Serializer):
    newsletter = serializers.BooleanField(required=False)
    accessible_seating = serializers.BooleanField(required=False)
    aisle_seat = serializers.BooleanField(required=False)
    essential_emails_only = serializers.BooleanField(
        required=False, help_text=gettext_lazy("Turn off non-essential emails (transfers, resale, payments).")
    )


class MeSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    full_name = serializers.CharField()
    phone = serializers.CharField()
    preferences = PreferencesSerializer()
    is_verified = serializers.BooleanField()
    is_flagged = serializers.BooleanField()
    credit_balance = MoneyField()
    step_up_satisfied = serializers.BooleanField()


class MeUpdateSerializer(StrictSerializer):
    full_name = serializers.CharField(max_length=200, required=False)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    preferences = serializers.DictField(child=serializers.BooleanField(), required=False)


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    user = MeSerializer()


class AccountNoticeSerializer(serializers.Serializer):
    detail = serializers.CharField()


class WalletSerializer(serializers.Serializer):
    balance = MoneyField()
    ledger_url = serializers.CharField()
    topups_url = serializers.CharField()


class LedgerEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = LedgerEntry
        fields = ["id", "kind", "amount", "balance_after", "reference", "memo", "created_at"]
        read_only_fields = fields


class TopUpRequestSerializer(StrictSerializer):
    # Text, not a DecimalField: accounts.services.parse_amount gives the one INVALID_AMOUNT answer for all cases.
    amount = serializers.CharField(max_length=32, help_text=gettext_lazy('Credits to buy, e.g. "25.00".'))


class TopUpSerializer(serializers.ModelSerializer):
    pay_url = serializers.SerializerMethodField()

    class Meta:
        model = TopUp
        fields = ["id", "amount", "status", "provider", "provider_reference", "pay_url", "created_at", "completed_at"]
        read_only_fields = fields

    def get_pay_url(self, obj) -> str | None:
        """Where the buyer pays: only for a pending payment of the built-in test provider."""
        if obj.status != TopUpStatus.PENDING or obj.provider != "test":
            return None
        url = reverse("accounts:test-pay", args=[obj.provider_reference])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class StepUpStatusSerializer(serializers.Serializer):
    step_up_satisfied = serializers.BooleanField()
    valid_until = serializers.DateTimeField(allow_null=True)


class WebhookDataSerializer(serializers.Serializer):
    provider_reference = serializers.CharField(max_length=100)
    amount = serializers.CharField(max_length=32)


# Deliberately lenient (not StrictSerializer): the provider writes this envelope, signs it, and retries until it gets
# a 2xx. Refusing fields a provider adds later would stall every top-up; the signature already proves the sender.
class WebhookEventSerializer(serializers.Serializer):
    id = serializers.CharField(max_length=100)
    type = serializers.ChoiceField(choices=["payment.succeeded", "payment.failed"])
    data = WebhookDataSerializer()


class WebhookResultSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["processed", "already_processed"])
    topup_status = serializers.CharField()


class StripeWebhookResultSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["processed", "duplicate", "ignored"])


class CardRefundRequestSerializer(serializers.Serializer):
    amount = serializers.CharField(max_length=32)


class CardRefundSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    topup_id = serializers.UUIDField()
    amount = MoneyField()
    status = serializers.CharField()
    failure_reason = serializers.CharField()
    created_at = serializers.DateTimeField()
