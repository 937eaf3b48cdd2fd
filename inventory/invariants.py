"""The facts of seats_db that the invariant checker (``ops.invariants``) compares: read-only, over inventory's tables.

Every query reads ``connections[DB_ALIAS]`` as it stands: the checker opens one REPEATABLE READ, READ ONLY
transaction on it before the first read, so the tickets and the gate's entries come from one snapshot. The check that
needs nothing but this database (at most one SUCCESS entry per seat) is answered here in SQL; the seat counts for
availability are read outside that snapshot, around the selector call they are compared with.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import connections

from inventory import DB_ALIAS
from inventory.contract import TICKET_STATUSES, EntryLogResult, SeatStatus
from inventory.models import EntryLog, Seat

SEAT_TABLE = Seat._meta.db_table
ENTRY_LOG_TABLE = EntryLog._meta.db_table

# Written into the SQL as literals, not parameters, so that the planner can use the partial index on SUCCESS entries.
HELD, AVAILABLE, SUCCESS = SeatStatus.HELD.value, SeatStatus.AVAILABLE.value, EntryLogResult.SUCCESS.value


@dataclass
class TicketFact:
    id: str
    status: str
    owner_id: str
    order_id: str


@dataclass
class SeatFacts:
    tickets: dict[str, TicketFact]
    # (seat_id, count) of every seat admitted more than once
    double_successes: list[tuple[str, int]]


def _rows(sql: str, params: list | None = None) -> list[tuple]:
    with connections[DB_ALIAS].cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def seat_facts() -> SeatFacts:
    """Every ticket (a seat SOLD, CHECKED_IN or LISTED), and the seats with more than one SUCCESS entry."""
    tickets = {
        row[0]: TicketFact(*row)
        for row in _rows(
            f"SELECT id::text, status, owner_id::text, order_id::text FROM {SEAT_TABLE} "  # noqa: S608
            "WHERE status = ANY(%s)",
            [list(TICKET_STATUSES)],
        )
    }
    double_successes = _rows(
        f"SELECT seat_id::text, count(*) FROM {ENTRY_LOG_TABLE} WHERE result = '{SUCCESS}' "  # noqa: S608
        "AND seat_id IS NOT NULL GROUP BY seat_id HAVING count(*) > 1"
    )
    return SeatFacts(tickets=tickets, double_successes=double_successes)


def effective_seat_counts() -> dict[str, dict[str, dict[str, int]]]:
    """event -> section -> status -> count of live seats, an expired hold counted as AVAILABLE (by the database's
    clock at the moment of the query, not the transaction's start)."""
    counts: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for event_id, section_id, status, count in _rows(
        "SELECT event_id::text, section_id::text, "  # noqa: S608 - names and values from the model
        f"CASE WHEN status = '{HELD}' AND hold_expires_at <= clock_timestamp() THEN '{AVAILABLE}' ELSE status END, "
        f"count(*) FROM {SEAT_TABLE} WHERE deleted_at IS NULL GROUP BY 1, 2, 3"
    ):
        counts[event_id][section_id][status] = count
    return {
        event: {section: dict(statuses) for section, statuses in sections.items()} for event, sections in counts.items()
    }
