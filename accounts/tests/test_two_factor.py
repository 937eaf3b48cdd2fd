"""Two-factor login (TOTP) for every role that can move money or see buyers' data, with recovery codes and an
audited reset by platform staff."""

from __future__ import annotations

import re

import pytest
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.tests.factories import (
    PASSWORD,
    MembershipFactory,
    StaffFactory,
    UserFactory,
    totp_code,
    totp_provision,
)
from core.models import AuditLog
from core.permissions import Role

pytestmark = pytest.mark.django_db(databases=["default"])

TWO_FACTOR = "/accounts/two-factor/"


@pytest.fixture(autouse=True)
def _two_factor_on(settings):
    settings.STAFF_TWO_FACTOR_REQUIRED = True


def _login(client, user, **extra):
    return client.post("/accounts/login/", {"email": user.email, "password": PASSWORD}, **extra)


def _member(role: Role):
    return MembershipFactory(role=role).user


@pytest.mark.parametrize("role", [Role.OWNER, Role.MANAGER, Role.BOX_OFFICE])
def test_staff_who_see_buyers_or_move_money_must_pass_a_second_factor(client, role):
    staff = _member(role)
    _login(client, staff)
    admin = client.get("/admin/")
    assert admin.status_code == 302 and admin.url.startswith(TWO_FACTOR)
    api = client.get("/api/v1/me/")
    assert api.status_code == 403 and api.json()["code"] == "TWO_FACTOR_REQUIRED"


def test_gate_staff_and_buyers_log_in_with_a_password(client):
    for user in (_member(Role.GATE), UserFactory()):
        client.logout()
        _login(client, user)
        assert client.get("/api/v1/me/").status_code == 200


def test_enrolment_shows_a_qr_code_confirms_with_a_code_and_gives_recovery_codes(client):
    staff = _member(Role.BOX_OFFICE)
    _login(client, staff)
    page = client.get(TWO_FACTOR, {"next": "/admin/"})
    assert page.status_code == 200 and b"data:image/svg+xml" in page.content
    device = TOTPDevice.objects.get(user=staff, confirmed=False)
    secret = re.search(rb'data-testid="totp-secret">([A-Z2-7=]+)<', page.content).group(1).decode()
    assert secret and client.get("/admin/").status_code == 302
    wrong = client.post(TWO_FACTOR, {"otp_token": "000000", "next": "/admin/"})
    assert wrong.status_code == 400 and not TOTPDevice.objects.get(pk=device.pk).confirmed
    # A wrong code shows the same pending device again (the QR code the person already scanned stays valid).
    assert TOTPDevice.objects.filter(user=staff).count() == 1
    done = client.post(TWO_FACTOR, {"otp_token": totp_code(device), "next": "/admin/"})
    codes = re.findall(rb"<li><code>([a-z2-7]+)</code></li>", done.content)
    assert done.status_code == 200 and len(codes) == 10
    assert StaticToken.objects.filter(device__user=staff).count() == 10
    assert client.get("/admin/").status_code == 200
    assert AuditLog.objects.filter(action="two_factor.enrol", object_id=str(staff.pk)).exists()


def test_an_enrolled_person_gives_a_code_at_every_login_and_a_recovery_code_works_once(client):
    staff = _member(Role.MANAGER)
    device = totp_provision(staff)
    recovery = staff.staticdevice_set.create(name="recovery codes", confirmed=True)
    recovery.token_set.create(token="abcd2345")
    _login(client, staff)
    assert client.get("/admin/").status_code == 302
    assert client.post(TWO_FACTOR, {"otp_token": totp_code(device)}).status_code == 302
    assert client.get("/admin/").status_code == 200
    # The next session: a recovery code instead of the app, once.
    client.logout()
    _login(client, staff)
    assert client.post(TWO_FACTOR, {"otp_token": "abcd2345"}).status_code == 302
    assert client.get("/admin/").status_code == 200
    client.logout()
    _login(client, staff)
    assert client.post(TWO_FACTOR, {"otp_token": "abcd2345"}).status_code == 400
    assert client.get("/admin/").status_code == 302


