"""The covering partial index seat_live_availability_cov_idx serves the two whole-event aggregations.

The availability of every section and the sales dashboard read every live seat of an event; with all the columns
they need in the index, PostgreSQL answers both from the index alone (no heap row read) once the table is
vacuumed. The statements explained are the ones the selectors really send, captured as they run.
"""

from __future__ import annotations

import uuid

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from inventory import DB_ALIAS, selectors

pytestmark = [pytest.mark.integration, pytest.mark.django_db(databases=["default", "seats"], transaction=True)]

INDEX = "seat_live_availability_cov_idx"


def _fill(*, event_id: uuid.UUID, sections: int, seats_per_section: int) -> None:
    """Seats written in one statement: 3 of 5 sold, 1 of 10 held (half of those expired), the rest available."""
    with connections[DB_ALIAS].cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO inventory_seat (id, created_at, updated_at, deleted_at, event_id, section_id, tier_id,
                row_label, number, x, y, is_accessible, is_general_admission, price, status, held_by_id,
                hold_expires_at, owner_id, order_id, qr_version, checked_in_at)
            SELECT gen_random_uuid(), now(), now(), NULL, %s, s.section_id, s.tier_id, 'R' || (n / 50), n, n, 0,
                false, false, 25.00, kind.status,
                CASE WHEN kind.status = 'HELD' THEN gen_random_uuid() END,
                CASE WHEN kind.status = 'HELD' THEN now() + (CASE WHEN (n / 10) %% 2 = 0 THEN 1 ELSE -1 END)
                    * interval '10 minutes' END,
                CASE WHEN kind.status = 'SOLD' THEN gen_random_uuid() END,
                CASE WHEN kind.status = 'SOLD' THEN gen_random_uuid() END,
                1, NULL
            FROM (SELECT gen_random_uuid() AS section_id, gen_random_uuid() AS tier_id
                  FROM generate_series(1, %s)) AS s
            CROSS JOIN generate_series(1, %s) AS n
            CROSS JOIN LATERAL (SELECT CASE WHEN n %% 10 < 6 THEN 'SOLD' WHEN n %% 10 = 6 THEN 'HELD'
                                ELSE 'AVAILABLE' END AS status) AS kind
            """,
            [event_id, sections, seats_per_section],
        )


def _plan_of_what_the_selector_sends(call) -> str:
    with CaptureQueriesContext(connections[DB_ALIAS]) as captured:
        call()
    (statement,) = [query["sql"] for query in captured.captured_queries]
    with connections[DB_ALIAS].cursor() as cursor:
        cursor.execute("EXPLAIN (COSTS OFF) " + statement)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_availability_and_dashboard_aggregations_are_index_only_scans_of_the_covering_index():
    event_id = uuid.uuid4()
    _fill(event_id=event_id, sections=20, seats_per_section=1000)
    # The seat table holds every event, past ones included: this event is one in six of its rows. (When one event
    # is most of the table, as in the benchmark's data set, the planner reads the whole heap sequentially instead.)
    for _ in range(5):
        _fill(event_id=uuid.uuid4(), sections=20, seats_per_section=1000)
    with connections[DB_ALIAS].cursor() as cursor:
        # As after any autovacuum: the visibility map lets the scan skip the heap.
        cursor.execute("VACUUM (ANALYZE) inventory_seat")

    availability_plan = _plan_of_what_the_selector_sends(lambda: selectors.section_availability(event_id=event_id))
    summary_plan = _plan_of_what_the_selector_sends(lambda: selectors.event_sales_summary(event_id=event_id))

    assert f"Index Only Scan using {INDEX}" in availability_plan, availability_plan
    assert f"Index Only Scan using {INDEX}" in summary_plan, summary_plan
    # Same answers as always: 20 sections, counted right (expired holds count as available).
    figures = selectors.section_availability(event_id=event_id)
    assert len(figures) == 20
    assert all(counts == {"SOLD": 600, "HELD": 50, "AVAILABLE": 350} for counts in figures.values()), figures
    totals = selectors.event_sales_summary(event_id=event_id)["totals"]
    assert (totals["sold"], totals["held"], totals["available"], totals["total"]) == (12000, 1000, 7000, 20000)
