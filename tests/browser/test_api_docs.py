"""The API documentation pages (Swagger UI, ReDoc) work from this site's own files: in a real Chromium where every
request to another host fails, both render the operations, with no blocked request and no policy violation.

Screenshots: api-docs-*.png.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser.pages import SCREENSHOTS, desk_and_phone

# ReDoc's bundle always adds a "API docs by Redocly" logo image from its vendor's host (no option turns it off). The
# content security policy refuses it before any request leaves (`outside` stays empty) and ReDoc hides the image when
# it fails; that one refusal is expected, any other console error is not.
REDOC_LOGO_REFUSAL = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def _open_offline(browser, live_server, path: str, *, viewport: dict):
    """A page where any request outside the live server is aborted and recorded."""
    local = urlsplit(live_server.url).netloc
    outside: list[str] = []
    problems: list[str] = []
    page = browser.new_page(viewport=viewport)
    page.set_default_timeout(20_000)

    def route(route):
        url = route.request.url
        if urlsplit(url).scheme in ("data", "blob") or urlsplit(url).netloc == local:
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    page.route("**/*", route)
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{live_server.url}{path}")
    return page, outside, problems


@pytest.mark.browser
@pytest.mark.django_db
@desk_and_phone
def test_swagger_ui_works_with_local_assets_only(live_server, browser, viewport):
    page, outside, problems = _open_offline(browser, live_server, "/api/v1/docs/", viewport=viewport)
    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock").count() > 40
    assert "TicketRemaster API" in page.inner_text(".title")
    page.screenshot(path=str(SCREENSHOTS / f"api-docs-swagger-{viewport['width']}.png"))
    assert outside == [] and problems == []


@pytest.mark.browser
@pytest.mark.django_db
@desk_and_phone
def test_redoc_works_with_local_assets_only(live_server, browser, viewport):
    page, outside, problems = _open_offline(browser, live_server, "/api/v1/redoc/", viewport=viewport)
    page.locator("h1", has_text="TicketRemaster API").wait_for()
    page.get_by_text("/api/v1/orders/", exact=False).first.wait_for(state="attached")
    page.screenshot(path=str(SCREENSHOTS / f"api-docs-redoc-{viewport['width']}.png"))
    assert outside == []
    assert [problem for problem in problems if REDOC_LOGO_REFUSAL not in problem] == []
