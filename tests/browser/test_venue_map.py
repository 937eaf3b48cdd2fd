"""The venue map in a real browser: the whole venue first, then a section's seats, at desktop and phone sizes.

Builds the demo (`seed_demo`: Harbourlight Theatre laid out as a proscenium theatre, Northgate Stadium as a
four-stand stadium with a standing field). On each size the buyer sees the theatre's and the stadium's map (stage
and sections drawn, page no wider than the screen, axe-core clean), opens a stadium section from the map, zooms,
picks seats with the mouse and the keyboard and holds them. Screenshots go to artifacts/screenshots/venue-*.png
(the ones docs/BUYER.md shows are copied to docs/img/).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.core.management import call_command

from events.models import Event
from tests.browser.pages import axe_violations, measure_width, session_cookie, walk

pytestmark = walk

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
SIZES = [(1280, 800), (390, 844), (360, 740)]


def _focused_seat(page) -> dict:
    """The focused seat's role, state and name; ``before``: the name the seat focused before it has now."""
    return page.evaluate(
        """() => {
            const seat = document.activeElement;
            const before = window.__lastSeat;
            window.__lastSeat = seat;
            return {role: seat.getAttribute('role'), checked: seat.getAttribute('aria-checked'),
                    label: seat.getAttribute('aria-label'), tabindex: seat.getAttribute('tabindex'),
                    tabbable: document.querySelectorAll('svg.seatmap circle.seat[tabindex="0"]').length,
                    before: before && before !== seat ? before.getAttribute('aria-label') : null};
        }"""
    )


def _venue_map_drawn(page) -> dict:
    return page.evaluate(
        """() => {
            const svg = document.querySelector('svg.venue-map');
            const box = svg.getBoundingClientRect();
            return {sections: svg.querySelectorAll('a.venue-section').length,
                    stage: svg.querySelectorAll('.venue-stage path').length,
                    width: box.width, height: box.height,
                    focusable: [...svg.querySelectorAll('a.venue-section')].every(a => a.tabIndex >= 0)};
        }"""
    )


@pytest.mark.integration
@pytest.mark.parametrize(("width", "height"), SIZES)
def test_a_buyer_sees_the_venue_then_zooms_into_a_section_and_holds_seats(live_server, browser, width, height):
    call_command("seed_demo", stdout=io.StringIO())
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    tempest = Event.objects.get(slug="the-tempest")
    derby = Event.objects.get(slug="harbour-derby")
    context = browser.new_context(viewport={"width": width, "height": height}, bypass_csp=True)
    context.add_cookies(session_cookie(live_server, "bob@demo.test"))
    page = context.new_page()
    page.set_default_timeout(15_000)
    size = f"{width}x{height}"
    problems = []

    for name, event, sections in (("theatre", tempest, 5), ("stadium", derby, 17)):
        page.goto(f"{live_server.url}/events/{event.pk}/")
        drawn = _venue_map_drawn(page)
        assert drawn["sections"] == sections and drawn["stage"] == 1, drawn
        assert drawn["focusable"] and 0 < drawn["width"] <= width, drawn
        assert measure_width(page)["scrollWidth"] <= width
        page.locator(".venue-map-card").screenshot(path=str(SCREENSHOTS / f"venue-{name}-{size}.png"))
        page.screenshot(path=str(SCREENSHOTS / f"venue-{name}-page-{size}.png"))
        problems.extend(f"{name}: axe {line}" for line in axe_violations(page))

    # The stadium's map is where the buyer is: the North 1 stand opens from it, by keyboard.
    north = page.locator('a.venue-section[aria-label^="North 1 "]')
    north.focus()
    page.keyboard.press("Enter")
    # The seats are drawn by the script after the first paint, a slice per frame, until every one is in the map.
    page.wait_for_selector("svg.seatmap[data-drawn]")
    assert page.locator("h1").inner_text() == "North 1"
    assert page.locator("svg.seatmap circle.seat").count() == 3200
    assert page.locator("svg.seatmap .stage-label").count() == 1
    assert measure_width(page)["scrollWidth"] <= width
    fitted = page.evaluate("() => document.querySelector('svg.seatmap').getBoundingClientRect().width")
    # Tab reaches the map at one seat, the first free one, named in full.
    page.focus('[data-zoom="fit"]')
    page.keyboard.press("Tab")
    entry = _focused_seat(page)
    assert entry["role"] == "checkbox" and entry["checked"] == "false" and entry["tabbable"] == 1, entry
    assert re.fullmatch(r"Row [A-Z]+ seat \d+, 45\.00 credits, available(, accessible)?", entry["label"]), entry

    # Zoom in with the button until a seat is big enough to tap, then pick one with the mouse and one with the keys.
    page.click('[data-zoom="in"]')
    for _ in range(6):
        if "zoomed-out" not in (page.locator(".seatmap-wrap").get_attribute("class") or ""):
            break
        page.click('[data-zoom="in"]')
    zoomed = page.evaluate("() => document.querySelector('svg.seatmap').getBoundingClientRect().width")
    assert zoomed > fitted
    assert measure_width(page)["scrollWidth"] <= width
    seat = page.locator("svg.seatmap circle.seat.available").first
    seat.scroll_into_view_if_needed()
    seat.click()
    first = _focused_seat(page)
    page.keyboard.press("ArrowRight")
    second = _focused_seat(page)
    page.keyboard.press("Space")
    assert page.locator("svg.seatmap circle.seat.selected").count() == 2
    # One seat is in the tab order, a checkbox named in full while it has the focus; the others keep short names.
    assert first["checked"] == "true" and first["label"].startswith("Row "), first
    assert re.fullmatch(r"[A-Z]+\d+", second["before"]), second
    assert second["role"] == "checkbox" and second["tabindex"] == "0" and second["tabbable"] == 1, second
    assert re.fullmatch(r"Row [A-Z]+ seat \d+, 45\.00 credits, available(, accessible)?", second["label"]), second
    assert page.inner_text("#buy-bar .buy-bar-text").strip() == "2 seats · 90.00"
    page.screenshot(path=str(SCREENSHOTS / f"venue-section-zoomed-{size}.png"))
    problems.extend(f"section: axe {line}" for line in axe_violations(page))
    assert _focused_seat(page)["checked"] == "true"
    page.keyboard.press("ArrowDown")
    below = _focused_seat(page)
    assert below["label"].split(" seat ")[0] != second["label"].split(" seat ")[0], below
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Home")
    home = _focused_seat(page)
    page.keyboard.press("End")
    end = _focused_seat(page)
    row = second["label"].split(" seat ")[0]
    assert home["label"].startswith(row + " seat ") and end["label"].startswith(row + " seat "), (home, end)
    assert home["label"] != end["label"] and end["tabbable"] == 1

    page.click("#buy-bar .bar-hold")
    page.wait_for_selector("#buy-bar .bar-checkout")
    assert "2 held · 90.00" in page.inner_text("#buy-bar")
    assert page.locator("svg.seatmap circle.seat.mine").count() == 2
    assert measure_width(page)["scrollWidth"] <= width
    page.context.close()
    assert not problems, "\n".join(problems)
