"""Shared set-up for the buyer tests: an on-sale event with real seat rows, and the SPEC 4.5 invariants.

Seats are made with the inventory factory (the rows a published event has); the invariants are read with raw SQL
so these tests depend on no other app's models.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connections
from django.utils import timezone

from events.tests.factories import EventFactory, EventSectionFactory, GeneralSectionFactory, PriceTierFactory
from inventory.tests.factories import SeatFactory

Seat = SeatFactory._meta.model
ALL_DATABASES = ["default", "seats", "orders", "events"]


@dataclass
class EventSetup:
    event: object
    section: object
    tier: object
    seats: list = field(default_factory=list)

    @property
    def seat_ids(self) -> list:
        return [seat.pk for seat in self.seats]


def make_event(
    *,
    rows: int = 2,
    seats_per_row: int = 5,
    price: str = "50.00",
    general: bool = False,
    accessible_first: bool = True,
    **event_fields,
) -> EventSetup:
    """A published, on-sale event with one section (seated grid or general admission) and its inventory."""
    event = EventFactory(**event_fields)
    tier = PriceTierFactory(event=event, price=Decimal(price))
    if general:
        section = GeneralSectionFactory(venue=event.venue, capacity=rows * seats_per_row)
        EventSectionFactory(event=event, section=section, tier=tier)
    else:
        link = EventSectionFactory(event=event, tier=tier, section__rows=rows, section__seats_per_row=seats_per_row)
        section = link.section
    seats = []
    for r in range(rows):
        for n in range(seats_per_row):
            seats.append(
                SeatFactory(
                    event_id=event.pk,
                    section_id=section.pk,
                    tier_id=tier.pk,
                    row_label="GA" if general else chr(ord("A") + r),
                    number=(r * seats_per_row + n + 1) if general else n + 1,
                    x=n * 20,
                    y=r * 20,
                    is_accessible=accessible_first and r == 0 and n == 0,
                    is_general_admission=general,
                    price=Decimal(price),
                )
            )
    return EventSetup(event=event, section=section, tier=tier, seats=seats)


def expire_holds(seat_ids) -> None:
    """Make holds run out now (a hold is at least 30 s long; tests do not wait)."""
    Seat.objects.using("seats").filter(pk__in=list(seat_ids), status="HELD").update(
        hold_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )


def _rows(alias: str, sql: str, params=None) -> list[tuple]:
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def balance_of(user) -> Decimal:
    return _rows("default", "SELECT credit_balance FROM accounts_user WHERE id = %s", [user.pk])[0][0]


def ledger(kind: str, reference) -> list[Decimal]:
    return [
        amount
        for (amount,) in _rows(
            "default",
            "SELECT amount FROM accounts_ledgerentry WHERE kind = %s AND reference = %s",
            [kind, str(reference)],
        )
    ]


def assert_purchase_invariants() -> None:
    """SPEC 4.5: balances equal ledger sums; every ticket belongs to exactly one confirmed order of its owner;
    no confirmed order without its debit; no net debit without a confirmed order."""
    mismatched = _rows(
        "default",
        "SELECT u.id, u.credit_balance, COALESCE(SUM(l.amount), 0) FROM accounts_user u "
        "LEFT JOIN accounts_ledgerentry l ON l.user_id = u.id GROUP BY u.id HAVING u.credit_balance <> "
        "COALESCE(SUM(l.amount), 0)",
    )
    assert not mismatched, f"balance differs from ledger: {mismatched}"

    orders = {
        str(pk): (status, buyer, total)
        for pk, status, buyer, total in _rows("orders", "SELECT id, status, buyer_id, total FROM orders_order")
    }
    active_lines: dict[str, list[str]] = {}
    for order_id, seat_id in _rows("orders", "SELECT order_id, seat_id FROM orders_orderline WHERE is_active"):
        active_lines.setdefault(str(seat_id), []).append(str(order_id))
    tickets = _rows(
        "seats",
        "SELECT id, owner_id, order_id FROM inventory_seat WHERE status IN ('SOLD', 'CHECKED_IN', 'LISTED')",
    )
    for seat_id, owner_id, order_id in tickets:
        status, buyer, _total = orders.get(str(order_id), (None, None, None))
        assert status == "CONFIRMED", f"ticket {seat_id} belongs to order {order_id} in state {status}"
        assert buyer == owner_id, f"ticket {seat_id} is owned by {owner_id}, not its buyer {buyer}"
        assert active_lines.get(str(seat_id)) == [str(order_id)], (
            f"ticket {seat_id} lines {active_lines.get(str(seat_id))}"
        )

    money: dict[str, dict[str, Decimal]] = {}
    for kind, reference, amount in _rows(
        "default",
        "SELECT kind, reference, amount FROM accounts_ledgerentry WHERE kind IN ('PURCHASE', 'PURCHASE_REFUND')",
    ):
        money.setdefault(reference, {})[kind] = amount
    for order_id, (status, _buyer, total) in orders.items():
        rows = money.get(order_id, {})
        net = rows.get("PURCHASE", Decimal("0")) + rows.get("PURCHASE_REFUND", Decimal("0"))
        if status == "CONFIRMED":
            assert total == 0 or rows.get("PURCHASE") == -total, f"confirmed order {order_id} has no debit: {rows}"
            assert net == -total, f"confirmed order {order_id} nets {net}, not -{total}"
        else:
            assert net == 0, f"order {order_id} ({status}) keeps a net debit of {net}"
    for reference in money:
        assert reference in orders, f"purchase ledger rows for no order: {reference}"


class AllQueries:
    """Capture the queries of every database alias (pytest-django's fixtures count only one)."""

    def __init__(self):
        from django.test.utils import CaptureQueriesContext

        self._contexts = {alias: CaptureQueriesContext(connections[alias]) for alias in ALL_DATABASES}

    def __enter__(self):
        for context in self._contexts.values():
            context.__enter__()
        return self

    def __exit__(self, *exc):
        for context in self._contexts.values():
            context.__exit__(*exc)

    @property
    def by_alias(self) -> dict[str, int]:
        return {alias: len(context.captured_queries) for alias, context in self._contexts.items()}

    @property
    def total(self) -> int:
        return sum(self.by_alias.values())
