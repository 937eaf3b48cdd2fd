"""A person's own account: sign-up, email verification, profile, password reset."""

from __future__ import annotations

import re
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext
from rest_framework.authtoken.models import Token

from accounts import DB_ALIAS
from accounts.contract import (
    PREFERENCE_KEYS,
    WALK_IN_EMAIL_DOMAIN,
    AlreadyVerified,
    EmailTaken,
    OneTimeCodePurpose,
    OtpDailyLimit,
    OtpInvalid,
    UserInfo,
)
from accounts.models import User
from accounts.selectors import user_get
from accounts.services.codes import otp_issue, otp_resend, otp_seconds_until_resend, otp_verify
from accounts.services.login import login_failures_forgive
from core.errors import InvalidInput, NotFound
from core.results import from_row

_PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()./-]{4,30}$")
_PHONE_EXAMPLE = "Enter a phone number such as +44 20 7946 0000."
_EMAIL_TAKEN = "An account with this email address already exists."


def _password_errors(password: str, user: User | None) -> list[str]:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        return list(exc.messages)
    return []


def _signup_errors(*, email: str, password: str, full_name: str, phone: str) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    try:
        validate_email(email)
    except ValidationError:
        fields["email"] = ["Enter a valid email address."]
    if len(email) > 254:
        fields["email"] = ["The email address is too long."]
    if not full_name:
        fields["full_name"] = ["Enter your name."]
    elif len(full_name) > 200:
        fields["full_name"] = ["At most 200 characters."]
    if phone and not _PHONE_RE.match(phone):
        fields["phone"] = [_PHONE_EXAMPLE]
    if password_errors := _password_errors(password, User(email=email, full_name=full_name)):
        fields["password"] = password_errors
    return fields


def user_register(*, email: str, password: str, full_name: str, phone: str = "") -> UserInfo:
    """Create an unverified account (Argon2 password hash) and email its VERIFY_EMAIL code."""
    email = (email or "").strip().lower()
    full_name = (full_name or "").strip()
    phone = (phone or "").strip()
    if fields := _signup_errors(email=email, password=password or "", full_name=full_name, phone=phone):
        raise InvalidInput(gettext("Please correct the highlighted fields."), fields=fields)
    if User.objects.using(DB_ALIAS).filter(email__iexact=email).exists():
        raise EmailTaken(fields={"email": [_EMAIL_TAKEN]})
    try:
        with transaction.atomic(using=DB_ALIAS):
            user = User.objects.db_manager(DB_ALIAS).create_user(email, password, full_name=full_name, phone=phone)
    except IntegrityError as exc:  # a concurrent sign-up with the same address won the race
        raise EmailTaken(fields={"email": [_EMAIL_TAKEN]}) from exc
    otp_issue(user_id=user.pk, purpose=OneTimeCodePurpose.VERIFY_EMAIL)
    return from_row(UserInfo, user)


def user_verify_email(*, user_id: uuid.UUID, code: str) -> UserInfo:
    """Check the VERIFY_EMAIL code and mark the address verified (idempotent for a verified user)."""
    info = user_get(user_id=user_id)
    if info.is_verified:
        return info
    otp_verify(user_id=info.id, purpose=OneTimeCodePurpose.VERIFY_EMAIL, code=code)
    User.objects.using(DB_ALIAS).filter(pk=info.id).update(is_verified=True, updated_at=timezone.now())
    return user_get(user_id=info.id)


def user_resend_verification(*, user_id: uuid.UUID) -> None:
    if user_get(user_id=user_id).is_verified:
        raise AlreadyVerified()
    otp_resend(user_id=user_id, purpose=OneTimeCodePurpose.VERIFY_EMAIL)


def _preferences_errors(preferences: Any) -> list[str]:
    if not isinstance(preferences, dict):
        return ["Expected an object."]
    if unknown := sorted(set(preferences) - set(PREFERENCE_KEYS)):
        return [f"Unknown preference: {', '.join(unknown)}."]
    if wrong := sorted(k for k, v in preferences.items() if k in PREFERENCE_KEYS and not isinstance(v, bool)):
        return [f"Expected true or false for: {', '.join(wrong)}."]
    return []


def _profile_changes(*, full_name: str | None, phone: str | None, preferences: Any) -> dict[str, Any]:
    """The name and phone to store (stripped); InvalidInput naming every field that is wrong."""
    fields: dict[str, list[str]] = {}
    changes: dict[str, Any] = {}
    if full_name is not None:
        changes["full_name"] = full_name.strip()
        if not changes["full_name"] or len(changes["full_name"]) > 200:
            fields["full_name"] = ["Enter a name of at most 200 characters."]
    if phone is not None:
        changes["phone"] = phone.strip()
        if changes["phone"] and not _PHONE_RE.match(changes["phone"]):
            fields["phone"] = [_PHONE_EXAMPLE]
    if preferences is not None and (problems := _preferences_errors(preferences)):
        fields["preferences"] = problems
    if fields:
        raise InvalidInput(gettext("Please correct the highlighted fields."), fields=fields)
    return changes


