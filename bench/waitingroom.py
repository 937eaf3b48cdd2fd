"""The ``waitingroom`` scenario: a high-demand on-sale behind the waiting room, end to end over HTTP.

    .venv/bin/python -m bench.waitingroom [--arrivals 20000] [--seats 2000] [--rate 1200] [--in-flight 48]
                                          [--latency-target 1000] [--clients 32] [--workers 2] [--seconds 600]

Bounded and local (127.0.0.1, fresh databases of its own, dropped afterwards):

1. an on-sale event of ``--seats`` general-admission places and its waiting room, opening before the sale;
2. ``--arrivals`` verified accounts join before the start (through the service, four at a time): their places are
   drawn at the start;
3. the sale starts: the admission step (the job's own function) runs every second and follows measured throughput:
   its controller admits at up to ``--rate`` per minute while the p95 of the admitted buyers' holds and checkouts
   stays under ``--latency-target`` ms (``0``: the fixed rate), and never while ``--in-flight`` admitted buyers are
   still buying;
4. ``--clients`` client threads act for the admitted buyers, in order of admission: read the place and the pass
   (``GET /api/v1/events/<id>/waiting-room/``), hold 1-4 best-available places with the pass, pay; until the event
   is sold out.

Reported: time to sell out, admitted and buying figures, p50/p99 of the admitted buyers' pass read, hold and checkout,
that a hold without a pass is refused (403), and zero oversold (seats SOLD = seats confirmed to buyers <= places,
and ``check_invariants``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import queue
import random
import secrets
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from bench import harness

EXPECTED_CODES = frozenset({"NOT_ENOUGH_SEATS", "WAITING_ROOM_PASS_REQUIRED"})


def _arrivals(count: int, run_id: str) -> list[uuid.UUID]:
    from accounts.models import User

    users = [
        User(email=f"wr-{run_id}-{index}@example.com", full_name=f"Arrival {index}", is_verified=True)
        for index in range(count)
    ]
    for user in users:
        user.set_unusable_password()
    created = User.objects.bulk_create(users, batch_size=2000)
    return [user.pk for user in created]


def _ready_buyer(user_id: uuid.UUID, run_id: str) -> str:
    """Credits and an API token for an admitted buyer (load-side set-up, in this process)."""
    from rest_framework.authtoken.models import Token

    from accounts import services as accounts_services

    accounts_services.credits_credit(
        user_id=user_id, amount=Decimal("100.00"), kind="ADJUSTMENT", reference=f"wr-{run_id}-{user_id}", memo="Bench"
    )
    return Token.objects.get_or_create(user_id=user_id)[0].key


def run(options: argparse.Namespace) -> dict:
    from django.db import connections

    from inventory import selectors as inventory_selectors
    from ops import invariants
    from orders.models import WaitingRoom, WaitingRoomAdmission, WaitingRoomEntry
    from orders.services import waiting_room as rooms
    from orders.services.waiting_room._shared import in_flight as room_in_flight
    from orders.tests.factories import make_event

    run_id = secrets.token_hex(3)
    log = print
    per_row = 50
    setup = make_event(general=True, rows=max(1, options.seats // per_row), seats_per_row=per_row, price="10.00")
    seats = len(setup.seat_ids)
    now = timezone_now()
    room = rooms.waiting_room_configure(
        event_id=setup.event.pk,
        active=True,
        opens_at=now - dt.timedelta(minutes=10),
        starts_at=now + dt.timedelta(hours=1),
        rate_per_minute=options.rate,
        pass_minutes=10,
        per_address_cap=4,
        max_in_flight=options.in_flight,
        **_mode(options),
        actor_id=None,
    )
    log(f"event with {seats} places; creating {options.arrivals} accounts")
    started = time.monotonic()
    user_ids = _arrivals(options.arrivals, run_id)

    def join_share(share: int) -> None:
        """Every fourth arrival, on this thread's own connections (closed at the end, not after each join)."""
        try:
            for index in range(share, len(user_ids), 4):
                address = f"10.{index // 65536 % 256}.{index // 256 % 256}.{index % 256}"  # one address per arrival
                rooms.waiting_room_join(event_id=setup.event.pk, user_id=user_ids[index], client_address=address)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(join_share, range(4)))
    joined = WaitingRoomEntry.objects.filter(room=room).count()
    log(f"{joined} joined before the start in {time.monotonic() - started:.1f} s")

    env = harness.server_env()
    stats = harness.Stats()
    admitted_queue: queue.Queue = queue.Queue()
    sold_out = threading.Event()
    stop = threading.Event()
    lock = threading.Lock()
    figures = {"orders": 0, "seats": 0, "admitted": 0, "admission_steps": 0, "max_in_flight_seen": 0}
    holds_path = f"/api/v1/events/{setup.event.pk}/holds/"
    room_path = f"/api/v1/events/{setup.event.pk}/waiting-room/"
    section_id = str(setup.section.pk)
    last_sale = [0.0]

    with harness.Server(port=options.port, workers=options.workers, threads=4, env=env) as server:
        # The sale starts now (the first admission step draws the places).
        rooms.waiting_room_configure(
            event_id=setup.event.pk,
            active=True,
            opens_at=room.opens_at,
            starts_at=timezone_now(),
            rate_per_minute=options.rate,
            pass_minutes=10,
            per_address_cap=4,
            max_in_flight=options.in_flight,
            **_mode(options),
            actor_id=None,
        )
        sale_started = time.monotonic()

        def admitter() -> None:
            done_up_to = 0
            try:
                while not stop.is_set():
                    rooms.waiting_room_admit(room_id=room.pk)
                    current = WaitingRoom.objects.get(pk=room.pk)
                    in_flight = room_in_flight(current, timezone_now())  # the figure the step uses
                    with lock:
                        figures["admission_steps"] += 1
                        figures["max_in_flight_seen"] = max(figures["max_in_flight_seen"], in_flight)
                    if current.admitted_up_to > done_up_to:
                        new = WaitingRoomEntry.objects.filter(
                            room=room, position__gt=done_up_to, position__lte=current.admitted_up_to
                        ).order_by("position")
                        for entry in new:
                            admitted_queue.put((entry.user_id, _ready_buyer(entry.user_id, run_id)))
                        with lock:
                            figures["admitted"] += current.admitted_up_to - done_up_to
                        done_up_to = current.admitted_up_to
                    if current.sold_out_at is not None:
                        sold_out.set()
                    stop.wait(1.0)
            finally:
                connections.close_all()

        admission = threading.Thread(target=admitter, daemon=True)
        admission.start()
        rngs = [random.Random(1800 + index) for index in range(options.clients)]  # noqa: S311 - load pattern only

        def buyer(index: int, client: harness.Client) -> str | None:
            if sold_out.is_set() and admitted_queue.empty():
                return "done"
            try:
                user_id, token = admitted_queue.get(timeout=0.5)
            except queue.Empty:
                return None
            auth = {"Authorization": f"Token {token}"}
            if index == 0 and "hold without pass" not in stats.operations:
                client.request("hold without pass", "POST", holds_path, json={"quantity": 1}, headers=auth)
            place = client.request("pass", "GET", room_path, headers=auth)
            if place is None or place.status_code != 200 or not place.json().get("pass"):
                return None
            headers = {**auth, "X-Waiting-Room-Pass": place.json()["pass"]}
            quantity = rngs[index].randint(1, 4)
            hold = client.request(
                "hold", "POST", holds_path, json={"section_id": section_id, "quantity": quantity}, headers=headers
            )
            if hold is not None and hold.status_code == 409 and quantity > 1:
                hold = client.request(
                    "hold", "POST", holds_path, json={"section_id": section_id, "quantity": 1}, headers=headers
                )
            if hold is None or hold.status_code != 201:
                return None
            checkout = client.request(
                "checkout",
                "POST",
                "/api/v1/orders/",
                json={"event_id": str(setup.event.pk)},
                headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
            )
            if checkout is not None and checkout.status_code in (200, 201):
                with lock:
                    figures["orders"] += 1
                    figures["seats"] += len(checkout.json().get("lines", []))
                    last_sale[0] = time.monotonic()
            else:
                client.request("release", "POST", "/api/v1/holds/release/", json={}, headers=auth)
            return None

        try:
            harness.run_clients(
                buyer, clients=options.clients, base_url=server.base_url, stats=stats, seconds=options.seconds
            )
        finally:
            stop.set()
            admission.join(timeout=30)

    final_room = WaitingRoom.objects.get(pk=room.pk)
    counts = inventory_selectors.event_sales_summary(event_id=setup.event.pk)["totals"]
    sold = counts["sold"]
    report = invariants.check_all(grace_seconds=0)
    summary = {name: op.summary() for name, op in stats.operations.items()}
    refused = stats.operations.get("hold without pass")
    result = {
        "arrivals": joined,
        "seats": seats,
        "rate_per_minute": options.rate,
        "max_in_flight": options.in_flight,
        "latency_target_ms": options.latency_target or None,
        "rate_at_the_end": final_room.current_rate,
        "rates_logged": sorted({row.rate_per_minute for row in WaitingRoomAdmission.objects.filter(room=room)}),
        "clients": options.clients,
        "workers": options.workers,
        "time_to_sell_out_s": round(last_sale[0] - sale_started, 1) if sold == seats else None,
        "sold": sold,
        "confirmed_seats": figures["seats"],
        "orders": figures["orders"],
        "admitted": figures["admitted"],
        "max_in_flight_seen": figures["max_in_flight_seen"],
        "oversold": max(0, sold - seats) + abs(sold - figures["seats"]),
        "hold_without_pass": dict(refused.codes) if refused else None,
        "p50_p99_ms": {name: (s["p50_ms"], s["p99_ms"]) for name, s in summary.items()},
        "codes": dict(stats.codes()),
        "server_errors": stats.server_errors,
        "invariants": "ok" if report.ok else dict(report.counts),
    }
    print(stats.table())
    return result


