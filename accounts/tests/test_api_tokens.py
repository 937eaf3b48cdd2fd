"""API tokens expire after API_TOKEN_TTL_DAYS and their owner can revoke them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(databases=["default"])


def _token(user) -> str:
    response = APIClient().post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD}, format="json")
    assert response.status_code == 200
    return response.json()["token"]


def _me(key: str):
    return APIClient().get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}")


def test_a_token_stops_working_after_its_lifetime_and_login_issues_a_new_one(settings):
    settings.API_TOKEN_TTL_DAYS = 30
    user = UserFactory()
    key = _token(user)
    assert _me(key).status_code == 200
    Token.objects.filter(key=key).update(created=timezone.now() - timedelta(days=30, seconds=1))
    expired = _me(key)
    assert expired.status_code == 401 and expired.json()["code"] == "AUTHENTICATION_FAILED"
    fresh = _token(user)
    assert fresh != key and _me(fresh).status_code == 200


def test_a_lifetime_of_zero_keeps_tokens_until_revoked(settings):
    settings.API_TOKEN_TTL_DAYS = 0
    user = UserFactory()
    key = _token(user)
    Token.objects.filter(key=key).update(created=timezone.now() - timedelta(days=3650))
    assert _me(key).status_code == 200


def test_the_owner_revokes_their_token():
    user = UserFactory()
    key = _token(user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.post("/api/v1/auth/token/revoke/").status_code == 204
    assert _me(key).status_code == 401
    assert not Token.objects.filter(user=user).exists()


def test_revoking_needs_authentication():
    response = APIClient().post("/api/v1/auth/token/revoke/")
    assert response.status_code == 401 and response.json()["code"] == "NOT_AUTHENTICATED"
