"""Seats and orders: every ticket in seats_db is backed by one confirmed, active order line in orders_db and is held
by its rightful owner; every confirmed line is a ticket; listings and LISTED seats agree; no flow is left unfinished.

Seats touched by a flow still in flight (within the grace period) are left out.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from inventory.contract import SeatStatus
from ops.invariants.facts import Facts
from ops.invariants.report import Report
from orders.contract import OrderRefundStep
from orders.invariants import ListingFact, ListingStatus, OrderFact, OrderFacts, OrderStatus, TransferStatus

ZERO = Decimal("0")
CONFIRMED, PENDING = OrderStatus.CONFIRMED.value, OrderStatus.PENDING.value
FINISHED_ORDER = (OrderStatus.FAILED.value, OrderStatus.REFUNDED.value)
# A transfer in one of these moved the ticket to the recipient; a reversed one moved it there and back.
TRANSFER_MOVED = (TransferStatus.COMPLETED.value, TransferStatus.DISPUTED.value)
REVERSED, COMPLETING = TransferStatus.REVERSED.value, TransferStatus.COMPLETING.value
LISTING_SOLD, LISTING_ACTIVE = ListingStatus.SOLD.value, ListingStatus.ACTIVE.value
LISTING_OPEN = (ListingStatus.ACTIVE.value, ListingStatus.SELLING.value)
LISTING_SELLING = ListingStatus.SELLING.value
LISTED = SeatStatus.LISTED.value
TICKETS_REFUNDING, TICKETS_REFUND_DONE = OrderRefundStep.REFUNDING.value, OrderRefundStep.DONE.value


def expected_owner(orders: OrderFacts, seat_id: str, order: OrderFact, until: dt.datetime | None = None) -> str:
    """The buyer, or whoever the last completed transfer or resale of this seat (after the order, and before
    ``until`` if given) moved it to."""
    moves: list[tuple[dt.datetime, str]] = []
    for transfer in orders.transfers_by_seat.get(seat_id, ()):
        if transfer.created_at < order.created_at or (until is not None and transfer.created_at > until):
            continue
        if transfer.status in TRANSFER_MOVED:
            moves.append((transfer.completed_at or transfer.updated_at, transfer.to_user_id))
        elif transfer.status == REVERSED:
            moves.append((transfer.completed_at or transfer.updated_at, transfer.to_user_id))
            moves.append((transfer.updated_at, transfer.from_user_id))
    for listing in orders.listings_by_seat.get(seat_id, ()):
        if until is not None and listing.created_at > until:
            continue
        if listing.status == LISTING_SOLD and listing.created_at >= order.created_at and listing.buyer_id:
            moves.append((listing.sold_at or listing.updated_at, listing.buyer_id))
    if not moves:
        return order.buyer_id
    return max(moves, key=lambda move: move[0])[1]


def check_tickets(report: Report, facts: Facts) -> None:
    """Each ticket's order is confirmed, has an active line for the seat, and its owner is the rightful one."""
    orders = facts.orders
    for ticket in facts.seats.tickets.values():
        if ticket.id in orders.in_flight_seats:
            continue
        ids = {"seat": ticket.id, "order": ticket.order_id, "owner": ticket.owner_id}
        order = orders.orders.get(ticket.order_id)
        if order is None or order.status != CONFIRMED:
            state = "missing" if order is None else order.status
            report.add("TICKET_ORDER_NOT_CONFIRMED", f"{ticket.status} seat's order is {state}", **ids)
            continue
        lines = [line for line in orders.active_lines.get(ticket.id, ()) if line[0] == order.id]
        if not lines:
            report.add("TICKET_WITHOUT_ACTIVE_LINE", f"{ticket.status} seat has no active line in its order", **ids)
        expected = expected_owner(orders, ticket.id, order)
        if expected != ticket.owner_id:
            report.add(
                "TICKET_OWNER_MISMATCH",
                f"{ticket.status} seat is owned by {ticket.owner_id}, expected {expected}",
                expected_owner=expected,
                **ids,
            )


