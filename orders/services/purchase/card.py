"""Pay the difference by card: a checkout whose credits do not cover it, completed when the card payment lands.

    1. orders_db  Order PENDING/AWAITING_PAYMENT + its lines, bound to the idempotency key   (the recorded plan)
    2. seats_db   the holds extended to CARD_PAYMENT_HOLD_SECONDS (a bound: seats are not kept from others longer)
    3. users_db   a TopUp of the shortfall linked to the order (the provider's page opens)  -> Order.card_topup_id
       ... the buyer pays; the provider's webhook credits the top-up and records the fact (core/outbox.py) ...
    4. the fact's job (or the buyer's return to the order page, whichever comes first) completes the checkout:
       step CREATED, then the usual saga (debit, seats sold, confirmed) with the same order and key.

If the holds expired or were lost meanwhile, the saga's compensation applies: the debit is credited back, so the
money stays in the wallet as credits, and the order FAILS with its code (HOLD_EXPIRED...). A failed or abandoned
payment fails the order with CARD_PAYMENT_FAILED and nothing is charged. A crash at any step leaves the order
PENDING for ``purchase_recover``, which asks the top-up where the payment is (card_checkout_recover).
"""

from __future__ import annotations

import dataclasses
import uuid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts import selectors as accounts_selectors
from accounts import services as accounts_services
from accounts.contract import TopUpStatus
from core import config
from core.errors import DomainError
from core.faults import fault_point
from core.locking import flow_lock
from inventory import services as inventory_services
from orders import DB_ALIAS
from orders.contract import CardPaymentFailed, IdempotencyConflict, OrderInfo, OrderInProgress
from orders.models import Order, OrderLine
from orders.services.flows import flow_drive
from orders.services.purchase import checkout
from orders.services.purchase.checkout import _checkout_preconditions, _Duplicate, _resume, order_info, order_undo
from orders.services.purchase.plan import order_plan_build


def order_checkout_by_card(
    *, buyer_id: uuid.UUID, event_id: uuid.UUID, idempotency_key: str, waiting_room_pass: str | None = None
) -> OrderInfo:
    """``order_checkout``, but a shortfall of credits is paid by card instead of refused (402).

    When the credits cover the order it is paid from them at once, as always. Otherwise the answer is the PENDING
    order (step AWAITING_PAYMENT) with ``pay_url``, the provider's page for the shortfall.
    """
    return checkout.order_checkout(
        buyer_id=buyer_id,
        event_id=event_id,
        idempotency_key=idempotency_key,
        pay_shortfall=card_checkout_start,
        waiting_room_pass=waiting_room_pass,
    )


def card_checkout_start(*, buyer_id: uuid.UUID, event_id: uuid.UUID, key: str) -> OrderInfo:
    # Reached only from order_checkout, whose preconditions checked the waiting-room pass a moment ago.
    buyer, event, holds, total = _checkout_preconditions(
        buyer_id=buyer_id, event_id=event_id, require_balance=False, require_pass=False
    )
    shortfall = total - buyer.credit_balance
    order, lines = order_plan_build(
        buyer_id=buyer_id, event=event, total=total, key=key, seats=holds, step=Order.Step.AWAITING_PAYMENT
    )
    try:
        with flow_lock_of(order):
            try:
                with transaction.atomic(using=DB_ALIAS):
                    order.save(using=DB_ALIAS, force_insert=True)
                    OrderLine.objects.using(DB_ALIAS).bulk_create(lines)
            except IntegrityError as exc:
                duplicate = Order.objects.using(DB_ALIAS).filter(buyer_id=buyer_id, idempotency_key=key).first()
                if duplicate is None:
                    raise OrderInProgress() from exc
                raise _Duplicate(duplicate) from exc
            fault_point("card_checkout.after_order")
            try:
                # The holds stay while the payment page is open, up to the bound (never shortened).
                hold_seconds = max(settings.CARD_PAYMENT_HOLD_SECONDS, config.get("hold_seconds"))
                inventory_services.seats_hold(
                    event_id=event_id,
                    buyer_id=buyer_id,
                    seat_ids=[line.seat_id for line in lines],
                    hold_seconds=hold_seconds,
                    max_per_buyer=max(config.get("max_tickets_per_order"), len(lines)),
                )
            except DomainError as error:
                order_undo(order, lines, failure_code=error.code, debited=False)
                raise
    except _Duplicate as dup:
        return _resume(dup.order, event_id)
    # The provider call happens outside the flow lock; a crash before it leaves an order without a top-up, which
    # recovery fails (nothing was charged).
    try:
        started = accounts_services.topup_start(
            user_id=buyer_id,
            amount=shortfall,
            order_id=order.pk,
            return_path=reverse("orders:detail", args=[order.pk]),
        )
    except DomainError as error:
        code = error.code
        flow_drive(order.pk, lambda: order_undo(order, lines, failure_code=code, debited=False), busy=_busy)
        raise
    fault_point("card_checkout.after_topup")
    Order.objects.using(DB_ALIAS).filter(pk=order.pk, status=Order.Status.PENDING).update(
        card_topup_id=started.topup.id, updated_at=timezone.now()
    )
    order.card_topup_id = started.topup.id
    return dataclasses.replace(order_info(order, lines), pay_url=started.pay_url)


