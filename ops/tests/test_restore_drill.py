"""Backups that restore: a backup taken while a stampede runs comes back clean after recover_flows.

CI size here (under a minute); the full-size drill (a fresh PostgreSQL server, a longer and larger crowd) is marked
``slow``: ``RUN_SLOW=1 bash scripts/test.sh ops/tests/test_restore_drill.py``. Figures: docs/RELIABILITY.md.
"""

from __future__ import annotations

import re

import pytest

from core.databases import ALL_DATABASES
from ops import backup
from ops.tests import restore_drill


def _drill_test(function):
    """Integration, real threads and processes, committed data in every database."""
    for mark in (
        pytest.mark.integration,
        pytest.mark.concurrency,
        pytest.mark.django_db(databases=ALL_DATABASES, transaction=True),
    ):
        function = mark(function)
    return function


@_drill_test
def test_a_backup_taken_during_a_stampede_restores_into_fresh_databases_clean(tmp_path):
    result = restore_drill.drill(tmp_path, clients=12, seconds=12, backup_after=5, new_server=False)
    assert result.stampede.ok
    manifest = result.manifest
    assert set(manifest["databases"]) == set(ALL_DATABASES)
    assert manifest["consistent_cut"]["freeze_ms"] < 10_000
    assert "invariants hold" in result.restore_output
    # The purchases stopped between their steps at the cut were finished or undone in the restored copy.
    examined = int(re.search(r"purchase: examined=(\d+)", result.restore_output).group(1))
    assert examined >= result.unfinished_at_cut
    # The copy is of the middle of the run: it has sales, and fewer than the end of the run.
    assert result.restored_counts["tickets"] > 0
    assert result.restored_counts["ledger rows"] <= result.final_counts["ledger rows"]


@pytest.mark.slow
@_drill_test
def test_full_size_drill_restores_into_a_fresh_server_clean(tmp_path):
    result = restore_drill.drill(tmp_path, clients=32, seconds=45, backup_after=20, new_server=True)
    assert result.stampede.ok
    assert result.restored_counts["tickets"] > 0


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_a_damaged_dump_is_refused_before_anything_is_restored(tmp_path):
    folder, manifest = backup.backup(output=tmp_path)
    assert {entry["restore_point"] is not None for entry in manifest["databases"].values()} == {True}
    dump = folder / manifest["databases"]["seats"]["file"]
    dump.write_bytes(dump.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(backup.BackupError, match="does not match its checksum"):
        backup.restore(source=folder)


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_restore_refuses_databases_that_hold_data(tmp_path):
    folder, _manifest = backup.backup(output=tmp_path)
    with pytest.raises(backup.BackupError, match="not empty"):
        backup.restore(source=folder)
