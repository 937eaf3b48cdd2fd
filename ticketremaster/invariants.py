"""The invariant checker: audits the four databases together and names every violation with the ids involved.

Run it with ``python manage.py check_invariants [--json]`` (exit status 1 if anything is wrong). It is an auditor,
so it reads every database with raw SQL through ``django.db.connections[alias]`` and imports no app models (the
import-linter contracts stay green); the one exception is the availability check, which calls
``inventory.selectors.section_availability`` on purpose, because that figure is what buyers see.

What it checks (each check's name is the ``check`` of its violations):

money
  BALANCE_NEGATIVE            a user's credit balance is below zero
  BALANCE_LEDGER_MISMATCH     a user's balance differs from the sum of their ledger
  ORDER_WITHOUT_DEBIT         a confirmed order (total > 0) has no PURCHASE debit
  ORDER_CONFIRMED_BUT_REFUNDED  a confirmed order's debit was also refunded (the buyer has the seats for free)
  ORDER_REFUND_MISSING        a refunded order's debit was never credited back
  DEBIT_WITHOUT_ORDER         a PURCHASE debit whose order is missing, failed or pending, and was not refunded
  ORDER_MONEY_MISMATCH        an order's ledger rows net to a different amount than its total (or touch others)
  TRANSFER_WITHOUT_PAYMENT    a completed paid transfer has no TRANSFER_DEBIT / TRANSFER_CREDIT
  TRANSFER_MONEY_MISMATCH     a transfer's ledger rows net to something else than its outcome demands
  RESALE_WITHOUT_PAYMENT      a sold listing has no RESALE_DEBIT / RESALE_CREDIT for its sale attempt
  RESALE_MONEY_MISMATCH       a resale attempt's ledger rows net to something else than its outcome demands
  ORPHAN_LEDGER_MONEY         flow ledger rows (not TOPUP/ADJUSTMENT) that belong to no flow and do not net to zero
seats and orders
  TICKET_ORDER_NOT_CONFIRMED  a SOLD/CHECKED_IN/LISTED seat's order is missing or not confirmed
  TICKET_WITHOUT_ACTIVE_LINE  a ticket has no active order line of its order
  TICKET_OWNER_MISMATCH       a ticket's owner is not its buyer (or the last completed transfer/resale recipient)
  CONFIRMED_LINE_WITHOUT_TICKET  a confirmed order's active line names a seat that is not its ticket
  ORDER_TOTAL_MISMATCH        a confirmed order's total differs from the sum of its active lines
  SEAT_IN_TWO_ACTIVE_ORDERS   one seat has active lines in more than one order
  ACTIVE_LINE_OF_FINISHED_ORDER  a failed or refunded order still has an active line (it blocks the seat)
  REFUND_OF_PASSED_TICKET     a refunded order's ticket had been passed on (transfer/resale) before the refund: the
                              refund took the new holder's ticket (rule: such a refund is refused, TICKET_TRANSFERRED)
  LISTED_WITHOUT_LISTING      a LISTED seat has no active listing by its owner
  LISTING_WITHOUT_LISTED_TICKET  an ACTIVE listing's seat is not LISTED and owned by the seller
  UNFINISHED_FLOW             a pending order, completing transfer or selling listing older than the grace period
  AVAILABILITY_MISMATCH       section_availability differs from the raw counts (an expired hold counted as held)
gate
  ENTRY_DOUBLE_SUCCESS        more than one SUCCESS entry log for one seat
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connections, transaction

USERS, SEATS, ORDERS = "default", "seats", "orders"
TICKET_STATUSES = ("SOLD", "CHECKED_IN", "LISTED")
# Ledger kinds that are not part of a cross-database flow: money enters or leaves the system there.
STANDALONE_KINDS = ("TOPUP", "ADJUSTMENT")
ZERO = Decimal("0")

CHECKS: dict[str, str] = {
    "BALANCE_NEGATIVE": "a user's credit balance is below zero",
    "BALANCE_LEDGER_MISMATCH": "a user's balance differs from the sum of their ledger",
    "ORDER_WITHOUT_DEBIT": "a confirmed order has no PURCHASE debit",
    "ORDER_CONFIRMED_BUT_REFUNDED": "a confirmed order's debit was also refunded",
    "ORDER_REFUND_MISSING": "a refunded order's debit was never credited back",
    "DEBIT_WITHOUT_ORDER": "a PURCHASE debit without a confirmed or refunded order and without its refund",
    "ORDER_MONEY_MISMATCH": "an order's ledger rows do not net to its outcome",
    "TRANSFER_WITHOUT_PAYMENT": "a completed paid transfer has no ledger rows",
    "TRANSFER_MONEY_MISMATCH": "a transfer's ledger rows do not net to its outcome",
    "RESALE_WITHOUT_PAYMENT": "a sold listing has no ledger rows for its sale attempt",
    "RESALE_MONEY_MISMATCH": "a resale attempt's ledger rows do not net to its outcome",
    "ORPHAN_LEDGER_MONEY": "flow ledger rows that belong to no flow and do not net to zero",
    "TICKET_ORDER_NOT_CONFIRMED": "a ticket's order is missing or not confirmed",
    "TICKET_WITHOUT_ACTIVE_LINE": "a ticket has no active order line of its order",
    "TICKET_OWNER_MISMATCH": "a ticket's owner is not its buyer or last completed transfer/resale recipient",
    "CONFIRMED_LINE_WITHOUT_TICKET": "a confirmed order's active line names a seat that is not its ticket",
    "ORDER_TOTAL_MISMATCH": "a confirmed order's total differs from the sum of its active lines",
    "SEAT_IN_TWO_ACTIVE_ORDERS": "one seat has active lines in more than one order",
    "ACTIVE_LINE_OF_FINISHED_ORDER": "a failed or refunded order still has an active line",
    "REFUND_OF_PASSED_TICKET": "a refunded order's ticket belonged to someone else when it was refunded",
    "LISTED_WITHOUT_LISTING": "a LISTED seat has no active listing by its owner",
    "LISTING_WITHOUT_LISTED_TICKET": "an active listing's seat is not LISTED and owned by the seller",
    "UNFINISHED_FLOW": "a flow left unfinished past the grace period (run recover_flows)",
    "AVAILABILITY_MISMATCH": "an availability figure differs from the raw seat counts",
    "ENTRY_DOUBLE_SUCCESS": "more than one SUCCESS entry for one seat",
}


@dataclass(frozen=True)
class Violation:
    check: str
    detail: str
    ids: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.check, "detail": self.detail, "ids": self.ids}


@dataclass
class Report:
    violations: list[Violation] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    examined: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    elapsed_s: float = 0.0
    limit_per_check: int = 1000

    @property
    def ok(self) -> bool:
        return not self.counts

    def add(self, check: str, detail: str, **ids: Any) -> None:
        assert check in CHECKS, check
        self.counts[check] += 1
        # Every violation is counted; only the first few per check are kept with their details.
        if self.counts[check] <= self.limit_per_check:
            self.violations.append(Violation(check, detail, {key: str(value) for key, value in ids.items()}))

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "violation_count": sum(self.counts.values()),
            "counts": dict(self.counts),
            "violations": [violation.as_dict() for violation in self.violations],
            "examined": self.examined,
            "skipped": self.skipped,
            "elapsed_s": round(self.elapsed_s, 3),
        }


def _rows(alias: str, sql: str, params: list | None = None) -> list[tuple]:
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def check_all(*, grace_seconds: float = 0.0, limit_per_check: int = 1000) -> Report:
    """Run every check and return the report. ``grace_seconds``: flows touched more recently than this are in
    flight (a live system), and are left out instead of being reported."""
    started = time.monotonic()
    report = Report(limit_per_check=limit_per_check)
    # One consistent snapshot per database (REPEATABLE READ, READ ONLY): the checker can never write, and rows of one
    # database are not read at two different moments. Across databases there is no common snapshot; run it on a
    # quiet system (or with a grace period) and re-run before believing a single violation under load.
    with (
        _snapshot(USERS),
        _snapshot(SEATS),
        _snapshot(ORDERS),
    ):
        data = _load(grace_seconds)
        report.examined = {
            "users": data.user_count,
            "ledger_flow_rows": data.ledger_row_count,
            "orders": len(data.orders),
            "tickets": len(data.tickets),
            "active_lines": len(data.active_lines),
            "transfers": len(data.transfers),
            "listings": len(data.listings),
        }
        _check_balances(report)
        _check_money(report, data)
        _check_tickets(report, data)
        _check_refunds(report, data)
        _check_lines(report, data)
        _check_listings(report, data)
        _check_unfinished(report, data)
        _check_entry_logs(report)
    _check_availability(report)
    report.elapsed_s = time.monotonic() - started
    return report


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


# --- Loading -----------------------------------------------------------------------------------------------------
@dataclass
class _Order:
    id: str
    buyer_id: str
    status: str
    total: Decimal
    created_at: Any
    updated_at: Any
    refunded_at: Any = None


@dataclass
class _Ticket:
    id: str
    status: str
    owner_id: str
    order_id: str


@dataclass
class _Transfer:
    id: str
    seat_id: str
    from_user_id: str
    to_user_id: str
    price: Decimal
    status: str
    created_at: Any
    updated_at: Any
    completed_at: Any


@dataclass
class _Listing:
    id: str
    seat_id: str
    seller_id: str
    buyer_id: str | None
    price: Decimal
    fee: Decimal
    status: str
    sale_attempt_id: str | None
    created_at: Any
    updated_at: Any
    sold_at: Any


@dataclass
class _Data:
    user_count: int = 0
    ledger_row_count: int = 0
    # reference -> [(kind, user_id, amount)] for every flow kind (not TOPUP / ADJUSTMENT)
    ledger: dict[str, list[tuple[str, str, Decimal]]] = field(default_factory=lambda: defaultdict(list))
    orders: dict[str, _Order] = field(default_factory=dict)
    tickets: dict[str, _Ticket] = field(default_factory=dict)
    # seat_id -> [(order_id, price, order_status)]
    active_lines: dict[str, list[tuple[str, Decimal, str]]] = field(default_factory=lambda: defaultdict(list))
    transfers: dict[str, _Transfer] = field(default_factory=dict)
    listings: dict[str, _Listing] = field(default_factory=dict)
    in_flight_seats: set[str] = field(default_factory=set)
    in_flight_references: set[str] = field(default_factory=set)
    transfers_by_seat: dict[str, list[_Transfer]] = field(default_factory=dict)
    listings_by_seat: dict[str, list[_Listing]] = field(default_factory=dict)
    # (seat_id, order_id) of every line of a refunded order
    refunded_lines: list[tuple[str, str]] = field(default_factory=list)


def _load(grace_seconds: float) -> _Data:
    data = _Data()
    (data.user_count,) = _rows(USERS, "SELECT count(*) FROM accounts_user")[0]
    for kind, reference, user_id, amount in _rows(
        USERS,
        "SELECT kind, reference, user_id::text, amount FROM accounts_ledgerentry WHERE kind <> ALL(%s)",
        [list(STANDALONE_KINDS)],
    ):
        data.ledger[reference].append((kind, user_id, amount))
        data.ledger_row_count += 1
    for row in _rows(
        ORDERS,
        "SELECT id::text, buyer_id::text, status, total, created_at, updated_at, refunded_at FROM orders_order",
    ):
        data.orders[row[0]] = _Order(*row)
    data.refunded_lines = _rows(
        ORDERS,
        "SELECT l.seat_id::text, l.order_id::text FROM orders_orderline l "
        "JOIN orders_order o ON o.id = l.order_id WHERE o.status = 'REFUNDED'",
    )
    for seat_id, order_id, price, status in _rows(
        ORDERS,
        "SELECT l.seat_id::text, l.order_id::text, l.price, o.status FROM orders_orderline l "
        "JOIN orders_order o ON o.id = l.order_id WHERE l.is_active",
    ):
        data.active_lines[seat_id].append((order_id, price, status))
    for row in _rows(
        ORDERS,
        "SELECT id::text, seat_id::text, from_user_id::text, to_user_id::text, price, status, created_at, "
        "updated_at, completed_at FROM orders_transfer",
    ):
        data.transfers[row[0]] = _Transfer(*row)
    for row in _rows(
        ORDERS,
        "SELECT id::text, seat_id::text, seller_id::text, buyer_id::text, price, fee, status, sale_attempt_id::text, "
        "created_at, updated_at, sold_at FROM orders_resalelisting",
    ):
        data.listings[row[0]] = _Listing(*row)
    for row in _rows(
        SEATS,
        "SELECT id::text, status, owner_id::text, order_id::text FROM inventory_seat WHERE status = ANY(%s)",
        [list(TICKET_STATUSES)],
    ):
        data.tickets[row[0]] = _Ticket(*row)
    if grace_seconds > 0:
        # A flow touched within the grace period may be half-way through; its seats and money are left alone.
        (cutoff,) = _rows(ORDERS, "SELECT now() - make_interval(secs => %s)", [grace_seconds])[0]
        for order in data.orders.values():
            if order.status == "PENDING" and order.updated_at > cutoff:
                data.in_flight_references.add(order.id)
                data.in_flight_seats.update(
                    seat for seat, lines in data.active_lines.items() if any(o == order.id for o, _, _ in lines)
                )
        for transfer in data.transfers.values():
            if transfer.status == "COMPLETING" and transfer.updated_at > cutoff:
                data.in_flight_references.add(transfer.id)
                data.in_flight_seats.add(transfer.seat_id)
        for listing in data.listings.values():
            if listing.status == "SELLING" and listing.updated_at > cutoff:
                if listing.sale_attempt_id:
                    data.in_flight_references.add(listing.sale_attempt_id)
                data.in_flight_seats.add(listing.seat_id)
    return data


# --- Checks ------------------------------------------------------------------------------------------------------
def _check_balances(report: Report) -> None:
    for user_id, balance in _rows(USERS, "SELECT id::text, credit_balance FROM accounts_user WHERE credit_balance < 0"):
        report.add("BALANCE_NEGATIVE", f"balance {balance} is below zero", user=user_id)
    for user_id, balance, ledger_sum in _rows(
        USERS,
        "SELECT u.id::text, u.credit_balance, COALESCE(l.total, 0) FROM accounts_user u "
        "LEFT JOIN (SELECT user_id, sum(amount) AS total FROM accounts_ledgerentry GROUP BY user_id) l "
        "ON l.user_id = u.id WHERE u.credit_balance <> COALESCE(l.total, 0)",
    ):
        report.add(
            "BALANCE_LEDGER_MISMATCH",
            f"balance {balance} but the ledger sums to {ledger_sum} (difference {balance - ledger_sum})",
            user=user_id,
        )


def _net(rows: list[tuple[str, str, Decimal]]) -> dict[str, Decimal]:
    """Net amount per user of a flow's ledger rows, zero nets dropped."""
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for _kind, user_id, amount in rows:
        totals[user_id] += amount
    return {user: amount for user, amount in totals.items() if amount != ZERO}


