"""Checkout across three databases: pay for the buyer's holds of one event, all or nothing.

A checkout is a sequence of local transactions, each idempotent and keyed by the order id (docs/ARCHITECTURE.md):

    1. orders_db  Order PENDING/CREATED + its lines                       (the recorded plan, order_plan_record:
    2.            flow lock of order.id: nobody else drives it now         one statement with the organizer's block)
    3. users_db   credits_debit(PURCHASE, reference=order.id)             (no step write: the ledger row says it)
    4. seats_db   seats_sell(order_id): HELD by buyer, unexpired -> SOLD
    5. orders_db  CONFIRMED / DONE                                        (no SEATS_SOLD write in between)

A domain failure after the debit (the holds expired, a seat was lost) is compensated at once: the debit is credited
back (PURCHASE_REFUND, same reference) and the order FAILS. Anything else (a crash, a database restart) leaves the
order PENDING for ``purchase_recover``, which reads the truth from the other databases and finishes or undoes it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts import selectors as accounts_selectors
from accounts import services as accounts_services
from accounts.contract import InsufficientCredits, LedgerKind
from core import config
from core.errors import Conflict, DomainError, InvalidInput, NotFound
from core.faults import fault_point
from core.locking import flow_lock_taken, flow_unlock
from core.results import from_row
from events import selectors as events_selectors
from events.contract import SalesClosed
from inventory import selectors as inventory_selectors
from inventory import services as inventory_services
from orders import DB_ALIAS
from orders.contract import (
    BuyerBlocked,
    EmailNotVerified,
    IdempotencyConflict,
    IdempotencyKeyReused,
    NoHolds,
    NotificationKind,
    OrderChannel,
    OrderFailed,
    OrderInfo,
    OrderInProgress,
    OrderLineInfo,
    StaffOperationKind,
    StepUpRequired,
    WaitingRoomPassRequired,
)
from orders.models import Order, OrderLine, StaffOperation
from orders.notifications import notify_on_statement
from orders.services.blocks import check_not_blocked
from orders.services.flows import flow_drive
from orders.services.purchase.plan import order_plan_build, order_plan_record
from orders.services.waiting_room import waiting_room_pass_check

MAX_IDEMPOTENCY_KEY_LENGTH = 100


def order_info(order: Order, lines: Iterable[OrderLine] | None = None, *, is_replay: bool = False) -> OrderInfo:
    if lines is None:
        lines = OrderLine.objects.using(DB_ALIAS).filter(order_id=order.pk).order_by("seat_id")
    return from_row(
        OrderInfo, order, lines=tuple(from_row(OrderLineInfo, line) for line in lines), is_replay=is_replay, pay_url=""
    )


def order_get_for_buyer(*, order_id: uuid.UUID, buyer_id: uuid.UUID) -> OrderInfo:
    """The buyer's own order; another buyer's order is NOT_FOUND (never a hint that it exists)."""
    order = Order.objects.using(DB_ALIAS).filter(pk=order_id, buyer_id=buyer_id).first()
    if order is None:
        raise NotFound(gettext("No such order."))
    return order_info(order)


def _validate_key(idempotency_key) -> str:
    key = str(idempotency_key or "").strip()
    if not key:
        raise InvalidInput(
            gettext("An idempotency key is required."),
            fields={"idempotency_key": [gettext("Send an Idempotency-Key header.")]},
        )
    if len(key) > MAX_IDEMPOTENCY_KEY_LENGTH or not key.isprintable():
        raise InvalidInput(
            gettext("The idempotency key must be at most 100 printable characters."),
            fields={"idempotency_key": [gettext("At most 100 printable characters.")]},
        )
    return key


def _replay(order: Order, event_id: uuid.UUID) -> OrderInfo:
    """What a retry with an already-used key gets: the same order, or the same failure."""
    if order.event_id != event_id:
        raise IdempotencyKeyReused(order_id=str(order.pk))
    if order.status == Order.Status.FAILED:
        error_class = DomainError.registry.get(order.failure_code, OrderFailed)
        try:
            error = error_class(
                f"{error_class.default_detail} (This idempotency key was already used by that failed attempt; "
                "use a new key.)",
                order_id=str(order.pk),
            )
        except TypeError:  # a subclass with its own constructor: fall back to the generic failure
            error = OrderFailed(order_id=str(order.pk), failure_code=order.failure_code)
        raise error
    return order_info(order, is_replay=True)


def _checkout_preconditions(
    *,
    buyer_id: uuid.UUID,
    event_id: uuid.UUID,
    require_balance: bool = True,
    waiting_room_pass: str | None = None,
    require_pass: bool = True,
    check_block: bool = True,
):
    """Everything checked before anything is written: buyer, step-up, sales window, waiting-room pass, holds, limit,
    balance. ``require_pass=False`` only where ``order_checkout`` checked the pass a moment before (card.py).

    ``check_block=False``: the caller checks the organizer's block in the statement that records the order
    (``order_plan_record``) instead of in a round trip of its own.
    """
    buyer = accounts_selectors.user_get(user_id=buyer_id)
    if not buyer.is_verified:
        raise EmailNotVerified()
    if buyer.is_flagged and not accounts_selectors.step_up_is_satisfied(user_id=buyer_id):
        raise StepUpRequired()
    event = events_selectors.event_get_on_sale(event_id=event_id)
    if require_pass:
        waiting_room_pass_check(event=event, user_id=buyer_id, token=waiting_room_pass)
    if check_block:
        check_not_blocked(organization_id=event.organization_id, user_id=buyer_id)
    holds = inventory_selectors.holds_for_buyer(buyer_id=buyer_id, event_id=event_id)
    if not holds:
        raise NoHolds()
    max_per_order = config.get("max_tickets_per_order")
    if len(holds) > max_per_order:
        # Holds made before staff lowered the limit: release some, then pay.
        raise inventory_services.HoldLimitExceeded(
            gettext(
                "You hold %(count)s places; at most %(max_per_order)s can be bought in one order. Release some first."
            )
            % {"count": len(holds), "max_per_order": max_per_order},
            held=len(holds),
            limit=max_per_order,
        )
    total = sum((Decimal(seat.price) for seat in holds), Decimal("0.00"))
    if require_balance and buyer.credit_balance < total:
        # Refused before anything is written; credits_debit re-checks under the row lock.
        raise InsufficientCredits(
            gettext("This order costs %(total)s credits and your balance is %(credit_balance)s. Top up and try again.")
            % {"total": total, "credit_balance": buyer.credit_balance},
            required=str(total),
            balance=str(buyer.credit_balance),
        )
    return buyer, event, holds, total


def order_checkout(
    *,
    buyer_id: uuid.UUID,
    event_id: uuid.UUID,
    idempotency_key: str,
    pay_shortfall: Callable[..., OrderInfo] | None = None,
    waiting_room_pass: str | None = None,
) -> OrderInfo:
    """Pay for the buyer's unexpired holds of one event from their credits; all or nothing across three databases.

    The same idempotency key returns the same order and never charges twice. Errors: STEP_UP_REQUIRED (428),
    EMAIL_NOT_VERIFIED (403), SALES_CLOSED, NO_ACTIVE_HOLDS, HOLD_EXPIRED, IDEMPOTENCY_IN_PROGRESS,
    ORDER_IN_PROGRESS, HOLD_LIMIT_EXCEEDED (409), INSUFFICIENT_CREDITS (402), IDEMPOTENCY_KEY_REUSED (422).

    ``pay_shortfall``: when the credits do not cover the order, called instead of refusing (the card payment of
    the difference, orders/services/purchase/card.py); it binds the key to its own order.

    ``waiting_room_pass``: while the event's waiting room is on, the buyer's pass (WAITING_ROOM_PASS_REQUIRED, 403).
    """
    key = _validate_key(idempotency_key)
    # No lookup of the key first: a fresh key (nearly every request) would pay a round trip for nothing. A retry is
    # found where it shows: a refused precondition looks the key up before answering (``_refused``), and a retry
    # that passes them meets its order at the insert (order_idempotency_key_per_buyer) and resumes it.
    try:
        _buyer, event, holds, total = _checkout_preconditions(
            buyer_id=buyer_id, event_id=event_id, waiting_room_pass=waiting_room_pass, check_block=False
        )
    except DomainError as error:
        return _refused(error, buyer_id=buyer_id, event_id=event_id, key=key, pay_shortfall=pay_shortfall)

    order, lines = order_plan_build(buyer_id=buyer_id, event=event, total=total, key=key, seats=holds)
    try:
        plan = order_plan_record(order=order, lines=lines)
    except IntegrityError as exc:
        flow_unlock(order.pk, using=DB_ALIAS)  # a session lock outlives the statement that failed after taking it
        duplicate = Order.objects.using(DB_ALIAS).filter(buyer_id=buyer_id, idempotency_key=key).first()
        if duplicate is None:
            # orderline_one_active_per_seat: another live order (this buyer's, with another key) has a seat.
            raise OrderInProgress() from exc
        return _resume(duplicate, event_id)
    if plan.blocked:
        return _refused(BuyerBlocked(), buyer_id=buyer_id, event_id=event_id, key=key, pay_shortfall=None)
    if not plan.recorded:  # a fresh id's lock is nobody else's: only a broken database gets here
        flow_unlock(order.pk, using=DB_ALIAS)
        raise Conflict(gettext("The order could not be recorded; try again."), order_id=str(order.pk))
    with flow_lock_taken(order.pk, using=DB_ALIAS):
        return drive_recorded_order(order, lines)


def _refused(
    error: DomainError,
    *,
    buyer_id: uuid.UUID,
    event_id: uuid.UUID,
    key: str,
    pay_shortfall: Callable[..., OrderInfo] | None,
) -> OrderInfo:
    """A precondition refused the checkout: a retry's order if a concurrent request made one, else the refusal."""
    # A concurrent request with the same key may have made the order (and sold the holds, spent the credits)
    # since the first lookup: then this is a retry of that order, not a failure.
    existing = Order.objects.using(DB_ALIAS).filter(buyer_id=buyer_id, idempotency_key=key).first()
    if existing is not None:
        return _resume(existing, event_id)
    if pay_shortfall is not None and isinstance(error, InsufficientCredits):
        return pay_shortfall(buyer_id=buyer_id, event_id=event_id, key=key)
    if isinstance(error, _UNBOUND_REFUSALS):
        raise error
    twin = _record_refusal(buyer_id=buyer_id, event_id=event_id, key=key, error=error)
    if twin is not None:
        return _resume(twin, event_id)
    raise error


