"""What live availability costs: one poll of an open seat map (``GET /events/<id>/changes/?since=&section=``) on the
demo's 3,200-seat stadium section, with nothing changed (the idle case a thousand watchers mostly are) and with a
few seats changed, anonymous and signed in. The issue's budget: 1,000 open maps of one hot event under 10 % of one
core at idle.

    .venv/bin/python -m bench.live_map [--polls 2000] [--keep-data]

Fresh databases of its own on the configured server (like ``bench.run``), the demo data (``seed_demo``), dropped
afterwards unless --keep-data. Polls go through Django's full stack in this process (middleware, sessions), without
a network hop. Per poll: server time (median), this process's CPU (the web side), and PostgreSQL's execution time of
the poll's query (EXPLAIN ANALYZE, median of 50); then the cores 1,000 maps polling every 2 s would take.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import statistics
import time

from bench import harness

MAPS = 1000
POLL_SECONDS = 2


def _poll_cost(client, path: str, polls: int) -> tuple[float, float, int]:
    """(median server ms, mean CPU ms of this process, seats in the answer) over ``polls`` requests."""
    for _ in range(min(200, polls)):
        client.get(path)
    samples = []
    started_cpu = time.process_time()
    for _ in range(polls):
        started = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
    cpu_ms = (time.process_time() - started_cpu) * 1000 / polls
    assert response.status_code == 200, response.status_code
    return statistics.median(samples), cpu_ms, len(json.loads(response.content)["seats"])


def _query_ms(event_id, section_id, since, now) -> float:
    """PostgreSQL's execution time of the poll's query, median of 50 EXPLAIN ANALYZE runs."""
    from django.db import connections

    from inventory import DB_ALIAS
    from inventory.selectors import _EFFECTIVE_STATUS, SEAT_TABLE

    sql = (
        f"EXPLAIN (ANALYZE, FORMAT TEXT) SELECT id, {_EFFECTIVE_STATUS} AS status, held_by_id FROM {SEAT_TABLE} "  # noqa: S608
        "WHERE event_id = %s AND section_id = ANY(%s) AND deleted_at IS NULL AND (updated_at > %s "
        "OR (status = 'HELD' AND hold_expires_at > %s AND hold_expires_at <= %s))"
    )
    times = []
    with connections[DB_ALIAS].cursor() as cursor:
        for _ in range(50):
            cursor.execute(sql, [now, event_id, [section_id], since, since, now])
            plan = "\n".join(row[0] for row in cursor.fetchall())
            times.append(float(re.search(r"Execution Time: ([\d.]+) ms", plan).group(1)))
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--polls", type=int, default=2000)
    parser.add_argument("--keep-data", action="store_true")
    args = parser.parse_args()

    with harness.fresh_databases(f"live{secrets.token_hex(3)}", keep=args.keep_data):
        _run(args.polls)


def _run(polls: int) -> None:
    import datetime as dt
    import io

    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from accounts.models import User
    from events import selectors as events_selectors
    from events.models import Event
    from orders import services
    from orders.views.event_page import CHANGES_OVERLAP

    call_command("seed_demo", stdout=io.StringIO())
    derby = Event.objects.get(slug="harbour-derby")
    north = next(s for s in events_selectors.event_sections(event_id=derby.pk) if s.name == "North 2")
    path = f"/events/{derby.pk}/changes/?section={north.section_id}&since="
    anonymous, signed_in = Client(HTTP_HOST="127.0.0.1"), Client(HTTP_HOST="127.0.0.1")
    signed_in.force_login(User.objects.get(email="bob@demo.test"))

    rows = []
    quiet = int(time.time() * 1000) + int(CHANGES_OVERLAP.total_seconds() * 1000) + 1000
    time.sleep(CHANGES_OVERLAP.total_seconds() + 1.5)  # nothing written in the section within a poll's look-back
    for who, client in (("anonymous", anonymous), ("signed in", signed_in)):
        rows.append((f"idle, {who}", *_poll_cost(client, path + str(quiet), polls)))
    alice = User.objects.get(email="alice@demo.test")
    services.hold_seats(buyer_id=alice.pk, event_id=derby.pk, section_id=north.section_id, quantity=4)
    for who, client in (("anonymous", anonymous), ("signed in", signed_in)):
        rows.append((f"4 seats changed, {who}", *_poll_cost(client, path + str(quiet), polls)))
    now = timezone.now()
    query_ms = _query_ms(derby.pk, north.section_id, now - dt.timedelta(seconds=10), now)

    print(f"\nOne poll of a {3200:,}-seat section, {polls} polls each (Django in-process, no network):\n")
    print(f"| case | server ms (median) | web CPU ms | seats in answer | {MAPS:,} maps every {POLL_SECONDS} s |")
    print("|---|---|---|---|---|")
    rate = MAPS / POLL_SECONDS
    for name, server_ms, cpu_ms, seats in rows:
        cores = rate * (cpu_ms + query_ms) / 1000
        print(f"| {name} | {server_ms:.2f} | {cpu_ms:.2f} | {seats} | {cores:.2f} cores ({cores * 100:.0f} % of one) |")
    print(f"\nPostgreSQL execution time of the poll's query (median of 50): {query_ms:.3f} ms")
    print(
        f"Polls per second from {MAPS:,} maps: {rate:.0f}; budget at idle: 0.10 core, i.e. "
        f"{0.10 * 1000 / rate * 1000:.0f} µs per poll."
    )


if __name__ == "__main__":
    main()
