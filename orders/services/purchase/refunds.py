"""Refunds: one confirmed order, or every confirmed order of a cancelled event.

A refund is a recorded flow too: step REFUNDING is committed in orders_db (closing the tickets' open offers and
listings in the same transaction), then the seats are released (their QR codes die), then the credits go back, then
the order is REFUNDED. Each step is idempotent by the order id; recovery finishes a refund a crash interrupted.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from accounts import selectors as accounts_selectors
from core.audit import audit_record
from core.errors import Conflict, DomainError, InvalidInput, NotFound
from core.faults import fault_point
from core.permissions import Capability
from events import selectors as events_selectors
from inventory import selectors as inventory_selectors
from inventory import services as inventory_services
from orders import DB_ALIAS
from orders.contract import (
    NotificationKind,
    OrderChannel,
    OrderInfo,
    OrderNotRefundable,
    OrderRefundStep,
    RefundNotAllowed,
)
from orders.models import Order, OrderLine, OrderRefund
from orders.notifications import notify
from orders.services.flows import flow_drive
from orders.services.purchase.checkout import order_info, order_lines_release, order_pay_back
from orders.services.resale.repair import listed_tickets_repair
from orders.services.ticket_flows import ticket_flows_close_for_refund
from orders.services.waiting_list_nudge import waiting_list_nudge

logger = logging.getLogger(__name__)

REFUND_BATCH = 200


def refund_allowed(*, actor_id: uuid.UUID, organization_id: uuid.UUID | None) -> bool:
    """Whether the actor may refund orders of the organization (Capability.REFUND in core/permissions.py)."""
    return accounts_selectors.user_has_capability(
        user_id=actor_id, capability=Capability.REFUND, organization_id=organization_id
    )


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(gettext("A refund needs a reason."), fields={"reason": [gettext("This field is required.")]})
    return reason[:255]


def order_refund(
    *, order_id: uuid.UUID, actor_id: uuid.UUID | None, reason: str, block_seats: bool = False
) -> OrderInfo:
    """Refund a confirmed order: seats released (or blocked), QR codes dead, credits back, order REFUNDED.

    Idempotent (a refunded order is returned as it is) and resumable (step REFUNDING is finished by recovery).
    A checked-in ticket cannot be refunded (409 TICKET_CHECKED_IN); nothing changes then.
    """
    reason = _reason(reason)
    order = Order.objects.using(DB_ALIAS).filter(pk=order_id).first()
    if order is None:
        raise NotFound(gettext("No such order."))
    if actor_id is not None and not refund_allowed(actor_id=actor_id, organization_id=order.organization_id):
        raise RefundNotAllowed()
    return _refund(order, actor_id=actor_id, reason=reason, block_seats=block_seats)


def _refund(
    order: Order, *, actor_id: uuid.UUID | None, reason: str, block_seats: bool, notice: str | None = None
) -> OrderInfo:
    if order.status == Order.Status.REFUNDED:
        return order_info(order, is_replay=True)
    if order.status != Order.Status.CONFIRMED:
        raise OrderNotRefundable(
            gettext("This order is %(status)s; only a confirmed order can be refunded.")
            % {"status": order.status.lower()}
        )

    def refund_locked() -> OrderInfo:
        _ticket_refunds_finish_running(order)
        order.refresh_from_db(using=DB_ALIAS)
        if order.status == Order.Status.REFUNDED:
            return order_info(order, is_replay=True)
        if order.step != Order.Step.REFUNDING:
            _refund_begin(order, reason=reason)
        return refund_finish(order, actor_id=actor_id, block_seats=block_seats, notice=notice)

    return flow_drive(
        order.pk,
        refund_locked,
        busy=lambda: Conflict(gettext("This order is being changed right now; try again in a moment.")),
    )


def _refuse_used_or_passed_on(seats: list, *, order: Order, used: str) -> None:
    """Refuse a refund of tickets used at the gate (``used`` says which) or no longer the buyer's.

    Refund rule (docs/BUYER.md): only the buyer's own tickets are refunded; one passed on by transfer or resale
    stays with its new holder. seats_unsell re-checks this under the seat locks.
    """
    if any(seat.status == "CHECKED_IN" for seat in seats):
        raise inventory_services.TicketCheckedIn(used)
    if any(seat.owner_id not in (None, order.buyer_id) for seat in seats):
        raise inventory_services.TicketTransferred()


def _refund_begin(order: Order, *, reason: str) -> None:
    """Record step REFUNDING, after checking that every ticket of the order is still the buyer's and unused."""
    _refuse_used_or_passed_on(
        inventory_selectors.seats_of_order(order_id=order.pk),
        order=order,
        used=gettext("A ticket of this order was already used at the gate; it cannot be refunded."),
    )
    with transaction.atomic(using=DB_ALIAS):
        # Open offers and listings close in the same transaction that records the refund (409 TICKET_CHANGING_HANDS
        # while a sale or transfer is completing): none outlives the tickets.
        lines = OrderLine.objects.using(DB_ALIAS).filter(order_id=order.pk, is_active=True)
        ticket_flows_close_for_refund(seat_ids=list(lines.values_list("seat_id", flat=True)))
        updated = (
            Order.objects.using(DB_ALIAS)
            .filter(pk=order.pk, status=Order.Status.CONFIRMED)
            .update(step=Order.Step.REFUNDING, refund_reason=reason, updated_at=timezone.now())
        )
        if updated != 1:
            raise Conflict(gettext("This order changed; try again."))
    order.step, order.refund_reason = Order.Step.REFUNDING, reason


