"""How the seat map of a 3,200-seat section draws and pans in Chromium on a slowed-down CPU (a mid-range phone).

    .venv/bin/python -m bench.map_render [--runs 3] [--frames 120] [--rates 1,4] [--reuse]

Fresh databases of its own (dropped afterwards), the demo data (``seed_demo``); with ``--reuse``, the databases the
*_DATABASE_URL variables name, seeded only when the demo is not there yet (so that two checkouts of the code can be
measured in turns, A/B/A/B, against the same data while the machine's load changes); then Debian's Chromium
(Playwright, headless, 390x844 at 2x) opens the demo stadium's North 1 section (3,200 seats) and its venue map, at
CPU throttling 1x and 4x (CDP ``Emulation.setCPUThrottlingRate``) in the same run. The pages are served by Django in
this process through Playwright's request routing (no network, no server start-up), so the times are the browser's.

Per page load: the document's size and arrival (responseEnd), first contentful paint, "ready": the first frame after
DOMContentLoaded, by which seatmap.js has run (it is deferred: handlers armed, the first seats drawn), "drawn": the
first frame by which every seat of the section is in the map and painted (for a page that draws its seats from the
markup the same frame as "ready"; for one that draws them in slices, the frame after the last slice), and the
longest task of the main thread until then (how long a tap could wait while the page loads). Then, with
the map zoomed in to its natural size (a seat 24 px across), a pan of ``--frames`` animation frames that scrolls the
map's box a few pixels every frame: the frame times (median, 95th percentile, worst). Then one zoom step (the "+"
button) to the next painted frame. Medians over ``--runs`` loads.
"""

from __future__ import annotations

import argparse
import mimetypes
import secrets
import shutil
import statistics
from pathlib import Path

from bench import harness

PROJECT_DIR = Path(__file__).resolve().parents[1]
VIEWPORT = {"width": 390, "height": 844}
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-sync"]

# Marks the first frame after DOMContentLoaded (seatmap.js, deferred, has run by then) and the first frame by which
# the map holds EXPECTED seats (checked after each frame, so a slice drawn in that frame's callbacks counts); records
# the main thread's long tasks.
DRAWN_MARK = """
window.__tasks = [];
new PerformanceObserver(list => { window.__tasks.push(...list.getEntries()); })
  .observe({type: "longtask", buffered: true});
document.addEventListener("DOMContentLoaded", () => {
  const svg = document.querySelector("svg.seatmap");
  const seats = svg ? svg.getElementsByClassName("seat") : null;
  requestAnimationFrame(() => setTimeout(() => { window.__ready = performance.now(); }, 0));
  const check = () => requestAnimationFrame(() => setTimeout(() => {
    if (!seats || seats.length >= EXPECTED) window.__drawn = performance.now(); else check();
  }, 0));
  check();
});
"""

PAN = """async frames => {
  const wrap = document.querySelector(".seatmap-wrap");
  const times = [];
  let last = await new Promise(requestAnimationFrame);
  for (let i = 0; i < frames; i++) {
    wrap.scrollLeft += 6;
    wrap.scrollTop += (i % 40 < 20) ? 4 : -4;
    const now = await new Promise(requestAnimationFrame);
    times.push(now - last);
    last = now;
  }
  return times;
}"""

ZOOM_STEP = """async () => {
  const button = document.querySelector('[data-zoom="in"]');
  const started = performance.now();
  button.click();
  await new Promise(requestAnimationFrame);
  await new Promise(r => setTimeout(r, 0));
  return performance.now() - started;
}"""


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _router(client, sizes: dict):
    """Answers the browser's requests from Django in this process: pages through the test client (their sizes go
    into ``sizes`` by path), static files from the finders (as runserver would)."""
    from django.contrib.staticfiles import finders

    def handle(route) -> None:
        url = route.request.url.split("://", 1)[1]
        path = "/" + url.split("/", 1)[1] if "/" in url else "/"
        if path.startswith("/static/"):
            found = finders.find(path.removeprefix("/static/").split("?")[0])
            if not found:
                route.fulfill(status=404, body="")
                return
            body = Path(found).read_bytes()
            kind = mimetypes.guess_type(found)[0] or "application/octet-stream"
            route.fulfill(status=200, body=body, headers={"content-type": kind})
            return
        response = client.get(path)
        sizes[path] = len(response.content)
        headers = {key: value for key, value in response.items() if key.lower() != "content-length"}
        route.fulfill(status=response.status_code, body=response.content, headers=headers)

    return handle


