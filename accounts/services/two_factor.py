"""Two-factor login for staff: a TOTP authenticator app (django-otp) plus ten single-use recovery codes.

Who must use it is the capability table's answer (core.permissions.role_requires_two_factor): every role that can
move money or see buyers' data, and superusers. Enrolment is two steps: a device is created unconfirmed and shown as
a QR code, and only a correct code from the app confirms it (and creates the recovery codes, shown once). Wrong
codes slow the device down (django-otp's exponential back-off per device). Platform staff reset a lost device from
the admin; the reset is audited.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest
from django.utils.translation import gettext
from django_otp import DEVICE_ID_SESSION_KEY, match_token
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import DB_ALIAS
from accounts.backends import organization_roles
from accounts.contract import TwoFactorInvalid, TwoFactorRequired
from accounts.models import User
from core.audit import audit_record
from core.errors import NotFound
from core.permissions import role_requires_two_factor

RECOVERY_CODE_COUNT = 10
_DEVICE_NAME = "authenticator app"
_RECOVERY_NAME = "recovery codes"


@dataclass(frozen=True)
class Enrolment:
    device_id: int
    secret_base32: str
    otpauth_uri: str


def two_factor_required(user: User) -> bool:
    """Does this person have to pass a second factor after their password?"""
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_superuser:
        return True
    return any(role_requires_two_factor(role) for role in organization_roles(user).values())


def two_factor_session_passed(request: HttpRequest) -> bool:
    """Has this session passed the second factor with a device that still exists? (django-otp's own middleware is
    not used: it would replace ``user.is_verified``, which here means a confirmed email address.)"""
    persistent_id = request.session.get(DEVICE_ID_SESSION_KEY)
    if not persistent_id:
        return False
    device = Device.from_persistent_id(persistent_id)
    return device is not None and device.user_id == request.user.pk and device.confirmed


def two_factor_enrolled(*, user_id: uuid.UUID) -> bool:
    return TOTPDevice.objects.using(DB_ALIAS).filter(user_id=user_id, confirmed=True).exists()


def _enrolment(device: TOTPDevice) -> Enrolment:
    return Enrolment(
        device_id=device.pk, secret_base32=base64.b32encode(device.bin_key).decode(), otpauth_uri=device.config_url
    )


def totp_enrolment_pending(*, user_id: uuid.UUID) -> Enrolment | None:
    """The unconfirmed device waiting for its first code, if any."""
    device = TOTPDevice.objects.using(DB_ALIAS).filter(user_id=user_id, confirmed=False).order_by("-pk").first()
    return _enrolment(device) if device is not None else None


def totp_enrolment_start(*, user_id: uuid.UUID) -> Enrolment:
    """A new, unconfirmed authenticator device (an earlier unconfirmed one is replaced). Refused once enrolled: a
    second device is added only after platform staff reset the first."""
    with transaction.atomic(using=DB_ALIAS):
        user = User.objects.using(DB_ALIAS).select_for_update().filter(pk=user_id).first()
        if user is None:
            raise NotFound(gettext("No such user."))
        if two_factor_enrolled(user_id=user_id):
            raise TwoFactorInvalid(gettext("Two-factor login is already set up for this account."))
        TOTPDevice.objects.using(DB_ALIAS).filter(user_id=user_id, confirmed=False).delete()
        device = TOTPDevice.objects.using(DB_ALIAS).create(user=user, name=_DEVICE_NAME, confirmed=False)

    return _enrolment(device)


def totp_enrolment_confirm(*, request: HttpRequest, user_id: uuid.UUID, token: str) -> list[str]:
    """Confirm the pending device with a code from the app, create the recovery codes (returned once: show them,
    never store them elsewhere) and mark this session as verified."""
    token = "".join(str(token or "").split())
    with transaction.atomic(using=DB_ALIAS):
        device = (
            TOTPDevice.objects.using(DB_ALIAS)
            .select_for_update()
            .filter(user_id=user_id, confirmed=False)
            .order_by("-pk")
            .first()
        )
        if device is None:
            raise TwoFactorInvalid(gettext("Start the set-up again: no authenticator is waiting for confirmation."))
        if not device.verify_token(token):
            raise TwoFactorInvalid()
        device.confirmed = True
        device.save(using=DB_ALIAS, update_fields=["confirmed"])
        StaticDevice.objects.using(DB_ALIAS).filter(user_id=user_id).delete()
        recovery = StaticDevice.objects.using(DB_ALIAS).create(user_id=user_id, name=_RECOVERY_NAME, confirmed=True)
        codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.using(DB_ALIAS).bulk_create([StaticToken(device=recovery, token=code) for code in codes])
        audit_record(
            actor_id=user_id, action="two_factor.enrol", object_type="accounts.user", object_id=user_id, data={}
        )
    otp_login(request, device)
    return codes


def two_factor_check(*, user: User, token: str) -> TOTPDevice | StaticDevice:
    """The confirmed device (app or recovery codes) that accepts ``token``; TwoFactorInvalid otherwise. A recovery
    code works once."""
    token = "".join(str(token or "").split())
    device = match_token(user, token) if token else None
    if device is None:
        raise TwoFactorInvalid()
    return device


def two_factor_check_for_token(*, user: User, token: str) -> None:
    """An API token for someone who logs in with two factors needs a code too; enrolment happens in the browser."""
    if not settings.STAFF_TWO_FACTOR_REQUIRED or not two_factor_required(user):
        return
    if not two_factor_enrolled(user_id=user.pk):
        raise TwoFactorRequired(
            gettext("Set up two-factor login in the browser first, then ask for a token with `otp`.")
        )
    if not token:
        raise TwoFactorRequired()
    two_factor_check(user=user, token=token)


def two_factor_verify(*, request: HttpRequest, token: str) -> None:
    """Mark this session as having passed the second factor."""
    otp_login(request, two_factor_check(user=request.user, token=token))


def two_factor_reset(*, actor_id: uuid.UUID, user_id: uuid.UUID, reason: str) -> int:
    """Remove every device of a person who lost theirs (they enrol again at their next login). Audited."""
    with transaction.atomic(using=DB_ALIAS):
        if not User.objects.using(DB_ALIAS).filter(pk=user_id).exists():
            raise NotFound(gettext("No such user."))
        apps = TOTPDevice.objects.using(DB_ALIAS).filter(user_id=user_id)
        recovery = StaticDevice.objects.using(DB_ALIAS).filter(user_id=user_id)
        removed = apps.count() + recovery.count()
        apps.delete()
        recovery.delete()
        audit_record(
            actor_id=actor_id,
            action="two_factor.reset",
            object_type="accounts.user",
            object_id=user_id,
            reason=reason,
            data={"devices_removed": removed},
        )
    return removed


@dataclass(frozen=True)
class EnrolmentRow:
    user_id: uuid.UUID
    email: str
    full_name: str
    confirmed: bool
    last_used_at: object
    recovery_codes_left: int


def two_factor_enrolments(*, search: str = "", limit: int = 100) -> list[EnrolmentRow]:
    """People with an authenticator device (confirmed or pending), for the platform staff's reset page."""
    devices = TOTPDevice.objects.using(DB_ALIAS).select_related("user").order_by("user__email")
    if search:
        devices = devices.filter(user__email__icontains=search.strip())
    rows = list(devices[:limit])
    left = dict(
        StaticToken.objects.using(DB_ALIAS)
        .filter(device__user_id__in=[device.user_id for device in rows])
        .values_list("device__user_id")
        .annotate(count=Count("pk"))
    )
    return [
        EnrolmentRow(
            user_id=device.user_id,
            email=device.user.email,
            full_name=device.user.full_name,
            confirmed=device.confirmed,
            last_used_at=device.last_used_at,
            recovery_codes_left=left.get(device.user_id, 0),
        )
        for device in rows
    ]