def _refund_notice(order: Order) -> str:
    """Which mail a refund sends when its caller did not say: the cancellation's when the event is cancelled."""
    event = events_selectors.event_get(event_id=order.event_id)
    return NotificationKind.EVENT_CANCELLED if event.status == "CANCELLED" else NotificationKind.ORDER_REFUNDED


def refund_finish(
    order: Order, *, actor_id: uuid.UUID | None, block_seats: bool = False, notice: str | None = None
) -> OrderInfo:
    """Seats first (the tickets die), then the money; each step idempotent by the order id.

    The buyer's mail (``notice``: a refund, or the event's cancellation) is queued in the transaction that marks
    the order REFUNDED, so it is sent exactly when the refund happened.
    """
    try:
        inventory_services.seats_unsell(order_id=order.pk, block=block_seats, owner_id=order.buyer_id)
    except (inventory_services.TicketCheckedIn, inventory_services.TicketTransferred):
        # A gate admitted a ticket (or a ticket changed hands) after the pre-check: seats_unsell changed nothing, so
        # the order simply stays confirmed (and recovery must not retry a refund that can never succeed).
        Order.objects.using(DB_ALIAS).filter(
            pk=order.pk, status=Order.Status.CONFIRMED, step=Order.Step.REFUNDING
        ).update(step=Order.Step.DONE, updated_at=timezone.now())
        # Listings the refund closed leave their tickets LISTED: back to SOLD, usable again.
        listed_tickets_repair(seat_ids=[seat.id for seat in inventory_selectors.seats_of_order(order_id=order.pk)])
        raise
    remaining = order.total - order.refunded_amount
    if remaining > 0 and order.channel == OrderChannel.ONLINE:  # a box-office sale pays back at the counter
        order_pay_back(
            order,
            amount=remaining,
            reference=str(order.pk),
            memo=f"Refund of order {str(order.pk)[:8]}",
            actor_id=actor_id,
        )
    now = timezone.now()
    notice = notice or _refund_notice(order)
    with transaction.atomic(using=DB_ALIAS):
        order_lines_release(order.pk)
        refunded = (
            Order.objects.using(DB_ALIAS)
            .filter(pk=order.pk, status=Order.Status.CONFIRMED)
            .update(status=Order.Status.REFUNDED, step=Order.Step.REFUNDED, refunded_at=now, updated_at=now)
        )
        if refunded:
            notify(kind=notice, object_id=order.pk, recipient_id=order.buyer_id)
    if refunded and not block_seats:
        waiting_list_nudge(event_id=order.event_id)
    order.refresh_from_db(using=DB_ALIAS)
    audit_record(
        actor_id=actor_id,
        action="order.refund",
        object_type="order",
        object_id=str(order.pk),
        organization_id=order.organization_id,
        reason=order.refund_reason,
        data={"total": str(order.total), "buyer_id": str(order.buyer_id), "seats_blocked": bool(block_seats)},
    )
    return order_info(order)


