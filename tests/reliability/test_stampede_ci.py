"""CI-size stampede: a crowd of buyers against a real gunicorn server, then recovery and the invariant checker.

Full size: `.venv/bin/python -m bench.stampede --clients 64 --seconds 60` (docs/RELIABILITY.md).
"""

from __future__ import annotations

import pytest

from bench import harness, stampede

ALL = ["default", "seats", "orders", "events"]


@pytest.mark.integration
@pytest.mark.concurrency
@pytest.mark.django_db(databases=ALL, transaction=True)
def test_a_short_stampede_loses_cleanly_and_leaves_every_invariant_intact():
    # A free port, not a fixed one: parallel runs of the suite (and other engineers' servers) must not collide.
    result = stampede.run(clients=16, seconds=15, workers=2, port=harness.free_port(), title="Stampede (CI size)")
    result.print(title="Stampede (CI size)")
    stats = result.stats
    assert stats.server_errors == 0, stats.server_error_samples
    assert stats.transport_errors == 0
    assert result.anomalies == []
    assert result.invariants.ok, [v.as_dict() for v in result.invariants.violations]
    # The crowd really fought: purchases went through, and most attempts to hold the hot seats lost with a 409.
    assert stats.operations["checkout"].successes > 0
    holds = stats.operations["hold_seats"]
    assert holds.codes["SEAT_UNAVAILABLE"] > holds.successes
    # Every loss carried a stable error code from the API, none an unexplained HTTP status.
    assert not [code for code in stats.codes() if code.startswith("HTTP_") or code == "SERVER_ERROR"], stats.codes()
