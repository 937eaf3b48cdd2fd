"""Monitoring in a real browser: the Prometheus endpoint and the platform staff's database health page show live
figures (the requests this test just made, the connections open right now), on a desktop and a phone.

Screenshots: monitoring-*.png.
"""

from __future__ import annotations

import httpx

from core.databases import ALL_DATABASES
from tests.browser.pages import DESK, PHONE, SCREENSHOTS, admin_login, click_to, walk

pytestmark = walk


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus text exposition (labels in any order), 0 when absent."""
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{key}="{value}"' in line for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_and_database_health_show_live_figures(live_server, browser):
    from accounts.tests.factories import UserFactory

    admin = UserFactory(email="platform@example.com", is_staff=True, is_superuser=True)
    for _ in range(3):
        assert httpx.get(f"{live_server.url}/livez").status_code == 200
    # A hold on an event that does not exist: a business operation, refused with its code.
    refused = httpx.post(f"{live_server.url}/api/v1/events/00000000-0000-0000-0000-000000000000/holds/", json={})
    assert refused.status_code in (401, 403, 404)

    page = browser.new_page(viewport=DESK)
    page.set_default_timeout(20_000)
    page.goto(f"{live_server.url}/metrics")
    text = page.inner_text("body")
    assert _sample(text, "ticketremaster_http_requests_total", route="livez", method="GET", status="2xx") >= 3
    assert _sample(text, "ticketremaster_http_request_duration_seconds_count", route="livez", method="GET") >= 3
    assert "ticketremaster_operations_total" in text
    page.screenshot(path=str(SCREENSHOTS / "monitoring-1-metrics.png"))

    admin_login(page, live_server.url, admin.email)
    click_to(page, "text=Database health", r"/admin/database-health/$")
    for alias in ALL_DATABASES:
        section = page.locator(f"section[data-alias='{alias}']")
        assert "Unavailable" not in section.inner_text()
        # Live: the server's own connections to this database right now, and its statements so far.
        assert section.locator("table.connections tbody tr").count() >= 1
        assert section.locator("table.statements tbody tr").count() >= 1
    first_read = page.get_attribute("#read-at", "datetime")
    page.screenshot(path=str(SCREENSHOTS / "monitoring-2-database-health.png"), full_page=True)
    page.reload()
    assert page.get_attribute("#read-at", "datetime") >= first_read

    phone = browser.new_page(viewport=PHONE)
    phone.context.add_cookies(page.context.cookies())
    phone.goto(f"{live_server.url}/admin/database-health/")
    assert phone.locator("section[data-alias='seats'] table.connections").count() == 1
    phone.screenshot(path=str(SCREENSHOTS / "monitoring-3-database-health-phone.png"))
