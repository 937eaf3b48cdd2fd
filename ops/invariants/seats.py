"""Seats alone: one admission per ticket, and the availability buyers see agrees with the seat rows.

The availability check calls ``inventory.selectors.section_availability`` on purpose, because that figure is what
buyers see; it runs after the snapshots are closed, since the selector reads the live rows through its own queries.
"""

from __future__ import annotations

from inventory import selectors as inventory_selectors
from inventory.invariants import SeatFacts, effective_seat_counts
from ops.invariants.report import Report


def check_entries(report: Report, seats: SeatFacts) -> None:
    for seat_id, count in seats.double_successes:
        report.add("ENTRY_DOUBLE_SUCCESS", f"{count} SUCCESS entries", seat=seat_id)


def _normalise(figure: dict) -> dict[str, dict[str, int]]:
    return {
        str(section): {str(status): int(count) for status, count in statuses.items() if count}
        for section, statuses in figure.items()
        if any(statuses.values())
    }


def check_availability(report: Report) -> None:
    """Buyers' availability figures must treat an expired hold as AVAILABLE, like the raw rows do.

    A hold may expire between the raw count and the selector's query, so the raw counts are taken before and after,
    and only a figure that matches neither is reported.
    """
    before = effective_seat_counts()
    figures = {event_id: _normalise(inventory_selectors.section_availability(event_id=event_id)) for event_id in before}
    after = effective_seat_counts()
    report.examined["availability_events"] = len(figures)
    for event_id, figure in figures.items():
        if figure in (before.get(event_id), after.get(event_id)):
            continue
        raw = after.get(event_id, {})
        for section_id in sorted(set(raw) | set(figure)):
            shown, truth = figure.get(section_id, {}), raw.get(section_id, {})
            if shown != truth:
                report.add(
                    "AVAILABILITY_MISMATCH",
                    f"section_availability says {shown}, the seat rows say {truth}",
                    event=event_id,
                    section=section_id,
                )