def order_refund_tickets(
    *,
    order_id: uuid.UUID,
    seat_ids: list[uuid.UUID],
    actor_id: uuid.UUID | None,
    reason: str,
    block_seats: bool = False,
) -> OrderInfo:
    """Refund some tickets of a confirmed order: those seats freed (or blocked) with their QR codes dead, their
    prices credited back, the order still CONFIRMED with ``refunded_amount`` raised. Choosing every ticket still
    in the order is the whole-order refund (the order ends REFUNDED).

    The same refusals as a whole refund (a ticket used at the gate, passed on, changing hands); a seat that is not a
    live ticket of this order is a 400. Nothing changes on a refusal.
    """
    reason = _reason(reason)
    wanted = sorted(set(seat_ids))
    if not wanted:
        raise InvalidInput(
            gettext("Choose at least one ticket to refund."), fields={"seat_ids": [gettext("Choose a ticket.")]}
        )
    order = Order.objects.using(DB_ALIAS).filter(pk=order_id).first()
    if order is None:
        raise NotFound(gettext("No such order."))
    if actor_id is not None and not refund_allowed(actor_id=actor_id, organization_id=order.organization_id):
        raise RefundNotAllowed()
    if order.status != Order.Status.CONFIRMED:
        raise OrderNotRefundable(
            gettext("This order is %(status)s; only a confirmed order can be refunded.")
            % {"status": order.status.lower()}
        )
    live = set(
        OrderLine.objects.using(DB_ALIAS).filter(order_id=order.pk, is_active=True).values_list("seat_id", flat=True)
    )
    strangers = [str(seat) for seat in wanted if seat not in live]
    if strangers:
        raise InvalidInput(
            gettext("Some of these seats are not tickets of this order (any more)."), fields={"seat_ids": strangers}
        )
    if set(wanted) == live:
        return _refund(order, actor_id=actor_id, reason=reason, block_seats=block_seats)

    def refund_locked() -> OrderInfo:
        _ticket_refunds_finish_running(order)
        order.refresh_from_db(using=DB_ALIAS)
        if order.status != Order.Status.CONFIRMED or order.step == Order.Step.REFUNDING:
            raise Conflict(gettext("This order changed; reload it and try again."))
        refund = _tickets_refund_begin(order, seat_ids=wanted, actor_id=actor_id, reason=reason, block=block_seats)
        tickets_refund_finish(refund)
        order.refresh_from_db(using=DB_ALIAS)
        return order_info(order)

    return flow_drive(
        order.pk,
        refund_locked,
        busy=lambda: Conflict(gettext("This order is being changed right now; try again in a moment.")),
    )


def _ticket_refunds_finish_running(order: Order) -> None:
    """A refund of some tickets a crash left at REFUNDING is finished before the order changes again (under the
    order's flow lock): the next refund then counts its money."""
    for refund in OrderRefund.objects.using(DB_ALIAS).filter(order_id=order.pk, step=OrderRefundStep.REFUNDING):
        tickets_refund_finish(refund)


def _tickets_refund_begin(
    order: Order, *, seat_ids: list[uuid.UUID], actor_id: uuid.UUID | None, reason: str, block: bool
) -> OrderRefund:
    """Record the refund (step REFUNDING) with its lines, after checking its tickets are still the buyer's, unused."""
    wanted = set(seat_ids)
    _refuse_used_or_passed_on(
        [seat for seat in inventory_selectors.seats_of_order(order_id=order.pk) if seat.id in wanted],
        order=order,
        used=gettext("A chosen ticket was already used at the gate; it cannot be refunded."),
    )
    with transaction.atomic(using=DB_ALIAS):
        lines = list(
            OrderLine.objects.using(DB_ALIAS)
            .select_for_update()
            .filter(order_id=order.pk, seat_id__in=seat_ids, is_active=True, refund__isnull=True)
            .order_by("seat_id")
        )
        if len(lines) != len(seat_ids):
            raise Conflict(gettext("This order changed; reload it and try again."))
        ticket_flows_close_for_refund(seat_ids=list(seat_ids))
        refund = OrderRefund.objects.using(DB_ALIAS).create(
            order=order,
            organization_id=order.organization_id,
            actor_id=actor_id,
            amount=sum((line.price for line in lines), start=Decimal("0")),
            reason=reason,
            block_seats=block,
        )
        OrderLine.objects.using(DB_ALIAS).filter(pk__in=[line.pk for line in lines]).update(
            refund=refund, updated_at=timezone.now()
        )
    return refund


def tickets_refund_finish(refund: OrderRefund) -> OrderRefund:
    """Seats first (their tickets die), then the money, then the order; each step idempotent by the refund id.

    Called by ``order_refund_tickets`` and by recovery, under the order's flow lock.
    """
    order = Order.objects.using(DB_ALIAS).get(pk=refund.order_id)
    seat_ids = list(OrderLine.objects.using(DB_ALIAS).filter(refund=refund).values_list("seat_id", flat=True))
    try:
        inventory_services.seats_unsell(
            order_id=order.pk, block=refund.block_seats, owner_id=order.buyer_id, seat_ids=seat_ids
        )
    except (inventory_services.TicketCheckedIn, inventory_services.TicketTransferred):
        # Admitted at a gate (or passed on) after the pre-check: nothing changed in seats_db; the refund is given up.
        _tickets_refund_abandon(refund, seat_ids=seat_ids)
        raise
    fault_point("tickets_refund.after_seats")
    if refund.amount > 0 and order.channel == OrderChannel.ONLINE:  # a box-office sale pays back at the counter
        order_pay_back(
            order,
            amount=refund.amount,
            reference=refund.ledger_reference(),
            memo=f"Refund of {len(seat_ids)} ticket(s) of order {str(order.pk)[:8]}",
            actor_id=refund.actor_id,
        )
    fault_point("tickets_refund.after_credit")
    now = timezone.now()
    with transaction.atomic(using=DB_ALIAS):
        finished = (
            OrderRefund.objects.using(DB_ALIAS)
            .filter(pk=refund.pk, step=OrderRefundStep.REFUNDING)
            .update(step=OrderRefundStep.DONE, done_at=now, updated_at=now)
        )
        if finished:
            OrderLine.objects.using(DB_ALIAS).filter(refund=refund).update(is_active=False, updated_at=now)
            updated = (
                Order.objects.using(DB_ALIAS)
                .filter(pk=order.pk, status=Order.Status.CONFIRMED)
                .update(refunded_amount=F("refunded_amount") + refund.amount, updated_at=now)
            )
            if updated != 1:
                raise Conflict(gettext("This order changed while its tickets were refunded; recovery will finish it."))
            notify(kind=NotificationKind.TICKETS_REFUNDED, object_id=refund.pk, recipient_id=order.buyer_id)
    if finished and not refund.block_seats:
        waiting_list_nudge(event_id=order.event_id)
    refund.refresh_from_db(using=DB_ALIAS)
    if finished:
        _tickets_refund_audit(refund, order=order, seat_ids=seat_ids)
    return refund


