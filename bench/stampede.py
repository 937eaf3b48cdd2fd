"""Stampede: many buyers fight over a small hot section of a real server, then the books must balance.

    .venv/bin/python -m bench.stampede --clients 64 --seconds 60          # full size (docs/RELIABILITY.md)
    .venv/bin/python -m bench.stampede --clients 16 --seconds 15          # CI size

It builds its own event (a 40-seat hot section and a 30-place standing area, published through
orders.services.event_publish) with buyers, gate staff and box-office staff in the configured databases, starts
gunicorn on 127.0.0.1, and drives it over HTTP. Each client is a buyer who, at random: holds chosen seats, holds
best-available places, pays (and retries with the same idempotency key, sometimes twice at once), releases,
transfers a ticket to another buyer (both sides confirm with one-time codes), lists a ticket that another buyer
(sometimes two at once) buys, gets scanned at the gate (sometimes at two gates at once), or has an order refunded
by the box office. The hot section is far smaller than the crowd, so most attempts must lose with a clean 409.

At the end: recover_flows, then the invariant checker. It prints attempts, successes, each error code's count,
server errors, p50/p95/p99 per operation and the verdict, and exits 1 on any 5xx, broken idempotency or violation.
"""

from __future__ import annotations

import argparse
import random
import sys
import threading
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bench import harness
from bench.world import Person, SectionSpec, bench_person, published_event

PRICE = Decimal("25.00")
HOT_ROWS, HOT_SEATS_PER_ROW, STANDING_CAPACITY = 4, 10, 30
# How often each action is chosen (relative weights).
ACTIONS = {
    "hold_seats": 30,
    "hold_best": 15,
    "release": 6,
    "transfer": 10,
    "resale": 10,
    "scan": 12,
    "refund": 4,
}


@dataclass
class World:
    event_id: uuid.UUID
    organization_id: uuid.UUID
    hot_section_id: uuid.UUID
    standing_section_id: uuid.UUID
    seat_ids: list[str]
    buyers: list[Person]
    gate: Person
    box_office: Person
    saved_config: dict[str, Any] = field(default_factory=dict)


# --- The data set ------------------------------------------------------------------------------------------------
def build_world(*, buyers: int, credits: Decimal = Decimal("300.00"), hold_seconds: int = 30) -> World:
    """Create the event, people and tokens through the services (plain model writes only for set-up rows that have
    no service: organization, venue, tokens, memberships). Unique names, so runs never collide."""
    from core import config
    from core.models import SystemSetting
    from inventory import selectors as inventory_selectors

    run = uuid.uuid4().hex[:8]
    world = published_event(
        label="Stampede",
        run=run,
        sections=[
            SectionSpec("Hot", rows=HOT_ROWS, seats_per_row=HOT_SEATS_PER_ROW),
            SectionSpec("Standing", capacity=STANDING_CAPACITY),
        ],
        price=PRICE,
    )
    hot_section_id = world.section_ids["Hot"]

    def person(label: str, **extra) -> Person:
        return bench_person(f"{label}-{run}@bench.test", full_name=label.title(), **extra)

    people = [person(f"buyer{index}", credits=credits) for index in range(buyers)]
    staff = {"organization_id": world.organization_id, "is_staff": True}
    gate = person("gate", role="GATE", **staff)
    box_office = person("boxoffice", role="BOX_OFFICE", **staff)

    # Short holds, so some expire mid-run and are taken over; the crowd's buyers transfer tickets all run long, past
    # the daily cap of one-time codes meant for one person. The previous values are put back afterwards.
    keys = ["hold_seconds", "otp_max_codes_per_day"]
    saved = dict(SystemSetting.objects.filter(key__in=keys).values_list("key", "value"))
    config.set_value("hold_seconds", hold_seconds)
    config.set_value("otp_max_codes_per_day", 200)
    seat_ids = [
        str(seat["id"]) for seat in inventory_selectors.seat_map(event_id=world.event_id, section_id=hot_section_id)
    ]
    return World(
        event_id=world.event_id,
        organization_id=world.organization_id,
        hot_section_id=hot_section_id,
        standing_section_id=world.section_ids["Standing"],
        seat_ids=seat_ids,
        buyers=people,
        gate=gate,
        box_office=box_office,
        saved_config={key: saved.get(key) for key in keys},
    )


