"""The raw-SQL ceiling: the very statements a purchase and a gate scan send, replayed with psycopg alone.

    .venv/bin/python -m bench.ceiling                        # full size: 16 concurrent sessions, 20 s per flow
    .venv/bin/python -m bench.ceiling --clients 32 --seconds 30
    .venv/bin/python -m bench.ceiling --size tiny --no-record

How: on fresh databases (the harness's), the real code runs once in this process through Django's test client
(API token, exactly the endpoints the benchmark calls): hold two seats + checkout, and one scan. ``bench.capture``
records every statement with its parameters and the transaction boundaries, per database. Then ``--clients``
threads, each with its own psycopg connection to each database (autocommit, client-side binding like Django's, BEGIN
and COMMIT sent as the real code does), replay that statement list over and over with the identities swapped for
fresh ones: another buyer and its token, two other free seats, a new order id (and the advisory-lock keys, ledger
reference and line ids derived from it), a new idempotency key, timestamps moved to now; for a scan, another sold
ticket and its owner. No Django, no HTTP, no JSON, no Python business logic: what is left is PostgreSQL, the network
round trips and psycopg. Our HTTP figure divided by this is the share of the ceiling we reach.

Concurrency: the server side of ``bench.run`` never has more database sessions per database than gunicorn workers,
so the default here (16) already exceeds what the app uses; 64 threads would need 256 connections on a server
configured for 300 that other work shares.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import secrets
import statistics
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench import harness
from core.locking import LockSpace, lock_key

PROJECT = harness.PROJECT_DIR
DOC = PROJECT / "docs" / "performance-log.md"
CEILING_MARKER = "<!-- bench.ceiling appends results below this line -->"


def _flow_key(value: uuid.UUID) -> int:
    (key,) = lock_key(LockSpace.FLOW, value)
    return key


def _buyer_event_key(buyer: uuid.UUID, event: uuid.UUID) -> int:
    # The second int of the pair; the first names the key space and is the same for every buyer.
    return lock_key(LockSpace.BUYER_HOLDS, buyer, event)[1]


@dataclass
class Template:
    """One captured request sequence and the identities it mentions."""

    statements: list  # bench.capture.Statement
    captured_at: dt.datetime
    keep: set[uuid.UUID]  # event, sections, tiers, organization, staff: the same for every replay
    swap: dict[str, Any]  # role name -> template value (buyer, token, seats, owner, idempotency key)
    uuids: list[uuid.UUID] = field(default_factory=list)

    def __post_init__(self) -> None:
        seen: dict[uuid.UUID, None] = {}
        for statement in self.statements:
            for value in _walk(statement.params):
                if isinstance(value, uuid.UUID):
                    seen.setdefault(value)
                elif isinstance(value, str):
                    try:
                        seen.setdefault(uuid.UUID(value))
                    except ValueError:
                        pass
        self.uuids = list(seen)


def _walk(params: Any):
    if isinstance(params, list | tuple):
        for item in params:
            yield from _walk(item)
    elif isinstance(params, dict):
        for item in params.values():
            yield from _walk(item)
    elif params is not None:
        yield params


class Substitution:
    """The value map of one replay: template identity -> this iteration's identity."""

    def __init__(self, template: Template, roles: dict[str, Any], event_id: uuid.UUID) -> None:
        self.uuids: dict[uuid.UUID, uuid.UUID] = {}
        explicit: dict[uuid.UUID, uuid.UUID] = {}
        for role, value in template.swap.items():
            if isinstance(value, list):
                explicit.update(dict(zip(value, roles[role], strict=True)))
            elif isinstance(value, uuid.UUID):
                explicit[value] = roles[role]
        for value in template.uuids:
            if value in template.keep:
                self.uuids[value] = value
            else:
                self.uuids[value] = explicit.get(value) or uuid.uuid4()
        self.strings = {str(old): str(new) for old, new in self.uuids.items()}
        self.strings.update({old.hex: new.hex for old, new in self.uuids.items()})
        for role in ("token", "idempotency_key"):
            if role in template.swap:
                self.strings[template.swap[role]] = roles[role]
        self.ints = {_flow_key(old): _flow_key(new) for old, new in self.uuids.items()}
        if "buyer" in template.swap:
            self.ints[_buyer_event_key(template.swap["buyer"], event_id)] = _buyer_event_key(roles["buyer"], event_id)
        self.shift = dt.datetime.now(dt.UTC) - template.captured_at

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(item) for item in value]
        if isinstance(value, tuple):
            return tuple(self(item) for item in value)
        if isinstance(value, uuid.UUID):
            return self.uuids.get(value, value)
        if isinstance(value, str):
            return self.strings.get(value, value)
        if isinstance(value, bool) or value is None or isinstance(value, Decimal | float):
            return value
        if isinstance(value, int):
            return self.ints.get(value, value)
        if isinstance(value, dt.datetime):
            return value + self.shift
        return value


