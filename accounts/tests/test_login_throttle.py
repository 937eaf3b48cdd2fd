"""One login throttle for every way in (the login page, the API token, the admin's login, the browsable API's login),
keyed per account and per client address, with the client address taken from a configured number of proxies."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.contract import OtpDailyLimit
from accounts.models import OneTimeCode
from accounts.services.login import client_ip
from accounts.tests.factories import PASSWORD, UserFactory
from core import config

pytestmark = pytest.mark.django_db(databases=["default"])

LOGIN_PAGE = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/"
API_LOGIN = "/api-auth/login/"
TOKEN = "/api/v1/auth/token/"


def _fail(client, where: str, email: str, **extra):
    if where == TOKEN:
        return client.post(where, {"email": email, "password": "wrong"}, content_type="application/json", **extra)
    field = "email" if where == LOGIN_PAGE else "username"
    return client.post(where, {field: email, "password": "wrong"}, **extra)


def _page_login(client, email: str, **extra):
    return client.post(LOGIN_PAGE, {"email": email, "password": PASSWORD}, **extra)


@pytest.mark.parametrize("where", [ADMIN_LOGIN, API_LOGIN, TOKEN, LOGIN_PAGE])
def test_every_login_counts_against_the_same_account_lock(client, where):
    config.set_value("login_max_failures", 3)
    staff = UserFactory(email="desk@example.com", is_staff=True)
    responses = [_fail(client, where, staff.email) for _ in range(3)]
    assert responses[-1].status_code == 429 and int(responses[-1]["Retry-After"]) > 0
    # The account is now locked everywhere, even with its right password and from another address.
    other = {"REMOTE_ADDR": "10.9.9.9"}
    assert _page_login(client, staff.email, **other).status_code == 429
    assert client.post(ADMIN_LOGIN, {"username": staff.email, "password": PASSWORD}, **other).status_code == 429
    token = client.post(TOKEN, {"email": staff.email, "password": PASSWORD}, content_type="application/json", **other)
    assert token.status_code == 429 and token.json()["code"] == "LOGIN_LOCKED"
    assert "_auth_user_id" not in client.session


def test_the_admin_lockout_page_is_readable(client):
    config.set_value("login_max_failures", 2)
    UserFactory(email="desk@example.com", is_staff=True)
    _fail(client, ADMIN_LOGIN, "desk@example.com")
    response = _fail(client, ADMIN_LOGIN, "desk@example.com")
    assert response.status_code == 429 and b"Too many failed logins" in response.content


def test_failures_from_one_client_behind_the_proxy_do_not_lock_out_the_others(client, settings):
    """Behind the reverse proxy every request comes from the proxy's address; the client is in X-Forwarded-For."""
    settings.TRUSTED_PROXY_COUNT = 1
    config.set_value("login_max_failures", 3)
    victim = UserFactory(email="victim@example.com")
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for index in range(5):
        _fail(client, LOGIN_PAGE, f"guess{index}@example.com", HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)
    attacker_again = _page_login(client, victim.email, HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)
    assert attacker_again.status_code == 429
    # Another client through the same proxy logs in.
    someone_else = _page_login(client, victim.email, HTTP_X_FORWARDED_FOR="198.51.100.4", **proxy)
    assert someone_else.status_code == 302


def test_a_client_cannot_escape_its_lock_by_writing_its_own_forwarded_for(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    config.set_value("login_max_failures", 3)
    UserFactory(email="victim@example.com")
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    for index in range(3):
        # The proxy appends the address it saw; what the client wrote stays to the left and is ignored.
        forged = f"192.0.2.{index}, 203.0.113.7"
        _fail(client, LOGIN_PAGE, f"guess{index}@example.com", HTTP_X_FORWARDED_FOR=forged, **proxy)
    response = _page_login(client, "victim@example.com", HTTP_X_FORWARDED_FOR="192.0.2.99, 203.0.113.7", **proxy)
    assert response.status_code == 429


def test_without_trusted_proxies_forwarded_for_is_ignored(client, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    config.set_value("login_max_failures", 2)
    UserFactory(email="victim@example.com")
    for index in range(2):
        _fail(client, LOGIN_PAGE, f"guess{index}@example.com", HTTP_X_FORWARDED_FOR=f"192.0.2.{index}")
    assert _page_login(client, "victim@example.com", HTTP_X_FORWARDED_FOR="198.51.100.4").status_code == 429


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded", "expected"),
    [
        (0, "10.0.0.2", "203.0.113.7", "10.0.0.2"),
        (1, "10.0.0.2", "203.0.113.7", "203.0.113.7"),
        (1, "10.0.0.2", "192.0.2.1, 203.0.113.7", "203.0.113.7"),
        (2, "10.0.0.3", "192.0.2.1, 203.0.113.7, 10.0.0.2", "203.0.113.7"),
        (2, "10.0.0.3", "203.0.113.7", "10.0.0.3"),  # fewer entries than proxies: not through them all
        (1, "10.0.0.2", "not-an-address", "10.0.0.2"),
        (1, "10.0.0.2", "", "10.0.0.2"),
        (1, "10.0.0.2", "2001:db8::1", "2001:db8::1"),
    ],
)
def test_client_address_from_the_configured_number_of_proxies(settings, proxies, remote, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_attempts_while_locked_do_not_extend_the_lockout(client):
    config.set_value("login_max_failures", 2)
    UserFactory(email="lou@example.com")
    for _ in range(2):
        _fail(client, LOGIN_PAGE, "lou@example.com")
    first = AccessAttempt.objects.get(username="lou@example.com")
    for _ in range(3):
        assert _fail(client, LOGIN_PAGE, "lou@example.com").status_code == 429
    again = AccessAttempt.objects.get(username="lou@example.com")
    assert (again.failures_since_start, again.attempt_time) == (first.failures_since_start, first.attempt_time)


def test_old_attempt_rows_are_pruned(client):
    UserFactory(email="lou@example.com")
    _fail(client, LOGIN_PAGE, "lou@example.com")
    _fail(client, LOGIN_PAGE, "other@example.com", REMOTE_ADDR="10.1.1.1")
    AccessAttempt.objects.filter(username="lou@example.com").update(attempt_time=timezone.now() - timedelta(days=2))
    assert services.login_attempts_prune() == 1
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["other@example.com"]


def test_one_time_codes_are_capped_per_account_per_day(client):
    config.set_value("otp_max_codes_per_day", 3)
    user = UserFactory(email="lou@example.com")
    for _ in range(3):
        services.otp_issue(user_id=user.pk, purpose="PASSWORD_RESET")
    with pytest.raises(OtpDailyLimit):
        services.otp_issue(user_id=user.pk, purpose="CHECKOUT_STEP_UP")
    assert OneTimeCode.objects.filter(user=user).count() == 3
    # The reset page answers as for anyone, and sends nothing more.
    sent = len(mail.outbox)
    response = client.post(reverse("accounts:password_reset"), {"email": "lou@example.com"})
    assert response.status_code == 302 and len(mail.outbox) == sent
    # A day later the account may receive codes again.
    OneTimeCode.objects.filter(user=user).update(created_at=timezone.now() - timedelta(hours=25))
    services.otp_issue(user_id=user.pk, purpose="PASSWORD_RESET")
