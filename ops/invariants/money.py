"""Money: every balance equals its ledger, and every flow's ledger rows net to what the flow's final state demands.

Money is checked per flow, kind-agnostically: every ledger row that is not TOPUP/ADJUSTMENT belongs to an order
(reference = order id), a transfer (transfer id, or ``<id>:...``) or a resale attempt (``sale_attempt_id``), and the
rows of each flow must net, per user, to exactly what its state in orders_db demands. Rows that no flow claims are
checked last: an abandoned resale attempt must net to zero, a purchase debit of no order is money taken for nothing.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal

from accounts.contract import LedgerKind
from accounts.invariants import FlowRow, LedgerFacts
from ops.invariants.facts import Facts
from ops.invariants.report import Report
from orders.contract import OrderChannel, OrderRefundStep
from orders.invariants import ListingStatus, OrderStatus, TransferStatus

ZERO = Decimal("0")
PURCHASE, PURCHASE_REFUND = LedgerKind.PURCHASE.value, LedgerKind.PURCHASE_REFUND.value
CONFIRMED, REFUNDED = OrderStatus.CONFIRMED.value, OrderStatus.REFUNDED.value
# A transfer in one of these moved the ticket and its price to the recipient.
TRANSFER_MOVED = (TransferStatus.COMPLETED.value, TransferStatus.DISPUTED.value)
SOLD = ListingStatus.SOLD.value
TICKETS_REFUND_DONE = OrderRefundStep.DONE.value
ONLINE, BOX_OFFICE, COMP = OrderChannel.ONLINE.value, OrderChannel.BOX_OFFICE.value, OrderChannel.COMP.value


def check_balances(report: Report, ledger: LedgerFacts) -> None:
    for user_id, balance in ledger.negative_balances:
        report.add("BALANCE_NEGATIVE", f"balance {balance} is below zero", user=user_id)
    for user_id, balance, ledger_sum in ledger.balances_off_ledger:
        report.add(
            "BALANCE_LEDGER_MISMATCH",
            f"balance {balance} but the ledger sums to {ledger_sum} (difference {balance - ledger_sum})",
            user=user_id,
        )


def check_card_money(report: Report, ledger: LedgerFacts) -> None:
    for reference, user_id, amount in ledger.credits_without_payment:
        report.add(
            "CREDITS_WITHOUT_PAYMENT",
            f"TOPUP credit {amount} backed by no succeeded payment",
            user=user_id,
            reference=reference,
        )
    for topup_id, amount in ledger.payments_not_credited:
        report.add("PAYMENT_NOT_CREDITED", f"succeeded payment of {amount} was never credited", topup=topup_id)
    for topup_id, amount, refunded, live in ledger.card_refunds_off_payment:
        report.add(
            "CARD_REFUND_EXCEEDS_PAYMENT",
            f"payment {amount}, refunded_amount {refunded}, refunds not failed {live}",
            topup=topup_id,
        )
    for refund_id, detail in ledger.card_refunds_off_ledger:
        report.add("CARD_REFUND_LEDGER_MISMATCH", detail, card_refund=refund_id)


def check_flow_money(report: Report, facts: Facts) -> None:
    unclaimed = _UnclaimedRows(facts.ledger.flow_rows)
    _check_orders(report, facts, unclaimed)
    _check_transfers(report, facts, unclaimed)
    _check_resales(report, facts, unclaimed)
    _check_unclaimed(report, unclaimed)


class _UnclaimedRows:
    """The flow ledger rows no flow has claimed yet, by reference, in the order the ledger returned them."""

    def __init__(self, rows_by_reference: dict[str, list[FlowRow]]) -> None:
        self.rows = dict(rows_by_reference)
        # A flow's references are its id or "<id>:..." (flow ids are UUIDs, without a colon): grouped by the part
        # before the first colon, a flow finds its references without scanning them all.
        self._by_flow: dict[str, list[str]] = defaultdict(list)
        for reference in self.rows:
            self._by_flow[reference.partition(":")[0]].append(reference)

    def take(self, flow_id: str) -> list[FlowRow]:
        """Claim the rows of one flow: its id as reference, or a reference that extends it ("<id>:...")."""
        rows: list[FlowRow] = []
        for reference in self._by_flow.pop(flow_id, ()):
            rows.extend(self.rows.pop(reference))
        return rows

    def take_split(self, flow_id: str) -> tuple[list[FlowRow], list[FlowRow]]:
        """Claim a flow's rows as (those under its id, those under "<id>:...")."""
        own: list[FlowRow] = []
        extensions: list[FlowRow] = []
        for reference in self._by_flow.pop(flow_id, ()):
            (own if reference == flow_id else extensions).extend(self.rows.pop(reference))
        return own, extensions


def _net(rows: list[FlowRow]) -> dict[str, Decimal]:
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


