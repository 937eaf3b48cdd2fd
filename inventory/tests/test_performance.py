"""The hot reads and writes on a 50,000-seat event: right answers at size, figures printed (integration).

Timings are printed with -s for docs/INVENTORY.md, never asserted: the benchmark suite (bench/) measures them.

Set INVENTORY_EXPLAIN=1 and run with -s to print EXPLAIN ANALYZE of each hot query (recorded in docs/INVENTORY.md).
"""

import os
import statistics
import time
import uuid

import pytest
from django.db import connections
from django.utils import timezone

from bench.harness import median_ms
from inventory import DB_ALIAS, selectors, services
from inventory.selectors import SEAT_COLUMNS, SEAT_TABLE
from inventory.tests.factories import ORGANIZATION_ID, seated_section

pytestmark = [pytest.mark.integration, pytest.mark.django_db(databases=["default", "seats"], transaction=True)]

SECTIONS, ROWS, PER_ROW = 50, 20, 50  # 50 sections x 1,000 seats


def _explain(sql: str, params: list) -> str:
    with connections[DB_ALIAS].cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.fixture
def big_event():
    """Built in the test database (transactional test: flushed afterwards, so it is rebuilt per test)."""
    event_id = uuid.uuid4()
    specs = [seated_section(ROWS, PER_ROW, price="30.00") for _ in range(SECTIONS)]
    started = time.monotonic()
    services.inventory_create_for_event(event_id=event_id, organization_id=ORGANIZATION_ID, sections=specs)
    created_in = time.monotonic() - started
    # Some traffic: 2,000 sold, 500 held, then statistics as a production server's autovacuum would have them.
    for i in range(250):
        buyer = uuid.uuid4()
        seats = services.seats_hold_best_available(
            event_id=event_id,
            buyer_id=buyer,
            quantity=8,
            hold_seconds=300,
            max_per_buyer=8,
            section_id=specs[i % SECTIONS].section_id,
        )
        services.seats_sell(buyer_id=buyer, order_id=uuid.uuid4(), seat_ids=[s.id for s in seats])
    for i in range(125):
        services.seats_hold_best_available(
            event_id=event_id,
            buyer_id=uuid.uuid4(),
            quantity=4,
            hold_seconds=300,
            max_per_buyer=8,
            section_id=specs[i % SECTIONS].section_id,
        )
    with connections[DB_ALIAS].cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {SEAT_TABLE}")
    return event_id, [spec.section_id for spec in specs], created_in


def test_hot_reads_and_writes_answer_correctly_on_a_50000_seat_event(big_event):
    event_id, section_ids, created_in = big_event
    now = timezone.now()

    seat_map_ms = median_ms(lambda: selectors.seat_map(event_id=event_id, section_id=section_ids[0]), 30)
    availability_ms = median_ms(lambda: selectors.section_availability(event_id=event_id), 30)
    summary_ms = median_ms(lambda: selectors.event_sales_summary(event_id=event_id), 10)
    print(  # noqa: T201 - recorded in docs/INVENTORY.md
        f"\n50,000 seats created in {created_in:.2f} s; seat map (1,000 seats) {seat_map_ms:.2f} ms; "
        f"availability {availability_ms:.2f} ms; sales summary {summary_ms:.2f} ms"
    )
    assert len(selectors.seat_map(event_id=event_id, section_id=section_ids[0])) == 1000
    assert sum(sum(s.values()) for s in selectors.section_availability(event_id=event_id).values()) == 50_000

    if os.environ.get("INVENTORY_EXPLAIN"):
        queries = {
            "seat_map": (
                f"SELECT id, row_label, number, x, y, CASE WHEN status = 'HELD' AND hold_expires_at <= %s "  # noqa: S608
                f"THEN 'AVAILABLE' ELSE status END, tier_id, is_accessible, price FROM {SEAT_TABLE} "
                "WHERE event_id = %s AND section_id = %s AND deleted_at IS NULL ORDER BY row_label, number",
                [now, event_id, section_ids[0]],
            ),
            "section_availability": (
                f"SELECT section_id, CASE WHEN status = 'HELD' AND hold_expires_at <= %s THEN 'AVAILABLE' "  # noqa: S608
                f"ELSE status END AS effective, count(*) FROM {SEAT_TABLE} WHERE event_id = %s "
                "AND deleted_at IS NULL GROUP BY section_id, effective",
                [now, event_id],
            ),
            "best_available_candidates": (
                f"SELECT id, section_id, row_label, number FROM {SEAT_TABLE} WHERE event_id = %s "  # noqa: S608
                "AND deleted_at IS NULL AND section_id = %s AND (status = 'AVAILABLE' OR (status = 'HELD' AND "
                "hold_expires_at <= %s)) ORDER BY section_id, y, row_label, number LIMIT 400",
                [event_id, section_ids[1], now],
            ),
            "holds_for_buyer": (
                f"SELECT {SEAT_COLUMNS} FROM {SEAT_TABLE} WHERE deleted_at IS NULL AND held_by_id = %s "  # noqa: S608
                "AND status = 'HELD' AND hold_expires_at > %s",
                [uuid.uuid4(), now],
            ),
            "tickets_for_owner": (
                f"SELECT {SEAT_COLUMNS} FROM {SEAT_TABLE} WHERE deleted_at IS NULL AND owner_id = %s",  # noqa: S608
                [uuid.uuid4()],
            ),
            "scan_admit (rolled back)": (
                f"UPDATE {SEAT_TABLE} SET status = 'CHECKED_IN', checked_in_at = %s WHERE id = %s AND "  # noqa: S608
                "event_id = %s AND owner_id = %s AND qr_version = 1 AND status = 'SOLD' AND deleted_at IS NULL",
                [now, uuid.uuid4(), event_id, uuid.uuid4()],
            ),
        }
        for name, (sql, params) in queries.items():
            print(f"\n--- {name}\n{_explain(sql, params)}")  # noqa: T201

    section = section_ids[-1]
    hold_ms, sell_ms, scan_ms = [], [], []
    for _ in range(40):
        buyer, order = uuid.uuid4(), uuid.uuid4()
        started = time.perf_counter()
        seats = services.seats_hold_best_available(
            event_id=event_id, buyer_id=buyer, quantity=2, section_id=section, hold_seconds=300, max_per_buyer=8
        )
        hold_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        services.seats_sell(buyer_id=buyer, order_id=order, seat_ids=[s.id for s in seats])
        sell_ms.append((time.perf_counter() - started) * 1000)
        token, _ = services.ticket_qr(seat_id=seats[0].id, owner_id=buyer)
        started = time.perf_counter()
        outcome = services.ticket_scan(token=token, event_id=event_id, gate="Perf", staff_id=uuid.uuid4())
        scan_ms.append((time.perf_counter() - started) * 1000)
        assert outcome.result == "SUCCESS"
    figures = {
        name: statistics.median(values)
        for name, values in (("best-available hold", hold_ms), ("sell", sell_ms), ("scan", scan_ms))
    }
    print("\n" + ", ".join(f"{name} {ms:.2f} ms" for name, ms in figures.items()))  # noqa: T201
