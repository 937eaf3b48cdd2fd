"""Staff issue tickets: box-office sales (cash or card terminal, no credits) and comps (free, to a guest list).

Both are orders like an online purchase and go through the same recorded plan and the same steps
(orders/services/purchase/checkout.py): the places are first held for the recipient by inventory's compare-and-set
(all or nothing, never a seat sold twice, a seat an online buyer holds is refused at once), the order and its lines
are recorded under the order's flow lock, then the seats are sold to it and it is confirmed. The payment step
takes no credits: the money was taken at the counter (the order records the method and the amount, CHECKed equal
to its total) or there is none (a comp's total is zero). A crash is finished or undone by ``recover_flows``.

The tickets go to the account of an email address (found or opened: its holder claims a new one with "Forgot
password", whose emailed code proves the address), or, for a walk-in sale, to the organization's walk-in account,
and then exist only on paper (``inventory.services.tickets_print``).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError
from django.utils.translation import gettext

from accounts import selectors as accounts_selectors
from accounts import services as accounts_services
from accounts.contract import UserInfo
from core import config
from core.audit import audit_record
from core.errors import DomainError, InvalidInput
from core.locking import flow_lock_taken, flow_unlock
from core.permissions import Capability
from events import selectors as events_selectors
from events.contract import EventInfo, EventStatus, SalesClosed
from inventory import services as inventory_services
from orders import DB_ALIAS
from orders.contract import (
    BoxOfficeForbidden,
    BoxOfficePayment,
    BoxOfficeSale,
    BuyerBlocked,
    GuestListResult,
    OrderChannel,
    OrderInfo,
    OrderInProgress,
)
from orders.models import Order
from orders.services.purchase.checkout import drive_recorded_order, order_info
from orders.services.purchase.plan import order_plan_build, order_plan_record

# One sale or one guest's comp at most this many places (a group at the counter, a guest and companions).
MAX_PLACES_PER_ISSUE = 20
MAX_GUESTS_PER_LIST = 200


@dataclass(frozen=True)
class _Places:
    """Which places to issue: chosen seats, or a quantity of the best available (in a section, or anywhere)."""

    seat_ids: tuple[uuid.UUID, ...] = ()
    section_id: uuid.UUID | None = None
    quantity: int = 0


def box_office_sell(
    *,
    actor_id: uuid.UUID,
    event_id: uuid.UUID,
    payment_method: str,
    idempotency_key: str,
    seat_ids: Collection[uuid.UUID] | None = None,
    section_id: uuid.UUID | None = None,
    quantity: Any = None,
    email: str = "",
    full_name: str = "",
    print_tickets: bool = False,
    amount_taken: Any = None,
) -> BoxOfficeSale:
    """Sell places at the box office, all or nothing, paid by ``payment_method`` (CASH or CARD_TERMINAL).

    The tickets go to the account of ``email`` (found or opened) and are emailed, or, with no address, to the
    walk-in account and must be printed (``print_tickets``). ``amount_taken``, when given, must be the total.
    The same ``idempotency_key`` returns the same sale. Errors: BOX_OFFICE_FORBIDDEN (403), SALES_CLOSED,
    SEAT_UNAVAILABLE, NOT_ENOUGH_SEATS (409), VALIDATION_ERROR (400).
    """
    event = _event_for_staff(actor_id=actor_id, event_id=event_id, capability=Capability.BOX_OFFICE_SELL)
    method = _payment_method(payment_method)
    key = _key(idempotency_key)
    places = _places(seat_ids=seat_ids, section_id=section_id, quantity=quantity)
    email = (email or "").strip()
    buyer, created = _sale_buyer(event=event, email=email, full_name=full_name, print_tickets=print_tickets)
    order = _issue(
        event=event,
        buyer=buyer,
        places=places,
        channel=OrderChannel.BOX_OFFICE,
        key=key,
        actor_id=actor_id,
        payment_method=method,
        amount_taken=amount_taken,
    )
    printed = False
    if print_tickets and order.status == Order.Status.CONFIRMED:
        inventory_services.tickets_print(order_id=order.id)
        printed = True
    _audit_issued(
        order,
        event=event,
        actor_id=actor_id,
        action="order.box_office_sale",
        data={
            "total": str(order.total),
            "payment_method": method,
            "places": len(order.lines),
            "buyer_id": str(buyer.id),
            "printed": printed,
        },
    )
    return BoxOfficeSale(order=order, buyer_email=email.lower(), account_created=created, printed=printed)


def _payment_method(payment_method: Any) -> str:
    method = str(payment_method or "")
    if method not in BoxOfficePayment.values:
        raise InvalidInput(
            gettext("Choose how the buyer paid."), fields={"payment_method": [gettext("Cash or card terminal.")]}
        )
    return method


def _sale_buyer(*, event: EventInfo, email: str, full_name: str, print_tickets: bool) -> tuple[UserInfo, bool]:
    """Whose tickets a sale makes (and whether the account is new): the email's account, or the organization's
    walk-in account when the tickets are printed instead."""
    if not email and not print_tickets:
        raise InvalidInput(
            gettext("Enter the buyer's email address or print the tickets."),
            fields={"email": [gettext("Enter an address, or choose to print the tickets.")]},
        )
    if email:
        return accounts_services.user_for_tickets(email=email, full_name=full_name)
    return accounts_services.user_walk_in(organization_id=event.organization_id), False


def comp_issue(
    *,
    actor_id: uuid.UUID,
    event_id: uuid.UUID,
    email: str,
    full_name: str = "",
    idempotency_key: str,
    seat_ids: Collection[uuid.UUID] | None = None,
    section_id: uuid.UUID | None = None,
    quantity: Any = None,
    note: str = "",
) -> BoxOfficeSale:
    """Give one guest free places (a COMP order, total zero), all or nothing; the guest is emailed their tickets
    after the commit. Audited with ``note`` (who the guest is, why)."""
    event = _event_for_staff(actor_id=actor_id, event_id=event_id, capability=Capability.COMPS)
    places = _places(seat_ids=seat_ids, section_id=section_id, quantity=quantity)
    buyer, created = accounts_services.user_for_tickets(email=email, full_name=full_name)
    order = _issue(
        event=event, buyer=buyer, places=places, channel=OrderChannel.COMP, key=_key(idempotency_key), actor_id=actor_id
    )
    _audit_issued(
        order,
        event=event,
        actor_id=actor_id,
        action="order.comp",
        reason=(note or "").strip()[:255],
        data={"places": len(order.lines), "guest_id": str(buyer.id), "guest_email": buyer.email},
    )
    return BoxOfficeSale(order=order, buyer_email=buyer.email, account_created=created, printed=False)


def _audit_issued(
    order: OrderInfo, *, event: EventInfo, actor_id: uuid.UUID, action: str, data: dict, reason: str = ""
) -> None:
    """Audit an order the box office issued; a replay of its idempotency key issued nothing, so it is not audited."""
    if not order.is_replay:
        audit_record(
            actor_id=actor_id,
            action=action,
            object_type="order",
            object_id=order.id,
            organization_id=event.organization_id,
            reason=reason,
            data=data,
        )


def comps_issue_guest_list(
    *,
    actor_id: uuid.UUID,
    event_id: uuid.UUID,
    guests: list[tuple[str, str]],
    section_id: uuid.UUID | None,
    places_per_guest: Any,
    batch_key: str,
    note: str = "",
) -> GuestListResult:
    """One comp per guest (``(name, email)``), each of ``places_per_guest`` best-available places in the section.

    Each guest's comp is all or nothing on its own; a guest refused (no places left, a blocked buyer) is reported
    and the others still get theirs. ``batch_key`` (one per submitted list) makes a resubmission issue nothing
    twice.
    """
    if not guests:
        raise InvalidInput(
            gettext("Enter at least one guest."), fields={"guests": [gettext("One guest per line: name, email.")]}
        )
    if len(guests) > MAX_GUESTS_PER_LIST:
        raise InvalidInput(
            gettext("At most %(max)s guests at a time.") % {"max": MAX_GUESTS_PER_LIST},
            fields={"guests": [gettext("Too many.")]},
        )
    issued, refused = [], []
    for name, email in guests:
        try:
            issued.append(
                comp_issue(
                    actor_id=actor_id,
                    event_id=event_id,
                    email=email,
                    full_name=name,
                    idempotency_key=f"{_key(batch_key)[:60]}:{email.lower()}"[:100],
                    section_id=section_id,
                    quantity=places_per_guest,
                    note=note,
                )
            )
        except BoxOfficeForbidden:
            raise
        except DomainError as error:
            refused.append((email, str(error.detail)))
    return GuestListResult(issued=tuple(issued), refused=tuple(refused))


def guest_list_parse(text: str) -> list[tuple[str, str]]:
    """Guests from pasted lines ``Name, email`` (or ``Name <email>``, or just the email); InvalidInput naming the
    lines that are not. One entry per address."""
    guests: dict[str, tuple[str, str]] = {}
    wrong = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        name, email = _guest_line(line)
        try:
            validate_email(email)
        except ValidationError:
            wrong.append(str(number))
            continue
        guests.setdefault(email.lower(), (name, email.lower()))
    if wrong:
        raise InvalidInput(
            gettext('Line %(lines)s: write a name and a valid email address, e.g. "Ada Lovelace, ada@example.com".')
            % {"lines": ", ".join(wrong)},
            fields={"guests": [f"Not a guest: line {', '.join(wrong)}."]},
        )
    return list(guests.values())


def _guest_line(line: str) -> tuple[str, str]:
    if "<" in line and line.endswith(">"):
        name, _, email = line[:-1].partition("<")
        return name.strip(" ,"), email.strip()
    name, _, email = line.rpartition(",")
    if not email.strip():
        return "", line
    return name.strip(), email.strip()


def _event_for_staff(*, actor_id: uuid.UUID, event_id: uuid.UUID, capability: Capability) -> EventInfo:
    event = events_selectors.event_get(event_id=event_id)
    if not accounts_selectors.user_has_capability(
        user_id=actor_id, capability=capability, organization_id=event.organization_id
    ):
        raise BoxOfficeForbidden()
    if event.status != EventStatus.PUBLISHED:
        raise SalesClosed(
            gettext("Tickets for this event cannot be issued (the event is %(status)s).")
            % {"status": event.status.lower()}
        )
    return event


def _key(idempotency_key: str) -> str:
    key = str(idempotency_key or "").strip()
    if not key or len(key) > 100 or not key.isprintable():
        raise InvalidInput(
            gettext("Send the form again."), fields={"idempotency_key": [gettext("1 to 100 printable characters.")]}
        )
    return key


def _places(*, seat_ids: Collection[uuid.UUID] | None, section_id: uuid.UUID | None, quantity: Any) -> _Places:
    if seat_ids:
        ids = tuple(sorted(set(seat_ids)))
        if len(ids) > MAX_PLACES_PER_ISSUE:
            raise InvalidInput(
                gettext("At most %(max)s places at a time.") % {"max": MAX_PLACES_PER_ISSUE},
                fields={"seat_ids": [gettext("Too many places.")]},
            )
        return _Places(seat_ids=ids)
    try:
        count = int(quantity)
    except (TypeError, ValueError):
        count = 0
    if isinstance(quantity, bool) or not 1 <= count <= MAX_PLACES_PER_ISSUE:
        raise InvalidInput(
            gettext("Choose places, or a number of best available places (1 to %(max)s).")
            % {"max": MAX_PLACES_PER_ISSUE},
            fields={"quantity": [f"1 to {MAX_PLACES_PER_ISSUE}."]},
        )
    return _Places(section_id=section_id, quantity=count)


def _hold(*, event: EventInfo, buyer: UserInfo, places: _Places) -> list[inventory_services.SeatInfo]:
    """Take the places for the recipient with inventory's compare-and-set, as a buyer's hold would: all or nothing,
    a seat someone else holds or bought is refused at once. The recipient's other holds do not count here."""
    limit = MAX_PLACES_PER_ISSUE + config.get("max_tickets_per_order")
    hold_seconds = config.get("hold_seconds")
    if places.seat_ids:
        return inventory_services.seats_hold(
            event_id=event.id,
            buyer_id=buyer.id,
            seat_ids=list(places.seat_ids),
            hold_seconds=hold_seconds,
            max_per_buyer=limit,
        )
    return inventory_services.seats_hold_best_available(
        event_id=event.id,
        buyer_id=buyer.id,
        quantity=places.quantity,
        section_id=places.section_id,
        hold_seconds=hold_seconds,
        max_per_buyer=limit,
    )