def _tickets_refund_abandon(refund: OrderRefund, *, seat_ids: list[uuid.UUID]) -> None:
    """Give the refund up (its lines back in the order, step ABANDONED); tickets whose listings it closed are SOLD
    again, usable."""
    with transaction.atomic(using=DB_ALIAS):
        OrderLine.objects.using(DB_ALIAS).filter(refund=refund).update(refund=None, updated_at=timezone.now())
        OrderRefund.objects.using(DB_ALIAS).filter(pk=refund.pk, step=OrderRefundStep.REFUNDING).update(
            step=OrderRefundStep.ABANDONED, updated_at=timezone.now()
        )
    listed_tickets_repair(seat_ids=seat_ids)


def _tickets_refund_audit(refund: OrderRefund, *, order: Order, seat_ids: list[uuid.UUID]) -> None:
    audit_record(
        actor_id=refund.actor_id,
        action="order.refund_tickets",
        object_type="order",
        object_id=str(order.pk),
        organization_id=order.organization_id,
        reason=refund.reason,
        data={
            "refund_id": str(refund.pk),
            "amount": str(refund.amount),
            "seat_ids": sorted(str(seat) for seat in seat_ids),
            "buyer_id": str(order.buyer_id),
            "seats_blocked": refund.block_seats,
        },
    )


def orders_refund_for_event(
    *,
    event_id: uuid.UUID,
    actor_id: uuid.UUID | None,
    reason: str,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[int, int]:
    """Refund every confirmed order of an event (cancellation). Resumable: run it again to finish.

    Returns (refunded, total): orders now refunded and orders that were ever paid for the event. Orders that
    cannot be refunded (a ticket already used at the gate) are skipped and logged.
    """
    reason = _reason(reason)
    event = events_selectors.event_get(event_id=event_id)
    # Cancelling an event is an events manager's decision: its refunds need that capability, not REFUND.
    if actor_id is not None and not accounts_selectors.user_has_capability(
        user_id=actor_id, capability=Capability.EVENTS_MANAGE, organization_id=event.organization_id
    ):
        raise RefundNotAllowed()
    paid = Order.objects.using(DB_ALIAS).filter(
        event_id=event_id, status__in=[Order.Status.CONFIRMED, Order.Status.REFUNDED]
    )
    total = paid.count()
    done = paid.filter(status=Order.Status.REFUNDED).count()
    if progress:
        progress(done, total)
    # Passes over the confirmed orders in id order, again from the start while a pass refunded any: an order
    # confirmed while the pass ran (a statement that began before the cancellation was recorded) is still found.
    refunded_in_pass = True
    while refunded_in_pass:
        refunded_in_pass = False
        last_id = None
        while True:
            batch = Order.objects.using(DB_ALIAS).filter(event_id=event_id, status=Order.Status.CONFIRMED)
            if last_id is not None:
                batch = batch.filter(pk__gt=last_id)
            batch = list(batch.order_by("pk")[:REFUND_BATCH])
            if not batch:
                break
            for order in batch:
                last_id = order.pk
                try:
                    _refund(
                        order,
                        actor_id=actor_id,
                        reason=reason,
                        block_seats=False,
                        notice=NotificationKind.EVENT_CANCELLED,
                    )
                except DomainError as error:
                    logger.warning("refund of order %s skipped: %s %s", order.pk, error.code, error.detail)
                    continue
                done += 1
                refunded_in_pass = True
                total = max(total, done)
                if progress:
                    progress(done, total)
    return done, total
