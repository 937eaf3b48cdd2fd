"""Recovery of purchases and refunds a crash interrupted, run by ``python manage.py recover_flows``."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from django.utils import timezone

from accounts import selectors as accounts_selectors
from accounts.contract import LedgerKind
from core.errors import DomainError
from events.contract import SalesClosed
from inventory import selectors as inventory_selectors
from inventory.contract import TICKET_STATUSES
from orders import DB_ALIAS
from orders.contract import OrderChannel, OrderRefundStep, PurchaseRecoveryReport
from orders.models import Order, OrderLine, OrderRefund
from orders.services.flows import RECOVERY_GRACE_SECONDS, flows_recover, recovery_cutoff
from orders.services.purchase.card import card_checkout_recover
from orders.services.purchase.checkout import order_confirm, order_undo
from orders.services.purchase.refunds import refund_finish, tickets_refund_finish

logger = logging.getLogger(__name__)


def purchase_recover(*, older_than_seconds: int = RECOVERY_GRACE_SECONDS) -> PurchaseRecoveryReport:
    """Finish or undo every purchase a crash interrupted. Running it twice changes nothing.

    For each PENDING order older than the grace period whose flow lock is free: if all its seats are SOLD to it and
    its debit exists, confirm it; otherwise undo it (seats back to AVAILABLE, the debit credited back, FAILED).
    Refunds left at step REFUNDING are finished.
    """
    report = PurchaseRecoveryReport()
    cutoff = recovery_cutoff(older_than_seconds)
    pending = list(
        Order.objects.using(DB_ALIAS)
        .filter(status=Order.Status.PENDING, created_at__lt=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)
    )
    refunding = list(
        Order.objects.using(DB_ALIAS)
        .filter(status=Order.Status.CONFIRMED, step=Order.Step.REFUNDING, updated_at__lt=cutoff)
        .values_list("pk", flat=True)
    )
    flows_recover(pending, report=report, drive=_recover_pending, describe=_failure_of("order"))
    flows_recover(refunding, report=report, drive=_recover_refund, describe=_failure_of("refund of order"))
    tickets_refunding = sorted(
        set(
            OrderRefund.objects.using(DB_ALIAS)
            .filter(step=OrderRefundStep.REFUNDING, updated_at__lt=cutoff)
            .values_list("order_id", flat=True)
        )
    )
    flows_recover(
        tickets_refunding,
        report=report,
        drive=_recover_ticket_refunds,
        describe=_failure_of("ticket refund of order"),
        settled=_ticket_refund_settled,
    )
    return report


def _failure_of(flow: str) -> Callable[[uuid.UUID, DomainError], str]:
    """The report's line for an order's ``flow`` that a step refused: the order, the error's code and detail."""
    return lambda order_id, error: f"{flow} {order_id}: {error.code} {error.detail}"


def _recover_ticket_refunds(order_id: uuid.UUID) -> str | None:
    """Finish the refunds of some tickets of this order a crash left at REFUNDING (under the order's flow lock)."""
    running = list(OrderRefund.objects.using(DB_ALIAS).filter(order_id=order_id, step=OrderRefundStep.REFUNDING))
    for refund in running:
        tickets_refund_finish(refund)
    return "refunds_finished" if running else None


def _ticket_refund_settled(order_id: uuid.UUID) -> str | None:
    """A refund given up because a ticket was used or passed on meanwhile is settled: nothing was taken or paid."""
    running = OrderRefund.objects.using(DB_ALIAS).filter(order_id=order_id, step=OrderRefundStep.REFUNDING)
    return None if running.exists() else "refunds_finished"


def _recover_refund(order_id: uuid.UUID) -> str | None:
    order = Order.objects.using(DB_ALIAS).get(pk=order_id)
    if order.status != Order.Status.CONFIRMED or order.step != Order.Step.REFUNDING:
        return None  # someone finished it between the listing and the lock
    refund_finish(order, actor_id=None)
    return "refunds_finished"


def _recover_pending(order_id: uuid.UUID) -> str | None:
    order = Order.objects.using(DB_ALIAS).filter(pk=order_id).first()
    if order is None or order.status != Order.Status.PENDING:
        return None  # someone finished it between the listing and the lock
    if order.step == Order.Step.AWAITING_PAYMENT:
        return card_checkout_recover(order)
    lines = list(OrderLine.objects.using(DB_ALIAS).filter(order_id=order.pk).order_by("seat_id"))
    wanted = {line.seat_id for line in lines}
    sold_to_it = {
        seat.id
        for seat in inventory_selectors.seats_of_order(order_id=order.pk)
        # Matched by order id, not owner: a ticket may already have been passed on by its buyer.
        if seat.status in TICKET_STATUSES
    }
    reference = str(order.pk)
    # A box-office sale was paid at the counter and a comp is free: neither has a debit to look for.
    debited = (
        order.total == 0
        or order.channel != OrderChannel.ONLINE
        or accounts_selectors.ledger_entry_exists(kind=LedgerKind.PURCHASE, reference=reference)
    )
    refunded = order.total > 0 and accounts_selectors.ledger_entry_exists(
        kind=LedgerKind.PURCHASE_REFUND, reference=reference
    )
    failure_code = order.failure_code or "INTERRUPTED"
    if order.step != Order.Step.COMPENSATING and wanted and sold_to_it == wanted and debited and not refunded:
        if order_confirm(order, now=timezone.now()):
            logger.warning("recovered order %s: confirmed", order.pk)
            return "confirmed"
        if not Order.objects.using(DB_ALIAS).filter(pk=order.pk, status=Order.Status.PENDING).exists():
            return None  # someone finished it meanwhile
        failure_code = SalesClosed.code  # its event's cancellation has started: no sale any more
    order_undo(order, lines, failure_code=failure_code)
    logger.warning("recovered order %s: undone", order.pk)
    return "undone"
