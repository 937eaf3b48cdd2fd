"""Capacity model: CPU per purchase, per scan and per seat-map read in each tier of the deploy/ topology.

    deploy/ctl up && eval "$(deploy/ctl env)"
    .venv/bin/python -m bench.capacity --target https://127.0.0.1:5743 --cacert deploy/run/tls/cert.pem

It builds one event of its own (a general-admission section big enough never to sell out, a 1,000-seat section for
the seat-map reads) and buyers, then runs four phases against the running topology, each for ``--seconds``:

1. purchases: hold 2 seats chosen on the map (each client its own, no competitor), pay (two requests per
   purchase); then the same with 2 best-available places of a 20,000-place standing floor;
2. scans: each ticket of phase 1 admitted once at the gate (QR codes signed here with the topology's key);
3. seat-map reads with the seats replica serving them;
4. the same reads with the replica stopped (they fall back to the seats primary), then the replica started again.

Around each phase it reads the CPU time (/proc: user + system, with reaped children) of every process of the
topology, by tier: the app servers, nginx, each PgBouncer, Redis and each PostgreSQL server (postmaster and its
backends). CPU per operation = tier CPU over the phase / operations that succeeded. The load generator runs on the
same machine but is not counted. It prints the per-tier figures, purchases/s per core of each tier and what 8, 32 and
128 cores per tier would carry (docs/DEPLOYMENT.md, "Capacity").
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

from bench import harness, topology
from bench.world import SectionSpec, bench_person, published_event

UTILISATION = 0.7  # plan each tier to run at most this busy: queueing delay explodes above it
CORE_COUNTS = (8, 32, 128)
GA_CAPACITY = 20_000
MAP_ROWS, MAP_SEATS = 25, 40
ARENA_ROWS, ARENA_SEATS = 100, 100


# --- CPU by tier ---------------------------------------------------------------------------------------------------
def _proc_seconds(pid: int, *, children_done: bool) -> float:
    with contextlib.suppress(OSError, ValueError, IndexError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        used = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children_done else 0)
        return used / os.sysconf("SC_CLK_TCK")
    return 0.0


def _children(parents: set[int]) -> dict[int, int]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                if parent in parents:
                    found[int(entry.name)] = parent
    return found


def cpu_by_tier(status: dict) -> dict[str, float]:
    """CPU seconds so far of each tier: a process tree per part (its own time, its live children's, and what its
    exited children left in its cutime/cstime)."""
    roots: dict[str, int] = {}
    for name, pid in status["postgres"].items():
        if pid:
            roots[f"postgres:{name}"] = pid
    for name, pid in status["pgbouncer"].items():
        if pid:
            roots[f"pgbouncer:{name}"] = pid
    for name, app in status["apps"].items():
        if app["pid"]:
            roots[name] = app["pid"]
    for name in ("nginx", "redis"):
        if status.get(name):
            roots[name] = status[name]
    children = _children(set(roots.values()))
    totals = {tier: _proc_seconds(pid, children_done=True) for tier, pid in roots.items()}
    by_pid = {pid: tier for tier, pid in roots.items()}
    for child, parent in children.items():
        totals[by_pid[parent]] += _proc_seconds(child, children_done=True)
    apps = sum(seconds for tier, seconds in totals.items() if tier.startswith("app"))
    merged = {tier: seconds for tier, seconds in totals.items() if not tier.startswith("app")}
    merged["app"] = apps
    return merged


class Meter:
    """CPU per tier between start() and stop()."""

    def __init__(self, ctl: topology.Topology) -> None:
        self.ctl = ctl

    def __enter__(self) -> Meter:
        self.status = self.ctl.status()
        self.before = cpu_by_tier(self.status)
        self.started = time.monotonic()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.monotonic() - self.started
        after = cpu_by_tier(self.status)
        self.used = {tier: max(0.0, after.get(tier, 0.0) - seconds) for tier, seconds in self.before.items()}


# --- The data set ----------------------------------------------------------------------------------------------------
def build(*, buyers: int) -> dict:
    """One event (a general-admission section that never sells out, a 1,000-seat section) and buyers with tokens."""
    from django.db import connections

    run = uuid.uuid4().hex[:8]
    world = published_event(
        label="Capacity",
        run=run,
        sections=[
            SectionSpec("Floor", capacity=GA_CAPACITY),
            SectionSpec("Stalls", rows=MAP_ROWS, seats_per_row=MAP_SEATS),
            SectionSpec("Arena", rows=ARENA_ROWS, seats_per_row=ARENA_SEATS),
        ],
        price=Decimal("10.00"),
    )

    people = [bench_person(f"cap{index}-{run}@bench.test", credits=Decimal("100000.00")) for index in range(buyers)]
    gate = bench_person(f"capgate-{run}@bench.test", is_staff=True, organization_id=world.organization_id, role="GATE")
    with connections["seats"].cursor() as cursor:
        cursor.execute(
            "SELECT id FROM inventory_seat WHERE section_id = %s ORDER BY row_label, number",
            [world.section_ids["Arena"]],
        )
        arena_seats = [str(row[0]) for row in cursor.fetchall()]
    return {
        "event_id": str(world.event_id),
        # Each client its own seats of the arena: a chosen-seat purchase that meets no competitor.
        "arena_seats": [arena_seats[index::buyers] for index in range(buyers)],
        "floor": str(world.section_ids["Floor"]),
        "stalls": str(world.section_ids["Stalls"]),
        "tokens": [person.token for person in people],
        "gate_token": gate.token,
    }


# --- The phases ------------------------------------------------------------------------------------------------------
def phase_purchases(
    world: dict, *, base: str, clients: int, seconds: float, meter: Meter, best_available: bool = False
) -> tuple[int, harness.Stats]:
    """Hold two seats (chosen on the map, each client its own; or ``best_available`` in the standing floor), pay."""
    stats = harness.Stats()
    done = [0]
    lock = threading.Lock()

    def buy(index: int, client: harness.Client):
        if best_available:
            body = {"section_id": world["floor"], "quantity": 2}
        else:
            mine = world["arena_seats"][index]
            if len(mine) < 2:
                return "done"
            body = {"seat_ids": [mine.pop(), mine.pop()]}
        held = client.request("hold", "POST", f"/api/v1/events/{world['event_id']}/holds/", json=body)
        if held is None or held.status_code != 201:
            return
        paid = client.request(
            "checkout",
            "POST",
            "/api/v1/orders/",
            json={"event_id": world["event_id"]},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        if paid is not None and paid.status_code == 201:
            with lock:
                done[0] += 1
        return None

    with meter:
        harness.run_clients(
            buy, clients=clients, base_url=base, stats=stats, seconds=seconds, token_for=lambda i: world["tokens"][i]
        )
    return done[0], stats


def phase_scans(world: dict, *, base: str, clients: int, seconds: float, meter: Meter) -> tuple[int, harness.Stats]:
    from django.db import connections

    from inventory import services as inventory_services

    with connections["seats"].cursor() as cursor:
        cursor.execute(
            "SELECT id, owner_id FROM inventory_seat WHERE event_id = %s AND status = 'SOLD'", [world["event_id"]]
        )
        tickets = cursor.fetchall()
    tokens = [inventory_services.ticket_qr(seat_id=seat_id, owner_id=owner_id)[0] for seat_id, owner_id in tickets]
    stats = harness.Stats()
    admitted = [0]
    lock = threading.Lock()

    def scan(index: int, client: harness.Client):
        with lock:
            if not tokens:
                return "done"
            token = tokens.pop()
        answer = client.request(
            "scan", "POST", "/api/v1/scan/", json={"event_id": world["event_id"], "gate": "North", "token": token}
        )
        if answer is not None and answer.status_code == 200 and answer.json().get("result") == "SUCCESS":
            with lock:
                admitted[0] += 1
        return None

    with meter:
        harness.run_clients(
            scan, clients=clients, base_url=base, stats=stats, seconds=seconds, token_for=lambda i: world["gate_token"]
        )
    return admitted[0], stats


def phase_reads(world: dict, *, base: str, clients: int, seconds: float, meter: Meter) -> tuple[int, harness.Stats]:
    stats = harness.Stats()
    path = f"/api/v1/events/{world['event_id']}/seats/?section={world['stalls']}"

    def read(index: int, client: harness.Client) -> None:
        client.request("seat_map", "GET", path)

    with meter:
        harness.run_clients(
            read, clients=clients, base_url=base, stats=stats, seconds=seconds, token_for=lambda i: world["tokens"][i]
        )
    return stats.operations["seat_map"].successes, stats


def settle(world: dict, *, base: str, clients: int) -> None:
    """Not measured: VACUUM ANALYZE of the freshly published seats (else autovacuum's work on 21,000 new rows is
    billed to the first phase), the replica catching up, then a short warm-up (connections, caches)."""
    from django.db import connections

    with connections["seats"].cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) inventory_seat")
    time.sleep(5)

    class Idle:
        def __enter__(self):
            return self

        def __exit__(self, *exc: object) -> None:
            return None

    phase_purchases(world, base=base, clients=clients, seconds=5, meter=Idle())  # type: ignore[arg-type]


# --- The model -------------------------------------------------------------------------------------------------------
def per_operation(meter: Meter, operations: int) -> dict[str, float]:
    """CPU milliseconds per operation of each tier."""
    return {tier: round(seconds * 1000 / operations, 3) for tier, seconds in meter.used.items()} if operations else {}


def model(per_purchase: dict[str, float]) -> dict:
    """Purchases/s one core of each tier carries, and what N cores per tier carry at UTILISATION."""
    rows = {}
    for tier, ms in sorted(per_purchase.items(), key=lambda kv: -kv[1]):
        if ms <= 0:
            continue
        per_core = 1000 / ms
        rows[tier] = {
            "cpu_ms": ms,
            "per_core": round(per_core, 1),
            **{str(cores): round(per_core * cores * UTILISATION) for cores in CORE_COUNTS},
        }
    return rows


def print_report(report: dict, out=sys.stdout) -> None:
    print(f"\n== Capacity model ({report['machine']}, load average {report['load']})", file=out)
    for phase in ("purchases", "purchases_best_available", "scans", "reads_replica", "reads_primary"):
        entry = report[phase]
        print(
            f"\n{phase}: {entry['operations']} in {entry['wall_s']} s ({entry['per_s']}/s); CPU ms per operation: "
            + ", ".join(f"{tier} {ms}" for tier, ms in sorted(entry["cpu_ms"].items(), key=lambda kv: -kv[1])),
            file=out,
        )
    print(f"\npurchases/s at {int(UTILISATION * 100)} % busy, per tier:", file=out)
    print(f"{'tier':<24}{'CPU ms':>8}{'per core':>10}" + "".join(f"{c:>9} c" for c in CORE_COUNTS), file=out)
    for tier, row in report["model"].items():
        print(
            f"{tier:<24}{row['cpu_ms']:>8}{row['per_core']:>10}" + "".join(f"{row[str(c)]:>11}" for c in CORE_COUNTS),
            file=out,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", required=True)
    parser.add_argument("--cacert", default=None)
    parser.add_argument("--insecure", action="store_true")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--json", default=None, help="Also write the report here.")
    args = parser.parse_args(argv)
    topology.configure_tls(insecure=args.insecure, cacert=args.cacert)
    harness.setup_django()
    ctl = topology.Topology()
    world = build(buyers=args.clients)
    base = args.target.rstrip("/")
    report: dict = {"machine": harness.machine_description(), "load": round(os.getloadavg()[0], 1)}

    def record(name: str, operations: int, meter: Meter) -> None:
        report[name] = {
            "operations": operations,
            "wall_s": round(meter.wall, 1),
            "per_s": round(operations / meter.wall, 1) if meter.wall else 0,
            "cpu_ms": per_operation(meter, operations),
        }

    settle(world, base=base, clients=args.clients)
    meter = Meter(ctl)
    purchases, _stats = phase_purchases(world, base=base, clients=args.clients, seconds=args.seconds, meter=meter)
    record("purchases", purchases, meter)
    meter = Meter(ctl)
    purchases, _stats = phase_purchases(
        world, base=base, clients=args.clients, seconds=args.seconds / 2, meter=meter, best_available=True
    )
    record("purchases_best_available", purchases, meter)
    meter = Meter(ctl)
    scans, _stats = phase_scans(world, base=base, clients=args.clients, seconds=args.seconds, meter=meter)
    record("scans", scans, meter)
    meter = Meter(ctl)
    reads, _stats = phase_reads(world, base=base, clients=args.clients, seconds=args.seconds / 2, meter=meter)
    record("reads_replica", reads, meter)
    ctl.run("stop", "pg:seats_replica")
    try:
        time.sleep(1.5)  # the app servers' freshness check (1 s) notices and sends the reads to the primary
        meter = Meter(ctl)
        reads, _stats = phase_reads(world, base=base, clients=args.clients, seconds=args.seconds / 2, meter=meter)
        record("reads_primary", reads, meter)
    finally:
        ctl.run("start", "pg:seats_replica")
    report["model"] = model(report["purchases"]["cpu_ms"])
    print_report(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
