"""Holds, checkout across three databases, refunds and purchase recovery (SPEC 4.3-4.5, 4.11).

A checkout is a sequence of local transactions, each idempotent and keyed by the order id (docs/ARCHITECTURE.md):

    1. orders_db  Order PENDING/CREATED + its lines                       (the recorded plan)
    2.            flow_lock(order.id): nobody else drives this order now  (taken before step 1 commits)
    3. users_db   credits_debit(PURCHASE, reference=order.id)             -> step DEBITED
    4. seats_db   seats_sell(order_id): HELD by buyer, unexpired -> SOLD
    5. orders_db  CONFIRMED / DONE                                        (no SEATS_SOLD write in between)

A domain failure after the debit (the holds expired, a seat was lost) is compensated at once: the debit is credited
back (PURCHASE_REFUND, same reference) and the order FAILS. Anything else (a crash, a database restart) leaves the
order PENDING for :func:`purchase_recover`, which reads the truth from the other databases and finishes or undoes it.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import selectors as accounts_selectors
from accounts import services as accounts_services
from accounts.errors import InsufficientCredits
from events import selectors as events_selectors
from inventory import selectors as inventory_selectors
from inventory import services as inventory_services
from orders import DB_ALIAS
from orders.models import Order, OrderLine
from orders.services.resale import listed_tickets_repair
from orders.services.transfer import ticket_flows_close_for_refund
from ticketremaster import config
from ticketremaster.errors import Conflict, DomainError, InvalidInput, NotFound
from ticketremaster.faults import fault_point
from ticketremaster.ids import as_uuid
from ticketremaster.locking import FlowBusy, flow_lock

logger = logging.getLogger(__name__)

PURCHASE = "PURCHASE"
PURCHASE_REFUND = "PURCHASE_REFUND"
REFUND_ROLES = frozenset({"OWNER", "MANAGER", "BOX_OFFICE"})
MAX_IDEMPOTENCY_KEY_LENGTH = 100
RECOVERY_GRACE_SECONDS = 60
TICKET_STATUSES = ("SOLD", "CHECKED_IN", "LISTED")


# --- Errors ------------------------------------------------------------------------------------------------------


class StepUpRequired(DomainError):
    code = "STEP_UP_REQUIRED"
    status = 428
    default_detail = "Confirm this purchase with the one-time code we email you, then pay again."


class EmailNotVerified(DomainError):
    code = "EMAIL_NOT_VERIFIED"
    status = 403
    default_detail = "Verify your email address before buying tickets."


class IdempotencyConflict(Conflict):
    code = "IDEMPOTENCY_IN_PROGRESS"
    status = 409
    default_detail = "A request with this idempotency key is being processed right now; retry in a moment."


class IdempotencyKeyReused(DomainError):
    code = "IDEMPOTENCY_KEY_REUSED"
    status = 422
    default_detail = "This idempotency key was already used for a different purchase."


class NoHolds(Conflict):
    code = "NO_ACTIVE_HOLDS"
    status = 409
    default_detail = "You hold no seats for this event (holds expire after a few minutes); pick seats again."


class OrderInProgress(Conflict):
    code = "ORDER_IN_PROGRESS"
    status = 409
    default_detail = "Another checkout of these seats is still in progress; wait a moment and look at your orders."


class OrderFailed(Conflict):
    code = "ORDER_FAILED"
    status = 409
    default_detail = "This purchase failed and was undone; nothing was charged. Start a new checkout."


class OrderNotRefundable(Conflict):
    code = "ORDER_NOT_REFUNDABLE"
    status = 409
    default_detail = "Only a confirmed order can be refunded."


class RefundNotAllowed(DomainError):
    code = "REFUND_NOT_ALLOWED"
    status = 403
    default_detail = "Only box-office staff, managers and owners of the event's organization can refund it."


# --- Results -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderLineInfo:
    seat_id: uuid.UUID
    price: Decimal
    is_active: bool


@dataclass(frozen=True)
class OrderInfo:
    id: uuid.UUID
    buyer_id: uuid.UUID
    event_id: uuid.UUID
    organization_id: uuid.UUID | None
    status: str
    step: str
    total: Decimal
    idempotency_key: str
    failure_code: str
    created_at: dt.datetime
    confirmed_at: dt.datetime | None
    refunded_at: dt.datetime | None
    refund_reason: str
    lines: tuple[OrderLineInfo, ...]
    # True when the call found an order made earlier with the same idempotency key (the API answers 200, not 201).
    is_replay: bool = False


@dataclass
class RecoveryReport:
    name: str = "purchase"
    examined: int = 0
    confirmed: int = 0
    undone: int = 0
    refunds_finished: int = 0
    busy: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return self.confirmed + self.undone + self.refunds_finished


def _info(order: Order, lines: Iterable[OrderLine] | None = None, *, is_replay: bool = False) -> OrderInfo:
    if lines is None:
        lines = OrderLine.objects.using(DB_ALIAS).filter(order_id=order.pk).order_by("seat_id")
    return OrderInfo(
        id=order.pk,
        buyer_id=order.buyer_id,
        event_id=order.event_id,
        organization_id=order.organization_id,
        status=order.status,
        step=order.step,
        total=order.total,
        idempotency_key=order.idempotency_key,
        failure_code=order.failure_code,
        created_at=order.created_at,
        confirmed_at=order.confirmed_at,
        refunded_at=order.refunded_at,
        refund_reason=order.refund_reason,
        lines=tuple(OrderLineInfo(seat_id=ln.seat_id, price=ln.price, is_active=ln.is_active) for ln in lines),
        is_replay=is_replay,
    )


def _uuid(value, *, name: str) -> uuid.UUID:
    pk = as_uuid(value)
    if pk is None:
        raise InvalidInput(f"{name} is not a valid id.", fields={name: ["Not a valid UUID."]})
    return pk


# --- Holds -------------------------------------------------------------------------------------------------------


def hold_seats(
    *,
    buyer_id,
    event_id,
    seat_ids: Iterable | None = None,
    section_id=None,
    tier_id=None,
    quantity: int | None = None,
) -> list:
    """Hold chosen seats (``seat_ids``) or ``quantity`` best-available places (in a section, a tier or anywhere).

    All or nothing. A busy seat is SEAT_UNAVAILABLE (409) at once, never a wait. Hold time and the per-buyer limit
    come from system configuration.
    """
    buyer_id = _uuid(buyer_id, name="buyer_id")
    event = events_selectors.event_get_on_sale(event_id=event_id)
    max_per_buyer = config.get("max_tickets_per_order")
    hold_seconds = config.get("hold_seconds")
    buyer = accounts_selectors.user_get(user_id=buyer_id)
    if not buyer.is_verified:
        raise EmailNotVerified()

    if seat_ids is not None and quantity is not None:
        raise InvalidInput("Choose seats or a quantity, not both.")
    if seat_ids is not None:
        if isinstance(seat_ids, str | bytes):
            raise InvalidInput("seat_ids must be a list of seat ids.", fields={"seat_ids": ["Expected a list."]})
        ids = sorted({_uuid(value, name="seat_ids") for value in seat_ids})
        if not ids:
            raise InvalidInput("Choose at least one seat.", fields={"seat_ids": ["Choose at least one seat."]})
        if len(ids) > max_per_buyer:
            raise InvalidInput(
                f"You can hold at most {max_per_buyer} places for this event.",
                fields={"seat_ids": [f"At most {max_per_buyer} seats."]},
            )
        if event.selection_mode == "BEST_AVAILABLE":
            raise InvalidInput(
                "This event sells the best available places: choose a quantity, not seats.",
                fields={"seat_ids": ["Seat choice is not offered for this event."]},
            )
        return inventory_services.seats_hold(
            event_id=event.id, buyer_id=buyer_id, seat_ids=ids, hold_seconds=hold_seconds, max_per_buyer=max_per_buyer
        )

    if quantity is None:
        raise InvalidInput("Choose seats or a quantity.", fields={"quantity": ["This field is required."]})
    if isinstance(quantity, bool):
        raise InvalidInput("quantity must be a whole number.", fields={"quantity": ["A whole number is required."]})
    try:
        quantity = int(quantity)
    except (TypeError, ValueError):
        raise InvalidInput(
            "quantity must be a whole number.", fields={"quantity": ["A whole number is required."]}
        ) from None
    if not 1 <= quantity <= max_per_buyer:
        raise InvalidInput(
            f"Choose between 1 and {max_per_buyer} places.",
            fields={"quantity": [f"Must be between 1 and {max_per_buyer}."]},
        )
    section = _uuid(section_id, name="section_id") if section_id not in (None, "") else None
    tier = _uuid(tier_id, name="tier_id") if tier_id not in (None, "") else None
    if section or tier:
        sections = events_selectors.event_sections(event_id=event.id)
        if section and not any(s.section_id == section for s in sections):
            raise NotFound("This event sells no such section.")
        if tier and not any(s.tier_id == tier for s in sections):
            raise NotFound("This event has no such price tier.")
    return inventory_services.seats_hold_best_available(
        event_id=event.id,
        buyer_id=buyer_id,
        quantity=quantity,
        section_id=section,
        tier_id=tier,
        hold_seconds=hold_seconds,
        max_per_buyer=max_per_buyer,
    )


def release_holds(*, buyer_id, event_id=None, seat_ids: Iterable | None = None) -> int:
    """Release the buyer's own unexpired holds (all, one event's, or the listed seats). Returns how many."""
    buyer_id = _uuid(buyer_id, name="buyer_id")
    event = _uuid(event_id, name="event_id") if event_id not in (None, "") else None
    ids = None
    if seat_ids is not None:
        if isinstance(seat_ids, str | bytes):
            raise InvalidInput("seat_ids must be a list of seat ids.", fields={"seat_ids": ["Expected a list."]})
        ids = sorted({_uuid(value, name="seat_ids") for value in seat_ids})
        if not ids:
            return 0
    return inventory_services.seats_release(buyer_id=buyer_id, event_id=event, seat_ids=ids)


# --- Checkout ----------------------------------------------------------------------------------------------------


def _validate_key(idempotency_key) -> str:
    key = str(idempotency_key or "").strip()
    if not key:
        raise InvalidInput(
            "An idempotency key is required.", fields={"idempotency_key": ["Send an Idempotency-Key header."]}
        )
    if len(key) > MAX_IDEMPOTENCY_KEY_LENGTH or not key.isprintable():
        raise InvalidInput(
            "The idempotency key must be at most 100 printable characters.",
            fields={"idempotency_key": ["At most 100 printable characters."]},
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
    return _info(order, is_replay=True)


def _checkout_preconditions(*, buyer_id: uuid.UUID, event_id: uuid.UUID):
    """Everything checked before anything is written: buyer, step-up, sales window, holds, limit, balance."""
    buyer = accounts_selectors.user_get(user_id=buyer_id)
    if not buyer.is_verified:
        raise EmailNotVerified()
    if buyer.is_flagged and not accounts_selectors.step_up_is_satisfied(user_id=buyer_id):
        raise StepUpRequired()
    event = events_selectors.event_get_on_sale(event_id=event_id)
    holds = inventory_selectors.holds_for_buyer(buyer_id=buyer_id, event_id=event_id)
    if not holds:
        raise NoHolds()
    max_per_order = config.get("max_tickets_per_order")
    if len(holds) > max_per_order:
        # Holds made before staff lowered the limit: release some, then pay.
        raise inventory_services.HoldLimitExceeded(
            f"You hold {len(holds)} places; at most {max_per_order} can be bought in one order. Release some first.",
            held=len(holds),
            limit=max_per_order,
        )
    total = sum((Decimal(seat.price) for seat in holds), Decimal("0.00"))
    if buyer.credit_balance < total:
        # Refused before anything is written; credits_debit re-checks under the row lock.
        raise InsufficientCredits(
            f"This order costs {total} credits and your balance is {buyer.credit_balance}. Top up and try again.",
            required=str(total),
            balance=str(buyer.credit_balance),
        )
    return buyer, event, holds, total


def order_checkout(*, buyer_id, event_id, idempotency_key: str) -> OrderInfo:
    """Pay for the buyer's unexpired holds of one event from their credits; all or nothing across three databases.

    The same idempotency key returns the same order and never charges twice. Errors: STEP_UP_REQUIRED (428),
    EMAIL_NOT_VERIFIED (403), SALES_CLOSED, NO_ACTIVE_HOLDS, HOLD_EXPIRED, IDEMPOTENCY_IN_PROGRESS,
    ORDER_IN_PROGRESS, HOLD_LIMIT_EXCEEDED (409), INSUFFICIENT_CREDITS (402), IDEMPOTENCY_KEY_REUSED (422).
    """
    buyer_id = _uuid(buyer_id, name="buyer_id")
    event_id = _uuid(event_id, name="event_id")
    key = _validate_key(idempotency_key)

    existing = Order.objects.using(DB_ALIAS).filter(buyer_id=buyer_id, idempotency_key=key).first()
    if existing is not None:
        return _resume(existing, event_id)

    try:
        _buyer, event, holds, total = _checkout_preconditions(buyer_id=buyer_id, event_id=event_id)
    except DomainError:
        # A concurrent request with the same key may have made the order (and sold the holds, spent the credits)
        # since the lookup above: then this is a retry of that order, not a failure.
        existing = Order.objects.using(DB_ALIAS).filter(buyer_id=buyer_id, idempotency_key=key).first()
        if existing is not None:
            return _resume(existing, event_id)
        raise

    order = Order(
        id=uuid.uuid4(),
        buyer_id=buyer_id,
        event_id=event_id,
        organization_id=event.organization_id,
        total=total,
        idempotency_key=key,
    )
    lines = [OrderLine(order=order, seat_id=seat.id, price=seat.price) for seat in holds]
    lines.sort(key=lambda line: line.seat_id)
    try:
        # The lock is keyed by the order's id, so it is taken before the row exists: a concurrent duplicate that
        # finds the row can never drive it while this request still does.
        with flow_lock(order.pk, using=DB_ALIAS):
            try:
                with transaction.atomic(using=DB_ALIAS):
                    order.save(using=DB_ALIAS, force_insert=True)
                    OrderLine.objects.using(DB_ALIAS).bulk_create(lines)
            except IntegrityError as exc:
                duplicate = Order.objects.using(DB_ALIAS).filter(buyer_id=buyer_id, idempotency_key=key).first()
                if duplicate is None:
                    # orderline_one_active_per_seat: another live order (this buyer's, with another key) has a seat.
                    raise OrderInProgress() from exc
                raise _Duplicate(duplicate) from exc
            return _drive(order, lines)
    except _Duplicate as dup:
        return _resume(dup.order, event_id)


class _Duplicate(Exception):  # noqa: N818 - control flow, never leaves this module
    def __init__(self, order: Order):
        self.order = order


def _resume(order: Order, event_id: uuid.UUID) -> OrderInfo:
    """A retry found its order: return it, or drive it on if it is still pending and nobody else is."""
    if order.status != Order.Status.PENDING:
        return _replay(order, event_id)
    if order.event_id != event_id:
        raise IdempotencyKeyReused(order_id=str(order.pk))
    try:
        with flow_lock(order.pk, using=DB_ALIAS):
            order.refresh_from_db(using=DB_ALIAS)  # whoever held the lock may have finished it
            if order.status != Order.Status.PENDING:
                return _replay(order, event_id)
            lines = list(OrderLine.objects.using(DB_ALIAS).filter(order_id=order.pk).order_by("seat_id"))
            if order.step in (Order.Step.COMPENSATING, Order.Step.COMPENSATED):
                _undo(order, lines, failure_code=order.failure_code or OrderFailed.code)
                return _replay(order, event_id)
            info = _drive(order, lines)
            return OrderInfo(**{**info.__dict__, "is_replay": True})
    except FlowBusy:
        raise IdempotencyConflict(order_id=str(order.pk)) from None


def _set_step(order: Order, step: str, **fields) -> None:
    """One compare-and-set UPDATE: only a still-PENDING order moves on (recovery may have decided otherwise)."""
    fields = {"step": step, "updated_at": timezone.now(), **fields}
    updated = Order.objects.using(DB_ALIAS).filter(pk=order.pk, status=Order.Status.PENDING).update(**fields)
    if updated != 1:
        raise Conflict("This order was finished by someone else.", order_id=str(order.pk))
    for name, value in fields.items():
        setattr(order, name, value)


def _drive(order: Order, lines: list[OrderLine]) -> OrderInfo:
    """Steps 3-5 from wherever the order got to. Every step is idempotent, so re-running one is harmless.

    The caller holds the order's flow lock.
    """
    fault_point("purchase.after_order")
    if order.step == Order.Step.CREATED:
        if order.total > 0:
            try:
                accounts_services.credits_debit(
                    user_id=order.buyer_id,
                    amount=order.total,
                    kind=PURCHASE,
                    reference=str(order.pk),
                    memo=f"Order {str(order.pk)[:8]}",
                )
            except DomainError as error:  # insufficient credits, inactive account: nothing was taken
                _undo(order, lines, failure_code=error.code, debited=False)
                raise
        _set_step(order, Order.Step.DEBITED)
        fault_point("purchase.after_debit")
    if order.step == Order.Step.DEBITED:
        try:
            inventory_services.seats_sell(
                buyer_id=order.buyer_id, order_id=order.pk, seat_ids=[line.seat_id for line in lines]
            )
        except DomainError as error:  # the holds expired or were lost: give the credits back, seats stay as they are
            _undo(order, lines, failure_code=error.code)
            raise
        # No SEATS_SOLD write of its own: the confirmation right below is the next write to this same database,
        # and a crash in between leaves step DEBITED, which resume and recovery finish from the truth (seats sold
        # to this order + the debit) just the same. One WAL flush less per purchase (docs/PERFORMANCE.md).
        fault_point("purchase.after_seats")
        _set_step(order, Order.Step.DONE, status=Order.Status.CONFIRMED, confirmed_at=timezone.now())
    elif order.step == Order.Step.SEATS_SOLD:  # written by earlier releases; still finished the same way
        _set_step(order, Order.Step.DONE, status=Order.Status.CONFIRMED, confirmed_at=timezone.now())
    return _info(order, lines)


def _undo(order: Order, lines: list[OrderLine], *, failure_code: str, debited: bool = True) -> None:
    """Compensate a pending order: seats it sold back to AVAILABLE, its debit credited back, order FAILED.

    Recorded as COMPENSATING first, so a crash halfway is undone (never confirmed) by the recovery command.
    """
    code = (failure_code or OrderFailed.code)[:64]
    if order.step != Order.Step.COMPENSATING:
        _set_step(order, Order.Step.COMPENSATING, failure_code=code)
    if debited:
        inventory_services.seats_unsell(order_id=order.pk)
        if order.total > 0 and accounts_selectors.ledger_entry_exists(kind=PURCHASE, reference=str(order.pk)):
            accounts_services.credits_credit(
                user_id=order.buyer_id,
                amount=order.total,
                kind=PURCHASE_REFUND,
                reference=str(order.pk),
                memo=f"Order {str(order.pk)[:8]} failed: {code}",
            )
    with transaction.atomic(using=DB_ALIAS):
        OrderLine.objects.using(DB_ALIAS).filter(order_id=order.pk, is_active=True).update(
            is_active=False, updated_at=timezone.now()
        )
        _set_step(order, Order.Step.COMPENSATED, status=Order.Status.FAILED)
    for line in lines:
        line.is_active = False


# --- Reads for the pages and the API ------------------------------------------------------------------------------


def order_get_for_buyer(*, order_id, buyer_id) -> OrderInfo:
    """The buyer's own order; another buyer's order is NOT_FOUND (never a hint that it exists)."""
    pk = _uuid(order_id, name="order_id")
    order = Order.objects.using(DB_ALIAS).filter(pk=pk, buyer_id=buyer_id).first()
    if order is None:
        raise NotFound("No such order.")
    return _info(order)


def order_get(*, order_id) -> OrderInfo:
    pk = _uuid(order_id, name="order_id")
    order = Order.objects.using(DB_ALIAS).filter(pk=pk).first()
    if order is None:
        raise NotFound("No such order.")
    return _info(order)


# --- Refunds -----------------------------------------------------------------------------------------------------


def refund_allowed(*, actor_id, organization_id) -> bool:
    """Superusers, and OWNER / MANAGER / BOX_OFFICE members of the order's organization."""
    actor = accounts_selectors.user_get(user_id=actor_id)
    if not actor.is_active:
        return False
    if actor.is_superuser:
        return True
    if organization_id is None:
        return False
    role = accounts_selectors.memberships_for_user(user_id=actor_id).get(organization_id)
    return role in REFUND_ROLES