def restore_config(world: World) -> None:
    from core import config
    from core.models import SystemSetting

    for key, value in world.saved_config.items():
        if value is None:
            SystemSetting.objects.filter(key=key).delete()
            config.clear_cache()
        else:
            config.set_value(key, value)


# --- The crowd ---------------------------------------------------------------------------------------------------
class Crowd:
    """What the clients share: the world, an anomaly list (broken promises seen from outside) and ticket hints."""

    def __init__(self, world: World, base_url: str, stats: harness.Stats, *, tolerate_outages: bool = False) -> None:
        self.world = world
        self.base_url = base_url
        self.stats = stats
        self.tolerate_outages = tolerate_outages
        self.anomalies: list[str] = []
        self._lock = threading.Lock()
        self.by_email = {person.email: person for person in world.buyers}

    def anomaly(self, text: str) -> None:
        with self._lock:
            if len(self.anomalies) < 100:
                self.anomalies.append(text)

    def client_for(self, person: Person) -> harness.Client:
        return harness.Client(base_url=self.base_url, stats=self.stats, token=person.token)

    def other_buyer(self, index: int) -> Person:
        choices = [n for n in range(len(self.world.buyers)) if n != index]
        return self.world.buyers[random.choice(choices)]

    # -- helpers --
    def tickets(self, client: harness.Client) -> list[dict]:
        response = client.request("tickets", "GET", "/api/v1/tickets/")
        if response is None or response.status_code != 200:
            return []
        body = response.json()
        rows = body.get("results", body) if isinstance(body, dict) else body
        return [row for row in rows if str(row.get("event_id")) == str(self.world.event_id)]

    def checkout(self, client: harness.Client) -> None:
        key = uuid.uuid4().hex
        event = {"event_id": str(self.world.event_id)}
        headers = {"Idempotency-Key": key}
        if random.random() < 0.15:
            # The same key twice at once (a double click): both answers must name one order, never two charges.
            answers: list = [None, None]

            def pay(slot: int) -> None:
                answers[slot] = client_copy[slot].request(
                    "checkout", "POST", "/api/v1/orders/", json=event, headers=headers
                )

            client_copy = [client, harness.Client(base_url=self.base_url, stats=self.stats, token=client_token(client))]
            harness.all_at_once(pay, [0, 1])
            client_copy[1].close()
            ids = {a.json()["id"] for a in answers if a is not None and a.status_code in (200, 201)}
            if len(ids) > 1:
                self.anomaly(f"one idempotency key made two orders: {sorted(ids)}")
            return
        first = client.request("checkout", "POST", "/api/v1/orders/", json=event, headers=headers)
        if first is None or (first.status_code >= 500 and self.tolerate_outages) or random.random() < 0.4:
            # A retry with the same key (the answer was lost, or the client is impatient): the same order, once.
            again = client.request("checkout_retry", "POST", "/api/v1/orders/", json=event, headers=headers)
            if first is not None and again is not None and first.status_code in (200, 201):
                if again.status_code >= 500 and self.tolerate_outages:
                    return  # the retry met an outage (503 DATABASE_UNAVAILABLE): no answer about the order
                if again.status_code != 200 or again.json().get("id") != first.json().get("id"):
                    self.anomaly(
                        f"retry of key {key} answered {again.status_code} {again.text[:200]} "
                        f"after {first.status_code} {first.json().get('id')}"
                    )

    # -- actions --
    def hold_seats(self, index: int, client: harness.Client) -> None:
        seats = random.sample(self.world.seat_ids, k=random.randint(1, 3))
        response = client.request(
            "hold_seats", "POST", f"/api/v1/events/{self.world.event_id}/holds/", json={"seat_ids": seats}
        )
        if response is not None and response.status_code == 201 and random.random() < 0.8:
            self.checkout(client)

    def hold_best(self, index: int, client: harness.Client) -> None:
        section = random.choice([self.world.standing_section_id, self.world.hot_section_id])
        response = client.request(
            "hold_best",
            "POST",
            f"/api/v1/events/{self.world.event_id}/holds/",
            json={"section_id": str(section), "quantity": random.randint(1, 2)},
        )
        if response is not None and response.status_code == 201 and random.random() < 0.8:
            self.checkout(client)

    def release(self, index: int, client: harness.Client) -> None:
        client.request("release", "POST", "/api/v1/holds/release/", json={"event_id": str(self.world.event_id)})

    def transfer(self, index: int, client: harness.Client) -> None:
        from django.db import InterfaceError, OperationalError, connections

        from accounts import services as accounts_services
        from accounts.contract import OtpDailyLimit

        mine = [t for t in self.tickets(client) if t.get("status") == "SOLD"]
        if not mine:
            return
        ticket = random.choice(mine)
        recipient = self.other_buyer(index)
        price = random.choice(["0.00", "5.00", "10.00"])
        offer = client.request(
            "transfer_offer",
            "POST",
            "/api/v1/transfers/",
            json={"seat_id": ticket["id"], "to_email": recipient.email, "price": price},
        )
        if offer is None or offer.status_code != 201:
            return
        transfer_id = offer.json()["id"]
        other = self.client_for(recipient)
        try:
            accepted = other.request("transfer_accept", "POST", f"/api/v1/transfers/{transfer_id}/accept/", json={})
            if accepted is None or accepted.status_code != 200:
                return
            if random.random() < 0.1:
                client.request("transfer_cancel", "POST", f"/api/v1/transfers/{transfer_id}/cancel/", json={})
            # The codes are emailed; the bench shares the database, so it issues them itself (as send-code would).
            for party, purpose, person in (
                (client, "TRANSFER_SENDER", None),
                (other, "TRANSFER_RECIPIENT", recipient),
            ):
                user_id = person.id if person else self.world.buyers[index].id
                try:
                    code = accounts_services.otp_issue(
                        user_id=user_id, purpose=purpose, object_id=uuid.UUID(transfer_id)
                    )
                except (OperationalError, InterfaceError):
                    # Chaos may drop the bench's own database connection too; this offer is abandoned.
                    connections["default"].close()
                    return
                except OtpDailyLimit:
                    return  # a buyer past the daily cap of codes (raised for the run): this offer is abandoned
                party.request(
                    "transfer_confirm", "POST", f"/api/v1/transfers/{transfer_id}/confirm/", json={"code": code}
                )
        finally:
            other.close()

    def resale(self, index: int, client: harness.Client) -> None:
        mine = [t for t in self.tickets(client) if t.get("status") == "SOLD"]
        if not mine:
            return
        ticket = random.choice(mine)
        listed = client.request(
            "resale_list", "POST", "/api/v1/listings/", json={"seat_id": ticket["id"], "price": str(PRICE)}
        )
        if listed is None or listed.status_code != 201:
            return
        listing_id = listed.json()["id"]
        if random.random() < 0.1:
            client.request("resale_withdraw", "POST", f"/api/v1/listings/{listing_id}/withdraw/", json={})
            return
        # One buyer, or two racing for the same listing: at most one may win.
        buyers = [self.other_buyer(index) for _ in range(2 if random.random() < 0.3 else 1)]
        answers: list = []

        def buy(person: Person) -> None:
            other = self.client_for(person)
            try:
                answers.append(other.request("resale_buy", "POST", f"/api/v1/listings/{listing_id}/buy/", json={}))
            finally:
                other.close()

        harness.all_at_once(buy, buyers)
        wins = [a for a in answers if a is not None and a.status_code in (200, 201)]
        if len(wins) > 1 and len({w.json().get("buyer_id") for w in wins}) > 1:
            self.anomaly(f"listing {listing_id} sold to two buyers")

    def scan(self, index: int, client: harness.Client) -> None:
        mine = [t for t in self.tickets(client) if t.get("status") in ("SOLD", "CHECKED_IN")]
        if not mine:
            return
        ticket = random.choice(mine)
        qr = client.request("ticket_qr", "GET", f"/api/v1/tickets/{ticket['id']}/qr/")
        if qr is None or qr.status_code != 200:
            return
        token = qr.json()["token"]
        gates = ["North", "South"] if random.random() < 0.3 else ["North"]
        answers: list = []

        def scan_at(gate_name: str) -> None:
            gate = self.client_for(self.world.gate)
            try:
                answers.append(
                    gate.request(
                        "scan",
                        "POST",
                        "/api/v1/scan/",
                        json={"event_id": str(self.world.event_id), "gate": gate_name, "token": token},
                    )
                )
            finally:
                gate.close()

        harness.all_at_once(scan_at, gates)
        admitted = [
            a for a in answers if a is not None and a.status_code == 200 and a.json().get("result") == "SUCCESS"
        ]
        if len(admitted) > 1:
            self.anomaly(f"ticket {ticket['id']} admitted twice")

    def refund(self, index: int, client: harness.Client) -> None:
        response = client.request("orders", "GET", "/api/v1/orders/")
        if response is None or response.status_code != 200:
            return
        body = response.json()
        orders = [
            o
            for o in (body.get("results", body) if isinstance(body, dict) else body)
            if o.get("status") == "CONFIRMED" and str(o.get("event_id")) == str(self.world.event_id)
        ]
        if not orders:
            return
        order = random.choice(orders)
        staff = self.client_for(self.world.box_office)
        try:
            staff.request("refund", "POST", f"/api/v1/orders/{order['id']}/refund/", json={"reason": "stampede refund"})
        finally:
            staff.close()

    def iteration(self, index: int, client: harness.Client) -> None:
        action = random.choices(list(ACTIONS), weights=list(ACTIONS.values()))[0]
        getattr(self, action)(index, client)


