"""Account pages: sign-up, verification, login throttling, logout, password reset, profile, wallet, top-up, step-up."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from axes.models import AccessAttempt
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts import selectors, services
from accounts.models import LedgerEntry, OneTimeCode, TopUp, User
from accounts.tests.conftest import code_from_mail
from accounts.tests.factories import PASSWORD, UserFactory
from core import config

pytestmark = pytest.mark.django_db(databases=["default"])


def test_signup_logs_in_and_verification_with_the_emailed_code_completes_it(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:signup"),
            {"email": "sam@example.com", "full_name": "Sam Signup", "password": "a-Long-passphrase-9"},
        )
    assert response.status_code == 302 and response.url == reverse("accounts:verify")
    user = User.objects.get(email="sam@example.com")
    assert not user.is_verified
    page = client.get(reverse("accounts:verify"))
    assert page.status_code == 200 and b"sam@example.com" in page.content
    wrong = client.post(
        reverse("accounts:verify"), {"code": "000000" if code_from_mail(mail.outbox[-1]) != "000000" else "111111"}
    )
    assert wrong.status_code == 400 and b"not valid" in wrong.content
    response = client.post(reverse("accounts:verify"), {"code": code_from_mail(mail.outbox[-1])})
    assert response.status_code == 302
    assert User.objects.get(pk=user.pk).is_verified


def test_signup_shows_field_errors_for_bad_input_and_taken_email(client):
    UserFactory(email="taken@example.com")
    response = client.post(
        reverse("accounts:signup"), {"email": "taken@example.com", "full_name": "T", "password": "a-Long-passphrase-9"}
    )
    assert response.status_code == 400 and b"already exists" in response.content
    response = client.post(
        reverse("accounts:signup"), {"email": "new@example.com", "full_name": "N", "password": "123"}
    )
    assert response.status_code == 400 and b"too short" in response.content
    assert not User.objects.filter(email="new@example.com").exists()


def test_verify_resend_is_rate_limited(client):
    user = UserFactory(is_verified=False)
    client.force_login(user)
    client.post(reverse("accounts:verify_resend"))
    response = client.post(reverse("accounts:verify_resend"), follow=True)
    assert b"moments ago" in response.content
    assert OneTimeCode.objects.filter(user=user).count() == 1


def test_pages_need_login(client):
    for name in ("verify", "profile", "wallet", "topup", "step_up"):
        response = client.get(reverse(f"accounts:{name}"))
        assert response.status_code == 302 and response.url.startswith(reverse("accounts:login")), name


def test_login_with_the_right_password_redirects_to_a_safe_next(client):
    UserFactory(email="lou@example.com")
    response = client.post(
        reverse("accounts:login") + "?next=/accounts/wallet/", {"email": "LOU@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302 and response.url == "/accounts/wallet/"
    response = client.post(
        reverse("accounts:login"), {"email": "lou@example.com", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response.status_code == 302 and "evil" not in response.url


def test_wrong_password_is_a_readable_error_and_is_recorded(client):
    UserFactory(email="lou@example.com")
    response = client.post(reverse("accounts:login"), {"email": "lou@example.com", "password": "nope"})
    assert response.status_code == 400 and b"incorrect" in response.content
    assert AccessAttempt.objects.get(username="lou@example.com").failures_since_start == 1


def test_login_locks_the_account_after_too_many_failures(client):
    config.set_value("login_max_failures", 3)
    UserFactory(email="lou@example.com")
    for _ in range(3):
        client.post(reverse("accounts:login"), {"email": "lou@example.com", "password": "nope"})
    # Even the right password is refused while locked, with a readable message and 429.
    response = client.post(reverse("accounts:login"), {"email": "lou@example.com", "password": PASSWORD})
    assert response.status_code == 429 and b"Too many failed logins" in response.content
    assert int(response["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session


def test_login_locks_an_address_that_tries_many_accounts(client):
    config.set_value("login_max_failures", 3)
    UserFactory(email="victim@example.com")
    for index in range(3):
        client.post(reverse("accounts:login"), {"email": f"guess{index}@example.com", "password": "x"})
    response = client.post(reverse("accounts:login"), {"email": "victim@example.com", "password": PASSWORD})
    assert response.status_code == 429
    other_address = client.post(
        reverse("accounts:login"), {"email": "victim@example.com", "password": PASSWORD}, REMOTE_ADDR="10.0.0.9"
    )
    assert other_address.status_code == 302


def test_lockout_ends_after_the_configured_time(client):
    config.set_value("login_max_failures", 2)
    UserFactory(email="lou@example.com")
    for _ in range(2):
        client.post(reverse("accounts:login"), {"email": "lou@example.com", "password": "nope"})
    assert client.post(reverse("accounts:login"), {"email": "lou@example.com", "password": PASSWORD}).status_code == 429
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - timedelta(seconds=config.get("login_lockout_seconds") + 1)
    )
    assert client.post(reverse("accounts:login"), {"email": "lou@example.com", "password": PASSWORD}).status_code == 302


def test_successful_login_clears_the_account_failures(client):
    config.set_value("login_max_failures", 3)
    UserFactory(email="lou@example.com")
    for _ in range(2):
        client.post(reverse("accounts:login"), {"email": "lou@example.com", "password": "nope"})
    client.post(reverse("accounts:login"), {"email": "lou@example.com", "password": PASSWORD})
    assert not AccessAttempt.objects.filter(username="lou@example.com").exists()


def test_logout_needs_post_and_ends_the_session(client):
    user = UserFactory()
    client.force_login(user)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert client.post(reverse("accounts:logout")).status_code == 302
    assert client.get(reverse("accounts:profile")).status_code == 302


def test_password_reset_by_emailed_code(client, django_capture_on_commit_callbacks):
    UserFactory(email="rita@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:password_reset"), {"email": "rita@example.com"})
    assert response.status_code == 302 and response.url == reverse("accounts:password_reset_confirm")
    code = code_from_mail(mail.outbox[-1])
    page = client.get(response.url)
    assert b"rita@example.com" in page.content  # the address is carried over
    response = client.post(
        reverse("accounts:password_reset_confirm"),
        {"email": "rita@example.com", "code": code, "new_password": "fresh-Passphrase-77"},
    )
    assert response.status_code == 302
    login = client.post(reverse("accounts:login"), {"email": "rita@example.com", "password": "fresh-Passphrase-77"})
    assert login.status_code == 302


def test_password_reset_does_not_reveal_accounts_and_rejects_wrong_codes(client):
    response = client.post(reverse("accounts:password_reset"), {"email": "ghost@example.com"}, follow=True)
    assert b"If that address has an account" in response.content
    response = client.post(
        reverse("accounts:password_reset_confirm"),
        {"email": "ghost@example.com", "code": "123456", "new_password": "fresh-Passphrase-77"},
    )
    assert response.status_code == 400 and b"not valid" in response.content
    response = client.post(
        reverse("accounts:password_reset_confirm"), {"email": "ghost@example.com", "code": "12", "new_password": "x"}
    )
    assert response.status_code == 400 and b"6-digit" in response.content


def test_profile_page_saves_name_phone_and_preferences(client):
    user = UserFactory(full_name="Old")
    client.force_login(user)
    assert client.get(reverse("accounts:profile")).status_code == 200
    response = client.post(
        reverse("accounts:profile"), {"full_name": "New Name", "phone": "+1 555 0100", "accessible_seating": "on"}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.full_name, user.phone) == ("New Name", "+1 555 0100")
    assert user.preferences == {
        "newsletter": False,
        "accessible_seating": True,
        "aisle_seat": False,
        "essential_emails_only": False,
    }
    response = client.post(reverse("accounts:profile"), {"full_name": "New Name", "phone": "not a phone"})
    assert response.status_code == 400 and b"phone number" in response.content


def test_wallet_shows_balance_and_a_paginated_ledger(client):
    user = UserFactory(credits="100.00")
    for index in range(25):
        services.credits_debit(user_id=user.pk, amount="1.00", kind="PURCHASE", reference=f"order-{index}")
    client.force_login(user)
    page_one = client.get(reverse("accounts:wallet"))
    assert page_one.status_code == 200 and b"75.00" in page_one.content
    assert page_one.context["page"].paginator.count == 26 and len(page_one.context["page"].object_list) == 20
    page_two = client.get(reverse("accounts:wallet") + "?page=2")
    assert len(page_two.context["page"].object_list) == 6
    assert client.get(reverse("accounts:wallet") + "?page=abc").status_code == 200


def test_top_up_through_the_test_provider_page_credits_the_wallet(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(reverse("accounts:topup"), {"amount": "30.00"})
    topup = TopUp.objects.get(user=user)
    assert response.status_code == 302 and response.url == reverse("accounts:test-pay", args=[topup.provider_reference])
    page = client.get(response.url)
    assert page.status_code == 200 and b"Pay 30.00" in page.content
    response = client.post(response.url, {"action": "pay"}, follow=True)
    assert b"30.00 credits were added" in response.content
    assert User.objects.get(pk=user.pk).credit_balance == Decimal("30.00")
    # Paying again does nothing more.
    client.post(reverse("accounts:test-pay", args=[topup.provider_reference]), {"action": "pay"})
    assert LedgerEntry.objects.filter(user=user, kind="TOPUP").count() == 1


def test_declined_test_payment_adds_nothing(client):
    user = UserFactory()
    client.force_login(user)
    client.post(reverse("accounts:topup"), {"amount": "30.00"})
    topup = TopUp.objects.get(user=user)
    response = client.post(
        reverse("accounts:test-pay", args=[topup.provider_reference]), {"action": "decline"}, follow=True
    )
    assert b"declined" in response.content
    assert TopUp.objects.get(pk=topup.pk).status == "FAILED"
    assert User.objects.get(pk=user.pk).credit_balance == 0


def test_top_up_form_explains_bad_amounts(client):
    config.set_value("max_topup_amount", "500")
    client.force_login(UserFactory())
    for amount, message in (
        ("-3", b"greater than zero"),
        ("1.005", b"two decimals"),
        ("abc", b"such as"),
        ("501", b"500"),
    ):
        response = client.post(reverse("accounts:topup"), {"amount": amount})
        assert response.status_code == 400 and message in response.content, amount
    assert not TopUp.objects.exists()


def test_it_validates_ownership_of_the_payment_page(client):
    owner, outsider = UserFactory(), UserFactory()
    topup = services.topup_start(user_id=owner.pk, amount="10.00").topup
    client.force_login(outsider)
    url = reverse("accounts:test-pay", args=[topup.provider_reference])
    assert client.get(url).status_code == 404
    assert client.post(url, {"action": "pay"}).status_code == 404
    assert client.get(reverse("accounts:test-pay", args=["nonexistent"])).status_code == 404
    assert User.objects.get(pk=owner.pk).credit_balance == 0


def test_step_up_page_sends_a_code_and_verifies_it(client, django_capture_on_commit_callbacks):
    user = UserFactory(is_flagged=True)
    client.force_login(user)
    url = reverse("accounts:step_up") + "?next=/orders/"
    with django_capture_on_commit_callbacks(execute=True):
        page = client.get(url)
    assert page.status_code == 200 and len(mail.outbox) == 1
    client.get(url)  # a second visit reuses the open code
    assert OneTimeCode.objects.filter(user=user).count() == 1
    wrong = "000000" if code_from_mail(mail.outbox[0]) != "000000" else "111111"
    assert client.post(url, {"code": wrong, "next": "/orders/"}).status_code == 400
    response = client.post(url, {"code": code_from_mail(mail.outbox[0]), "next": "/orders/"})
    assert response.status_code == 302 and response.url == "/orders/"
    assert selectors.step_up_is_satisfied(user_id=user.pk)
    # Once satisfied, the page just passes the buyer on.
    assert client.get(url).url == "/orders/"


def test_step_up_resend_is_rate_limited_and_next_must_be_local(client):
    user = UserFactory(is_flagged=True)
    client.force_login(user)
    url = reverse("accounts:step_up") + "?next=https://evil.example/"
    client.get(url)
    response = client.post(url, {"action": "resend"}, follow=True)
    assert b"moments ago" in response.content
    code = services.otp_issue(user_id=user.pk, purpose="CHECKOUT_STEP_UP")
    response = client.post(url, {"code": code, "next": "https://evil.example/"})
    assert response.status_code == 302 and "evil" not in response.url
