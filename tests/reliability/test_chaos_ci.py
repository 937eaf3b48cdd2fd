"""CI-size chaos run: the stampede while workers are SIGKILLed (from outside and at every named flow step),
connections are terminated mid-transaction and the orders PostgreSQL server is restarted; then recovery and the
invariant checker must find nothing wrong.

It runs `python -m bench.chaos` in a subprocess, which builds its own fresh databases (and a dedicated PostgreSQL
for orders) and drops them afterwards. Full size: `.venv/bin/python -m bench.chaos --clients 64 --seconds 90`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bench import harness

PROJECT = Path(__file__).resolve().parents[2]


@pytest.mark.integration
@pytest.mark.concurrency
def test_a_short_chaos_run_recovers_to_zero_violations(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("DJANGO_SETTINGS_MODULE", "DJANGO_DEBUG")}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.chaos",
            "--clients",
            "12",
            "--seconds",
            "25",
            "--workers",
            "2",
            "--port",
            str(harness.free_port()),
            "--kill-every",
            "2.5",
            "--fault-probability",
            "0.05",
            "--pg-dir",
            str(tmp_path / "pg"),
        ],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    print(output[-6000:])
    assert result.returncode == 0, output[-6000:]
    assert "verdict: PASS" in output
    assert "invariants: PASS" in output
    assert re.search(r"server errors \(5xx\): 0;", output)
    # The faults really happened: workers died, the orders server went down and came back, and while it was down
    # the API answered with the stable 503 code.
    assert int(re.search(r"worker SIGKILLs \(external\): (\d+)", output).group(1)) >= 2
    assert "database restarts: 1" in output
    assert "'503 DATABASE_UNAVAILABLE'" in output