def _amount(amount_taken: Any, total: Decimal) -> Decimal:
    if amount_taken in (None, ""):
        return total
    try:
        amount = Decimal(str(amount_taken)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        amount = None
    if amount != total:
        raise InvalidInput(
            gettext("These places cost %(total)s: take exactly that.") % {"total": total},
            fields={"amount_taken": [f"The total is {total}."]},
        )
    return amount


def _issue(
    *,
    event: EventInfo,
    buyer: UserInfo,
    places: _Places,
    channel: OrderChannel,
    key: str,
    actor_id: uuid.UUID,
    payment_method: str = "",
    amount_taken: Any = None,
):
    """Hold, record, sell, confirm: the purchase's steps, with the payment taken outside credits."""
    replay = Order.objects.using(DB_ALIAS).filter(buyer_id=buyer.id, idempotency_key=key).first()
    if replay is not None:
        return order_info(replay, is_replay=True)
    seats = _hold(event=event, buyer=buyer, places=places)
    seat_ids = [seat.id for seat in seats]
    is_comp = channel == OrderChannel.COMP
    total = Decimal("0.00") if is_comp else sum((Decimal(seat.price) for seat in seats), Decimal("0.00"))
    try:
        amount = None if is_comp else _amount(amount_taken, total)
    except InvalidInput:
        inventory_services.seats_release(buyer_id=buyer.id, seat_ids=seat_ids)
        raise
    order, lines = order_plan_build(
        buyer_id=buyer.id,
        event=event,
        total=total,
        key=key,
        seats=seats,
        line_price=Decimal("0.00") if is_comp else None,
        channel=channel,
        payment_method=payment_method,
        amount_taken=amount,
        issued_by_id=actor_id,
    )
    try:
        plan = order_plan_record(order=order, lines=lines)
    except IntegrityError as exc:
        flow_unlock(order.pk, using=DB_ALIAS)
        duplicate = Order.objects.using(DB_ALIAS).filter(buyer_id=buyer.id, idempotency_key=key).first()
        if duplicate is None:
            # Another live order of the same recipient (the walk-in account at another counter) has a place: its
            # holds are that order's too, so they are left to it.
            raise OrderInProgress() from exc
        return order_info(duplicate, is_replay=True)
    if plan.blocked or not plan.recorded:
        flow_unlock(order.pk, using=DB_ALIAS)
        inventory_services.seats_release(buyer_id=buyer.id, seat_ids=seat_ids)
        raise BuyerBlocked(gettext("The organizer blocks this buyer: nothing was sold."))
    try:
        with flow_lock_taken(order.pk, using=DB_ALIAS):
            return drive_recorded_order(order, lines)
    except DomainError:
        inventory_services.seats_release(buyer_id=buyer.id, seat_ids=seat_ids)
        raise


def order_tickets_print(
    *, actor_id: uuid.UUID, order_id: uuid.UUID, reprint: bool = False
) -> list[inventory_services.PrintedTicket]:
    """Print a confirmed order's tickets (or reprint them: the codes on the older paper stop opening the gate).

    Box-office staff of the order's organization only (BOX_OFFICE_FORBIDDEN). Audited."""
    order = Order.objects.using(DB_ALIAS).filter(pk=order_id).first()
    if order is None or not accounts_selectors.user_has_capability(
        user_id=actor_id, capability=Capability.BOX_OFFICE_SELL, organization_id=order.organization_id
    ):
        raise BoxOfficeForbidden()
    if order.status != Order.Status.CONFIRMED:
        raise InvalidInput(
            gettext("This order is %(status)s: it has no tickets to print.")
            % {"status": order.get_status_display().lower()}
        )
    tickets = inventory_services.tickets_print(order_id=order.pk, reprint=reprint)
    audit_record(
        actor_id=actor_id,
        action="order.tickets_reprint" if reprint else "order.tickets_print",
        object_type="order",
        object_id=order.pk,
        organization_id=order.organization_id,
        data={"tickets": len(tickets), "print_version": max(ticket.print_version for ticket in tickets)},
    )
    return tickets