def order_refund(*, order_id, actor_id, reason: str, block_seats: bool = False) -> OrderInfo:
    """Refund a confirmed order: seats released (or blocked), QR codes dead, credits back, order REFUNDED.

    Idempotent (a refunded order is returned as it is) and resumable (step REFUNDING is finished by recovery).
    A checked-in ticket cannot be refunded (409 TICKET_CHECKED_IN); nothing changes then.
    """
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("A refund needs a reason.", fields={"reason": ["This field is required."]})
    order_id = _uuid(order_id, name="order_id")
    order = Order.objects.using(DB_ALIAS).filter(pk=order_id).first()
    if order is None:
        raise NotFound("No such order.")
    if actor_id is not None and not refund_allowed(actor_id=actor_id, organization_id=order.organization_id):
        raise RefundNotAllowed()
    return _refund(order, actor_id=actor_id, reason=reason[:255], block_seats=block_seats)


def _refund(order: Order, *, actor_id, reason: str, block_seats: bool) -> OrderInfo:
    if order.status == Order.Status.REFUNDED:
        return _info(order, is_replay=True)
    if order.status != Order.Status.CONFIRMED:
        raise OrderNotRefundable(f"This order is {order.status.lower()}; only a confirmed order can be refunded.")
    try:
        with flow_lock(order.pk, using=DB_ALIAS):
            order.refresh_from_db(using=DB_ALIAS)
            if order.status == Order.Status.REFUNDED:
                return _info(order, is_replay=True)
            if order.step != Order.Step.REFUNDING:
                seats = inventory_selectors.seats_of_order(order_id=order.pk)
                if any(seat.status == "CHECKED_IN" for seat in seats):
                    raise inventory_services.TicketCheckedIn(
                        "A ticket of this order was already used at the gate; it cannot be refunded."
                    )
                # Refund rule (docs/BUYER.md): only the buyer's own tickets are refunded; one passed on by transfer
                # or resale stays with its new holder. seats_unsell re-checks this under the seat locks.
                if any(seat.owner_id not in (None, order.buyer_id) for seat in seats):
                    raise inventory_services.TicketTransferred()
                with transaction.atomic(using=DB_ALIAS):
                    # Open offers and listings close in the same transaction that records the refund (409
                    # TICKET_CHANGING_HANDS while a sale or transfer is completing): none outlives the tickets.
                    lines = OrderLine.objects.using(DB_ALIAS).filter(order_id=order.pk, is_active=True)
                    ticket_flows_close_for_refund(seat_ids=list(lines.values_list("seat_id", flat=True)))
                    updated = (
                        Order.objects.using(DB_ALIAS)
                        .filter(pk=order.pk, status=Order.Status.CONFIRMED)
                        .update(step=Order.Step.REFUNDING, refund_reason=reason, updated_at=timezone.now())
                    )
                    if updated != 1:
                        raise Conflict("This order changed; try again.")
                order.step, order.refund_reason = Order.Step.REFUNDING, reason
            return _finish_refund(order, actor_id=actor_id, block_seats=block_seats)
    except FlowBusy:
        raise Conflict("This order is being changed right now; try again in a moment.") from None


