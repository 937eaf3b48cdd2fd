"""Project-wide test fixtures. Every test states the databases it touches; most flows touch all four."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

ALL_DATABASES = ["default", "seats", "orders", "events"]
SCREENSHOTS = Path(__file__).resolve().parent / "artifacts" / "screenshots"
# Debian's Chromium, headless; without the networking flags it stalls on this machine's closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def browser(monkeypatch):
    """A headless Chromium driven by Playwright. Skipped without `chromium`, unless REQUIRE_BROWSER=1 (CI)."""
    executable = shutil.which("chromium")
    if not executable:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium is required (REQUIRE_BROWSER=1) but `chromium` is not on PATH.")
        pytest.skip("Chromium is not installed (apt-get install -y chromium).")
    sync_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(autouse=True)
def _fresh_config_cache():
    """System settings are cached per process; a test that changes one must not leak it to the next."""
    from ticketremaster import config

    config.clear_cache()
    yield
    config.clear_cache()


@pytest.fixture
def buyer(db):
    from accounts.tests.factories import UserFactory

    return UserFactory(email="buyer@example.com", full_name="Bea Buyer", credits="500.00")


@pytest.fixture
def other_buyer(db):
    from accounts.tests.factories import UserFactory

    return UserFactory(email="other@example.com", full_name="Otto Other", credits="500.00")