def _check_orders(report: Report, facts: Facts, unclaimed: _UnclaimedRows) -> None:
    """A confirmed order took its total from the buyer once, less what refunds of some of its tickets paid back
    (their rows are "<order id>:refund:<refund id>"); any other order's rows net to nothing."""
    in_flight = facts.orders.in_flight_references
    refunded_by_order: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for ticket_refund in facts.orders.ticket_refunds.values():
        if ticket_refund.step == TICKETS_REFUND_DONE:
            refunded_by_order[ticket_refund.order_id] += ticket_refund.amount
    for order in facts.orders.orders.values():
        own_rows, refund_rows = unclaimed.take_split(order.id)
        rows = own_rows + refund_rows
        if order.id in in_flight:
            continue
        kinds = Counter(kind for kind, _, _ in rows)
        debited, refunded = kinds[PURCHASE] > 0, kinds[PURCHASE_REFUND] > 0
        ids = {"order": order.id, "buyer": order.buyer_id}
        if refunded_by_order[order.id] != order.refunded_amount:
            report.add(
                "ORDER_REFUNDED_AMOUNT_MISMATCH",
                f"order's refunded amount is {order.refunded_amount} but its finished ticket refunds sum to "
                f"{refunded_by_order[order.id]}",
                **ids,
            )
        if order.channel != ONLINE:
            _check_staff_order(report, order, rows, ids)
            continue
        if order.status == CONFIRMED:
            if order.total > ZERO and not debited:
                report.add("ORDER_WITHOUT_DEBIT", f"confirmed order of {order.total} has no PURCHASE debit", **ids)
                continue
            if any(kind == PURCHASE_REFUND for kind, _, _ in own_rows):
                report.add("ORDER_CONFIRMED_BUT_REFUNDED", "confirmed order's debit was refunded", **ids)
                continue
            expected = _expected({order.buyer_id: -(order.total - order.refunded_amount)})
        else:
            if order.status == REFUNDED and debited and not refunded:
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


def _check_staff_order(report: Report, order, rows: list, ids: dict) -> None:
    """A box-office sale was paid at the counter (its method and the amount taken, equal to its total, recorded) and a
    comp is free; neither moves credits, whatever happened to it later (a refund pays back at the counter)."""
    if rows:
        report.add(
            "STAFF_ORDER_MOVED_CREDITS", f"{order.channel} order's ledger nets to {_describe(_net(rows))}", **ids
        )
    if order.channel == BOX_OFFICE and (not order.payment_method or order.amount_taken != order.total):
        report.add(
            "BOX_OFFICE_PAYMENT_MISSING",
            f"box-office order of {order.total} records {order.payment_method or 'no method'} "
            f"and {order.amount_taken} taken",
            **ids,
        )
    if order.channel == COMP and (order.total != ZERO or order.lines_total != ZERO):
        report.add("COMP_NOT_FREE", f"comp order totals {order.total} (lines {order.lines_total})", **ids)


def _check_transfers(report: Report, facts: Facts, unclaimed: _UnclaimedRows) -> None:
    """A completed (or disputed) transfer moved its price from the recipient, and the price less the platform fee to
    the sender; any other nets to nothing."""
    in_flight = facts.orders.in_flight_references
    for transfer in facts.orders.transfers.values():
        rows = unclaimed.take(transfer.id)
        if transfer.id in in_flight:
            continue
        ids = {"transfer": transfer.id, "seat": transfer.seat_id}
        moved = transfer.status in TRANSFER_MOVED
        expected = (
            _expected({transfer.to_user_id: -transfer.price, transfer.from_user_id: transfer.price - transfer.fee})
            if moved
            else {}
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


def _check_resales(report: Report, facts: Facts, unclaimed: _UnclaimedRows) -> None:
    """A sold listing's attempt took the price from the buyer and paid the seller the price less the fee; the rows
    of any other listing's attempt net to nothing."""
    in_flight = facts.orders.in_flight_references
    for listing in facts.orders.listings.values():
        if not listing.sale_attempt_id:
            if listing.status == SOLD:
                report.add("RESALE_WITHOUT_PAYMENT", "sold listing has no sale attempt", listing=listing.id)
            continue
        rows = unclaimed.take(listing.sale_attempt_id)
        if listing.sale_attempt_id in in_flight:
            continue
        ids = {"listing": listing.id, "sale_attempt": listing.sale_attempt_id, "seat": listing.seat_id}
        sold = listing.status == SOLD
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


def _check_unclaimed(report: Report, unclaimed: _UnclaimedRows) -> None:
    """What is left belongs to no known flow: an earlier, superseded resale attempt must net to zero for everyone;
    a purchase debit whose order does not exist is money taken for nothing."""
    for reference, rows in unclaimed.rows.items():
        net = _net(rows)
        kinds = {kind for kind, _, _ in rows}
        if PURCHASE in kinds and PURCHASE_REFUND not in kinds:
            report.add(
                "DEBIT_WITHOUT_ORDER", f"PURCHASE debit for a missing order ({_describe(net)})", reference=reference
            )
        elif net:
            report.add(
                "ORPHAN_LEDGER_MONEY",
                f"ledger rows ({', '.join(sorted(kinds))}) of no known flow net to {_describe(net)}",
                reference=reference,
            )
