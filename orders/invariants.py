"""The facts of orders_db that the invariant checker (``ops.invariants``) compares: read-only, over orders' tables.

Every query reads ``connections[DB_ALIAS]`` as it stands: the checker opens one REPEATABLE READ, READ ONLY
transaction on it before the first read, so orders, lines, transfers and listings come from one snapshot.

Only orders_db is read here, although orders drives the flows that span databases: the comparisons with the ledger
and the seats live in ``ops.invariants``, so that the auditor of a flow shares no code with the flow it audits, and
every domain's facts meet in one place.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connections

from orders import DB_ALIAS
from orders.contract import OrderRefundStep, OrderStatus, ResaleListingStatus, TransferStatus
from orders.models import Order, OrderLine, OrderRefund, ResaleListing, Transfer

ORDER_TABLE = Order._meta.db_table
LINE_TABLE = OrderLine._meta.db_table
TRANSFER_TABLE = Transfer._meta.db_table
LISTING_TABLE = ResaleListing._meta.db_table
REFUND_TABLE = OrderRefund._meta.db_table

ListingStatus = ResaleListingStatus
# The unfinished state of each flow: what a crash leaves behind for the recovery command.
PENDING, COMPLETING, SELLING = OrderStatus.PENDING.value, TransferStatus.COMPLETING.value, ListingStatus.SELLING.value
TICKETS_REFUNDING = OrderRefundStep.REFUNDING.value


@dataclass
class OrderFact:
    id: str
    buyer_id: str
    status: str
    total: Decimal
    created_at: dt.datetime
    updated_at: dt.datetime
    refunded_at: dt.datetime | None = None
    # Paid back by refunds of some of its tickets (DONE OrderRefund rows).
    refunded_amount: Decimal = Decimal("0")
    # ONLINE (paid from credits), BOX_OFFICE (paid at the counter: method and amount taken) or COMP (free).
    channel: str = "ONLINE"
    payment_method: str = ""
    amount_taken: Decimal | None = None
    # The sum of its lines' prices (every line, active or not): what its total was made of.
    lines_total: Decimal = Decimal("0")


@dataclass
class TicketRefundFact:
    """A refund of some tickets of an order (OrderRefund) and the seats it took back."""

    id: str
    order_id: str
    amount: Decimal
    step: str
    updated_at: dt.datetime
    done_at: dt.datetime | None
    seat_ids: list[str] = field(default_factory=list)


@dataclass
class TransferFact:
    id: str
    seat_id: str
    from_user_id: str
    to_user_id: str | None
    price: Decimal
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime
    completed_at: dt.datetime | None
    fee: Decimal = Decimal("0.00")


@dataclass
class ListingFact:
    id: str
    seat_id: str
    seller_id: str
    buyer_id: str | None
    price: Decimal
    fee: Decimal
    status: str
    sale_attempt_id: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    sold_at: dt.datetime | None


@dataclass
class OrderFacts:
    orders: dict[str, OrderFact] = field(default_factory=dict)
    # seat_id -> [(order_id, price, order_status)] of every active line
    active_lines: dict[str, list[tuple[str, Decimal, str]]] = field(default_factory=lambda: defaultdict(list))
    # (seat_id, order_id) of every line of a refunded order
    refunded_lines: list[tuple[str, str]] = field(default_factory=list)
    transfers: dict[str, TransferFact] = field(default_factory=dict)
    listings: dict[str, ListingFact] = field(default_factory=dict)
    transfers_by_seat: dict[str, list[TransferFact]] = field(default_factory=lambda: defaultdict(list))
    listings_by_seat: dict[str, list[ListingFact]] = field(default_factory=lambda: defaultdict(list))
    ticket_refunds: dict[str, TicketRefundFact] = field(default_factory=dict)
    # Flows touched within the grace period (in flight on a live system): their references and seats.
    in_flight_references: set[str] = field(default_factory=set)
    in_flight_seats: set[str] = field(default_factory=set)


def _rows(sql: str, params: list | None = None) -> list[tuple]:
    with connections[DB_ALIAS].cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def order_facts(*, grace_seconds: float = 0.0) -> OrderFacts:
    """Every order, active and refunded line, transfer and listing; with ``grace_seconds`` > 0, also the flows
    touched within that many seconds of the snapshot (a pending order, a completing transfer, a selling listing)."""
    facts = OrderFacts()
    for row in _rows(
        "SELECT o.id::text, o.buyer_id::text, o.status, o.total, o.created_at, o.updated_at, "  # noqa: S608
        "o.refunded_at, o.refunded_amount, o.channel, o.payment_method, o.amount_taken, "
        f"(SELECT coalesce(sum(l.price), 0) FROM {LINE_TABLE} l WHERE l.order_id = o.id) FROM {ORDER_TABLE} o"
    ):
        facts.orders[row[0]] = OrderFact(*row)
    for row in _rows(
        f"SELECT id::text, order_id::text, amount, step, updated_at, done_at FROM {REFUND_TABLE}"  # noqa: S608
    ):
        facts.ticket_refunds[row[0]] = TicketRefundFact(*row)
    for seat_id, refund_id in _rows(
        f"SELECT seat_id::text, refund_id::text FROM {LINE_TABLE} WHERE refund_id IS NOT NULL"  # noqa: S608
    ):
        facts.ticket_refunds[refund_id].seat_ids.append(seat_id)
    facts.refunded_lines = _rows(
        f"SELECT l.seat_id::text, l.order_id::text FROM {LINE_TABLE} l "  # noqa: S608 - names from the models
        f"JOIN {ORDER_TABLE} o ON o.id = l.order_id WHERE o.status = '{OrderStatus.REFUNDED.value}'"
    )
    for seat_id, order_id, price, status in _rows(
        f"SELECT l.seat_id::text, l.order_id::text, l.price, o.status FROM {LINE_TABLE} l "  # noqa: S608
        f"JOIN {ORDER_TABLE} o ON o.id = l.order_id WHERE l.is_active"
    ):
        facts.active_lines[seat_id].append((order_id, price, status))
    for row in _rows(
        "SELECT id::text, seat_id::text, from_user_id::text, to_user_id::text, price, status, "  # noqa: S608
        f"created_at, updated_at, completed_at, fee FROM {TRANSFER_TABLE}"
    ):
        transfer = facts.transfers[row[0]] = TransferFact(*row)
        facts.transfers_by_seat[transfer.seat_id].append(transfer)
    for row in _rows(
        "SELECT id::text, seat_id::text, seller_id::text, buyer_id::text, price, fee, status, "  # noqa: S608
        f"sale_attempt_id::text, created_at, updated_at, sold_at FROM {LISTING_TABLE}"
    ):
        listing = facts.listings[row[0]] = ListingFact(*row)
        facts.listings_by_seat[listing.seat_id].append(listing)
    if grace_seconds > 0:
        _mark_in_flight(facts, grace_seconds=grace_seconds)
    return facts


def _mark_in_flight(facts: OrderFacts, *, grace_seconds: float) -> None:
    """Record the flows touched within ``grace_seconds`` of the snapshot's start: they may be half-way through, so
    the checker leaves their money and seats alone."""
    ((cutoff,),) = _rows("SELECT now() - make_interval(secs => %s)", [grace_seconds])
    in_flight_orders = {
        order.id for order in facts.orders.values() if order.status == PENDING and order.updated_at > cutoff
    }
    facts.in_flight_references.update(in_flight_orders)
    if in_flight_orders:
        facts.in_flight_seats.update(
            seat_id
            for seat_id, lines in facts.active_lines.items()
            if any(order_id in in_flight_orders for order_id, _, _ in lines)
        )
    for refund in facts.ticket_refunds.values():
        if refund.step == TICKETS_REFUNDING and refund.updated_at > cutoff:
            facts.in_flight_references.add(refund.order_id)
            facts.in_flight_seats.update(refund.seat_ids)
    for transfer in facts.transfers.values():
        if transfer.status == COMPLETING and transfer.updated_at > cutoff:
            facts.in_flight_references.add(transfer.id)
            facts.in_flight_seats.add(transfer.seat_id)
    for listing in facts.listings.values():
        if listing.status == SELLING and listing.updated_at > cutoff:
            if listing.sale_attempt_id:
                facts.in_flight_references.add(listing.sale_attempt_id)
            facts.in_flight_seats.add(listing.seat_id)
