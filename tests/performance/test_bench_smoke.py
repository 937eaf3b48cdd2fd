"""The benchmark (``python -m bench.run``) at its tiny size, end to end: it builds its data set through the services,
starts gunicorn on the test databases, drives every scenario over HTTP and audits the invariants after each.

No timing is asserted (CI machines vary); the test proves the suite still runs and that every scenario stays
correct: nothing oversold, exactly one admission per ticket, no 5xx, no unexpected error code, invariants hold.
"""

from __future__ import annotations

import pytest

from bench import harness
from bench.run import SCENARIOS, Options, cpu_table, goals_table, run_benchmark, server_table
from core.databases import ALL_DATABASES


@pytest.mark.integration
@pytest.mark.django_db(databases=ALL_DATABASES, transaction=True)
def test_tiny_benchmark_runs_every_scenario_correctly():
    port = next((p for p in (8111, 8112, 8113) if not harness._port_in_use(p)), None) or harness.free_port()
    report = run_benchmark(Options(size="tiny", workers=2, port=port, onsale_seconds=60), log=lambda line: None)

    assert [result.scenario for result in report.results] == list(SCENARIOS)
    problems = {result.scenario: result.problems for result in report.results if result.problems}
    assert not problems, f"{problems}\n{goals_table(report)}"
    by_name = {result.scenario: result for result in report.results}
    onsale = by_name["onsale"].figures
    assert onsale["seats_sold_in_db"] == onsale["zone_seats"] == onsale["confirmed_seats"]
    assert onsale["server_errors"] == 0
    gate = by_name["gate"].figures
    assert gate["passes"]["scan"]["results"] == {"SUCCESS": gate["tickets"]}
    assert gate["passes"]["rescan"]["results"] == {"DUPLICATE": gate["tickets"]}
    # The server reported its query counts, so the table can say where round trips go.
    assert "checkout" in server_table(report) and "scan" in server_table(report)
    # ... and how many of its transactions wrote (each a COMMIT and its WAL flush): a checkout writes, a seat map not.
    server = {name: figures for result in report.results for name, figures in result.server.items()}
    assert server["checkout"]["write_transactions_median"] >= 1
    assert server["seat_map"]["write_transactions_median"] == 0
    # CPU per purchase and per scan, split by process.
    cpu = cpu_table(report)
    assert "| purchase (onsale) |" in cpu and "| scan (gate, scan) |" in cpu
    assert by_name["memory"].figures["workers"] == 2