def _finish_refund(order: Order, *, actor_id, block_seats: bool = False) -> OrderInfo:
    """Seats first (the tickets die), then the money; each step idempotent by the order id."""
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
    if order.total > 0:
        accounts_services.credits_credit(
            user_id=order.buyer_id,
            amount=order.total,
            kind=PURCHASE_REFUND,
            reference=str(order.pk),
            memo=f"Refund of order {str(order.pk)[:8]}",
            actor_id=actor_id,
        )
    now = timezone.now()
    with transaction.atomic(using=DB_ALIAS):
        OrderLine.objects.using(DB_ALIAS).filter(order_id=order.pk, is_active=True).update(
            is_active=False, updated_at=now
        )
        Order.objects.using(DB_ALIAS).filter(pk=order.pk, status=Order.Status.CONFIRMED).update(
            status=Order.Status.REFUNDED, step=Order.Step.REFUNDED, refunded_at=now, updated_at=now
        )
    order.refresh_from_db(using=DB_ALIAS)
    accounts_services.audit_record(
        actor_id=actor_id,
        action="order.refund",
        object_type="order",
        object_id=str(order.pk),
        organization_id=order.organization_id,
        reason=order.refund_reason,
        data={"total": str(order.total), "buyer_id": str(order.buyer_id), "seats_blocked": bool(block_seats)},
    )
    return _info(order)


