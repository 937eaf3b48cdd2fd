"""Under gunicorn every worker counts into PROMETHEUS_MULTIPROC_DIR and any worker's /metrics adds them all up."""

from __future__ import annotations

import httpx
import pytest

from bench import harness
from core.databases import ALL_DATABASES


def _livez_count(text: str) -> float:
    for line in text.splitlines():
        if line.startswith("ticketremaster_http_requests_total{") and 'route="livez"' in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.mark.integration
@pytest.mark.django_db(databases=ALL_DATABASES, transaction=True)
def test_the_workers_counts_are_summed_and_a_restart_starts_from_zero(tmp_path):
    folder = tmp_path / "metrics"
    env = harness.server_env({"PROMETHEUS_MULTIPROC_DIR": str(folder)})
    for _run in range(2):  # the second start must not add the first run's counts
        with harness.Server(port=harness.free_port(), workers=2, threads=2, env=env) as server:
            with httpx.Client(base_url=server.base_url, timeout=10) as client:
                for _ in range(20):
                    assert client.get("/livez").status_code == 200
            # New connections, so the scrapes land on either worker: each sees the sum.
            counts = {_livez_count(httpx.get(f"{server.base_url}/metrics", timeout=10).text) for _ in range(4)}
            assert counts == {20.0}
        assert len(list(folder.glob("*.db"))) >= 2  # one file set per worker that answered
