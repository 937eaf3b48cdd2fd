"""Exports of an 80,000-ticket event: time and peak Python memory of each export, CSV and XLSX.

    .venv/bin/python -m bench.exports [--tickets 80000] [--keep] [--only event|organization]

Builds, in fresh databases of its own, an event of 80 sections x 1,000 seats published through the staff service,
then marks every seat sold in bulk SQL (two seats per order, 8,000 buyers, a PURCHASE ledger row per order and a
gate entry for one ticket in four): the shortcut makes a big data set in a minute, and the exports only read it.
It then runs every export twice through ``orders.exports.export_response`` (what the admin and the API call), reading
the whole response as a client would: once for the time, once under ``tracemalloc`` for the peak of Python memory
allocated while it ran. Bounded memory means that peak stays flat whatever the row count (compare --tickets 20000).
The organization's exports (orders and ledger across its events, today's range) are run the same way.
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
import uuid

from bench import harness

SECTIONS, ROWS, PER_ROW = 80, 25, 40
BUYERS = 8_000
BATCH = 10_000


def _build(tickets: int, run_id: str, log) -> uuid.UUID:
    import datetime as dt
    from decimal import Decimal

    from django.db import connections
    from django.utils import timezone

    from accounts.models import LedgerEntry, User
    from bench import dataset
    from inventory.models import EntryLog
    from orders.models import Order, OrderLine

    data = dataset.build_people(dataset.SIZES["tiny"], run_id, log)
    sections = max(1, tickets // (ROWS * PER_ROW))
    event_id, _sections = dataset._event_with_sections(  # noqa: SLF001 - the bench's own builder
        data, title="Export", sections=sections, rows=ROWS, seats_per_row=PER_ROW, price=Decimal("10.00")
    )
    log(f"  publishing {sections * ROWS * PER_ROW:,} places: {dataset.publish(data, event_id):.1f} s")
    users = User.objects.bulk_create(
        [
            User(email=f"fan{index}-{run_id}@bench.test", full_name=f"Fan {index}", is_verified=True)
            for index in range(BUYERS)
        ],
        batch_size=2000,
    )
    with connections["seats"].cursor() as cursor:
        cursor.execute("SELECT id FROM inventory_seat WHERE event_id = %s ORDER BY id", [event_id])
        seat_ids = [row[0] for row in cursor.fetchall()]
    now = timezone.now()
    orders, lines, owners, order_of = [], [], [], []
    for index in range(0, len(seat_ids), 2):
        buyer = users[(index // 2) % BUYERS].pk
        order = Order(
            buyer_id=buyer,
            event_id=event_id,
            organization_id=data.organization_id,
            status="CONFIRMED",
            step="DONE",
            total=Decimal("20.00"),
            idempotency_key=f"bench-{index}",
            confirmed_at=now,
        )
        orders.append(order)
        for seat_id in seat_ids[index : index + 2]:
            lines.append(OrderLine(order=order, seat_id=seat_id, price=Decimal("10.00")))
            owners.append(buyer)
            order_of.append(order.pk)
    Order.objects.using("orders").bulk_create(orders, batch_size=5000)
    OrderLine.objects.using("orders").bulk_create(lines, batch_size=5000)
    with connections["seats"].cursor() as cursor:
        for start in range(0, len(seat_ids), BATCH):
            part = slice(start, start + BATCH)
            cursor.execute(
                "UPDATE inventory_seat s SET status = 'SOLD', owner_id = v.owner, order_id = v.ord FROM "
                "(SELECT unnest(%s::uuid[]) AS id, unnest(%s::uuid[]) AS owner, unnest(%s::uuid[]) AS ord) v "
                "WHERE s.id = v.id",
                [seat_ids[part], owners[part], order_of[part]],
            )
        cursor.execute(
            "UPDATE inventory_seat SET status = 'CHECKED_IN', checked_in_at = now() "
            "WHERE event_id = %s AND number %% 4 = 0",
            [event_id],
        )
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                user_id=order.buyer_id,
                kind="PURCHASE",
                amount=Decimal("-20.00"),
                balance_after=Decimal("0.00"),
                reference=str(order.pk),
            )
            for order in orders
        ],
        batch_size=5000,
    )
    EntryLog.objects.using("seats").bulk_create(
        [
            EntryLog(
                seat_id=seat_id,
                event_id=event_id,
                organization_id=data.organization_id,
                staff_id=data.gate_staff[0].id,
                gate=f"Gate {index % 6 + 1}",
                result="SUCCESS",
                holder_id=owners[index],
                created_at=now - dt.timedelta(seconds=len(seat_ids) - index),
            )
            for index, seat_id in enumerate(seat_ids)
            if index % 4 == 3
        ],
        batch_size=5000,
    )
    log(f"  sold {len(seat_ids):,} tickets in {len(orders):,} orders to {BUYERS:,} buyers")
    return event_id


def _run(kind_name: str, file_format: str, event) -> tuple[int, int]:
    from orders.exports import EXPORTS, export_response

    return _read(export_response(kind=EXPORTS[kind_name], file_format=file_format, event=event, actor_id=None))


def _run_organization(kind_name: str, file_format: str, scope) -> tuple[int, int]:
    from orders.exports.organization import ORGANIZATION_EXPORTS, organization_export_response

    kind = ORGANIZATION_EXPORTS[kind_name]
    return _read(organization_export_response(kind=kind, file_format=file_format, scope=scope, actor_id=None))


def _read(response) -> tuple[int, int]:
    size = lines = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        lines += chunk.count(b"\n")
    response.close()
    return size, lines


def _organization(scope):
    return lambda kind, file_format: _run_organization(kind.removeprefix("organization "), file_format, scope)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=80_000)
    parser.add_argument("--keep", action="store_true", help="keep the databases (default: drop them)")
    parser.add_argument("--only", choices=("event", "organization"), help="run only one family of exports")
    args = parser.parse_args(argv)
    run_id = uuid.uuid4().hex[:8]
    urls = harness.create_fresh_databases(run_id)
    harness.setup_django()
    try:
        harness.migrate_all()
        from events import selectors as events_selectors

        event_id = _build(args.tickets, run_id, print)
        from django.utils import timezone

        from orders.exports.organization import export_range

        event = events_selectors.event_for_operations(event_id=event_id)
        today = timezone.now().date()
        scope = export_range(organization_id=event.organization_id, name="bench", first_day=today, last_day=today)
        runs = []
        if args.only != "organization":
            runs += [(kind, lambda k, f: _run(k, f, event)) for kind in ("attendees", "orders", "ledger", "entries")]
        if args.only != "event":
            runs += [(f"organization {kind}", _organization(scope)) for kind in ("orders", "ledger")]
        results = []
        for kind, run in runs:
            for file_format in ("csv", "xlsx"):
                started = time.perf_counter()
                size, lines = run(kind, file_format)
                seconds = time.perf_counter() - started
                tracemalloc.start()
                run(kind, file_format)
                _current, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
                row = {
                    "export": kind,
                    "format": file_format,
                    "rows": lines - 1 if file_format == "csv" else None,
                    "bytes": size,
                    "seconds": round(seconds, 2),
                    "peak_python_mib": round(peak / 2**20, 1),
                }
                results.append(row)
                print(json.dumps(row))
        print(f"machine: {harness.machine_description()}")
    finally:
        if not args.keep:
            harness.drop_databases(urls)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
