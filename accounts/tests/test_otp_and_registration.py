"""One-time codes, registration, email verification, password reset, Argon2."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts import selectors, services
from accounts.contract import (
    AlreadyVerified,
    EmailTaken,
    OtpAttemptsExceeded,
    OtpExpired,
    OtpInvalid,
    OtpResendTooSoon,
)
from accounts.models import OneTimeCode, User
from accounts.tests.conftest import code_from_mail
from accounts.tests.factories import UserFactory
from core import config
from core.errors import InvalidInput, NotFound

pytestmark = pytest.mark.django_db(databases=["default"])
P = OneTimeCode.Purpose


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_issued_code_is_emailed_stored_hashed_and_verifies_once(django_capture_on_commit_callbacks):
    user = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        code = services.otp_issue(user_id=user.pk, purpose=P.CHECKOUT_STEP_UP)
    assert len(code) == 6 and code.isdigit()
    assert len(mail.outbox) == 1 and code in mail.outbox[0].body and mail.outbox[0].to == [user.email]
    stored = OneTimeCode.objects.get(user=user)
    assert code not in stored.code_hash
    services.otp_verify(user_id=user.pk, purpose=P.CHECKOUT_STEP_UP, code=code)
    with pytest.raises(OtpInvalid):
        services.otp_verify(user_id=user.pk, purpose=P.CHECKOUT_STEP_UP, code=code)


def test_wrong_code_counts_an_attempt_and_the_limit_locks_the_code():
    config.set_value("otp_max_attempts", 3)
    user = UserFactory()
    code = services.otp_issue(user_id=user.pk, purpose=P.VERIFY_EMAIL)
    for _ in range(2):
        with pytest.raises(OtpInvalid):
            services.otp_verify(user_id=user.pk, purpose=P.VERIFY_EMAIL, code=wrong(code))
    with pytest.raises(OtpAttemptsExceeded) as caught:
        services.otp_verify(user_id=user.pk, purpose=P.VERIFY_EMAIL, code=wrong(code))
    assert caught.value.status == 429
    # Even the right code no longer works: the attempts were committed despite the errors.
    with pytest.raises(OtpAttemptsExceeded):
        services.otp_verify(user_id=user.pk, purpose=P.VERIFY_EMAIL, code=code)
    assert OneTimeCode.objects.get(user=user).attempts == 3


def test_expired_code_is_refused():
    user = UserFactory()
    code = services.otp_issue(user_id=user.pk, purpose=P.PASSWORD_RESET)
    OneTimeCode.objects.filter(user=user).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(OtpExpired):
        services.otp_verify(user_id=user.pk, purpose=P.PASSWORD_RESET, code=code)


def test_code_lifetime_comes_from_configuration():
    config.set_value("otp_lifetime_seconds", 120)
    user = UserFactory()
    services.otp_issue(user_id=user.pk, purpose=P.VERIFY_EMAIL)
    lifetime = OneTimeCode.objects.get(user=user).expires_at - timezone.now()
    assert timedelta(seconds=100) < lifetime <= timedelta(seconds=120)


def test_a_code_for_one_object_never_verifies_another():
    sender = UserFactory()
    transfer_a, transfer_b = uuid.uuid4(), uuid.uuid4()
    code_a = services.otp_issue(user_id=sender.pk, purpose=P.TRANSFER_SENDER, object_id=transfer_a)
    services.otp_issue(user_id=sender.pk, purpose=P.TRANSFER_SENDER, object_id=transfer_b)
    with pytest.raises(OtpInvalid):
        services.otp_verify(user_id=sender.pk, purpose=P.TRANSFER_SENDER, code=code_a, object_id=uuid.uuid4())
    with pytest.raises(OtpInvalid):
        services.otp_verify(user_id=sender.pk, purpose=P.TRANSFER_SENDER, code=code_a)
    with pytest.raises(OtpInvalid):
        services.otp_verify(user_id=sender.pk, purpose=P.TRANSFER_RECIPIENT, code=code_a, object_id=transfer_a)
    with pytest.raises(OtpInvalid):  # another user's code
        services.otp_verify(user_id=UserFactory().pk, purpose=P.TRANSFER_SENDER, code=code_a, object_id=transfer_a)
    services.otp_verify(user_id=sender.pk, purpose=P.TRANSFER_SENDER, code=code_a, object_id=transfer_a)


def test_a_new_code_replaces_the_previous_one():
    user = UserFactory()
    first = services.otp_issue(user_id=user.pk, purpose=P.CHECKOUT_STEP_UP)
    second = services.otp_issue(user_id=user.pk, purpose=P.CHECKOUT_STEP_UP)
    if first != second:
        with pytest.raises(OtpInvalid):
            services.otp_verify(user_id=user.pk, purpose=P.CHECKOUT_STEP_UP, code=first)
    services.otp_verify(user_id=user.pk, purpose=P.CHECKOUT_STEP_UP, code=second)


def test_otp_rejects_unknown_purposes_and_users():
    user = UserFactory()
    with pytest.raises(InvalidInput):
        services.otp_issue(user_id=user.pk, purpose="LOGIN")
    with pytest.raises(NotFound):
        services.otp_issue(user_id=uuid.uuid4(), purpose=P.VERIFY_EMAIL)
    with pytest.raises(OtpInvalid):
        services.otp_verify(user_id=user.pk, purpose=P.VERIFY_EMAIL, code="123456")


def test_resend_is_refused_within_the_cooldown():
    user = UserFactory()
    services.otp_resend(user_id=user.pk, purpose=P.CHECKOUT_STEP_UP)
    with pytest.raises(OtpResendTooSoon):
        services.otp_resend(user_id=user.pk, purpose=P.CHECKOUT_STEP_UP)
    OneTimeCode.objects.filter(user=user).update(created_at=timezone.now() - timedelta(minutes=1))
    services.otp_resend(user_id=user.pk, purpose=P.CHECKOUT_STEP_UP)
    assert OneTimeCode.objects.filter(user=user).count() == 2


def test_step_up_is_satisfied_for_fifteen_minutes_after_a_verified_code():
    user = UserFactory()
    assert not selectors.step_up_is_satisfied(user_id=user.pk)
    code = services.otp_issue(user_id=user.pk, purpose=P.CHECKOUT_STEP_UP)
    assert not selectors.step_up_is_satisfied(user_id=user.pk)
    services.otp_verify(user_id=user.pk, purpose=P.CHECKOUT_STEP_UP, code=code)
    assert selectors.step_up_is_satisfied(user_id=user.pk)
    assert not selectors.step_up_is_satisfied(user_id=UserFactory().pk)
    OneTimeCode.objects.filter(user=user).update(consumed_at=timezone.now() - timedelta(minutes=16))
    assert not selectors.step_up_is_satisfied(user_id=user.pk)


def test_a_verified_transfer_code_does_not_satisfy_the_step_up():
    user = UserFactory()
    object_id = uuid.uuid4()
    code = services.otp_issue(user_id=user.pk, purpose=P.TRANSFER_SENDER, object_id=object_id)
    services.otp_verify(user_id=user.pk, purpose=P.TRANSFER_SENDER, code=code, object_id=object_id)
    assert not selectors.step_up_is_satisfied(user_id=user.pk)


def test_register_creates_an_unverified_user_and_emails_a_code(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        info = services.user_register(email=" New@Example.com ", password="a-Long-passphrase-9", full_name="Nia New")
    assert info.email == "new@example.com" and not info.is_verified and info.credit_balance == 0
    assert OneTimeCode.objects.filter(user_id=info.id, purpose=P.VERIFY_EMAIL).exists()
    assert "Confirm your email" in mail.outbox[0].subject


def test_register_refuses_a_taken_email_in_any_case():
    UserFactory(email="taken@example.com")
    with pytest.raises(EmailTaken) as caught:
        services.user_register(email="TAKEN@example.com", password="a-Long-passphrase-9", full_name="Tom")
    assert caught.value.status == 409


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("email", {"email": "not-an-email"}),
        ("password", {"password": "short"}),
        ("password", {"password": "password123"}),
        ("full_name", {"full_name": "  "}),
        ("phone", {"phone": "call me"}),
    ],
)
def test_register_names_the_bad_field(field, kwargs):
    data = {"email": "ok@example.com", "password": "a-Long-passphrase-9", "full_name": "Oka", **kwargs}
    with pytest.raises(InvalidInput) as caught:
        services.user_register(**data)
    assert field in caught.value.fields
    assert not User.objects.filter(email="ok@example.com").exists()


def test_verify_email_marks_the_user_verified(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        info = services.user_register(email="v@example.com", password="a-Long-passphrase-9", full_name="Vi")
    code = code_from_mail(mail.outbox[-1])
    with pytest.raises(OtpInvalid):
        services.user_verify_email(user_id=info.id, code=wrong(code))
    assert services.user_verify_email(user_id=info.id, code=code).is_verified
    assert services.user_verify_email(user_id=info.id, code="000000").is_verified  # idempotent once verified
    with pytest.raises(AlreadyVerified):
        services.user_resend_verification(user_id=info.id)


def test_password_reset_with_a_code_changes_the_password_and_drops_tokens():
    user = UserFactory(email="reset@example.com")
    Token.objects.create(user=user)
    services.password_reset_request(email="RESET@example.com")
    code = services.otp_issue(user_id=user.pk, purpose=P.PASSWORD_RESET)
    with pytest.raises(InvalidInput):
        services.password_reset_confirm(email="reset@example.com", code=code, new_password="123")
    services.password_reset_confirm(email="reset@example.com", code=code, new_password="brand-New-secret-42")
    user.refresh_from_db()
    assert user.check_password("brand-New-secret-42")
    assert not Token.objects.filter(user=user).exists()
    with pytest.raises(OtpInvalid):
        services.password_reset_confirm(email="reset@example.com", code=code, new_password="another-Secret-43")


def test_password_reset_for_unknown_email_is_silent_and_confirm_says_invalid_code():
    services.password_reset_request(email="ghost@example.com")
    assert not OneTimeCode.objects.exists()
    with pytest.raises(OtpInvalid):
        services.password_reset_confirm(email="ghost@example.com", code="123456", new_password="brand-New-secret-42")


@override_settings(
    PASSWORD_HASHERS=[
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
)
def test_passwords_are_hashed_with_argon2():
    info = services.user_register(email="argon@example.com", password="a-Long-passphrase-9", full_name="Ari")
    user = User.objects.get(pk=info.id)
    assert user.password.startswith("argon2$")
    assert user.check_password("a-Long-passphrase-9")


def test_profile_update_changes_only_profile_fields_and_validates():
    user = UserFactory(full_name="Old Name", credits="5")
    info = services.user_update_profile(
        user_id=user.pk, full_name="New Name", phone="+44 20 7946 0000", preferences={"newsletter": True}
    )
    assert info.full_name == "New Name" and info.credit_balance == 5
    user.refresh_from_db()
    assert (user.phone, user.preferences) == ("+44 20 7946 0000", {"newsletter": True})
    services.user_update_profile(user_id=user.pk, preferences={"aisle_seat": True})
    user.refresh_from_db()
    assert user.preferences == {"newsletter": True, "aisle_seat": True}
    for bad in (
        {"full_name": ""},
        {"phone": "abc"},
        {"preferences": {"vip": True}},
        {"preferences": {"newsletter": 1}},
    ):
        with pytest.raises(InvalidInput):
            services.user_update_profile(user_id=user.pk, **bad)
    with pytest.raises(NotFound):
        services.user_update_profile(user_id=uuid.uuid4(), full_name="X")