def _measure(browser, client, url: str, *, seats: int, rate: int, frames: int, pan: bool) -> dict:
    context = browser.new_context(viewport=VIEWPORT, device_scale_factor=2, is_mobile=True, has_touch=True)
    sizes: dict[str, int] = {}
    context.route("**/*", _router(client, sizes))
    context.add_init_script(DRAWN_MARK.replace("EXPECTED", str(seats)))
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
    page.goto(url, wait_until="load")
    page.wait_for_function("() => window.__drawn !== undefined && window.__ready !== undefined")
    timing = page.evaluate(
        """() => {
            const nav = performance.getEntriesByType("navigation")[0];
            const fcp = performance.getEntriesByName("first-contentful-paint")[0];
            const tasks = window.__tasks.filter(task => task.startTime < window.__drawn);
            return {response: nav.responseEnd, fcp: fcp ? fcp.startTime : null, ready: window.__ready,
                    drawn: window.__drawn, longest: Math.max(0, ...tasks.map(task => task.duration))};
        }"""
    )
    timing["kb"] = sizes[url.removeprefix("http://127.0.0.1")] / 1024
    if pan:
        # The natural size (a seat 24 px across): the buyer has zoomed in to choose.
        for _ in range(8):
            if "zoomed-out" not in (page.locator(".seatmap-wrap").get_attribute("class") or ""):
                break
            page.click('[data-zoom="in"]')
        page.evaluate("() => { const w = document.querySelector('.seatmap-wrap'); w.scrollLeft = 0; w.scrollTop = 0; }")
        times = page.evaluate(PAN, frames)
        timing["frame_median"] = statistics.median(times)
        timing["frame_p95"] = _percentile(times, 0.95)
        timing["frame_worst"] = max(times)
        page.click('[data-zoom="fit"]')
        timing["zoom_step"] = page.evaluate(ZOOM_STEP)
    context.close()
    return timing


def _run(runs: int, frames: int, rates: tuple[int, ...]) -> None:
    import io
    import os

    from django.core.management import call_command
    from django.test import Client
    from playwright.sync_api import sync_playwright

    from events import selectors as events_selectors
    from events.models import Event

    if not Event.objects.filter(slug="harbour-derby").exists():
        call_command("seed_demo", stdout=io.StringIO())
    derby = Event.objects.get(slug="harbour-derby")
    north = next(s for s in events_selectors.event_sections(event_id=derby.pk) if s.name == "North 1")
    base = "http://127.0.0.1"
    pages = {
        "section North 1 (3,200 seats)": (f"{base}/events/{derby.pk}/sections/{north.section_id}/", 3200, True),
        "stadium venue map (17 sections)": (f"{base}/events/{derby.pk}/", 0, False),
    }
    client = Client(HTTP_HOST="127.0.0.1")
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the routed requests stay synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    executable = shutil.which("chromium")
    if not executable:
        raise SystemExit("Chromium is not installed (apt-get install -y chromium).")
    results: dict[tuple[str, int], list[dict]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            for name, (url, seats, pan) in pages.items():
                for rate in rates:
                    _measure(browser, client, url, seats=seats, rate=rate, frames=10, pan=False)  # warm caches
                    results[name, rate] = [
                        _measure(browser, client, url, seats=seats, rate=rate, frames=frames, pan=pan)
                        for _ in range(runs)
                    ]
        finally:
            browser.close()

    def median(name: str, rate: int, key: str) -> float | None:
        values = [run[key] for run in results[name, rate] if run.get(key) is not None]
        return statistics.median(values) if values else None

    print(f"\nSeat map in Chromium at 390x844 (2x), median of {runs} loads; pan: {frames} frames.\n")
    print(
        "| page | CPU | document (KB) | document (ms) | first paint (ms) | ready (ms) | drawn (ms) | longest task (ms) "
        "| pan frame median / p95 / worst (ms) | zoom step (ms) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, (_, _, pan) in pages.items():
        for rate in rates:

            def cell(key: str, name: str = name, rate: int = rate) -> str:
                value = median(name, rate, key)
                return "–" if value is None else f"{value:.0f}"

            frames_cell = (
                f"{median(name, rate, 'frame_median'):.1f} / {median(name, rate, 'frame_p95'):.1f} / "
                f"{median(name, rate, 'frame_worst'):.1f}"
                if pan
                else "–"
            )
            print(
                f"| {name} | {rate}x | {cell('kb')} | {cell('response')} | {cell('fcp')} | {cell('ready')} | "
                f"{cell('drawn')} | {cell('longest')} | {frames_cell} | {cell('zoom_step') if pan else '–'} |"
            )
    print()
    for name in pages:
        slow, fast = median(name, max(rates), "drawn"), median(name, min(rates), "drawn")
        after = slow - median(name, max(rates), "response")
        print(
            f"{name}: drawn at {max(rates)}x / {min(rates)}x = {slow / fast:.2f}; "
            f"at {max(rates)}x drawn {after:.0f} ms after the document"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--frames", type=int, default=120)
    parser.add_argument("--rates", default="1,4", help="CPU slowdowns to measure, e.g. 1,4")
    parser.add_argument("--reuse", action="store_true", help="the configured databases, seeded once (see above)")
    args = parser.parse_args()
    rates = tuple(int(rate) for rate in args.rates.split(","))
    if args.reuse:
        harness.setup_django()
        harness.migrate_all()
        _run(args.runs, args.frames, rates)
        return
    with harness.fresh_databases(f"map{secrets.token_hex(3)}"):
        _run(args.runs, args.frames, rates)


if __name__ == "__main__":
    main()
