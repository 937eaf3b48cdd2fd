"""Accounts API under /api/v1/: auth, me, wallet, top-ups, step-up. Errors share one shape."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts import services
from accounts.models import TopUp, User
from accounts.tests.conftest import code_from_mail
from accounts.tests.factories import PASSWORD, UserFactory
from core import config

pytestmark = pytest.mark.django_db(databases=["default"])


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def user():
    return UserFactory(email="api@example.com", full_name="Api User", credits="50.00")


@pytest.fixture
def authed(api, user):
    api.force_authenticate(user)
    return api


def test_token_for_email_and_password(api, user):
    response = api.post("/api/v1/auth/token/", {"email": "API@example.com", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["token"] == Token.objects.get(user=user).key
    assert body["user"]["email"] == "api@example.com" and body["user"]["credit_balance"] == "50.00"
    me = APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert me.status_code == 200 and me.json()["id"] == str(user.pk)


def test_token_refuses_wrong_password_then_locks(api, user):
    config.set_value("login_max_failures", 2)
    response = api.post("/api/v1/auth/token/", {"email": user.email, "password": "nope"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "INVALID_CREDENTIALS"
    # The failure that reaches the limit is answered with the lockout, and so is everything after it.
    response = api.post("/api/v1/auth/token/", {"email": user.email, "password": "nope"}, format="json")
    assert response.status_code == 429 and response.json()["code"] == "LOGIN_LOCKED"
    response = api.post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD}, format="json")
    assert response.status_code == 429 and response.json()["code"] == "LOGIN_LOCKED"
    assert response.json()["retry_after"] > 0


def test_token_validates_input(api):
    response = api.post("/api/v1/auth/token/", {"email": "not-an-email"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR" and set(response.json()["fields"]) == {"email", "password"}


def test_register_then_verify_by_api(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/auth/register/",
            {"email": "reg@example.com", "password": "a-Long-passphrase-9", "full_name": "Reg Ister"},
            format="json",
        )
    assert response.status_code == 201, response.json()
    token = response.json()["token"]
    assert response.json()["user"]["is_verified"] is False
    client = APIClient(HTTP_AUTHORIZATION=f"Token {token}")
    bad = client.post("/api/v1/auth/verify/", {"code": "12ab"}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "VALIDATION_ERROR"
    good = client.post("/api/v1/auth/verify/", {"code": code_from_mail(mail.outbox[-1])}, format="json")
    assert good.status_code == 200 and good.json()["is_verified"] is True
    resend = client.post("/api/v1/auth/verify/resend/")
    assert resend.status_code == 409 and resend.json()["code"] == "ALREADY_VERIFIED"


def test_register_reports_taken_email_and_weak_password(api, user):
    response = api.post(
        "/api/v1/auth/register/",
        {"email": user.email, "password": "a-Long-passphrase-9", "full_name": "X"},
        format="json",
    )
    assert response.status_code == 409 and response.json()["code"] == "EMAIL_TAKEN"
    response = api.post(
        "/api/v1/auth/register/", {"email": "w@example.com", "password": "1", "full_name": "W"}, format="json"
    )
    assert response.status_code == 400 and "password" in response.json()["fields"]


def test_verify_resend_and_wrong_codes(api, django_capture_on_commit_callbacks):
    user = UserFactory(is_verified=False)
    api.force_authenticate(user)
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post("/api/v1/auth/verify/resend/").status_code == 202
    again = api.post("/api/v1/auth/verify/resend/")
    assert again.status_code == 429 and again.json()["code"] == "OTP_RESEND_TOO_SOON"
    code = code_from_mail(mail.outbox[-1])
    response = api.post("/api/v1/auth/verify/", {"code": f"{(int(code) + 1) % 1_000_000:06d}"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "OTP_INVALID"
    assert not User.objects.get(pk=user.pk).is_verified


def test_me_needs_authentication(api):
    response = api.get("/api/v1/me/")
    assert response.status_code in (401, 403) and response.json()["code"] in {
        "NOT_AUTHENTICATED",
        "AUTHENTICATION_FAILED",
    }


def test_patch_me_changes_profile_fields_only(authed, user):
    response = authed.patch("/api/v1/me/", {"full_name": "Renamed", "preferences": {"aisle_seat": True}}, format="json")
    assert response.status_code == 200
    assert response.json()["full_name"] == "Renamed" and response.json()["preferences"]["aisle_seat"] is True
    for forbidden in ({"credit_balance": "9999"}, {"email": "x@example.com"}, {"is_flagged": False}):
        response = authed.patch("/api/v1/me/", forbidden, format="json")
        assert response.status_code == 400 and response.json()["code"] == "VALIDATION_ERROR"
    response = authed.patch("/api/v1/me/", {"preferences": {"vip": True}}, format="json")
    assert response.status_code == 400
    response = authed.patch("/api/v1/me/", {"phone": "call me"}, format="json")
    assert response.status_code == 400 and "phone" in response.json()["fields"]
    assert User.objects.get(pk=user.pk).credit_balance == Decimal("50.00")


def test_wallet_balance_and_paginated_ledger(authed, user):
    for index in range(3):
        services.credits_debit(user_id=user.pk, amount="1.00", kind="PURCHASE", reference=f"o-{index}")
    assert authed.get("/api/v1/wallet/").json()["balance"] == "47.00"
    ledger = authed.get("/api/v1/wallet/ledger/").json()
    assert ledger["count"] == 4 and ledger["results"][0]["reference"] == "o-2"
    assert ledger["results"][0]["amount"] == "-1.00"
    other = UserFactory(credits="1")
    authed.force_authenticate(other)
    assert authed.get("/api/v1/wallet/ledger/").json()["count"] == 1  # only one's own ledger


def test_topup_by_api_returns_a_pay_url_and_lists_top_ups(authed, user):
    response = authed.post("/api/v1/wallet/topups/", {"amount": "15.00"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "PENDING" and body["amount"] == "15.00"
    assert body["pay_url"].startswith("http://testserver/accounts/pay/")
    listing = authed.get("/api/v1/wallet/topups/").json()
    assert listing["count"] == 1 and listing["results"][0]["id"] == body["id"]
    assert listing["results"][0]["pay_url"] == body["pay_url"]


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        ("0", "INVALID_AMOUNT"),
        ("-1", "INVALID_AMOUNT"),
        ("1.999", "INVALID_AMOUNT"),
        ("NaN", "INVALID_AMOUNT"),
        ("99999999999", "INVALID_AMOUNT"),
        ("5000.01", "TOPUP_LIMIT_EXCEEDED"),
        (True, "VALIDATION_ERROR"),
    ],
)
def test_topup_by_api_rejects_bad_amounts(authed, amount, code):
    response = authed.post("/api/v1/wallet/topups/", {"amount": amount}, format="json")
    assert response.status_code == 400 and response.json()["code"] == code
    assert not TopUp.objects.exists()


def test_step_up_by_api(authed, user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert authed.post("/api/v1/me/step-up/").status_code == 202
    assert authed.post("/api/v1/me/step-up/").status_code == 429
    code = code_from_mail(mail.outbox[-1])
    wrong = authed.post(
        "/api/v1/me/step-up/verify/", {"code": "000000" if code != "000000" else "111111"}, format="json"
    )
    assert wrong.status_code == 400 and wrong.json()["code"] == "OTP_INVALID"
    response = authed.post("/api/v1/me/step-up/verify/", {"code": code}, format="json")
    assert response.status_code == 200 and response.json()["step_up_satisfied"] is True
    assert response.json()["valid_until"]
    assert authed.get("/api/v1/me/").json()["step_up_satisfied"] is True


def test_step_up_code_attempts_are_limited(authed, user):
    config.set_value("otp_max_attempts", 2)
    code = services.otp_issue(user_id=user.pk, purpose="CHECKOUT_STEP_UP")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert authed.post("/api/v1/me/step-up/verify/", {"code": wrong}, format="json").status_code == 400
    response = authed.post("/api/v1/me/step-up/verify/", {"code": wrong}, format="json")
    assert response.status_code == 429 and response.json()["code"] == "OTP_ATTEMPTS_EXCEEDED"
