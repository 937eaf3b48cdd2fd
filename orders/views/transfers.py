"""Buyer pages for transfers and resale. Thin: parse the ids and the form, call one service, show the outcome.

A malformed id is a 404 like an unknown one. Every lookup goes through a service that answers NotFound for objects
the user may not see; those become 404s. A refused action shows the error's ``detail`` as a message on the page it
came from.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from core import config, moneyfmt
from core.errors import DomainError, NotFound
from events import selectors as events_selectors
from orders import presentation
from orders.ids import id_or_404, missing_as_404
from orders.services import resale, transfer
from orders.services.ticket_flows import ticket_of_owner


class OfferForm(forms.Form):
    to_email = forms.EmailField(label=gettext_lazy("Recipient's email"), max_length=254)
    price = forms.DecimalField(
        label=gettext_lazy("Price in credits (0 for a gift)"),
        min_value=Decimal("0"),
        max_digits=10,
        decimal_places=2,
        initial=Decimal("0.00"),
        required=False,
    )


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Your code"),
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )


class ListingForm(forms.Form):
    price = forms.DecimalField(
        label=gettext_lazy("Asking price in credits"), min_value=Decimal("0.01"), max_digits=10, decimal_places=2
    )


def _own_ticket(request: HttpRequest, seat_id: str) -> dict:
    """The user's ticket described for display, or 404 (someone else's ticket, unknown or malformed id)."""
    seat_key = id_or_404(seat_id, name="ticket")
    with missing_as_404("No such ticket."):
        ticket = ticket_of_owner(seat_id=seat_key, owner_id=request.user.id)
    described = presentation.ticket_summaries(seat_ids=[seat_key]).get(seat_key, {})
    return {"ticket": ticket, **described}


def _transfer_row(request: HttpRequest, transfer_id: str) -> dict:
    """The transfer described for its viewer, or 404 (not a party nor managing staff, unknown or malformed id)."""
    with missing_as_404("No such transfer."):
        info = transfer.transfer_get(transfer_id=id_or_404(transfer_id, name="transfer"), user_id=request.user.id)
    (row,) = presentation.transfers_describe(transfers=[info], viewer_id=request.user.id)
    return row


# --- Transfers -------------------------------------------------------------------------------------------------------


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    infos = transfer.transfers_for_user(user_id=request.user.id)
    rows = presentation.transfers_describe(transfers=infos, viewer_id=request.user.id)
    open_statuses = {"OFFERED", "ACCEPTED", "COMPLETING"}
    return render(
        request,
        "orders/transfers/inbox.html",
        {
            "incoming": [row for row in rows if row["your_role"] == "recipient" and row["status"] in open_statuses],
            "outgoing": [row for row in rows if row["your_role"] == "sender" and row["status"] in open_statuses],
            "history": [row for row in rows if row["status"] not in open_statuses],
        },
    )


def _ticket_form_page(
    request: HttpRequest,
    seat_id: str,
    *,
    form_class: type[forms.Form],
    template: str,
    submit: Callable[[Any, dict], HttpResponse],
    **extra: Any,
) -> HttpResponse:
    """A form about one of the user's tickets (offer it, sell it). A valid POST goes to ``submit(ticket, data)``,
    which answers where to go next; a refusal is shown on the page, which also says the price cap and the fee."""
    context = _own_ticket(request, seat_id)
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            return submit(context["ticket"], form.cleaned_data)
        except DomainError as exc:
            messages.error(request, exc.detail)
    context.update(
        form=form,
        cap=resale.price_cap(context["ticket"].price),
        fee_percent=config.get("platform_fee_percent"),
        **extra,
    )
    return render(request, template, context, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def offer(request: HttpRequest, seat_id: str) -> HttpResponse:
    def offered(ticket: Any, data: dict) -> HttpResponse:
        info = transfer.transfer_offer(
            seat_id=ticket.id,
            from_user_id=request.user.id,
            to_email=data["to_email"],
            price=data["price"] or Decimal("0"),
        )
        # The same words whether or not the address names an account that may receive tickets.
        messages.success(
            request,
            _(
                "Offer made to %(email)s. If that address belongs to an account that can "
                "receive tickets, its owner will find the offer under Transfers."
            )
            % {"email": data["to_email"]},
        )
        return redirect("transfers:detail", transfer_id=info.id)

    return _ticket_form_page(
        request,
        seat_id,
        form_class=OfferForm,
        template="orders/transfers/offer.html",
        submit=offered,
        expiry_hours=config.get("transfer_expiry_hours"),
    )


@login_required
def detail(request: HttpRequest, transfer_id: str) -> HttpResponse:
    row = _transfer_row(request, transfer_id)
    return render(request, "orders/transfers/detail.html", {"t": row, "code_form": CodeForm()})


_ACTIONS = {
    "accept": (
        transfer.transfer_accept,
        gettext_lazy("Offer accepted. We emailed you both a code: enter yours below to confirm."),
    ),
    "decline": (transfer.transfer_decline, gettext_lazy("Offer declined.")),
    "cancel": (transfer.transfer_cancel, gettext_lazy("Offer cancelled.")),
    "send-code": (transfer.transfer_send_code, gettext_lazy("We emailed you a new code.")),
}


@login_required
@require_POST
def act(request: HttpRequest, transfer_id: str, action: str) -> HttpResponse:
    if action not in _ACTIONS:
        raise Http404("No such action.")
    service, success = _ACTIONS[action]
    row = _transfer_row(request, transfer_id)  # 404 for non-parties before anything else
    try:
        service(transfer_id=row["id"], user_id=request.user.id)
    except NotFound:
        raise Http404("No such transfer.") from None
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, success)
    return redirect("transfers:detail", transfer_id=row["id"])


@login_required
@require_POST
def confirm(request: HttpRequest, transfer_id: str) -> HttpResponse:
    row = _transfer_row(request, transfer_id)
    form = CodeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the code we emailed you."))
        return redirect("transfers:detail", transfer_id=row["id"])
    try:
        info = transfer.transfer_confirm(transfer_id=row["id"], user_id=request.user.id, code=form.cleaned_data["code"])
    except NotFound:
        raise Http404("No such transfer.") from None
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        if info.status == "COMPLETED":
            messages.success(request, _("Transfer complete. The ticket has a new owner and a fresh QR code."))
        else:
            messages.success(request, _("Confirmed. Waiting for the other party to confirm with their code."))
    return redirect("transfers:detail", transfer_id=row["id"])


# --- Resale ----------------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def sell(request: HttpRequest, seat_id: str) -> HttpResponse:
    def listed(ticket: Any, data: dict) -> HttpResponse:
        info = resale.listing_create(seat_id=ticket.id, seller_id=request.user.id, price=data["price"])
        messages.success(request, _("Listed for %(price)s.") % {"price": moneyfmt.credits(info.price)})
        return redirect("transfers:my_listings")

    return _ticket_form_page(
        request, seat_id, form_class=ListingForm, template="orders/resale/sell.html", submit=listed
    )


@login_required
def browse(request: HttpRequest, event_id: str) -> HttpResponse:
    event_key = id_or_404(event_id, name="event")
    with missing_as_404("No such event."):
        infos = resale.listings_for_event(event_id=event_key)
        event = events_selectors.event_get(event_id=event_key)
    rows = presentation.listings_describe(listings=infos, viewer_id=request.user.id)
    return render(request, "orders/resale/browse.html", {"listings": rows, "event": event})


@login_required
def my_listings(request: HttpRequest) -> HttpResponse:
    selling = presentation.listings_describe(
        listings=resale.listings_for_seller(seller_id=request.user.id), viewer_id=request.user.id
    )
    bought = presentation.listings_describe(
        listings=resale.listings_bought_by(buyer_id=request.user.id), viewer_id=request.user.id
    )
    return render(request, "orders/resale/mine.html", {"selling": selling, "bought": bought})


@login_required
@require_POST
def buy(request: HttpRequest, listing_id: str) -> HttpResponse:
    with missing_as_404("No such listing."):
        listing = resale.listing_get(listing_id=id_or_404(listing_id, name="listing"), user_id=request.user.id)
    back = reverse("transfers:browse", kwargs={"event_id": listing.event_id})
    try:
        resale.listing_buy(listing_id=listing.id, buyer_id=request.user.id)
    except DomainError as exc:
        messages.error(request, exc.detail)
        return redirect(back)
    messages.success(
        request,
        _("Bought for %(price)s. The ticket is in My tickets with a fresh QR code.")
        % {"price": moneyfmt.credits(listing.price)},
    )
    return redirect("transfers:my_listings")


@login_required
@require_POST
def withdraw(request: HttpRequest, listing_id: str) -> HttpResponse:
    try:
        resale.listing_withdraw(listing_id=id_or_404(listing_id, name="listing"), seller_id=request.user.id)
    except NotFound:
        raise Http404("No such listing.") from None
    except DomainError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("Listing withdrawn; the ticket is yours to use again."))
    return redirect("transfers:my_listings")