def client_token(client: harness.Client) -> str | None:
    header = client.http.headers.get("Authorization", "")
    return header.removeprefix("Token ") or None


# --- The run -----------------------------------------------------------------------------------------------------
@dataclass
class Result:
    stats: harness.Stats
    anomalies: list[str]
    invariants: Any  # ops.invariants.Report
    recovery_output: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.stats.server_errors == 0 and not self.anomalies and self.invariants.ok

    def print(self, out=sys.stdout, title: str = "Stampede") -> None:
        print(f"\n== {title}", file=out)
        print(self.stats.table(), file=out)
        codes = self.stats.codes()
        print(
            f"\nattempts {self.stats.attempts}, successes {self.stats.successes}, "
            f"losses {self.stats.attempts - self.stats.successes}; server errors {self.stats.server_errors}",
            file=out,
        )
        print("error codes: " + (", ".join(f"{c}={n}" for c, n in codes.most_common()) or "none"), file=out)
        for key, value in self.extra.items():
            print(f"{key}: {value}", file=out)
        for sample in self.stats.server_error_samples:
            print(f"  5xx: {sample}", file=out)
        for anomaly in self.anomalies:
            print(f"  anomaly: {anomaly}", file=out)
        report = self.invariants
        verdict = "PASS" if report.ok else f"FAIL ({sum(report.counts.values())} violations: {dict(report.counts)})"
        print(f"invariants: {verdict} (checked in {report.elapsed_s:.2f} s)", file=out)
        for violation in report.violations[:30]:
            print(f"  {violation.check}: {violation.detail} {violation.ids}", file=out)
        print(f"verdict: {'PASS' if self.ok else 'FAIL'}", file=out)