def orders_refund_for_event(
    *, event_id, actor_id, reason: str, progress: Callable[[int, int], None] | None = None
) -> tuple[int, int]:
    """Refund every confirmed order of an event (cancellation). Resumable: run it again to finish.

    Returns (refunded, total): orders now refunded and orders that were ever paid for the event. Orders that
    cannot be refunded (a ticket already used at the gate) are skipped and logged.
    """
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("A refund needs a reason.", fields={"reason": ["This field is required."]})
    event_id = _uuid(event_id, name="event_id")
    event = events_selectors.event_get(event_id=event_id)
    if actor_id is not None and not refund_allowed(actor_id=actor_id, organization_id=event.organization_id):
        raise RefundNotAllowed()
    paid = Order.objects.using(DB_ALIAS).filter(
        event_id=event_id, status__in=[Order.Status.CONFIRMED, Order.Status.REFUNDED]
    )
    total = paid.count()
    done = paid.filter(status=Order.Status.REFUNDED).count()
    if progress:
        progress(done, total)
    last_id = None
    while True:
        batch = Order.objects.using(DB_ALIAS).filter(event_id=event_id, status=Order.Status.CONFIRMED)
        if last_id is not None:
            batch = batch.filter(pk__gt=last_id)
        batch = list(batch.order_by("pk")[:200])
        if not batch:
            break
        for order in batch:
            last_id = order.pk
            try:
                _refund(order, actor_id=actor_id, reason=reason[:255], block_seats=False)
            except DomainError as error:
                logger.warning("refund of order %s skipped: %s %s", order.pk, error.code, error.detail)
                continue
            done += 1
            if progress:
                progress(done, total)
    return done, total


