"""Django's CPU per hot request, in process: hold, checkout, release, gate scan and the seat map's two reads through
the production WSGI
application (every middleware, the real URLconf), one request at a time, with no HTTP server, no load generator and
no other request competing for the interpreter.

    .venv/bin/python -m bench.hot_path                      # 300 purchases, their tickets scanned twice, 300 reads
    .venv/bin/python -m bench.hot_path --purchases 600 --profile 30   # + cProfile's top functions

``bench.run`` measures CPU per operation under load (workers, PostgreSQL, load generator); this command isolates
the web process's share of one request (``time.process_time`` around each call: Django, DRF, the ORM and psycopg on
this side of the socket, not PostgreSQL's CPU). On a shared machine it moves far less than a loaded run, so it is the
figure to compare before/after a change of the request path. Fresh databases of its own on the configured server
(like ``bench.run``), dropped afterwards.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import secrets
import statistics
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable

from bench import harness


class Meter:
    """CPU and wall milliseconds and SQL statements per request, by operation."""

    def __init__(self) -> None:
        self.cpu: dict[str, list[float]] = defaultdict(list)
        self.wall: dict[str, list[float]] = defaultdict(list)
        self.statements: dict[str, list[int]] = defaultdict(list)
        self.statuses: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))

    def table(self) -> str:
        lines = [
            "| operation | requests | Django CPU ms mean | median | wall ms median | statements | statuses |",
            "|---|---|---|---|---|---|---|",
        ]
        for name, samples in self.cpu.items():
            statuses = ", ".join(f"{code}: {count}" for code, count in sorted(self.statuses[name].items()))
            lines.append(
                f"| {name} | {len(samples)} | {statistics.fmean(samples):.3f} | {statistics.median(samples):.3f} | "
                f"{statistics.median(self.wall[name]):.3f} | {statistics.median(self.statements[name]):g} | "
                f"{statuses} |"
            )
        return "\n".join(lines)


class Caller:
    """Calls the WSGI application the way gunicorn does, and measures each call."""

    def __init__(self, meter: Meter) -> None:
        from django.db import connections

        from ticketremaster.wsgi import application

        self.application = application
        self.meter = meter
        self.connections = connections
        self._count = 0

    def _counter(self, execute, sql, params, many, context):
        self._count += 1
        return execute(sql, params, many, context)

    def post(self, operation: str, path: str, body: dict, *, token: str, headers: dict | None = None) -> tuple:
        return self.call(operation, "POST", path, json.dumps(body).encode(), token=token, headers=headers)

    def get(self, operation: str, path: str, *, token: str) -> tuple:
        return self.call(operation, "GET", path, b"", token=token)

    def call(
        self, operation: str, method: str, path: str, payload: bytes, *, token: str, headers: dict | None = None
    ) -> tuple:
        path, _, query = path.partition("?")
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1",
            "CONTENT_TYPE": "application/json" if payload else "",
            "CONTENT_LENGTH": str(len(payload)) if payload else "",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_ACCEPT": "application/json",
            "HTTP_AUTHORIZATION": f"Token {token}",
            "wsgi.input": io.BytesIO(payload),
            "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "wsgi.version": (1, 0),
        }
        for name, value in (headers or {}).items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        status = []
        self._count = 0
        wrappers = [self.connections[alias].execute_wrapper(self._counter) for alias in self.connections]
        for wrapper in wrappers:
            wrapper.__enter__()
        try:
            cpu, wall = time.process_time(), time.perf_counter()
            result = self.application(environ, lambda line, headers, exc_info=None: status.append(line))
            content = b"".join(result)
            if hasattr(result, "close"):
                result.close()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        finally:
            for wrapper in reversed(wrappers):
                wrapper.__exit__(None, None, None)
        code = int(status[0].split()[0])
        self.meter.cpu[operation].append(cpu * 1000)
        self.meter.wall[operation].append(wall * 1000)
        self.meter.statements[operation].append(self._count)
        self.meter.statuses[operation][code] += 1
        return code, json.loads(content) if content else None


def _run(purchases: int, profile_rows: int, log: Callable[[str], None]) -> str:
    from bench import dataset
    from inventory import selectors as inventory_selectors
    from inventory import services as inventory_services

    size = dataset.SIZES["small"]
    data = dataset.build_people(size, secrets.token_hex(3), log)
    dataset.build_stadium(data, log)
    dataset.settle(data, log)
    event_id = data.stadium_event_id
    seat_ids = [
        str(seat["id"]) for seat in inventory_selectors.seat_map(event_id=event_id, section_id=data.hot_section_id)
    ]
    holds_path = f"/api/v1/events/{event_id}/holds/"

    def purchase(caller: Caller, index: int, sold: list) -> None:
        buyer = data.buyers[index % len(data.buyers)]
        if index % 2:
            picked = [seat_ids.pop(), seat_ids.pop()]
            code, _ = caller.post("hold (chosen seats)", holds_path, {"seat_ids": picked}, token=buyer.token)
        else:
            body = {"section_id": str(data.hot_section_id), "quantity": 2}
            code, held = caller.post("hold (best available)", holds_path, body, token=buyer.token)
            picked = [seat["id"] for seat in held] if code == 201 else []
            for seat in picked:
                seat_ids.remove(seat)
        if code != 201:
            raise RuntimeError(f"hold answered {code}")
        key = {"Idempotency-Key": str(uuid.uuid4())}
        body = {"event_id": str(event_id)}
        code, order = caller.post("checkout", "/api/v1/orders/", body, token=buyer.token, headers=key)
        if code != 201:
            raise RuntimeError(f"checkout answered {code}: {order}")
        sold.extend((uuid.UUID(seat), buyer.id) for seat in picked)
        # A lost race, as the on-sale's 409s are: a seat sold a moment ago.
        other = data.buyers[-1 - index % 8].token
        caller.post("hold (lost: 409)", holds_path, {"seat_ids": [picked[0]]}, token=other)
        caller.post("release", "/api/v1/holds/release/", {}, token=buyer.token)

    def scan_all(caller: Caller, sold: list) -> None:
        seats = inventory_selectors.seats_get_many(seat_ids=[seat for seat, _ in sold])
        for operation, expected in (("scan", "SUCCESS"), ("scan again", "DUPLICATE")):
            for seat, owner in sold:
                token = inventory_services.qr_token_make(
                    seat_id=seat, owner_id=owner, qr_version=seats[seat].qr_version, issued_at=int(time.time())
                )
                body = {"event_id": str(event_id), "gate": "Gate 1", "token": token}
                code, answer = caller.post(operation, "/api/v1/scan/", body, token=data.gate_staff[0].token)
                if code != 200 or answer["result"] != expected:
                    raise RuntimeError(f"{operation} answered {code}: {answer}")

    def read_maps(caller: Caller, count: int) -> None:
        """What an open seat map asks: its section's seats and the event's sections with their availability."""
        token = data.buyers[0].token
        for _ in range(count):
            for operation, path in (
                ("seat map (one section)", f"/api/v1/events/{event_id}/seats/?section={data.hot_section_id}"),
                ("availability (the event)", f"/api/v1/events/{event_id}/sections/"),
            ):
                code, _answer = caller.get(operation, path, token=token)
                if code != 200:
                    raise RuntimeError(f"{operation} answered {code}")

    log("Warming up ...")
    warm = Caller(Meter())
    for index in range(20):
        purchase(warm, index, [])
    read_maps(warm, 20)
    log(f"Measuring {purchases} purchases, then their tickets scanned twice, then {purchases} seat map reads ...")
    measured = Meter()
    caller, sold = Caller(measured), []
    for index in range(20, 20 + purchases):
        purchase(caller, index, sold)
    scan_all(caller, sold)
    read_maps(caller, purchases)
    text = measured.table()
    if profile_rows:
        # Separately: cProfile's own cost per call would inflate the figures above. CPU time, not wall time.
        log("Profiling 100 more purchases and their scans ...")
        caller, sold = Caller(Meter()), []
        profiler = cProfile.Profile(time.process_time)
        profiler.enable()
        for index in range(20 + purchases, 120 + purchases):
            purchase(caller, index, sold)
        scan_all(caller, sold)
        profiler.disable()
        for order in ("tottime", "cumulative"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(profile_rows)
            text += f"\n\ncProfile (CPU time) of 100 purchases and their scans, by {order}:\n\n" + out.getvalue()
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--purchases", type=int, default=300, help="purchases measured (each: hold, checkout, a lost hold, a release)"
    )
    parser.add_argument(
        "--profile", type=int, default=0, metavar="ROWS", help="cProfile the measured requests, print ROWS rows"
    )
    args = parser.parse_args()
    urls = harness.create_fresh_databases(f"hot{secrets.token_hex(3)}")
    try:
        harness.setup_django()
        harness.migrate_all()
        print(_run(args.purchases, args.profile, print))
    finally:
        harness.drop_databases(urls)


if __name__ == "__main__":
    main()