# Refusals about who is paying, not about the order: the buyer fixes them (verifies the address, confirms a
# step-up code) and retries with the same key, so they bind nothing to it, like an authentication error would not.
_UNBOUND_REFUSALS = (EmailNotVerified, StepUpRequired, InvalidInput, NotFound, WaitingRoomPassRequired)


def _record_refusal(*, buyer_id: uuid.UUID, event_id: uuid.UUID, key: str, error: DomainError) -> Order | None:
    """Bind a refusal (too few credits, no holds, sales closed...) to its key as a FAILED order without lines.

    The key's first outcome is then its only outcome: a twin request with the same key that passed its checks a
    moment later (a refund landed between the two balance checks) finds this row at its insert and gets the same
    refusal, and a later retry gets it too. Returns the twin's order when the twin inserted first.
    """
    refusal = Order(
        id=uuid.uuid4(),
        buyer_id=buyer_id,
        event_id=event_id,
        total=Decimal("0.00"),
        idempotency_key=key,
        status=Order.Status.FAILED,
        step=Order.Step.COMPENSATED,
        failure_code=error.code[:64],
    )
    try:
        with transaction.atomic(using=DB_ALIAS):
            refusal.save(using=DB_ALIAS, force_insert=True)
    except IntegrityError:
        return Order.objects.using(DB_ALIAS).filter(buyer_id=buyer_id, idempotency_key=key).first()
    return None


