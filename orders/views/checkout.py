"""Buyer pages: checkout (pay for your holds), your orders, one order.

Every lookup is scoped to the signed-in buyer: another buyer's order is a 404, never a hint that it exists.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts import selectors as accounts_selectors
from core.errors import DomainError
from core.ids import as_uuid
from events import selectors as events_selectors
from events.contract import EventInfo
from inventory import selectors as inventory_selectors
from orders import DB_ALIAS, presentation
from orders import services as order_services
from orders.contract import WaitingRoomPassRequired
from orders.ids import missing_as_404
from orders.models import Order
from orders.services.waiting_room import waiting_room_pass_from_request
from orders.views.waiting_room import pass_required_page

PAGE_SIZE = 20


@login_required
@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest) -> HttpResponse:
    event_id = as_uuid(request.POST.get("event") or request.GET.get("event"))
    if event_id is None:
        messages.error(request, _("Choose an event and hold some seats first."))
        return redirect("events:list")
    with missing_as_404("No such event."):
        event = events_selectors.event_get(event_id=event_id)
    checkout_url = f"{reverse('orders:checkout')}?{urlencode({'event': event.id})}"

    if request.method == "POST":
        return _checkout_pay(request, event=event, checkout_url=checkout_url)
    return _checkout_page(request, event=event, checkout_url=checkout_url)


def _checkout_pay(request: HttpRequest, *, event: EventInfo, checkout_url: str) -> HttpResponse:
    """Pay for the holds (the difference by card when asked) and go where the payment leads."""
    checkout_service = (
        order_services.order_checkout_by_card
        if request.POST.get("pay_difference_by_card")
        else order_services.order_checkout
    )
    try:
        order = checkout_service(
            buyer_id=request.user.pk,
            event_id=event.id,
            idempotency_key=request.POST.get("idempotency_key", ""),
            waiting_room_pass=waiting_room_pass_from_request(request, event.id),
        )
    except WaitingRoomPassRequired as error:
        return pass_required_page(request, error)
    except order_services.StepUpRequired as error:
        messages.warning(request, error.detail)
        return redirect(f"/accounts/step-up/?{urlencode({'next': checkout_url})}")
    except DomainError as error:
        messages.error(request, _checkout_error_message(error))
        return redirect(checkout_url)
    if order.pay_url:
        return redirect(order.pay_url)  # the card payment of the difference; back to the order page after it
    if order.status == "PENDING":
        return redirect("orders:detail", order_id=order.id)
    messages.success(
        request, _("Paid. Your order for %(title)s is confirmed; your tickets are ready.") % {"title": event.title}
    )
    return redirect("orders:detail", order_id=order.id)


def _checkout_page(request: HttpRequest, *, event: EventInfo, checkout_url: str) -> HttpResponse:
    """The holds with their prices, the balance, and what is missing to pay (a top-up, a step-up)."""
    holds = inventory_selectors.holds_for_buyer(buyer_id=request.user.pk, event_id=event.id)
    buyer = accounts_selectors.user_get(user_id=request.user.pk)
    total = sum((Decimal(seat.price) for seat in holds), Decimal("0.00"))
    # A place held before its tier was repriced costs what it was held at; the page says so next to it.
    current = events_selectors.tier_prices(event_id=event.id) if holds else {}
    names = presentation.section_names(event_id=event.id) if holds else {}
    rows = [
        {
            "seat": seat,
            "place": presentation.seat_place(section_name=names.get(seat.section_id, ""), label=seat.label),
            "now": current[seat.tier_id][1] if seat.tier_id in current else seat.price,
        }
        for seat in sorted(holds, key=lambda seat: (names.get(seat.section_id, ""), seat.row_label, seat.number))
    ]
    short_by = max(total - buyer.credit_balance, Decimal("0.00"))
    needs_step_up = buyer.is_flagged and not accounts_selectors.step_up_is_satisfied(user_id=buyer.id)
    return render(
        request,
        "orders/checkout.html",
        {
            "event": event,
            "holds": [row["seat"] for row in rows],
            "hold_rows": rows,
            "holds_expire_at": min((seat.hold_expires_at for seat in holds), default=None),
            "total": total,
            "balance": buyer.credit_balance,
            "short_by": short_by,
            # Too few credits: a top-up of exactly the shortfall that comes back here (the holds stay meanwhile).
            "topup_url": f"{reverse('accounts:topup')}?{urlencode({'amount': short_by, 'next': checkout_url})}",
            "needs_step_up": needs_step_up,
            "step_up_url": f"/accounts/step-up/?{urlencode({'next': checkout_url})}",
            "is_verified": buyer.is_verified,
            # A fresh key per render: a double click or a reload of the POST pays once; a new visit is a new attempt.
            "idempotency_key": uuid.uuid4().hex,
            "on_sale": event.is_on_sale,
            "card_payments": accounts_selectors.card_payments_available(),
        },
    )


def _is_ticket(seat, order, request: HttpRequest) -> bool:
    return bool(seat and seat.order_id == order.id and seat.owner_id == request.user.pk and seat.is_ticket)


def _checkout_error_message(error: DomainError) -> str:
    if error.code == "INSUFFICIENT_CREDITS":
        return _("%(detail)s Top up the difference below, then pay again.") % {"detail": error.detail}
    if error.code == "HOLD_EXPIRED":
        return _("Your hold ran out before the payment finished, so nothing was charged. Please choose seats again.")
    return error.detail


@login_required
@require_GET
def order_list(request: HttpRequest) -> HttpResponse:
    orders = Order.objects.using(DB_ALIAS).filter(buyer_id=request.user.pk).order_by("-created_at")
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    events = events_selectors.events_get_many(event_ids={order.event_id for order in page})
    rows = [{"order": order, "event": events.get(order.event_id)} for order in page]
    return render(request, "orders/order_list.html", {"page": page, "rows": rows})


@login_required
@require_GET
def order_detail(request: HttpRequest, order_id) -> HttpResponse:
    with missing_as_404("No such order."):
        order = order_services.order_get_for_buyer(order_id=order_id, buyer_id=request.user.pk)
        if order.step == "AWAITING_PAYMENT":
            order = order_services.card_checkout_poll(order_id=order.id, buyer_id=request.user.pk)
    event = events_selectors.events_get_many(event_ids=[order.event_id]).get(order.event_id)
    seats = inventory_selectors.seats_get_many(seat_ids=[line.seat_id for line in order.lines])
    names = presentation.section_names(event_id=order.event_id)
    lines = [
        {
            "line": line,
            "seat": seats.get(line.seat_id),
            "place": presentation.seat_place(
                section_name=names.get(seats[line.seat_id].section_id, ""), label=seats[line.seat_id].label
            )
            if line.seat_id in seats
            else "",
            "is_ticket": _is_ticket(seats.get(line.seat_id), order, request),
        }
        for line in order.lines
    ]
    lines.sort(
        key=lambda row: (
            (names.get(row["seat"].section_id, ""), row["seat"].row_label, row["seat"].number)
            if row["seat"]
            else ("~", "", 0)
        )
    )
    card_paid = (
        order.status == "FAILED"
        and accounts_selectors.topups_for_user(user_id=request.user.pk)
        .filter(order_id=order.id, status="SUCCEEDED")
        .exists()
    )
    context = {"order": order, "event": event, "lines": lines, "card_paid": card_paid}
    return render(request, "orders/order_detail.html", context)