def recover_and_check() -> tuple[str, Any]:
    """Run every recoverer (no grace: the load has stopped), then the invariant checker."""
    import io

    from django.core.management import call_command
    from django.core.management.base import CommandError

    from ops import invariants

    out = io.StringIO()
    try:
        call_command("recover_flows", "--older-than", "0", stdout=out, stderr=out)
    except CommandError as exc:
        raise CommandError(f"{exc}\n{out.getvalue()}") from exc  # which flow, and why
    return out.getvalue(), invariants.check_all()


def run(
    *,
    clients: int = 64,
    seconds: float = 60,
    max_requests: int | None = None,
    workers: int = 4,
    port: int = 8106,
    buyers: int | None = None,
    server_env_extra: dict[str, str] | None = None,
    chaos: Callable[[harness.Server, World, threading.Event], Any] | None = None,
    tolerate_outages: bool = False,
    title: str = "Stampede",
    target: Any = None,
) -> Result:
    """Build the world, start gunicorn, run the crowd (and ``chaos`` on a background thread), recover, check.

    ``target``: a server that is already running (bench.topology.RemoteServer) instead of a gunicorn started here;
    then ``workers``, ``port`` and ``server_env_extra`` are unused."""
    from django.db import connections

    world = build_world(buyers=buyers or max(clients * 2, 8))
    stats = harness.Stats()
    try:
        env = harness.server_env(
            {"EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend", **(server_env_extra or {})}
        )
        server_context = target if target is not None else harness.Server(port=port, workers=workers, env=env)
        with server_context as server:
            crowd = Crowd(world, server.base_url, stats, tolerate_outages=tolerate_outages)
            budget = max_requests if max_requests is not None else clients * 400
            breaking = harness.background(lambda stop: chaos(server, world, stop)) if chaos else nullcontext()
            with breaking:
                harness.run_clients(
                    crowd.iteration,
                    clients=clients,
                    base_url=server.base_url,
                    stats=stats,
                    seconds=seconds,
                    max_iterations=budget,
                    token_for=lambda index: world.buyers[index].token,
                )
            if chaos is not None:
                server.wait_healthy(timeout=60)
            rss = server.worker_rss_mb()
        connections.close_all()
        recovery, report = recover_and_check()
    finally:
        restore_config(world)
    result = Result(stats=stats, anomalies=crowd.anomalies, invariants=report, recovery_output=recovery)
    result.extra["worker RSS MB"] = ", ".join(f"{size:.0f}" for size in rss.values())
    if hasattr(server, "cpu_report"):  # a --target deployment (bench/topology.py)
        result.extra["deployment CPU"] = server.cpu_report(stats.attempts)
    result.extra["recovery"] = " ".join(recovery.split())[:400] or "nothing to recover"
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--max-requests", type=int, default=None, help="Iterations in total (default clients x 400).")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--port", type=int, default=8106)
    parser.add_argument("--buyers", type=int, default=None, help="Buyer accounts (default 2 x clients).")
    parser.add_argument(
        "--configured-databases",
        action="store_true",
        help="Run in the configured databases as they are (default: fresh databases on the same server, dropped "
        "afterwards, so the checker audits only this run).",
    )
    add_target_arguments(parser)
    args = parser.parse_args(argv)
    target = target_from_arguments(args)
    fresh = not args.configured_databases and target is None
    created = harness.create_fresh_databases(uuid.uuid4().hex[:8]) if fresh else []
    try:
        harness.setup_django()
        if created:
            harness.migrate_all()
        result = run(
            clients=args.clients,
            seconds=args.seconds,
            max_requests=args.max_requests,
            workers=args.workers,
            port=args.port,
            buyers=args.buyers,
            target=target,
        )
        result.print(title="Stampede" if target is None else f"Stampede on {args.target}")
    finally:
        harness.drop_databases(created)
    return 0 if result.ok else 1


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    """--target and its TLS options (bench/topology.py); absent, the bench starts its own server as always."""
    parser.add_argument(
        "--target",
        default=None,
        help="Drive this running deployment (e.g. https://127.0.0.1:5743, the deploy/ topology) instead of starting "
        'gunicorn; the *_DATABASE_URL variables must name its databases (eval "$(deploy/ctl env)"), which the run '
        "then uses as they are.",
    )
    parser.add_argument("--cacert", default=None, help="CA certificate to verify the target with (self-signed).")
    parser.add_argument("--insecure", action="store_true", help="Do not verify the target's TLS certificate.")
    parser.add_argument(
        "--ctl", default=None, help="The topology's controller (default deploy/ctl when --target is given)."
    )


def target_from_arguments(args: argparse.Namespace):
    if not args.target:
        return None
    import os

    from bench import topology

    missing = [v for v in harness.DATABASE_URL_VARIABLES.values() if not os.environ.get(v)]
    if missing:
        raise SystemExit(f"--target needs the target's database URLs: {', '.join(missing)} unset")
    topology.configure_tls(insecure=args.insecure, cacert=args.cacert)
    ctl = topology.Topology(args.ctl) if args.ctl else topology.Topology()
    return topology.RemoteServer(args.target, topology=ctl if ctl.ctl.exists() else None)


if __name__ == "__main__":
    sys.exit(main())