# --- Capture -----------------------------------------------------------------------------------------------------
def capture_templates(data, *, scan_ticket: tuple[uuid.UUID, uuid.UUID]) -> tuple[Template, Template]:
    from django.test import Client

    from bench import capture
    from inventory import selectors as inventory_selectors
    from inventory import services as inventory_services

    buyer = data.buyers[0]
    client = Client(SERVER_NAME="127.0.0.1", HTTP_AUTHORIZATION=f"Token {buyer.token}")
    event = data.stadium_event_id
    seats = [seat["id"] for seat in inventory_selectors.seat_map(event_id=event, section_id=data.hot_section_id)]
    # A first purchase warms the process (config cache, lazy imports); the second one is the template.
    for attempt in range(2):
        chosen = sorted(uuid.UUID(str(seat)) for seat in seats[attempt * 2 : attempt * 2 + 2])
        key = f"ceiling-{uuid.uuid4()}"
        captured_at = dt.datetime.now(dt.UTC)
        with capture.Recorder() as recorder:
            held = client.post(
                f"/api/v1/events/{event}/holds/",
                {"seat_ids": [str(s) for s in chosen]},
                content_type="application/json",
            )
            paid = client.post(
                "/api/v1/orders/", {"event_id": str(event)}, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key
            )
        if held.status_code != 201 or paid.status_code != 201:
            raise RuntimeError(f"template purchase failed: {held.status_code} {paid.status_code} {paid.content[:300]}")
    keep = {event, data.hot_section_id, data.organization_id}
    purchase = Template(
        statements=recorder.statements,
        captured_at=captured_at,
        keep=keep | _fixed_ids(recorder.statements, exclude={buyer.id, *chosen}),
        swap={"buyer": buyer.id, "token": buyer.token, "seats": chosen, "idempotency_key": key},
    )

    staff = data.gate_staff[0]
    gate_client = Client(SERVER_NAME="127.0.0.1", HTTP_AUTHORIZATION=f"Token {staff.token}")
    seat_id, owner_id = scan_ticket
    token = inventory_services.ticket_qr(seat_id=seat_id, owner_id=owner_id)[0]
    captured_at = dt.datetime.now(dt.UTC)
    with capture.Recorder() as recorder:
        scanned = gate_client.post(
            "/api/v1/scan/",
            {"event_id": str(data.big_event_id), "gate": "Gate 0", "token": token},
            content_type="application/json",
        )
    if scanned.status_code != 200 or scanned.json().get("result") != "SUCCESS":
        raise RuntimeError(f"template scan failed: {scanned.status_code} {scanned.content[:300]}")
    scan = Template(
        statements=recorder.statements,
        captured_at=captured_at,
        keep={data.big_event_id, data.organization_id, staff.id}
        | _fixed_ids(recorder.statements, exclude={seat_id, owner_id}),
        swap={"seat": seat_id, "owner": owner_id},
    )
    return purchase, scan


_INSERTS = re.compile(r"\bINSERT\s+INTO\b", re.IGNORECASE)
# A write, also inside a WITH (the plan, the debit, the sell and the confirmation are one such statement each).
_WRITES = re.compile(r"\b(INSERT\s+INTO|UPDATE\s+\S+\s+SET|DELETE\s+FROM)\b", re.IGNORECASE)


