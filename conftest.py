"""Project-wide test fixtures. Every test states the databases it touches; most flows touch all four."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import environ
import pytest

from core import embedded_db, msgfmt
from core.databases import ALL_DATABASES, uses_embedded_server
from core.testing import cleared_around_each_test

__all__ = ["ALL_DATABASES"]
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


def pytest_configure(config):
    """The test set-up is one of the explicit steps that start the embedded PostgreSQL (settings never do), and
    compiles the translation catalogs whose .mo is missing or older than the .po (core/msgfmt.py)."""
    msgfmt.compile_all(Path(__file__).resolve().parent / "locale", only_stale=True)
    if uses_embedded_server(environ.Env()):
        try:
            embedded_db.ensure_running()
        except embedded_db.EmbeddedDatabaseError as exc:
            pytest.exit(f"error: {exc}", returncode=2)


def pytest_collection_modifyitems(config, items):
    """Full-size runs (``@pytest.mark.slow``) only when asked for: RUN_SLOW=1, or a -m expression naming them."""
    if os.environ.get("RUN_SLOW") == "1" or "slow" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="full-size run: RUN_SLOW=1 (its CI-size variant runs by default)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


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


def _clear_config_cache() -> None:
    from core import config  # its models load once Django is set up, after this module

    config.clear_cache()


# System settings are cached per process; a test that changes one must not leak it to the next.
_fresh_config_cache = cleared_around_each_test(_clear_config_cache)


@pytest.fixture
def buyer(db):
    from accounts.tests.factories import UserFactory

    return UserFactory(email="buyer@example.com", full_name="Bea Buyer", credits="500.00")


@pytest.fixture
def other_buyer(db):
    from accounts.tests.factories import UserFactory

    return UserFactory(email="other@example.com", full_name="Otto Other", credits="500.00")


def _empty_job_queue(django_db_blocker) -> None:
    """The queue's tables belong to procrastinate (unmanaged models), so Django's flush after a transactional test
    leaves their rows behind; without this, one test's queued jobs would show up in the next test's queue."""
    from django.db import connections

    from core.jobs import JOBS_DATABASE

    connection = connections[JOBS_DATABASE]
    if connection.settings_dict["NAME"] != connection.creation._get_test_db_name():
        return  # this session's tests set up no orders database: never touch the real one
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE procrastinate_jobs, procrastinate_events, procrastinate_periodic_defers CASCADE")


@pytest.fixture(scope="session", autouse=True)
def _job_queue_empty_at_start(django_db_setup, django_db_blocker):
    """Test databases are reused between runs (--reuse-db): start from an empty queue."""
    _empty_job_queue(django_db_blocker)


@pytest.fixture(autouse=True)
def _job_queue_emptied_after_transactional_tests(request, django_db_blocker):
    yield
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    from core.jobs import JOBS_DATABASE

    databases = marker.kwargs.get("databases") or ()
    if databases == "__all__" or JOBS_DATABASE in databases:
        _empty_job_queue(django_db_blocker)
