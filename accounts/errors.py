"""Domain errors of the accounts app. Each has a stable ``code`` and an HTTP ``status`` (see ticketremaster.errors)."""

from __future__ import annotations

from ticketremaster.errors import Conflict, DomainError, InvalidInput


class OtpInvalid(DomainError):
    code = "OTP_INVALID"
    status = 400
    default_detail = "That code is not valid. Check the latest email we sent you."


class OtpExpired(DomainError):
    code = "OTP_EXPIRED"
    status = 400
    default_detail = "That code has expired. Ask for a new one."


class OtpAttemptsExceeded(DomainError):
    code = "OTP_ATTEMPTS_EXCEEDED"
    status = 429
    default_detail = "Too many wrong codes. Ask for a new one."


class OtpResendTooSoon(DomainError):
    code = "OTP_RESEND_TOO_SOON"
    status = 429
    default_detail = "A code was sent moments ago. Wait a little before asking for another one."


class InsufficientCredits(DomainError):
    code = "INSUFFICIENT_CREDITS"
    status = 402
    default_detail = "Your credit balance is too low. Top up your wallet and try again."


class InvalidAmount(InvalidInput):
    code = "INVALID_AMOUNT"
    status = 400
    default_detail = "The amount must be a positive number with at most two decimals."


class TopUpLimitExceeded(DomainError):
    code = "TOPUP_LIMIT_EXCEEDED"
    status = 400
    default_detail = "That top-up is larger than the maximum allowed."


class LedgerReferenceConflict(Conflict):
    code = "LEDGER_REFERENCE_CONFLICT"
    status = 409
    default_detail = "This payment reference was already used for a different movement."


class EmailTaken(DomainError):
    code = "EMAIL_TAKEN"
    status = 409
    default_detail = "An account with this email address already exists."


class LoginLocked(DomainError):
    code = "LOGIN_LOCKED"
    status = 429
    default_detail = "Too many failed logins. Try again later."


class InvalidCredentials(DomainError):
    code = "INVALID_CREDENTIALS"
    status = 400
    default_detail = "Email address or password is incorrect."


class AlreadyVerified(DomainError):
    code = "ALREADY_VERIFIED"
    status = 409
    default_detail = "This email address is already verified."


class WebhookSignatureInvalid(DomainError):
    code = "WEBHOOK_SIGNATURE_INVALID"
    status = 400
    default_detail = "The webhook signature is missing or does not match."


class WebhookTimestampStale(DomainError):
    code = "WEBHOOK_TIMESTAMP_STALE"
    status = 400
    default_detail = "The webhook timestamp is outside the accepted window."


class WebhookPayloadInvalid(DomainError):
    code = "WEBHOOK_PAYLOAD_INVALID"
    status = 400
    default_detail = "The webhook body is not a valid payment event."


class PaymentProviderUnavailable(DomainError):
    code = "PAYMENT_PROVIDER_UNAVAILABLE"
    status = 503
    default_detail = "The payment provider is not available right now."


class StaffOnly(DomainError):
    code = "STAFF_ONLY"
    status = 403
    default_detail = "Only staff members may do this."


class CreditsBusy(Conflict):
    code = "CREDITS_BUSY"
    status = 409
    default_detail = "Your balance is being updated by another request. Try again in a moment."
