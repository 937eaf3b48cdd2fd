"""A buyer switches the site to German on a phone, staff get the admin in German, and the main staff admin pages
pass axe-core.

Real Chromium through Playwright against pytest-django's live server. Screenshots go to
artifacts/screenshots/language-*.png and admin-axe-*.png.
"""

from __future__ import annotations

import datetime as dt

from events.models import Venue
from events.tests.staff_world import make_tenant
from tests.browser.pages import SCREENSHOTS, axe_violations, session_cookie, walk

pytestmark = walk

STARTS = dt.datetime(2027, 3, 14, 18, 30, tzinfo=dt.UTC)  # 19:30 CET in Berlin


def _width(page) -> dict:
    return page.evaluate("() => ({scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth})")


def _staff_context(live_server, browser, tenant):
    """A desktop window signed in as the tenant's owner, without the CSP so that axe-core can be injected."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    context.add_cookies(session_cookie(live_server, tenant.owner.email))
    return context


def test_a_buyer_switches_to_german_on_a_phone_and_every_page_stays_german(live_server, browser):
    tenant = make_tenant("G")
    Venue.objects.using("events").filter(pk=tenant.venue.pk).update(timezone="Europe/Berlin")
    type(tenant.event).objects.using("events").filter(pk=tenant.event.pk).update(starts_at=STARTS, doors_at=None)
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    context.add_cookies(session_cookie(live_server, tenant.buyer.email))
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/")
    assert page.inner_text("main h1") == "Events"

    switcher = page.locator("[data-testid=language-switcher]")
    switcher.locator("select").select_option("de")
    switcher.locator("button").click()
    page.wait_for_load_state()
    assert page.inner_text("main h1") == "Veranstaltungen"
    assert page.evaluate("() => document.documentElement.lang") == "de"
    assert "So, 14. Mär 2027, 19:30 CET" in page.inner_text("main")
    measured = _width(page)
    assert measured["scrollWidth"] <= measured["innerWidth"], measured
    page.screenshot(path=str(SCREENSHOTS / "language-phone-events.png"), full_page=True)

    # The choice holds on the next pages, the seat map's script speaks German too, and nothing gets wider.
    page.goto(f"{live_server.url}/events/{tenant.event.pk}/")
    assert "Bereiche und Preise" in page.inner_text("main")
    page.locator("svg.seatmap circle.seat.available").first.click()
    assert page.inner_text("#buy-bar .buy-bar-text").strip().startswith("1 Platz · 25,00")
    measured = _width(page)
    assert measured["scrollWidth"] <= measured["innerWidth"], measured
    page.screenshot(path=str(SCREENSHOTS / "language-phone-event.png"))
    page.goto(f"{live_server.url}/tickets/")
    assert page.inner_text("main h1") == "Meine Tickets"
    context.close()


def test_the_main_admin_pages_have_no_accessibility_violation_of_moderate_impact_or_more(live_server, browser):
    tenant = make_tenant("X")
    context = _staff_context(live_server, browser, tenant)
    pages = {
        "index": "/admin/",
        "event-change": f"/admin/events/event/{tenant.event.pk}/change/",
        "event-dashboard": f"/admin/events/event/{tenant.event.pk}/dashboard/",
        "order-change": f"/admin/orders/order/{tenant.order_id}/change/",
    }
    problems = []
    for name, path in pages.items():
        page = context.new_page()
        page.set_default_timeout(15_000)
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == 200, (name, response and response.status)
        page.wait_for_load_state("load")
        page.screenshot(path=str(SCREENSHOTS / f"admin-axe-{name}.png"))
        problems.extend(f"{name}: {line}" for line in axe_violations(page))
        page.close()
    context.close()
    assert not problems, "\n".join(problems)


def test_staff_switch_the_admin_to_german_and_its_pages_stay_german(live_server, browser):
    tenant = make_tenant("D")
    context = _staff_context(live_server, browser, tenant)
    page = context.new_page()
    page.set_default_timeout(15_000)
    dashboard = f"{live_server.url}/admin/events/event/{tenant.event.pk}/dashboard/"
    page.goto(dashboard)
    # textContent: the admin's table headings are drawn in capitals.
    assert "of which checked in" in page.text_content("#content-main")

    # The switcher among the admin's user links sets the same cookie as the buyer pages' and comes back here.
    switcher = page.locator("[data-testid=admin-language-switcher]")
    switcher.locator("select").select_option("de")
    switcher.locator("button").click()
    page.wait_for_load_state()
    assert page.url == dashboard
    assert page.evaluate("() => document.documentElement.lang") == "de"
    main = page.text_content("#content-main")
    assert "davon eingelassen" in main and "Abendkasse" in main and "Umsatz" in main
    assert "Start" in page.inner_text(".breadcrumbs")  # Django's own admin texts follow too
    page.screenshot(path=str(SCREENSHOTS / "admin-german-dashboard.png"))
    problems = axe_violations(page)
    assert not problems, "\n".join(problems)

    page.goto(f"{live_server.url}/admin/events/event/{tenant.event.pk}/box-office/")
    assert "Zahlung und Tickets" in page.text_content("#content-main")
    assert page.locator("#box-office input[type=submit]").get_attribute("value") == "Zahlung annehmen und verkaufen"

    # The names Django derives from the models: the list's title, its column headings and filters.
    page.goto(f"{live_server.url}/admin/events/event/")
    assert page.inner_text("#content h1") == "Veranstaltung zur Änderung auswählen"
    headings = page.text_content("#result_list thead")
    assert "Titel" in headings and "Spielstätte" in headings and "Organisation" in headings
    assert "Nach Auswahlverfahren" in page.text_content("#changelist-filter")
    page.screenshot(path=str(SCREENSHOTS / "admin-german-events.png"))
    context.close()
