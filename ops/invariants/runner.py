"""``check_all``: read every domain's facts in one snapshot per database, then run every check over them."""

from __future__ import annotations

import time

from ops.invariants import money, seats, tickets
from ops.invariants.facts import load_facts, snapshots
from ops.invariants.report import Report


def check_all(*, grace_seconds: float = 0.0, limit_per_check: int = 1000) -> Report:
    """Run every check and return the report. ``grace_seconds``: flows touched more recently than this are in
    flight (a live system), and are left out instead of being reported."""
    started = time.monotonic()
    report = Report(limit_per_check=limit_per_check)
    with snapshots():
        facts = load_facts(grace_seconds=grace_seconds)
    report.examined = facts.examined()
    money.check_balances(report, facts.ledger)
    money.check_card_money(report, facts.ledger)
    money.check_flow_money(report, facts)
    tickets.check_tickets(report, facts)
    tickets.check_refunds(report, facts.orders)
    tickets.check_lines(report, facts)
    tickets.check_listings(report, facts)
    tickets.check_unfinished(report, facts.orders)
    seats.check_entries(report, facts.seats)
    seats.check_availability(report)
    report.elapsed_s = time.monotonic() - started
    return report
