"""What accounts promises its callers: the result types, the enums and the errors of users_db.

Callers get these from ``accounts.selectors`` and ``accounts.services``, never model
instances (docs/ARCHITECTURE.md: every contract.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy

from core.errors import Conflict, DomainError, InvalidInput
from core.permissions import Role

# --- Enums -------------------------------------------------------------------------------------------------------


class LedgerKind(models.TextChoices):
    TOPUP = "TOPUP", gettext_lazy("Top-up")
    PURCHASE = "PURCHASE", gettext_lazy("Purchase")
    PURCHASE_REFUND = "PURCHASE_REFUND", gettext_lazy("Purchase refund")
    TRANSFER_DEBIT = "TRANSFER_DEBIT", gettext_lazy("Transfer payment")
    TRANSFER_CREDIT = "TRANSFER_CREDIT", gettext_lazy("Transfer proceeds")
    TRANSFER_FEE = "TRANSFER_FEE", gettext_lazy("Transfer platform fee")
    TRANSFER_FEE_REFUND = "TRANSFER_FEE_REFUND", gettext_lazy("Transfer platform fee returned")
    TRANSFER_REVERSAL_DEBIT = "TRANSFER_REVERSAL_DEBIT", gettext_lazy("Transfer reversal (debit)")
    TRANSFER_REVERSAL_CREDIT = "TRANSFER_REVERSAL_CREDIT", gettext_lazy("Transfer reversal (credit)")
    RESALE_DEBIT = "RESALE_DEBIT", gettext_lazy("Resale purchase")
    RESALE_CREDIT = "RESALE_CREDIT", gettext_lazy("Resale proceeds")
    RESALE_FEE = "RESALE_FEE", gettext_lazy("Resale platform fee")
    RESALE_REFUND = "RESALE_REFUND", gettext_lazy("Resale purchase refund")
    ADJUSTMENT = "ADJUSTMENT", gettext_lazy("Staff adjustment")
    CARD_REFUND = "CARD_REFUND", gettext_lazy("Refund to card")
    CARD_REFUND_REVERSAL = "CARD_REFUND_REVERSAL", gettext_lazy("Refund to card refused (credits restored)")


class CardRefundStatus(models.TextChoices):
    PENDING = "PENDING", gettext_lazy("Pending")
    SUCCEEDED = "SUCCEEDED", gettext_lazy("Succeeded")
    FAILED = "FAILED", gettext_lazy("Failed")


class TopUpStatus(models.TextChoices):
    PENDING = "PENDING", gettext_lazy("Pending")
    SUCCEEDED = "SUCCEEDED", gettext_lazy("Succeeded")
    FAILED = "FAILED", gettext_lazy("Failed")


class OneTimeCodePurpose(models.TextChoices):
    VERIFY_EMAIL = "VERIFY_EMAIL", gettext_lazy("Verify email")
    CHECKOUT_STEP_UP = "CHECKOUT_STEP_UP", gettext_lazy("Checkout step-up")
    TRANSFER_SENDER = "TRANSFER_SENDER", gettext_lazy("Confirm transfer (sender)")
    TRANSFER_RECIPIENT = "TRANSFER_RECIPIENT", gettext_lazy("Confirm transfer (recipient)")
    PASSWORD_RESET = "PASSWORD_RESET", gettext_lazy("Password reset")


# The staff roles are core.permissions.Role (the capability table grants to them); this is the same enum as the
# Django choices of the membership's role column, so a role is written once.
MembershipRole = models.TextChoices("MembershipRole", [(role.name, (role.value, role.label)) for role in Role])

# The profile preferences a buyer may set, each a boolean (absent = False). ``essential_emails_only`` turns off
# the notices a buyer can do without (transfers, resale, payments); confirmations, refunds, cancellations and
# changes to their events are sent whatever it says.
PREFERENCE_KEYS: tuple[str, ...] = ("newsletter", "accessible_seating", "aisle_seat", "essential_emails_only")


# --- Result types ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class UserInfo:
    id: uuid.UUID
    email: str
    full_name: str
    is_flagged: bool
    is_verified: bool
    is_staff: bool
    is_superuser: bool
    is_active: bool
    credit_balance: Decimal

    @property
    def display_name(self) -> str:
        return self.full_name or self.email


# The organization's walk-in account (box-office tickets that exist only on paper) has an address here: no mail.
WALK_IN_EMAIL_DOMAIN = "@box-office.invalid"


@dataclass(frozen=True)
class ProfileInfo:
    """What a person sees and edits of their own account (the profile page, ``GET /api/v1/me/``)."""

    id: uuid.UUID
    email: str
    full_name: str
    phone: str
    preferences: dict[str, bool]  # every key of PREFERENCE_KEYS
    is_verified: bool
    is_flagged: bool
    credit_balance: Decimal
    preferred_language: str = ""  # one of settings.LANGUAGES, or "" (the browser decides)


@dataclass(frozen=True)
class TopUpInfo:
    id: uuid.UUID
    user_id: uuid.UUID
    amount: Decimal
    provider: str
    provider_reference: str
    status: str
    created_at: datetime
    completed_at: datetime | None
    order_id: uuid.UUID | None = None


@dataclass(frozen=True)
class CardRefundInfo:
    id: uuid.UUID
    user_id: uuid.UUID
    topup_id: uuid.UUID
    amount: Decimal
    status: str
    provider_refund_id: str
    failure_reason: str
    created_at: datetime


@dataclass(frozen=True)
class TopUpStart:
    topup: TopUpInfo
    pay_url: str


# --- Errors ------------------------------------------------------------------------------------------------------


class OtpInvalid(DomainError):
    code = "OTP_INVALID"
    status = 400
    default_detail = gettext_lazy("That code is not valid. Check the latest email we sent you.")


class OtpExpired(DomainError):
    code = "OTP_EXPIRED"
    status = 400
    default_detail = gettext_lazy("That code has expired. Ask for a new one.")


class OtpAttemptsExceeded(DomainError):
    code = "OTP_ATTEMPTS_EXCEEDED"
    status = 429
    default_detail = gettext_lazy("Too many wrong codes. Ask for a new one.")


class OtpResendTooSoon(DomainError):
    code = "OTP_RESEND_TOO_SOON"
    status = 429
    default_detail = gettext_lazy("A code was sent moments ago. Wait a little before asking for another one.")


class InsufficientCredits(DomainError):
    code = "INSUFFICIENT_CREDITS"
    status = 402
    default_detail = gettext_lazy("Your credit balance is too low. Top up your wallet and try again.")


class InvalidAmount(InvalidInput):
    code = "INVALID_AMOUNT"
    status = 400
    default_detail = gettext_lazy("The amount must be a positive number with at most two decimals.")


class TopUpLimitExceeded(DomainError):
    code = "TOPUP_LIMIT_EXCEEDED"
    status = 400
    default_detail = gettext_lazy("That top-up is larger than the maximum allowed.")


class LedgerReferenceConflict(Conflict):
    code = "LEDGER_REFERENCE_CONFLICT"
    status = 409
    default_detail = gettext_lazy("This payment reference was already used for a different movement.")


class EmailTaken(DomainError):
    code = "EMAIL_TAKEN"
    status = 409
    default_detail = gettext_lazy("An account with this email address already exists.")


class LoginLocked(DomainError):
    code = "LOGIN_LOCKED"
    status = 429
    default_detail = gettext_lazy("Too many failed logins. Try again later.")


class TwoFactorInvalid(DomainError):
    code = "TWO_FACTOR_INVALID"
    status = 400
    default_detail = gettext_lazy(
        "That code is not right. Use the current code from your authenticator app or a recovery code."
    )


class TwoFactorRequired(DomainError):
    code = "TWO_FACTOR_REQUIRED"
    status = 403
    default_detail = gettext_lazy(
        "This account logs in with a second factor: send the current authenticator code as `otp`."
    )


class OtpDailyLimit(DomainError):
    code = "OTP_DAILY_LIMIT"
    status = 429
    default_detail = gettext_lazy("Too many codes were sent to this account today. Try again tomorrow.")


class InvalidCredentials(DomainError):
    code = "INVALID_CREDENTIALS"
    status = 400
    default_detail = gettext_lazy("Email address or password is incorrect.")


class AlreadyVerified(DomainError):
    code = "ALREADY_VERIFIED"
    status = 409
    default_detail = gettext_lazy("This email address is already verified.")


class WebhookSignatureInvalid(DomainError):
    code = "WEBHOOK_SIGNATURE_INVALID"
    status = 400
    default_detail = gettext_lazy("The webhook signature is missing or does not match.")


class WebhookTimestampStale(DomainError):
    code = "WEBHOOK_TIMESTAMP_STALE"
    status = 400
    default_detail = gettext_lazy("The webhook timestamp is outside the accepted window.")


class WebhookPayloadInvalid(DomainError):
    code = "WEBHOOK_PAYLOAD_INVALID"
    status = 400
    default_detail = gettext_lazy("The webhook body is not a valid payment event.")


class PaymentProviderUnavailable(DomainError):
    code = "PAYMENT_PROVIDER_UNAVAILABLE"
    status = 503
    default_detail = gettext_lazy("The payment provider is not available right now.")


class StaffOnly(DomainError):
    code = "STAFF_ONLY"
    status = 403
    default_detail = gettext_lazy("Only staff members may do this.")


class CreditsBusy(Conflict):
    code = "CREDITS_BUSY"
    status = 409
    default_detail = gettext_lazy("Your balance is being updated by another request. Try again in a moment.")


class RefundExceedsCardPayments(DomainError):
    code = "REFUND_EXCEEDS_CARD_PAYMENTS"
    status = 400
    default_detail = gettext_lazy(
        "Only credits bought by card can go back to the card, at most what each payment brought in."
    )


class ProviderRefused(DomainError):
    code = "PAYMENT_PROVIDER_REFUSED"
    status = 502
    default_detail = gettext_lazy("The payment provider refused the refund; your credits were restored.")