def _mode(options: argparse.Namespace) -> dict:
    """Follow measured throughput (the controller, with --latency-target ms) or, with 0, the rate and the bound."""
    from orders.contract import WaitingRoomMode

    if options.latency_target:
        return {"admission_mode": WaitingRoomMode.THROUGHPUT, "latency_target_ms": options.latency_target}
    return {"admission_mode": WaitingRoomMode.RATE, "latency_target_ms": None}


def timezone_now() -> dt.datetime:
    from django.utils import timezone

    return timezone.now()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arrivals", type=int, default=20000)
    parser.add_argument("--seats", type=int, default=2000)
    parser.add_argument("--rate", type=int, default=1200, help="admissions per minute at most")
    parser.add_argument("--in-flight", type=int, default=48, help="at most this many admitted buyers buying at once")
    parser.add_argument(
        "--latency-target",
        type=int,
        default=1000,
        help="follow throughput: the p95 (ms) of holds and checkouts to stay under (0: the fixed rate)",
    )
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=600.0, help="upper bound of the sale (s)")
    parser.add_argument("--port", type=int, default=8187)
    options = parser.parse_args()
    with harness.fresh_databases(secrets.token_hex(3)):
        result = run(options)
    print(json.dumps(result, indent=2, default=str))
    wrong = result["oversold"] or result["server_errors"] or result["invariants"] != "ok"
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