def user_update_profile(
    *,
    user_id: uuid.UUID,
    full_name: str | None = None,
    phone: str | None = None,
    preferences: dict[str, bool] | None = None,
) -> UserInfo:
    """Change name, phone and preferences (known keys, booleans). Email, balance and flags are not profile fields."""
    changes = _profile_changes(full_name=full_name, phone=phone, preferences=preferences)
    with transaction.atomic(using=DB_ALIAS):
        user = User.objects.using(DB_ALIAS).select_for_update().filter(pk=user_id).first()
        if user is None:
            raise NotFound(gettext("No such user."))
        if preferences is not None:
            changes["preferences"] = {**(user.preferences or {}), **preferences}
        if changes:
            User.objects.using(DB_ALIAS).filter(pk=user.pk).update(**changes, updated_at=timezone.now())
    return user_get(user_id=user_id)


def user_for_tickets(*, email: str, full_name: str = "") -> tuple[UserInfo, bool]:
    """The account tickets bought or given by staff go to: the one with this address, or a new one (and True).

    A new account has no usable password and an unverified address: its holder claims it with "Forgot password",
    whose emailed code proves the address (``password_reset_confirm``). Two staff members issuing to the same new
    address at once get the same account.
    """
    email = (email or "").strip().lower()
    full_name = " ".join((full_name or "").split())
    try:
        validate_email(email)
    except ValidationError:
        raise InvalidInput(
            gettext("Enter a valid email address."), fields={"email": [gettext("Enter a valid email address.")]}
        ) from None
    if len(email) > 254 or len(full_name) > 200:
        raise InvalidInput(
            gettext("The email address or the name is too long."), fields={"email": [gettext("Too long.")]}
        )
    existing = User.objects.using(DB_ALIAS).filter(email__iexact=email).first()
    if existing is not None:
        return from_row(UserInfo, existing), False
    try:
        with transaction.atomic(using=DB_ALIAS):
            user = User.objects.db_manager(DB_ALIAS).create_user(email, None, full_name=full_name)
    except IntegrityError:  # the same address issued to at the same moment
        return from_row(UserInfo, User.objects.using(DB_ALIAS).get(email__iexact=email)), False
    return from_row(UserInfo, user), True


def user_walk_in(*, organization_id: uuid.UUID) -> UserInfo:
    """The organization's walk-in account: holder of box-office tickets sold with no address, only printed.

    It cannot log in (inactive, no password), so its tickets exist only on paper."""
    email = f"walk-in+{organization_id.hex}{WALK_IN_EMAIL_DOMAIN}"
    try:
        with transaction.atomic(using=DB_ALIAS):
            user, _created = User.objects.using(DB_ALIAS).get_or_create(
                email=email, defaults={"full_name": "Box office walk-in", "is_active": False, "password": "!"}
            )
    except IntegrityError:
        user = User.objects.using(DB_ALIAS).get(email=email)
    return from_row(UserInfo, user)


def user_set_language(*, user_id: uuid.UUID, language: str) -> None:
    """Remember the language a person chose (one of settings.LANGUAGES, or "" to let the browser decide)."""
    if language and language not in dict(settings.LANGUAGES):
        raise InvalidInput({"language": [gettext("Choose one of the languages offered.")]})
    with transaction.atomic(using=DB_ALIAS):
        User.objects.using(DB_ALIAS).filter(pk=user_id).exclude(preferred_language=language).update(
            preferred_language=language, updated_at=timezone.now()
        )


def _active_user_by_email(email: str) -> User | None:
    return User.objects.using(DB_ALIAS).filter(email__iexact=(email or "").strip(), is_active=True).first()


def password_reset_request(*, email: str) -> None:
    """Email a PASSWORD_RESET code when the address belongs to an active account; silent otherwise (the page
    must not tell who has an account)."""
    user = _active_user_by_email(email)
    if user is None:
        return
    if otp_seconds_until_resend(user_id=user.pk, purpose=OneTimeCodePurpose.PASSWORD_RESET):
        return  # a code just went out; do not let the form be used to flood a mailbox
    try:
        otp_issue(user_id=user.pk, purpose=OneTimeCodePurpose.PASSWORD_RESET)
    except OtpDailyLimit:
        return  # the same silence as for an unknown address: the page must not tell who has an account


def password_reset_confirm(*, email: str, code: str, new_password: str) -> None:
    """Set a new password with an emailed code. Ends every session and API token of the account."""
    user = _active_user_by_email(email)
    if user is None:
        raise OtpInvalid()  # same answer as a wrong code: no account enumeration
    if errors := _password_errors(new_password or "", user):
        raise InvalidInput(gettext("Choose a stronger password."), fields={"new_password": errors})
    otp_verify(user_id=user.pk, purpose=OneTimeCodePurpose.PASSWORD_RESET, code=code)
    with transaction.atomic(using=DB_ALIAS):
        user.set_password(new_password)
        user.is_verified = True  # the emailed code proves the address (how an account opened by staff is claimed)
        user.save(using=DB_ALIAS, update_fields=["password", "is_verified", "updated_at"])
        Token.objects.using(DB_ALIAS).filter(user_id=user.pk).delete()
        login_failures_forgive(email=user.email)
