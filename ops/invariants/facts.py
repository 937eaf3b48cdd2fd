"""The facts the checks compare, read from users_db, orders_db and seats_db in one snapshot per database.

Each domain's ``invariants`` module states the facts of its own database (with its own table names); this module
only opens the snapshots and reads every domain's facts inside them, before any check compares anything.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connections, transaction

from accounts import DB_ALIAS as USERS_DB
from accounts.invariants import LedgerFacts, ledger_facts
from inventory import DB_ALIAS as SEATS_DB
from inventory.invariants import SeatFacts, seat_facts
from orders import DB_ALIAS as ORDERS_DB
from orders.invariants import OrderFacts, order_facts


@dataclass
class Facts:
    ledger: LedgerFacts
    orders: OrderFacts
    seats: SeatFacts

    def examined(self) -> dict[str, int]:
        return {
            "users": self.ledger.user_count,
            "ledger_flow_rows": self.ledger.flow_row_count,
            "orders": len(self.orders.orders),
            "tickets": len(self.seats.tickets),
            "active_lines": len(self.orders.active_lines),
            "transfers": len(self.orders.transfers),
            "listings": len(self.orders.listings),
        }


def load_facts(*, grace_seconds: float) -> Facts:
    """Read every domain's facts; run inside ``snapshots()``.

    The first read of a database fixes its snapshot, so the order of these calls is the order in which the three
    databases are looked at: the ledger first, then the orders that explain it, then the seats.
    """
    ledger = ledger_facts()
    orders = order_facts(grace_seconds=grace_seconds)
    seats = seat_facts()
    return Facts(ledger=ledger, orders=orders, seats=seats)


@contextlib.contextmanager
def snapshots() -> Iterator[None]:
    """One consistent snapshot per database (REPEATABLE READ, READ ONLY): the checker can never write, and rows of
    one database are not read at two different moments. Across databases there is no common snapshot; run it on a
    quiet system (or with a grace period) and re-run before believing a single violation under load."""
    with _snapshot(USERS_DB), _snapshot(SEATS_DB), _snapshot(ORDERS_DB):
        yield


@contextlib.contextmanager
def _snapshot(alias: str) -> Iterator[None]:
    connection = connections[alias]
    if connection.in_atomic_block:
        # Called inside a caller's transaction (a test): its snapshot is already chosen, just read in it.
        yield
        return
    with transaction.atomic(using=alias):
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield
