"""What the browser tests share: a buyer logged in through the real login page, in a browser context of their own."""

from __future__ import annotations

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
