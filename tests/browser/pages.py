"""What the browser tests share: a buyer logged in through the real login page, in a browser context of their own;
staff logged in to the admin; a session cookie for a context; axe-core's accessibility violations on an open page;
screenshots."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from accounts.models import User
from core.databases import ALL_DATABASES

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PASSWORD = "correct horse battery staple"  # the accounts UserFactory's password
AXE = Path(__file__).resolve().parents[2] / "static" / "vendor" / "axe-core" / "axe.min.js"
AXE_IMPACTS = ("moderate", "serious", "critical")
# Every walk (``pytestmark = walk``): a real browser against the live server, which sees only committed rows.
walk = [pytest.mark.browser, pytest.mark.django_db(databases=ALL_DATABASES, transaction=True)]
DESK = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# A walk that must work on a desktop and on a 390 px phone: the test takes ``viewport``.
desk_and_phone = pytest.mark.parametrize("viewport", [DESK, PHONE], ids=["desk", "phone"])


def size_name(viewport: dict) -> str:
    """ "desk" or "phone", for screenshot names."""
    return "desk" if viewport["width"] > 500 else "phone"


def box_office_clerk(organization_id):
    """Bob Box, box-office staff of the organization (no second factor: the test settings)."""
    from accounts.tests.factories import MembershipFactory, StaffFactory

    clerk = StaffFactory(email="bob@example.com", full_name="Bob Box")
    MembershipFactory(user=clerk, organization_id=organization_id, role="BOX_OFFICE")
    return clerk


def staff_page(browser, base_url: str, email: str, *, viewport: dict = DESK, **options):
    """A new page at ``viewport`` (``options``: Playwright's, e.g. accept_downloads) logged in to the admin."""
    page = browser.new_page(viewport=viewport, **options)
    page.set_default_timeout(20_000)
    admin_login(page, base_url, email)
    return page


def session_cookie(live_server, email: str | None) -> list[dict]:
    """The cookie of a session logged in as ``email`` (none for a visitor), to add to a browser context."""
    if email is None:
        return []
    client = Client()
    client.force_login(User.objects.get(email=email))
    value = client.cookies[settings.SESSION_COOKIE_NAME].value
    return [{"name": settings.SESSION_COOKIE_NAME, "value": value, "url": live_server.url}]


def axe_violations(page) -> list[str]:
    """axe-core's violations of impact moderate or higher on the open page, as "rule (impact): target" lines.

    The page's context needs ``bypass_csp=True``: the pages forbid inline scripts, and axe-core is injected as one."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async impacts => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations.filter(v => impacts.includes(v.impact)).map(
                v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | ")}`);
        }""",
        list(AXE_IMPACTS),
    )
    return list(found)


def logged_in_page(browser, base_url: str, email: str, *, width: int = 1280, height: int = 900):
    """A page logged in as ``email`` in its own browser context (its own cookies), at ``width`` x ``height``."""
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert "/accounts/login/" not in page.url, page.inner_text("main")
    return page


def measure_width(page) -> dict:
    """The document's width and the viewport's: a page fits the phone when the first is not larger."""
    return page.evaluate("() => ({scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth})")


def admin_login(page, base_url: str, email: str, next_path: str = "/admin/") -> None:
    """Log ``page`` in to the staff admin with the password (staff without a second factor: the test settings) and
    wait for the admin page ``next_path`` it lands on."""
    page.goto(f"{base_url}/admin/login/?next={next_path}")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    click_to(page, "input[type=submit]", re.escape(next_path) + "$")


def click_to(page, selector: str, url: str) -> None:
    """Click ``selector`` and wait for the page it leads to, whose address matches the regular expression ``url``."""
    page.click(selector)
    page.wait_for_url(re.compile(url))


def save_screenshot(page, name: str) -> None:
    """The whole page as artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
