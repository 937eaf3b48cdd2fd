"""What the browser tests share: a buyer logged in through the real login page, in a browser context of their own;
staff logged in to the admin; screenshots."""

from __future__ import annotations

import re
from pathlib import Path

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
PASSWORD = "correct horse battery staple"  # the accounts UserFactory's password


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


def admin_login(page, base_url: str, email: str) -> None:
    """Log ``page`` in to the staff admin with the password (staff without a second factor: the test settings)."""
    page.goto(f"{base_url}/admin/login/?next=/admin/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))


def save_screenshot(page, name: str) -> None:
    """The whole page as artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