# --- Recovery ----------------------------------------------------------------------------------------------------


def purchase_recover(*, older_than_seconds: int = RECOVERY_GRACE_SECONDS) -> RecoveryReport:
    """Finish or undo every purchase a crash interrupted (SPEC 4.5). Running it twice changes nothing.

    For each PENDING order older than the grace period whose flow lock is free: if all its seats are SOLD to it and
    its debit exists, confirm it; otherwise undo it (seats back to AVAILABLE, the debit credited back, FAILED).
    Refunds left at step REFUNDING are finished.
    """
    report = RecoveryReport()
    cutoff = timezone.now() - dt.timedelta(seconds=max(0, int(older_than_seconds)))
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
    for order_id in pending:
        report.examined += 1
        try:
            with flow_lock(order_id, using=DB_ALIAS):
                outcome = _recover_pending(order_id)
        except FlowBusy:
            report.busy += 1
            continue
        except DomainError as error:
            report.errors.append(f"order {order_id}: {error.code} {error.detail}")
            continue
        if outcome == "confirmed":
            report.confirmed += 1
        elif outcome == "undone":
            report.undone += 1
    for order_id in refunding:
        report.examined += 1
        try:
            with flow_lock(order_id, using=DB_ALIAS):
                order = Order.objects.using(DB_ALIAS).get(pk=order_id)
                if order.status == Order.Status.CONFIRMED and order.step == Order.Step.REFUNDING:
                    _finish_refund(order, actor_id=None)
                    report.refunds_finished += 1
        except FlowBusy:
            report.busy += 1
        except DomainError as error:
            report.errors.append(f"refund of order {order_id}: {error.code} {error.detail}")
    return report


