"""One-time codes: 6 digits sent by email, stored as a keyed hash, one purpose and (optionally) one object each.

Only the newest code of a (user, purpose, object) counts; issuing one expires the earlier ones. A wrong guess is
committed before the error is raised, so the attempt limit holds.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import smtplib
import uuid
from datetime import timedelta

from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts import DB_ALIAS
from accounts.contract import (
    OneTimeCodePurpose,
    OtpAttemptsExceeded,
    OtpDailyLimit,
    OtpExpired,
    OtpInvalid,
    OtpResendTooSoon,
)
from accounts.models import OneTimeCode, User
from accounts.selectors import otp_last_issued_at
from core import config
from core.errors import DomainError, InvalidInput, NotFound

logger = logging.getLogger(__name__)

# A new code may be requested this long after the previous one (resend buttons, API resend, password reset).
OTP_RESEND_COOLDOWN = timedelta(seconds=30)
# The window of the per-account daily cap (config otp_max_codes_per_day).
OTP_DAY = timedelta(hours=24)

_SUBJECTS = {
    OneTimeCodePurpose.VERIFY_EMAIL: _("Confirm your email address"),
    OneTimeCodePurpose.CHECKOUT_STEP_UP: _("Your checkout confirmation code"),
    OneTimeCodePurpose.TRANSFER_SENDER: _("Confirm your ticket transfer"),
    OneTimeCodePurpose.TRANSFER_RECIPIENT: _("Confirm the ticket you are receiving"),
    OneTimeCodePurpose.PASSWORD_RESET: _("Reset your password"),
}


def _code_hash(*, user_id: uuid.UUID, purpose: str, object_id: uuid.UUID | None, code: str) -> str:
    # Keyed with SECRET_KEY: a leaked table does not let anyone try the million codes offline.
    return salted_hmac("accounts.otp", f"{user_id}:{purpose}:{object_id or ''}:{code}", algorithm="sha256").hexdigest()


def _send_code_email(*, email: str, full_name: str, purpose: str, code: str, minutes: int, language: str) -> None:
    """In the person's chosen language; without one, in the language of the page that asked for the code."""
    context = {"name": full_name or email, "code": code, "minutes": minutes, "purpose": purpose}
    with translation.override(language or translation.get_language()):
        body = render_to_string("accounts/email/code.txt", context)
        subject = f"TicketRemaster: {_SUBJECTS[purpose]}"
    try:
        send_mail(subject, body, None, [email])
    except (smtplib.SMTPException, OSError):
        # The code is stored; the person can ask for it again. A mail outage must not break the request.
        logger.exception("could not send a %s code to %s", purpose, email)


def _check_purpose(purpose: str) -> str:
    if purpose not in OneTimeCodePurpose.values:
        raise InvalidInput(f"Unknown code purpose {purpose!r}.")
    return purpose


def otp_seconds_until_resend(*, user_id: uuid.UUID, purpose: str, object_id: uuid.UUID | None = None) -> int:
    """How long until another code of this purpose may be sent (0: now)."""
    last = otp_last_issued_at(user_id=user_id, purpose=purpose, object_id=object_id)
    if last is None or timezone.now() - last >= OTP_RESEND_COOLDOWN:
        return 0
    return int((last + OTP_RESEND_COOLDOWN - timezone.now()).total_seconds()) + 1


def otp_issue(*, user_id: uuid.UUID, purpose: str, object_id: uuid.UUID | None = None) -> str:
    """Email a fresh 6-digit code and return it (callers must never show it). Earlier open codes of the same
    purpose and object stop working: only the latest code is valid."""
    purpose = _check_purpose(purpose)
    code = f"{secrets.randbelow(1_000_000):06d}"
    lifetime = config.get("otp_lifetime_seconds")
    now = timezone.now()
    with transaction.atomic(using=DB_ALIAS):
        # The user row is locked so that concurrent requests cannot both pass the daily cap.
        user = User.objects.using(DB_ALIAS).select_for_update().filter(pk=user_id).first()
        if user is None:
            raise NotFound(gettext("No such user."))
        # Each code allows otp_max_attempts guesses; capping the codes per day caps the guesses per day, whatever
        # the resend cooldown allows (5 x 20 = 100 guesses at a million codes: one chance in ten thousand a day).
        sent_today = OneTimeCode.objects.using(DB_ALIAS).filter(user_id=user.pk, created_at__gt=now - OTP_DAY).count()
        if sent_today >= config.get("otp_max_codes_per_day"):
            raise OtpDailyLimit()
        OneTimeCode.objects.using(DB_ALIAS).filter(
            user_id=user.pk, purpose=purpose, object_id=object_id, consumed_at__isnull=True, expires_at__gt=now
        ).update(expires_at=now)
        OneTimeCode.objects.using(DB_ALIAS).create(
            user_id=user.pk,
            purpose=purpose,
            object_id=object_id,
            code_hash=_code_hash(user_id=user.pk, purpose=purpose, object_id=object_id, code=code),
            expires_at=now + timedelta(seconds=lifetime),
            max_attempts=config.get("otp_max_attempts"),
        )
        # Mail leaves only once the code is stored, and never while the transaction is open.
        transaction.on_commit(
            lambda: _send_code_email(
                email=user.email,
                full_name=user.full_name,
                purpose=purpose,
                code=code,
                minutes=lifetime // 60,
                language=user.preferred_language or translation.get_language(),
            ),
            using=DB_ALIAS,
        )
    return code


def otp_resend(*, user_id: uuid.UUID, purpose: str, object_id: uuid.UUID | None = None) -> None:
    """otp_issue behind a short cooldown, for resend buttons (OtpResendTooSoon, 429)."""
    if wait := otp_seconds_until_resend(user_id=user_id, purpose=purpose, object_id=object_id):
        raise OtpResendTooSoon(
            gettext("A code was sent moments ago. Try again in %(wait)s seconds.") % {"wait": wait}, retry_after=wait
        )
    otp_issue(user_id=user_id, purpose=purpose, object_id=object_id)


def otp_verify(*, user_id: uuid.UUID, purpose: str, code: str, object_id: uuid.UUID | None = None) -> None:
    """Accept the newest code of this purpose and object, once. Wrong guesses count against the code."""
    purpose = _check_purpose(purpose)
    code = re.sub(r"\s+", "", str(code or ""))
    now = timezone.now()
    with transaction.atomic(using=DB_ALIAS):
        otp = (
            OneTimeCode.objects.using(DB_ALIAS)
            .select_for_update()
            .filter(user_id=user_id, purpose=purpose, object_id=object_id)
            .order_by("-created_at")
            .first()
        )
        # Only the newest code counts: older ones were replaced, and a used one never works twice.
        if otp is None or otp.consumed_at is not None:
            error: type[DomainError] = OtpInvalid
        elif otp.attempts >= otp.max_attempts:
            error = OtpAttemptsExceeded
        elif otp.expires_at <= now:
            error = OtpExpired
        elif hmac.compare_digest(
            otp.code_hash, _code_hash(user_id=otp.user_id, purpose=purpose, object_id=object_id, code=code)
        ):
            otp.consumed_at = now
            otp.save(using=DB_ALIAS, update_fields=["consumed_at", "updated_at"])
            return
        else:
            # The wrong guess is committed (the error is raised after the block), so the limit really holds.
            otp.attempts += 1
            otp.save(using=DB_ALIAS, update_fields=["attempts", "updated_at"])
            error = OtpAttemptsExceeded if otp.attempts >= otp.max_attempts else OtpInvalid
    raise error()