class _Duplicate(Exception):  # noqa: N818 - control flow, never leaves this module
    def __init__(self, order: Order):
        self.order = order


def _resume(order: Order, event_id: uuid.UUID) -> OrderInfo:
    """A retry found its order: return it, or drive it on if it is still pending and nobody else is."""
    if order.status != Order.Status.PENDING:
        return _replay(order, event_id)
    if order.event_id != event_id:
        raise IdempotencyKeyReused(order_id=str(order.pk))

    def resume_locked() -> OrderInfo:
        order.refresh_from_db(using=DB_ALIAS)  # whoever held the lock may have finished it
        if order.status != Order.Status.PENDING:
            return _replay(order, event_id)
        lines = list(OrderLine.objects.using(DB_ALIAS).filter(order_id=order.pk).order_by("seat_id"))
        if order.step in (Order.Step.COMPENSATING, Order.Step.COMPENSATED):
            order_undo(order, lines, failure_code=order.failure_code or OrderFailed.code)
            return _replay(order, event_id)
        return dataclasses.replace(drive_recorded_order(order, lines), is_replay=True)

    return flow_drive(order.pk, resume_locked, busy=lambda: IdempotencyConflict(order_id=str(order.pk)))


def _set_step(order: Order, step: str, **fields) -> None:
    """One compare-and-set UPDATE: only a still-PENDING order moves on (recovery may have decided otherwise).

    Not ``flows.flow_advance``: on the purchase's hot path one UPDATE in autocommit is cheaper than a transaction
    around it (tests/performance pins the statements), and a refused step is an error here, not an answer.
    """
    fields = {"step": step, "updated_at": timezone.now(), **fields}
    updated = Order.objects.using(DB_ALIAS).filter(pk=order.pk, status=Order.Status.PENDING).update(**fields)
    if updated != 1:
        raise Conflict(gettext("This order was finished by someone else."), order_id=str(order.pk))
    for name, value in fields.items():
        setattr(order, name, value)


