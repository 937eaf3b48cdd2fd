"""Walks in a real browser: Debian's Chromium driven by Playwright against pytest-django's live server (the root
conftest's ``browser`` fixture; skipped when Chromium is not installed, unless REQUIRE_BROWSER=1). Screenshots go to
artifacts/screenshots/ (tests/browser/pages.py); the copies the docs use live in docs/img/."""