def flow_lock_of(order: Order):
    return flow_lock(order.pk, using=DB_ALIAS)


def _busy() -> DomainError:
    return IdempotencyConflict()


def card_checkout_complete(*, order_id: uuid.UUID) -> OrderInfo | None:
    """Finish a checkout waiting for its card payment, from what the top-up says now. Idempotent: the webhook's
    job, the buyer's return and recovery may all call it; only the first one to find the payment settled acts.

    Returns the order (None for an unknown order). IDEMPOTENCY_IN_PROGRESS while another caller drives it.
    """
    order = Order.objects.using(DB_ALIAS).filter(pk=order_id).first()
    if order is None:
        return None
    if order.status != Order.Status.PENDING or order.step != Order.Step.AWAITING_PAYMENT:
        return order_info(order)
    topup = accounts_selectors.topup_get_by_id(topup_id=order.card_topup_id) if order.card_topup_id else None
    if topup is None or topup.status == TopUpStatus.PENDING:
        return order_info(order)

    def complete() -> OrderInfo:
        order.refresh_from_db(using=DB_ALIAS)
        if order.status != Order.Status.PENDING or order.step != Order.Step.AWAITING_PAYMENT:
            return order_info(order)
        lines = list(OrderLine.objects.using(DB_ALIAS).filter(order_id=order.pk).order_by("seat_id"))
        if topup.status != TopUpStatus.SUCCEEDED:
            order_undo(order, lines, failure_code=CardPaymentFailed.code, debited=False)
            return order_info(order)
        checkout._set_step(order, Order.Step.CREATED)
        fault_point("card_checkout.after_paid")
        try:
            return checkout.drive_recorded_order(order, lines)
        except DomainError:
            # Compensated by the saga (the credits stay in the wallet); the order tells its failure code.
            order.refresh_from_db(using=DB_ALIAS)
            return order_info(order)

    return flow_drive(order.pk, complete, busy=_busy)


def card_checkout_poll(*, order_id: uuid.UUID, buyer_id: uuid.UUID) -> OrderInfo:
    """The buyer looks at their order (back from the payment page, or an API poll): finish it if its payment
    settled. Never trusts the visit itself: only the top-up's state, which only the webhook sets, decides."""
    checkout.order_get_for_buyer(order_id=order_id, buyer_id=buyer_id)  # NotFound for another buyer's order
    try:
        card_checkout_complete(order_id=order_id)
    except IdempotencyConflict:
        pass  # the webhook's job is finishing it right now; the page shows it as it stands
    return checkout.order_get_for_buyer(order_id=order_id, buyer_id=buyer_id)


def card_checkout_recover(order: Order) -> str | None:
    """Recovery of a PENDING order at AWAITING_PAYMENT: finish it once its payment settled; fail it when its top-up
    was never started (a crash before the provider call); leave it while the payment is still open."""
    if not order.card_topup_id:
        lines = list(OrderLine.objects.using(DB_ALIAS).filter(order_id=order.pk).order_by("seat_id"))
        order_undo(order, lines, failure_code="INTERRUPTED", debited=False)
        return "undone"
    topup = accounts_selectors.topup_get_by_id(topup_id=order.card_topup_id)
    if topup is None or topup.status == TopUpStatus.PENDING:
        return None
    lines = list(OrderLine.objects.using(DB_ALIAS).filter(order_id=order.pk).order_by("seat_id"))
    if topup.status != TopUpStatus.SUCCEEDED:
        order_undo(order, lines, failure_code=CardPaymentFailed.code, debited=False)
        return "undone"
    checkout._set_step(order, Order.Step.CREATED)
    try:
        checkout.drive_recorded_order(order, lines)
    except DomainError:
        return "undone"
    return "confirmed"