def _recover_pending(order_id: uuid.UUID) -> str:
    order = Order.objects.using(DB_ALIAS).filter(pk=order_id).first()
    if order is None or order.status != Order.Status.PENDING:
        return "unchanged"  # someone finished it between the listing and the lock
    lines = list(OrderLine.objects.using(DB_ALIAS).filter(order_id=order.pk).order_by("seat_id"))
    wanted = {line.seat_id for line in lines}
    sold_to_it = {
        seat.id
        for seat in inventory_selectors.seats_of_order(order_id=order.pk)
        # Matched by order id, not owner: a ticket may already have been passed on by its buyer.
        if seat.status in TICKET_STATUSES
    }
    reference = str(order.pk)
    debited = order.total == 0 or accounts_selectors.ledger_entry_exists(kind=PURCHASE, reference=reference)
    refunded = order.total > 0 and accounts_selectors.ledger_entry_exists(kind=PURCHASE_REFUND, reference=reference)
    if order.step != Order.Step.COMPENSATING and wanted and sold_to_it == wanted and debited and not refunded:
        now = timezone.now()
        Order.objects.using(DB_ALIAS).filter(pk=order.pk, status=Order.Status.PENDING).update(
            status=Order.Status.CONFIRMED, step=Order.Step.DONE, confirmed_at=now, updated_at=now
        )
        logger.warning("recovered order %s: confirmed", order.pk)
        return "confirmed"
    _undo(order, lines, failure_code=order.failure_code or "INTERRUPTED")
    logger.warning("recovered order %s: undone", order.pk)
    return "undone"
