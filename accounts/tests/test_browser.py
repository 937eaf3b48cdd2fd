"""Browser walk of the account pages with Playwright and Debian's Chromium: sign up, verify, top up, pay."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from django.core import mail

from accounts.models import User
from accounts.tests.conftest import code_from_mail

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


@pytest.fixture
def chromium_page(browser):
    return browser.new_page(viewport={"width": 1100, "height": 900})


@pytest.mark.browser
@pytest.mark.integration
@pytest.mark.django_db(databases=["default", "seats", "orders", "events"], transaction=True)
def test_a_new_buyer_signs_up_verifies_and_tops_up_in_the_browser(live_server, chromium_page):
    page = chromium_page
    page.goto(f"{live_server.url}/accounts/signup/")
    page.fill("#id_email", "walker@example.com")
    page.fill("#id_full_name", "Wendy Walker")
    page.fill("#id_password", "a-Long-passphrase-9")
    page.screenshot(path=str(SCREENSHOTS / "accounts-01-signup.png"))
    page.click("button:has-text('Sign up')")
    page.wait_for_url("**/accounts/verify/")

    page.fill("#id_code", code_from_mail(mail.outbox[-1]))
    page.screenshot(path=str(SCREENSHOTS / "accounts-02-verify.png"))
    page.click("button:has-text('Confirm')")
    page.wait_for_load_state()
    assert User.objects.get(email="walker@example.com").is_verified

    page.goto(f"{live_server.url}/accounts/wallet/")
    page.fill("#id_amount", "40.00")
    page.click("button:has-text('Top up')")
    page.wait_for_url("**/accounts/pay/**")
    page.screenshot(path=str(SCREENSHOTS / "accounts-03-test-provider.png"))
    page.click("button:has-text('Pay')")
    page.wait_for_url("**/accounts/wallet/")
    assert page.inner_text("[data-testid=balance]") == "40.00"
    assert "credits were added" in page.content()
    page.screenshot(path=str(SCREENSHOTS / "accounts-04-wallet.png"), full_page=True)
    assert User.objects.get(email="walker@example.com").credit_balance == Decimal("40.00")
