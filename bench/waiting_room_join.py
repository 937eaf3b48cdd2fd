"""What one waiting-room join costs: statements and CPU (this process's Django, the PostgreSQL backends serving it).

    .venv/bin/python -m bench.waiting_room_join [--arrivals 2000] [--late 500]

Bounded and local: fresh databases of their own on the embedded PostgreSQL (dropped afterwards). ``--arrivals``
verified accounts join one after another before the start, then the sale starts and ``--late`` more join at the
back, all on one connection per database, through the service (``waiting_room_join``). The report is statements
(BEGIN and COMMIT included) and CPU milliseconds per join, Django and PostgreSQL apart, for each phase. CPU is read
from /proc, so the figure is the work a join costs whatever else the machine is doing; the wall-clock rate is given
for reference only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import secrets
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from bench import harness
from bench.scenarios import _cpu_seconds


def _backend_pids() -> list[int]:
    from django.db import connections

    pids = []
    for alias in ("default", "orders"):
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pids.append(cursor.fetchone()[0])
    return pids


def _measure(join: Callable[[uuid.UUID, int], None], user_ids: list[uuid.UUID]) -> dict:
    from django.db import connections

    statements = [0]

    def count(execute, sql, params, many, context):
        statements[0] += 1
        return execute(sql, params, many, context)

    backends = _backend_pids()
    postgres_before = sum(_cpu_seconds(pid) for pid in backends)
    django_before = time.process_time()
    started = time.perf_counter()
    wrappers = [connections[alias].execute_wrapper(count) for alias in ("default", "orders")]
    for wrapper in wrappers:
        wrapper.__enter__()
    try:
        for index, user_id in enumerate(user_ids):
            join(user_id, index)
    finally:
        for wrapper in reversed(wrappers):
            wrapper.__exit__(None, None, None)
    wall = time.perf_counter() - started
    django_cpu = time.process_time() - django_before
    postgres_cpu = sum(_cpu_seconds(pid) for pid in backends) - postgres_before
    joins = len(user_ids)
    return {
        "joins": joins,
        "statements_per_join": round(statements[0] / joins, 2),
        "cpu_ms_per_join_django": round(django_cpu * 1000 / joins, 2),
        "cpu_ms_per_join_postgres": round(postgres_cpu * 1000 / joins, 2),
        "joins_per_second_one_thread": round(joins / wall, 1),
    }


def run(arrivals: int, late: int) -> dict:
    from bench.waitingroom import _arrivals
    from orders.models import WaitingRoom
    from orders.services import waiting_room as rooms
    from orders.tests.factories import make_event

    run_id = secrets.token_hex(3)
    setup = make_event(general=True, rows=1, seats_per_row=10, price="10.00")
    now = dt.datetime.now(dt.UTC)
    rooms.waiting_room_configure(
        event_id=setup.event.pk,
        active=True,
        opens_at=now - dt.timedelta(minutes=10),
        starts_at=now + dt.timedelta(hours=1),
        rate_per_minute=60,
        pass_minutes=10,
        per_address_cap=4,
        actor_id=None,
    )
    user_ids = _arrivals(arrivals + late, run_id)

    def join(user_id: uuid.UUID, index: int) -> None:
        address = f"10.{index // 65536 % 256}.{index // 256 % 256}.{index % 256}"
        rooms.waiting_room_join(event_id=setup.event.pk, user_id=user_id, client_address=address)

    result = {"early": _measure(join, user_ids[:arrivals])}
    WaitingRoom.objects.filter(event_id=setup.event.pk).update(starts_at=dt.datetime.now(dt.UTC))
    join(user_ids[arrivals], arrivals)  # the first late join draws everyone: not a join's usual cost
    result["late"] = _measure(lambda user_id, index: join(user_id, arrivals + 1 + index), user_ids[arrivals + 1 :])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arrivals", type=int, default=2000)
    parser.add_argument("--late", type=int, default=500)
    options = parser.parse_args()
    with harness.fresh_databases(secrets.token_hex(3)):
        result = run(options.arrivals, options.late)
    result["load_average"] = Path("/proc/loadavg").read_text().split()[:3]
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
