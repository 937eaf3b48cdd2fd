"""EXPLAIN ANALYZE of every hot query, taken from the real code, on the full-size data set.

    .venv/bin/python -m bench.explain            # writes the "Hot queries" section of docs/performance-log.md
    .venv/bin/python -m bench.explain --size tiny --no-record

The data set is the benchmark's (52,000-seat stadium; 80,000-seat arena with 50,000 sold). Each hot endpoint is
called once through Django's test client with ``bench.capture`` recording its statements and parameters: hold,
best-available hold, checkout, seat map of a 1,000-seat section, availability of the whole event, the sales
dashboard, a gate scan. Every data statement is then run again as ``EXPLAIN (ANALYZE, BUFFERS)`` inside a
transaction that is rolled back, on the same database, so the plan and timing are those of the real query on the
real data. Advisory locks, ``set_config`` and transaction statements are listed but not explained.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import sys
import time
import uuid
from dataclasses import replace

from bench import harness

DOC = harness.PROJECT_DIR / "docs" / "performance-log.md"
BEGIN_MARKER = "<!-- bench.explain: begin -->"
END_MARKER = "<!-- bench.explain: end -->"
_EXPLAINABLE = re.compile(r"^\s*(SELECT|UPDATE|INSERT|DELETE|WITH)\b", re.IGNORECASE)
_NOT_DATA = re.compile(r"pg_(try_)?advisory|set_config|^\s*SET\s", re.IGNORECASE)


def _endpoints(data) -> list[tuple[str, callable]]:
    from django.conf import settings
    from django.test import Client

    from bench.scenarios import dashboard_path
    from inventory import selectors as inventory_selectors
    from inventory import services as inventory_services

    buyer = data.buyers[1]
    client = Client(SERVER_NAME="127.0.0.1", HTTP_AUTHORIZATION=f"Token {buyer.token}")
    event = data.stadium_event_id
    seats = [str(s["id"]) for s in inventory_selectors.seat_map(event_id=event, section_id=data.hot_section_id)]
    holds = f"/api/v1/events/{event}/holds/"
    staff = Client(SERVER_NAME="127.0.0.1", HTTP_AUTHORIZATION=f"Token {data.gate_staff[0].token}")
    manager = Client(SERVER_NAME="127.0.0.1")
    manager.cookies[settings.SESSION_COOKIE_NAME] = data.manager_session
    seat_id, owner_id = data.big_tickets[0]

    def scan():
        token = inventory_services.ticket_qr(seat_id=seat_id, owner_id=owner_id)[0]
        body = {"event_id": str(data.big_event_id), "gate": "Gate 0", "token": token}
        return staff.post("/api/v1/scan/", body, content_type="application/json")

    dashboard = dashboard_path(data.big_event_id)
    return [
        (
            "hold",
            "hold (chosen seats)",
            lambda: client.post(holds, {"seat_ids": seats[-3:-1]}, content_type="application/json"),
        ),
        (
            "checkout",
            "checkout",
            lambda: client.post(
                "/api/v1/orders/",
                {"event_id": str(event)},
                content_type="application/json",
                HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
            ),
        ),
        (
            "best",
            "hold (best available)",
            lambda: client.post(
                holds, {"section_id": str(data.hot_section_id), "quantity": 4}, content_type="application/json"
            ),
        ),
        (
            "seatmap",
            "seat map of a 1,000-seat section",
            lambda: client.get(f"/api/v1/events/{data.big_event_id}/seats/?section={data.big_section_ids[-1]}"),
        ),
        (
            "availability",
            "availability of the 80,000-seat event",
            lambda: client.get(f"/api/v1/events/{data.big_event_id}/sections/"),
        ),
        ("dashboard", "sales dashboard (80,000 seats, 50,000 sold)", lambda: manager.get(dashboard)),
        (
            "dashboard",
            "sales dashboard refresh (the table fragment; the charts' timelines from the cache)",
            lambda: manager.get(f"{dashboard}?fragment=1"),
        ),
        ("scan", "gate scan", scan),
    ]


ENDPOINT_KEYS = ("hold", "checkout", "best", "seatmap", "availability", "dashboard", "scan")


def _explain(connection, statement, *, analyze: bool) -> str | None:
    from django.db import DatabaseError

    options = "ANALYZE, BUFFERS" if analyze else "COSTS"
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        try:
            cursor.execute(f"EXPLAIN ({options}) {statement.sql}", statement.params)
            return "\n".join(row[0] for row in cursor.fetchall())
        except DatabaseError:
            return None
        finally:
            cursor.execute("ROLLBACK")


def explain_all(data, *, only: frozenset[str] = frozenset(ENDPOINT_KEYS)) -> tuple[str, list[str]]:
    """The plans as Markdown, and the endpoints that did not answer 2xx (their statements are not the endpoint's:
    a redirect to the login or two-factor page explains nothing)."""
    from django.db import connections

    from bench import capture

    out: list[str] = []
    failed: list[str] = []
    for key, title, call in _endpoints(data):
        if key not in only:
            continue
        with capture.Recorder() as recorder:
            response = call()
        if not 200 <= response.status_code < 300:
            failed.append(f"{title}: HTTP {response.status_code} {response.get('Location', '')}".rstrip())
        out += [f"#### {title} — HTTP {response.status_code}, {len(recorder.queries())} statements", ""]
        for number, statement in enumerate(recorder.statements, start=1):
            sql = " ".join(statement.sql.split())
            if statement.is_boundary or _NOT_DATA.search(sql) or not _EXPLAINABLE.match(sql):
                out.append(f"{number}. `{statement.alias}` `{sql[:160]}`")
                continue
            plan = _explain(connections[statement.alias], statement, analyze=True)
            if plan is None:
                # Running it again would insert the very row the request inserted (same primary key): plan only.
                plan = "(plan only: executing it again would duplicate the row the request wrote)\n" + _explain(
                    connections[statement.alias], statement, analyze=False
                )
            out += [f"{number}. `{statement.alias}` `{sql[:300]}`", "", "```", plan, "```", ""]
        out.append("")
    return "\n".join(out), failed


def record(text: str, header: str, *, append: bool = False) -> None:
    """Rewrite the "Hot queries" section with every endpoint's plans, or (``append``: some endpoints only) add them
    at the end of the log under their own heading, leaving the section as it was."""
    existing = DOC.read_text() if DOC.exists() else "# Performance\n"
    if append:
        DOC.write_text(existing.rstrip("\n") + f"\n\n### Hot queries, some endpoints\n\n{header}\n\n{text.rstrip()}\n")
        return
    block = f"{BEGIN_MARKER}\n{header}\n\n{text.rstrip()}\n{END_MARKER}"
    if BEGIN_MARKER in existing and END_MARKER in existing:
        head, _, rest = existing.partition(BEGIN_MARKER)
        _, _, tail = rest.partition(END_MARKER)
        DOC.write_text(head + block + tail)
    else:
        DOC.write_text(existing.rstrip("\n") + "\n\n## Hot queries: EXPLAIN ANALYZE\n\n" + block + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.explain", description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=("full", "small", "tiny"), default="full")
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument(
        "--only",
        default=",".join(ENDPOINT_KEYS),
        help=f"a comma-separated list of {', '.join(ENDPOINT_KEYS)}; a subset is appended to the log, not rewritten",
    )
    parser.add_argument("--note", default="", help="a line recorded with the plans (e.g. the machine's load)")
    args = parser.parse_args(argv)
    only = frozenset(key.strip() for key in args.only.split(",") if key.strip())
    if unknown := only - set(ENDPOINT_KEYS):
        parser.error(f"unknown endpoints: {', '.join(sorted(unknown))}")
    with harness.fresh_databases(f"expl{secrets.token_hex(3)}"):
        from bench import dataset
        from bench.run import _commit

        size = dataset.SIZES[args.size]
        data = dataset.build_people(replace(size, onsale_clients=4), secrets.token_hex(3), print)
        dataset.build_stadium(data, print)
        dataset.build_big_event(data, print)
        dataset.sell_big_event(data, print)
        dataset.settle(data, print)
        text, failed = explain_all(data, only=only)
        command = " ".join(["python -m bench.explain", *(argv if argv is not None else sys.argv[1:])])
        header = (
            f"Generated by `{command}` at {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {_commit()}, "
            f"on {harness.machine_description()}, load average {' / '.join(f'{x:.2f}' for x in os.getloadavg())}: "
            f"stadium {size.stadium_capacity:,} seats, arena {size.big_capacity:,} seats with {size.big_sold:,} sold."
            + (f" {args.note}" if args.note else "")
        )
    print(text)
    if failed:
        # Recording plans of a redirect would pass them off as the endpoint's.
        print("Not recorded: these endpoints did not answer 2xx:\n  " + "\n  ".join(failed), file=sys.stderr)
        return 1
    if not args.no_record:
        record(text, header, append=only != frozenset(ENDPOINT_KEYS))
        print(f"Recorded in {DOC.relative_to(harness.PROJECT_DIR)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