def _fixed_ids(statements, *, exclude: set[uuid.UUID]) -> set[uuid.UUID]:
    """Ids a replay must not change: those only ever read (WHERE/lookup), never written as a new row's key.

    A UUID that first appears in an INSERT is a new row's (order, line, ledger entry, entry log): swapped for a fresh
    one. One that first appears in a read or an UPDATE's filter names existing data (event, tier, staff): kept. A
    ``WITH ... INSERT`` counts as an INSERT (the purchase's plan and the debit write their rows that way).
    """
    first_seen: dict[uuid.UUID, str] = {}
    for statement in statements:
        verb = statement.sql.lstrip().split(None, 1)[0].upper() if statement.sql else ""
        if _INSERTS.search(statement.sql or ""):
            verb = "INSERT"
        for value in _walk(statement.params):
            if isinstance(value, uuid.UUID):
                first_seen.setdefault(value, verb)
    return {value for value, verb in first_seen.items() if verb != "INSERT" and value not in exclude}


# --- Replay ------------------------------------------------------------------------------------------------------
class Replayer:
    def __init__(self, urls: dict[str, str]) -> None:
        import psycopg

        self.connections = {
            alias: psycopg.connect(url, autocommit=True, cursor_factory=psycopg.ClientCursor)
            for alias, url in urls.items()
        }

    def close(self) -> None:
        for connection in self.connections.values():
            connection.close()

    def run(self, template: Template, substitution: Substitution) -> None:
        import psycopg

        in_transaction: set[str] = set()
        try:
            for statement in template.statements:
                connection = self.connections[statement.alias]
                if statement.sql == "BEGIN":
                    connection.execute("BEGIN")
                    in_transaction.add(statement.alias)
                elif statement.sql in ("COMMIT", "ROLLBACK"):
                    connection.execute(statement.sql)
                    in_transaction.discard(statement.alias)
                else:
                    params = substitution(statement.params)
                    with connection.cursor() as cursor:
                        if statement.many:
                            cursor.executemany(statement.sql, params)
                        else:
                            cursor.execute(statement.sql, params)
                            if cursor.description is not None:
                                cursor.fetchall()
        except psycopg.Error:
            for alias in in_transaction:
                self.connections[alias].execute("ROLLBACK")
            raise


def replay(
    template: Template,
    *,
    urls: dict[str, str],
    clients: int,
    seconds: float,
    roles_for,  # (thread index, iteration) -> roles dict, or None when there is nothing left
    event_id: uuid.UUID,
) -> dict[str, Any]:
    latencies: list[float] = []
    errors: Counter = Counter()
    lock = threading.Lock()
    done = [0]
    deadline = time.monotonic() + seconds
    failures: list[BaseException] = []

    def worker(index: int) -> None:
        replayer = Replayer(urls)
        iteration = 0
        try:
            while time.monotonic() < deadline:
                roles = roles_for(index, iteration)
                if roles is None:
                    return
                iteration += 1
                started = time.perf_counter()
                try:
                    replayer.run(template, Substitution(template, roles, event_id))
                except Exception as exc:  # noqa: BLE001 - counted by type; the ceiling run goes on
                    with lock:
                        errors[type(exc).__name__] += 1
                    continue
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    done[0] += 1
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread
            failures.append(exc)
        finally:
            replayer.close()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise failures[0]
    ordered = sorted(latencies)
    return {
        "completed": done[0],
        "elapsed_s": round(elapsed, 2),
        "per_s": round(done[0] / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(harness.percentile(ordered, 0.5) * 1000, 2),
        "p99_ms": round(harness.percentile(ordered, 0.99) * 1000, 2),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2) if ordered else 0.0,
        "errors": dict(errors),
        "statements": sum(1 for s in template.statements if not s.is_boundary),
        "commits": _flushes(template),
    }