def drive_recorded_order(order: Order, lines: list[OrderLine]) -> OrderInfo:
    """Steps 3-5 from wherever the order got to. Every step is idempotent, so re-running one is harmless.

    The caller holds the order's flow lock. A box-office sale or a comp (orders/services/box_office.py) takes no
    credits: its payment step records nothing more than the order already says.
    """
    fault_point("purchase.after_order")
    if order.step == Order.Step.CREATED:
        if order.total > 0 and order.channel == OrderChannel.ONLINE:
            try:
                accounts_services.credits_debit(
                    user_id=order.buyer_id,
                    amount=order.total,
                    kind=LedgerKind.PURCHASE,
                    reference=str(order.pk),
                    memo=f"Order {str(order.pk)[:8]}",
                )
            except DomainError as error:  # insufficient credits, inactive account: nothing was taken
                order_undo(order, lines, failure_code=error.code, debited=False)
                raise
        # No DEBITED write of its own: the debit's ledger row (kind PURCHASE, reference = the order id) is the record
        # that it happened. A resume of a CREATED order replays credits_debit, which finds that row and takes nothing
        # twice; recovery reads the same row. One writing transaction less per purchase (docs/PERFORMANCE.md).
        fault_point("purchase.after_debit")
    if order.step in (Order.Step.CREATED, Order.Step.DEBITED):  # DEBITED: written by earlier versions of this flow
        try:
            inventory_services.seats_sell(
                buyer_id=order.buyer_id,
                order_id=order.pk,
                seat_ids=[line.seat_id for line in lines],
                complimentary=order.channel == OrderChannel.COMP,
            )
        except DomainError as error:  # the holds expired or were lost: give the credits back, seats stay as they are
            order_undo(order, lines, failure_code=error.code)
            raise
        # No SEATS_SOLD write of its own either: the confirmation right below is the next write to this same
        # database, and a crash in between leaves the order pending, which resume and recovery finish from the
        # truth (seats sold to this order + the debit) just the same.
        fault_point("purchase.after_seats")
        _confirm(order, lines)
    elif order.step == Order.Step.SEATS_SOLD:  # a step the schema allows but this flow never writes: confirmed alike
        _confirm(order, lines)
    return order_info(order, lines)