def check_refunds(report: Report, orders: OrderFacts) -> None:
    """A refund pays the buyer back for tickets they still held; one passed on by then belonged to someone else."""
    for seat_id, order_id in orders.refunded_lines:
        order = orders.orders[order_id]
        holder = expected_owner(orders, seat_id, order, until=order.refunded_at or order.updated_at)
        if holder != order.buyer_id:
            report.add(
                "REFUND_OF_PASSED_TICKET",
                f"refunded order's ticket had passed to {holder} before the refund",
                seat=seat_id,
                order=order_id,
                holder=holder,
            )
    for refund in orders.ticket_refunds.values():
        if refund.step != TICKETS_REFUND_DONE:
            continue
        order = orders.orders[refund.order_id]
        for seat_id in refund.seat_ids:
            holder = expected_owner(orders, seat_id, order, until=refund.done_at)
            if holder != order.buyer_id:
                report.add(
                    "REFUND_OF_PASSED_TICKET",
                    f"refunded ticket had passed to {holder} before the refund",
                    seat=seat_id,
                    order=order.id,
                    refund=refund.id,
                    holder=holder,
                )


def check_lines(report: Report, facts: Facts) -> None:
    """One live order per seat; finished orders hold no line; a confirmed line is its order's ticket, and a
    confirmed order's total is the sum of its active lines."""
    orders, tickets = facts.orders, facts.seats.tickets
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for seat_id, lines in orders.active_lines.items():
        if seat_id in orders.in_flight_seats:
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
            if status in FINISHED_ORDER:
                report.add(
                    "ACTIVE_LINE_OF_FINISHED_ORDER",
                    f"{status} order still has an active line",
                    seat=seat_id,
                    order=order_id,
                )
            elif status == CONFIRMED:
                ticket = tickets.get(seat_id)
                if ticket is None or ticket.order_id != order_id:
                    state = "not a ticket" if ticket is None else f"a ticket of order {ticket.order_id}"
                    report.add(
                        "CONFIRMED_LINE_WITHOUT_TICKET",
                        f"confirmed order's seat is {state}: the buyer paid for a seat they do not have",
                        seat=seat_id,
                        order=order_id,
                    )
    for order in orders.orders.values():
        if (
            order.status == CONFIRMED
            and order.id not in orders.in_flight_references
            and totals[order.id] != order.total - order.refunded_amount
        ):
            report.add(
                "ORDER_TOTAL_MISMATCH",
                f"confirmed order's total {order.total} less {order.refunded_amount} refunded, but its active lines "
                f"sum to {totals[order.id]}",
                order=order.id,
            )


def check_listings(report: Report, facts: Facts) -> None:
    """A LISTED seat has an open listing by its owner; an ACTIVE listing's seat is LISTED and owned by the seller."""
    orders, tickets = facts.orders, facts.seats.tickets
    open_by_seat: dict[str, list[ListingFact]] = defaultdict(list)
    for listing in orders.listings.values():
        if listing.status in LISTING_OPEN:
            open_by_seat[listing.seat_id].append(listing)
    for ticket in tickets.values():
        if ticket.status != LISTED or ticket.id in orders.in_flight_seats:
            continue
        if not any(listing.seller_id == ticket.owner_id for listing in open_by_seat.get(ticket.id, ())):
            report.add("LISTED_WITHOUT_LISTING", "LISTED seat has no active listing by its owner", seat=ticket.id)
    for seat_id, listings in open_by_seat.items():
        if seat_id in orders.in_flight_seats:
            continue
        ticket = tickets.get(seat_id)
        for listing in listings:
            if listing.status != LISTING_ACTIVE:
                continue
            if ticket is None or ticket.status != LISTED or ticket.owner_id != listing.seller_id:
                state = "not a ticket" if ticket is None else f"{ticket.status} owned by {ticket.owner_id}"
                report.add(
                    "LISTING_WITHOUT_LISTED_TICKET",
                    f"active listing's seat is {state}",
                    listing=listing.id,
                    seat=seat_id,
                    seller=listing.seller_id,
                )


def check_unfinished(report: Report, orders: OrderFacts) -> None:
    """A pending order, a completing transfer or a selling listing outside the grace period was left by a crash."""
    in_flight = orders.in_flight_references
    for order in orders.orders.values():
        if order.status == PENDING and order.id not in in_flight:
            report.add("UNFINISHED_FLOW", "purchase still PENDING", order=order.id)
    for refund in orders.ticket_refunds.values():
        if refund.step == TICKETS_REFUNDING and refund.order_id not in in_flight:
            report.add(
                "UNFINISHED_FLOW", "refund of some tickets still REFUNDING", order=refund.order_id, refund=refund.id
            )
    for transfer in orders.transfers.values():
        if transfer.status == COMPLETING and transfer.id not in in_flight:
            report.add("UNFINISHED_FLOW", "transfer still COMPLETING", transfer=transfer.id)
    for listing in orders.listings.values():
        if listing.status == LISTING_SELLING and (listing.sale_attempt_id or "") not in in_flight:
            report.add("UNFINISHED_FLOW", "resale still SELLING", listing=listing.id)