def test_the_admin_login_does_not_bypass_the_second_factor(client):
    staff = _member(Role.OWNER)
    totp_provision(staff)
    response = client.post("/admin/login/", {"username": staff.email, "password": PASSWORD})
    assert response.status_code == 302 and "_auth_user_id" in client.session
    index = client.get("/admin/")
    assert index.status_code == 302 and index.url.startswith(TWO_FACTOR)


def test_the_browsable_api_login_does_not_bypass_the_second_factor(client):
    staff = _member(Role.OWNER)
    totp_provision(staff)
    client.post("/api-auth/login/", {"username": staff.email, "password": PASSWORD})
    response = client.get("/api/v1/me/")
    assert response.status_code == 403 and response.json()["code"] == "TWO_FACTOR_REQUIRED"


def test_a_role_granted_during_a_session_demands_the_second_factor_at_once(client):
    person = UserFactory()
    _login(client, person)
    assert client.get("/api/v1/me/").status_code == 200
    MembershipFactory(user=person, role=Role.BOX_OFFICE)
    assert client.get("/api/v1/me/").status_code == 403


def test_an_api_token_for_staff_needs_a_code(client):
    staff = _member(Role.BOX_OFFICE)
    body = {"email": staff.email, "password": PASSWORD}
    not_enrolled = client.post("/api/v1/auth/token/", body, content_type="application/json")
    assert not_enrolled.status_code == 403 and not_enrolled.json()["code"] == "TWO_FACTOR_REQUIRED"
    device = totp_provision(staff)
    missing = client.post("/api/v1/auth/token/", body, content_type="application/json")
    assert missing.status_code == 403 and missing.json()["code"] == "TWO_FACTOR_REQUIRED"
    wrong = client.post("/api/v1/auth/token/", {**body, "otp": "000000"}, content_type="application/json")
    assert wrong.status_code == 400 and wrong.json()["code"] == "TWO_FACTOR_INVALID"
    # A wrong code slows the device down (django-otp's back-off): even the right code waits it out.
    throttled = client.post("/api/v1/auth/token/", {**body, "otp": totp_code(device)}, content_type="application/json")
    assert throttled.status_code == 400
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None, throttling_failure_count=0)
    right = client.post("/api/v1/auth/token/", {**body, "otp": totp_code(device)}, content_type="application/json")
    assert right.status_code == 200 and right.json()["token"]


def test_platform_staff_reset_a_lost_device_and_the_reset_is_audited(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    admin_device = totp_provision(admin)
    staff = _member(Role.BOX_OFFICE)
    totp_provision(staff)
    _login(client, admin)
    client.post(TWO_FACTOR, {"otp_token": totp_code(admin_device)})
    assert b"/admin/accounts/two-factor/" in client.get("/admin/").content
    page = client.get("/admin/accounts/two-factor/", {"q": staff.email})
    assert page.status_code == 200 and staff.email.encode() in page.content
    missing_reason = client.post("/admin/accounts/two-factor/", {"user_id": str(staff.pk), "reason": ""})
    assert missing_reason.status_code == 200 and TOTPDevice.objects.filter(user=staff).exists()
    client.post("/admin/accounts/two-factor/", {"user_id": str(staff.pk), "reason": "lost phone, ID checked"})
    assert not TOTPDevice.objects.filter(user=staff).exists()
    entry = AuditLog.objects.get(action="two_factor.reset", object_id=str(staff.pk))
    assert entry.actor_id == admin.pk and entry.reason == "lost phone, ID checked"


def test_a_reset_device_no_longer_verifies_an_open_session(client):
    staff = _member(Role.MANAGER)
    device = totp_provision(staff)
    _login(client, staff)
    client.post(TWO_FACTOR, {"otp_token": totp_code(device)})
    assert client.get("/admin/").status_code == 200
    TOTPDevice.objects.filter(user=staff).delete()
    assert client.get("/admin/").status_code == 302


def test_only_platform_staff_may_reset_devices(client):
    owner = _member(Role.OWNER)
    device = totp_provision(owner)
    _login(client, owner)
    client.post(TWO_FACTOR, {"otp_token": totp_code(device)})
    victim = StaffFactory()
    totp_provision(victim)
    assert client.get("/admin/accounts/two-factor/").status_code == 403
    client.post("/admin/accounts/two-factor/", {"user_id": str(victim.pk), "reason": "takeover"})
    assert TOTPDevice.objects.filter(user=victim).exists()