# order_confirm's compare-and-set as SQL written once (every checkout confirms). Parameters: step, status,
# confirmed_at, updated_at, order id, PENDING, CANCEL.
_CONFIRM = (
    f"UPDATE {Order._meta.db_table} AS o SET step = %s, status = %s, confirmed_at = %s, updated_at = %s "  # noqa: S608
    f"WHERE o.id = %s AND o.status = %s AND NOT EXISTS (SELECT 1 FROM {StaffOperation._meta.db_table} op "
    "WHERE op.event_id = o.event_id AND op.kind = %s)"
)


def order_confirm(order: Order, *, now: dt.datetime) -> bool:
    """The order CONFIRMED and its confirmation email queued by one statement, both or neither, while it may still be
    confirmed: PENDING, and no cancellation started for its event. False, with nothing changed, otherwise.

    A cancellation's StaffOperation row commits before the event says CANCELLED (staff_operations), and this
    statement tests for it itself: from the moment staff press *Cancel* no order of the event is confirmed, so the
    cancellation's refunds never miss a sale made behind their back. The compare-and-set and the queue's INSERT
    share one statement, atomic by itself, so the email costs no round trip and no transaction of its own
    (tests/performance pins it).
    """
    return notify_on_statement(
        _CONFIRM,
        [Order.Step.DONE, Order.Status.CONFIRMED, now, now, order.pk, Order.Status.PENDING, StaffOperationKind.CANCEL],
        kind=NotificationKind.ORDER_CONFIRMED,
        object_id=order.pk,
        recipient_id=order.buyer_id,
    )


def _confirm(order: Order, lines: list[OrderLine]) -> None:
    """Confirm the paid order (order_confirm). An event whose cancellation has started refuses the confirmation:
    the order is undone (seats and credits given back) and SALES_CLOSED."""
    now = timezone.now()
    fields = {"step": Order.Step.DONE, "status": Order.Status.CONFIRMED, "confirmed_at": now, "updated_at": now}
    if not order_confirm(order, now=now):
        if Order.objects.using(DB_ALIAS).filter(pk=order.pk, status=Order.Status.PENDING).exists():
            order_undo(order, lines, failure_code=SalesClosed.code)
            raise SalesClosed(gettext("This event was cancelled while the order was being paid; nothing was charged."))
        raise Conflict(gettext("This order was finished by someone else."), order_id=str(order.pk))
    for name, value in fields.items():
        setattr(order, name, value)


def order_lines_release(order_id: uuid.UUID) -> None:
    """The order gives up its seats: its lines stop counting for orderline_one_active_per_seat."""
    OrderLine.objects.using(DB_ALIAS).filter(order_id=order_id, is_active=True).update(
        is_active=False, updated_at=timezone.now()
    )


def order_pay_back(
    order: Order, *, amount: Decimal, reference: str, memo: str, actor_id: uuid.UUID | None = None
) -> None:
    """Credit ``amount`` back to the order's buyer as PURCHASE_REFUND: a failed order's debit, or a refund.
    Idempotent by (kind, ``reference``), like every ledger movement."""
    accounts_services.credits_credit(
        user_id=order.buyer_id,
        amount=amount,
        kind=LedgerKind.PURCHASE_REFUND,
        reference=reference,
        memo=memo,
        actor_id=actor_id,
    )


def order_undo(order: Order, lines: list[OrderLine], *, failure_code: str, debited: bool = True) -> None:
    """Compensate a pending order: seats it sold back to AVAILABLE, its debit credited back, order FAILED.

    Recorded as COMPENSATING first, so a crash halfway is undone (never confirmed) by the recovery command.
    """
    code = (failure_code or OrderFailed.code)[:64]
    if order.step != Order.Step.COMPENSATING:
        _set_step(order, Order.Step.COMPENSATING, failure_code=code)
    if debited:
        inventory_services.seats_unsell(order_id=order.pk)
        reference = str(order.pk)
        if order.total > 0 and accounts_selectors.ledger_entry_exists(kind=LedgerKind.PURCHASE, reference=reference):
            order_pay_back(
                order, amount=order.total, reference=reference, memo=f"Order {str(order.pk)[:8]} failed: {code}"
            )
    with transaction.atomic(using=DB_ALIAS):
        order_lines_release(order.pk)
        _set_step(order, Order.Step.COMPENSATED, status=Order.Status.FAILED)
    for line in lines:
        line.is_active = False