def _expected(pairs: dict[str, Decimal]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for user, amount in pairs.items():
        totals[user] += amount
    return {user: amount for user, amount in totals.items() if amount != ZERO}


def _describe(net: dict[str, Decimal]) -> str:
    return ", ".join(f"{user}: {amount:+}" for user, amount in sorted(net.items())) or "nothing"


def _take(ledger: dict[str, list], flow_id: str) -> list[tuple[str, str, Decimal]]:
    """Pop the ledger rows of one flow: its id as reference, or a reference that extends it ("<id>:...")."""
    rows = ledger.pop(flow_id, [])
    prefix = f"{flow_id}:"
    for reference in [reference for reference in ledger if reference.startswith(prefix)]:
        rows.extend(ledger.pop(reference))
    return rows


def _check_money(report: Report, data: _Data) -> None:
    ledger = data.ledger
    for order in data.orders.values():
        rows = _take(ledger, order.id)
        if order.id in data.in_flight_references:
            continue
        kinds = Counter(kind for kind, _, _ in rows)
        debited, refunded = kinds["PURCHASE"] > 0, kinds["PURCHASE_REFUND"] > 0
        ids = {"order": order.id, "buyer": order.buyer_id}
        if order.status == "CONFIRMED":
            if order.total > ZERO and not debited:
                report.add("ORDER_WITHOUT_DEBIT", f"confirmed order of {order.total} has no PURCHASE debit", **ids)
                continue
            if refunded:
                report.add("ORDER_CONFIRMED_BUT_REFUNDED", "confirmed order's debit was refunded", **ids)
                continue
            expected = _expected({order.buyer_id: -order.total})
        else:
            if order.status == "REFUNDED" and debited and not refunded:
                report.add("ORDER_REFUND_MISSING", f"refunded order of {order.total} was never credited back", **ids)
                continue
            if debited and not refunded:
                report.add(
                    "DEBIT_WITHOUT_ORDER",
                    f"{order.status} order (total {order.total}) kept its PURCHASE debit without a refund",
                    **ids,
                )
                continue
            expected = {}
        net = _net(rows)
        if net != expected:
            report.add(
                "ORDER_MONEY_MISMATCH",
                f"{order.status} order's ledger nets to {_describe(net)}; expected {_describe(expected)}",
                **ids,
            )
    for transfer in data.transfers.values():
        rows = _take(ledger, transfer.id)
        if transfer.id in data.in_flight_references:
            continue
        ids = {"transfer": transfer.id, "seat": transfer.seat_id}
        moved = transfer.status in ("COMPLETED", "DISPUTED")
        expected = (
            _expected({transfer.to_user_id: -transfer.price, transfer.from_user_id: transfer.price}) if moved else {}
        )
        net = _net(rows)
        if moved and transfer.price > ZERO and not rows:
            report.add(
                "TRANSFER_WITHOUT_PAYMENT", f"{transfer.status} transfer of {transfer.price} has no ledger rows", **ids
            )
        elif net != expected:
            report.add(
                "TRANSFER_MONEY_MISMATCH",
                f"{transfer.status} transfer's ledger nets to {_describe(net)}; expected {_describe(expected)}",
                **ids,
            )
    for listing in data.listings.values():
        if not listing.sale_attempt_id:
            if listing.status == "SOLD":
                report.add("RESALE_WITHOUT_PAYMENT", "sold listing has no sale attempt", listing=listing.id)
            continue
        rows = _take(ledger, listing.sale_attempt_id)
        if listing.sale_attempt_id in data.in_flight_references:
            continue
        ids = {"listing": listing.id, "sale_attempt": listing.sale_attempt_id, "seat": listing.seat_id}
        sold = listing.status == "SOLD"
        expected = (
            _expected({listing.buyer_id or "": -listing.price, listing.seller_id: listing.price - listing.fee})
            if sold
            else {}
        )
        net = _net(rows)
        if sold and not rows:
            report.add("RESALE_WITHOUT_PAYMENT", f"sold listing of {listing.price} has no ledger rows", **ids)
        elif net != expected:
            report.add(
                "RESALE_MONEY_MISMATCH",
                f"{listing.status} listing's ledger nets to {_describe(net)}; expected {_describe(expected)}",
                **ids,
            )
    # What is left belongs to no known flow: an earlier, superseded resale attempt must net to zero for everyone;
    # a purchase debit whose order does not exist is money taken for nothing.
    for reference, rows in ledger.items():
        net = _net(rows)
        kinds = {kind for kind, _, _ in rows}
        if "PURCHASE" in kinds and "PURCHASE_REFUND" not in kinds:
            report.add(
                "DEBIT_WITHOUT_ORDER", f"PURCHASE debit for a missing order ({_describe(net)})", reference=reference
            )
        elif net:
            report.add(
                "ORPHAN_LEDGER_MONEY",
                f"ledger rows ({', '.join(sorted(kinds))}) of no known flow net to {_describe(net)}",
                reference=reference,
            )


def _expected_owner(data: _Data, ticket: _Ticket, order: _Order, until: Any = None) -> str:
    """The buyer, or whoever the last completed transfer or resale of this seat (after the order, and before
    ``until`` if given) moved it to."""
    moves: list[tuple[Any, str]] = []
    for transfer in data.transfers_by_seat.get(ticket.id, ()):
        if transfer.created_at < order.created_at or (until is not None and transfer.created_at > until):
            continue
        if transfer.status in ("COMPLETED", "DISPUTED"):
            moves.append((transfer.completed_at or transfer.updated_at, transfer.to_user_id))
        elif transfer.status == "REVERSED":
            moves.append((transfer.completed_at or transfer.updated_at, transfer.to_user_id))
            moves.append((transfer.updated_at, transfer.from_user_id))
    for listing in data.listings_by_seat.get(ticket.id, ()):
        if until is not None and listing.created_at > until:
            continue
        if listing.status == "SOLD" and listing.created_at >= order.created_at and listing.buyer_id:
            moves.append((listing.sold_at or listing.updated_at, listing.buyer_id))
    if not moves:
        return order.buyer_id
    return max(moves, key=lambda move: move[0])[1]


def _check_tickets(report: Report, data: _Data) -> None:
    for transfer in data.transfers.values():
        data.transfers_by_seat.setdefault(transfer.seat_id, []).append(transfer)
    for listing in data.listings.values():
        data.listings_by_seat.setdefault(listing.seat_id, []).append(listing)
    for ticket in data.tickets.values():
        if ticket.id in data.in_flight_seats:
            continue
        ids = {"seat": ticket.id, "order": ticket.order_id, "owner": ticket.owner_id}
        order = data.orders.get(ticket.order_id)
        if order is None or order.status != "CONFIRMED":
            state = "missing" if order is None else order.status
            report.add("TICKET_ORDER_NOT_CONFIRMED", f"{ticket.status} seat's order is {state}", **ids)
            continue
        lines = [line for line in data.active_lines.get(ticket.id, ()) if line[0] == order.id]
        if not lines:
            report.add("TICKET_WITHOUT_ACTIVE_LINE", f"{ticket.status} seat has no active line in its order", **ids)
        expected = _expected_owner(data, ticket, order)
        if expected != ticket.owner_id:
            report.add(
                "TICKET_OWNER_MISMATCH",
                f"{ticket.status} seat is owned by {ticket.owner_id}, expected {expected}",
                expected_owner=expected,
                **ids,
            )


def _check_refunds(report: Report, data: _Data) -> None:
    """A refund pays the buyer back for tickets they still held; one passed on by then belonged to someone else."""
    for seat_id, order_id in data.refunded_lines:
        order = data.orders[order_id]
        until = order.refunded_at or order.updated_at
        holder = _expected_owner(data, _Ticket(seat_id, "", "", order_id), order, until=until)
        if holder != order.buyer_id:
            report.add(
                "REFUND_OF_PASSED_TICKET",
                f"refunded order's ticket had passed to {holder} before the refund",
                seat=seat_id,
                order=order_id,
                holder=holder,
            )


def _check_lines(report: Report, data: _Data) -> None:
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for seat_id, lines in data.active_lines.items():
        if seat_id in data.in_flight_seats:
            continue
        if len({order_id for order_id, _, _ in lines}) > 1:
            report.add(
                "SEAT_IN_TWO_ACTIVE_ORDERS",
                f"seat has active lines in {len(lines)} orders",
                seat=seat_id,
                orders=",".join(sorted(order_id for order_id, _, _ in lines)),
            )
        for order_id, price, status in lines:
            totals[order_id] += price
            if status in ("FAILED", "REFUNDED"):
                report.add(
                    "ACTIVE_LINE_OF_FINISHED_ORDER",
                    f"{status} order still has an active line",
                    seat=seat_id,
                    order=order_id,
                )
            elif status == "CONFIRMED":
                ticket = data.tickets.get(seat_id)
                if ticket is None or ticket.order_id != order_id:
                    state = "not a ticket" if ticket is None else f"a ticket of order {ticket.order_id}"
                    report.add(
                        "CONFIRMED_LINE_WITHOUT_TICKET",
                        f"confirmed order's seat is {state}: the buyer paid for a seat they do not have",
                        seat=seat_id,
                        order=order_id,
                    )
    for order in data.orders.values():
        if (
            order.status == "CONFIRMED"
            and order.id not in data.in_flight_references
            and totals[order.id] != order.total
        ):
            report.add(
                "ORDER_TOTAL_MISMATCH",
                f"confirmed order's total {order.total} but its active lines sum to {totals[order.id]}",
                order=order.id,
            )


def _check_listings(report: Report, data: _Data) -> None:
    active_by_seat: dict[str, list[_Listing]] = defaultdict(list)
    for listing in data.listings.values():
        if listing.status in ("ACTIVE", "SELLING"):
            active_by_seat[listing.seat_id].append(listing)
    for ticket in data.tickets.values():
        if ticket.status != "LISTED" or ticket.id in data.in_flight_seats:
            continue
        if not any(listing.seller_id == ticket.owner_id for listing in active_by_seat.get(ticket.id, ())):
            report.add("LISTED_WITHOUT_LISTING", "LISTED seat has no active listing by its owner", seat=ticket.id)
    for seat_id, listings in active_by_seat.items():
        if seat_id in data.in_flight_seats:
            continue
        ticket = data.tickets.get(seat_id)
        for listing in listings:
            if listing.status != "ACTIVE":
                continue
            if ticket is None or ticket.status != "LISTED" or ticket.owner_id != listing.seller_id:
                state = "not a ticket" if ticket is None else f"{ticket.status} owned by {ticket.owner_id}"
                report.add(
                    "LISTING_WITHOUT_LISTED_TICKET",
                    f"active listing's seat is {state}",
                    listing=listing.id,
                    seat=seat_id,
                    seller=listing.seller_id,
                )


def _check_unfinished(report: Report, data: _Data) -> None:
    for order in data.orders.values():
        if order.status == "PENDING" and order.id not in data.in_flight_references:
            report.add("UNFINISHED_FLOW", "purchase still PENDING", order=order.id)
    for transfer in data.transfers.values():
        if transfer.status == "COMPLETING" and transfer.id not in data.in_flight_references:
            report.add("UNFINISHED_FLOW", "transfer still COMPLETING", transfer=transfer.id)
    for listing in data.listings.values():
        if listing.status == "SELLING" and (listing.sale_attempt_id or "") not in data.in_flight_references:
            report.add("UNFINISHED_FLOW", "resale still SELLING", listing=listing.id)


def _check_entry_logs(report: Report) -> None:
    for seat_id, count in _rows(
        SEATS,
        "SELECT seat_id::text, count(*) FROM inventory_entrylog WHERE result = 'SUCCESS' AND seat_id IS NOT NULL "
        "GROUP BY seat_id HAVING count(*) > 1",
    ):
        report.add("ENTRY_DOUBLE_SUCCESS", f"{count} SUCCESS entries", seat=seat_id)


_RAW_AVAILABILITY = (
    "SELECT event_id::text, section_id::text, "
    "CASE WHEN status = 'HELD' AND hold_expires_at <= clock_timestamp() THEN 'AVAILABLE' ELSE status END, count(*) "
    "FROM inventory_seat WHERE deleted_at IS NULL GROUP BY 1, 2, 3"
)


def _raw_availability() -> dict[str, dict[str, dict[str, int]]]:
    counts: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for event_id, section_id, status, count in _rows(SEATS, _RAW_AVAILABILITY):
        counts[event_id][section_id][status] = count
    return {
        event: {section: dict(statuses) for section, statuses in sections.items()} for event, sections in counts.items()
    }


def _normalise(figure: dict) -> dict[str, dict[str, int]]:
    return {
        str(section): {str(status): int(count) for status, count in statuses.items() if count}
        for section, statuses in figure.items()
        if any(statuses.values())
    }


def _check_availability(report: Report) -> None:
    """Buyers' availability figures must treat an expired hold as AVAILABLE, like the raw rows do.

    A hold may expire between the raw count and the selector's query, so the raw counts are taken before and after,
    and only a figure that matches neither is reported.
    """
    try:
        from inventory.selectors import section_availability
    except ImportError as exc:
        report.skipped["AVAILABILITY_MISMATCH"] = f"inventory.selectors.section_availability unavailable: {exc}"
        return
    before = _raw_availability()
    figures = {event_id: _normalise(section_availability(event_id=event_id)) for event_id in before}
    after = _raw_availability()
    report.examined["availability_events"] = len(figures)
    for event_id, figure in figures.items():
        if figure in (before.get(event_id), after.get(event_id)):
            continue
        raw = after.get(event_id, {})
        for section_id in sorted(set(raw) | set(figure)):
            shown, truth = figure.get(section_id, {}), raw.get(section_id, {})
            if shown != truth:
                report.add(
                    "AVAILABILITY_MISMATCH",
                    f"section_availability says {shown}, the seat rows say {truth}",
                    event=event_id,
                    section=section_id,
                )