# --- Run ---------------------------------------------------------------------------------------------------------
def run_ceiling(*, size_name: str, clients: int, seconds: float, log=print) -> dict[str, Any]:
    """Django set up on fresh databases (the caller's): build, capture, replay both flows."""
    from bench import dataset
    from inventory import selectors as inventory_selectors

    size = dataset.SIZES[size_name]
    scan_tickets = size.gate_tickets + 1
    size = replace(size, big_sold=min(size.big_capacity, ((scan_tickets + 49) // 50) * 50))
    run_id = secrets.token_hex(3)
    log(f"Building the data set (size {size.name}) ...")
    data = dataset.build_people(size, run_id, log)
    dataset.build_stadium(data, log)
    dataset.build_big_event(data, log)
    dataset.sell_big_event(data, log)
    dataset.settle(data, log)
    purchase, scan = capture_templates(data, scan_ticket=data.big_tickets[0])
    urls = {alias: url for alias, url in _database_urls().items()}
    log(
        f"Captured: purchase = {sum(1 for s in purchase.statements if not s.is_boundary)} statements "
        f"({_flushes(purchase)} committing transactions); "
        f"scan = {sum(1 for s in scan.statements if not s.is_boundary)} statements"
    )

    # Free seats for the purchase replays: every stadium seat but the ones the template purchases took.
    used = set(purchase.swap["seats"])
    free: list[uuid.UUID] = []
    for section_id in _event_sections(data.stadium_event_id):
        for seat in inventory_selectors.seat_map(event_id=data.stadium_event_id, section_id=section_id):
            if seat["status"] == "AVAILABLE" and uuid.UUID(str(seat["id"])) not in used:
                free.append(uuid.UUID(str(seat["id"])))
    seat_lock = threading.Lock()
    buyers = data.buyers

    def purchase_roles(index: int, iteration: int):
        with seat_lock:
            if len(free) < 2:
                return None
            seats = sorted([free.pop(), free.pop()])
        buyer = buyers[index % len(buyers)]
        return {"buyer": buyer.id, "token": buyer.token, "seats": seats, "idempotency_key": str(uuid.uuid4())}

    from bench.run import machine_activity

    activity = machine_activity()
    log(f"Replaying purchases: {clients} sessions for up to {seconds:.0f} s ...")
    purchases = replay(
        purchase, urls=urls, clients=clients, seconds=seconds, roles_for=purchase_roles, event_id=data.stadium_event_id
    )
    log(f"  {purchases}")

    tickets = list(data.big_tickets[1:])
    ticket_lock = threading.Lock()

    def scan_roles(index: int, iteration: int):
        with ticket_lock:
            if not tickets:
                return None
            seat_id, owner_id = tickets.pop()
        return {"seat": seat_id, "owner": owner_id}

    log(f"Replaying scans: {clients} sessions over {len(tickets)} tickets ...")
    scans = replay(scan, urls=urls, clients=clients, seconds=seconds, roles_for=scan_roles, event_id=data.big_event_id)
    log(f"  {scans}")
    # The replays must have done the real work, not failed quietly: every replayed purchase confirmed an order and
    # sold two seats (plus the warm-up and template purchases), every replayed scan checked a ticket in.
    sold = _count(
        "seats", "SELECT count(*) FROM inventory_seat WHERE event_id = %s AND status = 'SOLD'", data.stadium_event_id
    )
    confirmed = _count(
        "orders",
        "SELECT count(*) FROM orders_order WHERE event_id = %s AND status = 'CONFIRMED'",
        data.stadium_event_id,
    )
    checked_in = _count(
        "seats", "SELECT count(*) FROM inventory_seat WHERE event_id = %s AND status = 'CHECKED_IN'", data.big_event_id
    )
    purchases["verified"] = sold == 2 * (purchases["completed"] + 2) and confirmed == purchases["completed"] + 2
    scans["verified"] = checked_in == scans["completed"] + 1
    if not (purchases["verified"] and scans["verified"]):
        raise RuntimeError(
            f"replay did not do the work: {sold} seats sold, {confirmed} orders confirmed for "
            f"{purchases['completed']} purchases; {checked_in} checked in for {scans['completed']} scans"
        )
    return {
        "clients": clients,
        "activity": activity,
        "purchase": purchases,
        "scan": scans,
        "purchase_sql": _sql_listing(purchase),
    }


def _flushes(template: Template) -> int:
    """Transactions that write, each one WAL flush at COMMIT: explicit ones, and writes sent in autocommit mode."""
    flushes, open_aliases = 0, set()
    for statement in template.statements:
        if statement.sql == "BEGIN":
            open_aliases.add(statement.alias)
        elif statement.sql in ("COMMIT", "ROLLBACK"):
            flushes += statement.sql == "COMMIT"
            open_aliases.discard(statement.alias)
        elif statement.alias not in open_aliases and _WRITES.search(statement.sql):
            flushes += 1
    return flushes


def _count(alias: str, sql: str, *params) -> int:
    from django.db import connections

    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _event_sections(event_id: uuid.UUID) -> list[uuid.UUID]:
    from events import selectors as events_selectors

    return [section.section_id for section in events_selectors.event_sections(event_id=event_id)]


def _database_urls() -> dict[str, str]:
    by_variable = harness.database_urls()
    return {alias: by_variable[variable] for alias, variable in harness.DATABASE_URL_VARIABLES.items()}


def _sql_listing(template: Template) -> list[str]:
    return [f"{s.alias}: {' '.join(s.sql.split())[:140]}" for s in template.statements]


def _latest_benchmark() -> dict[str, Any] | None:
    files = sorted(harness.ARTIFACTS_DIR.glob("perf-*.json"))
    for path in reversed(files):
        payload = json.loads(path.read_text())
        by_scenario = {result["scenario"]: result["figures"] for result in payload["results"]}
        if "onsale" in by_scenario and "gate" in by_scenario and payload["options"]["size"] == "full":
            return {"file": path.name, "commit": payload["commit"], **by_scenario}
    return None


def render(result: dict[str, Any], *, command: str, note: str, ours: dict[str, Any] | None = None) -> str:
    """The ceiling's table; ``ours``: the HTTP figures to compare with (default: the latest full-size bench.run)."""
    ours = ours or _latest_benchmark()
    purchase, scan = result["purchase"], result["scan"]
    lines = [
        f"### {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M UTC} · commit {_commit()} · {harness.machine_description()}",
        "",
        f"`{command}` — {result['clients']} concurrent sessions; also running: {note or 'see below'}. "
        f"Machine: {result.get('activity', '')}.",
        "",
        "| flow | statements (writing transactions) | raw SQL per s | p50 / p99 ms | errors | ours over HTTP | share |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, figures, key in (("purchase", purchase, "purchases_per_s"), ("scan", scan, "scans_per_s")):
        scenario = "onsale" if label == "purchase" else "gate"
        mine = ours[scenario].get(key) if ours else None
        share = f"{mine / figures['per_s']:.0%}" if mine and figures["per_s"] else "—"
        lines.append(
            f"| {label} | {figures['statements']} ({figures['commits']}) | {figures['per_s']} | "
            f"{figures['p50_ms']} / {figures['p99_ms']} | {figures['errors'] or 0} | "
            f"{mine if mine is not None else '—'} | {share} |"
        )
    if ours:
        lines += ["", f"Ours: {ours['file']} (commit {ours['commit']})."]
    lines += ["", "<details><summary>The purchase's statements, as captured</summary>", "", "```"]
    lines += result["purchase_sql"]
    lines += ["```", "", "</details>", ""]
    return "\n".join(lines)


def _commit() -> str:
    from bench.run import _commit as commit

    return commit()


def record(text: str) -> None:
    existing = DOC.read_text() if DOC.exists() else "# Performance\n"
    if CEILING_MARKER not in existing:
        existing = existing.rstrip("\n") + f"\n\n## Raw-SQL ceiling log\n\n{CEILING_MARKER}\n"
    head, _, tail = existing.partition(CEILING_MARKER)
    # Newest ceiling entries go right under the marker, before the benchmark results log that follows.
    DOC.write_text(head + CEILING_MARKER + "\n\n" + text.rstrip("\n") + "\n" + tail)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ceiling", description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=("full", "small", "tiny"), default="full")
    parser.add_argument("--clients", type=int, default=16, help="concurrent database sessions (default 16)")
    parser.add_argument("--seconds", type=float, default=20.0, help="upper bound per flow (default 20 s)")
    parser.add_argument("--no-record", action="store_true", help="do not write to docs/performance-log.md")
    parser.add_argument("--note", default="", help="what else was running on the machine")
    parser.add_argument("--json-out", default="", help="also write the result to this file (bench.run --ceiling)")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.seconds <= 0:
        parser.error("--clients must be >= 1 and --seconds > 0")
    with harness.fresh_databases(f"ceil{secrets.token_hex(3)}"):
        result = run_ceiling(size_name=args.size, clients=args.clients, seconds=args.seconds)
    command = "python -m bench.ceiling " + " ".join(argv if argv is not None else sys.argv[1:])
    text = render(result, command=command.strip(), note=args.note)
    print()
    print(text)
    if not args.no_record:
        record(text)
        print(f"Recorded in {DOC.relative_to(PROJECT)}.")
    artifacts = harness.ARTIFACTS_DIR
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / f"ceiling-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}.json").write_text(json.dumps(result, indent=1))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
