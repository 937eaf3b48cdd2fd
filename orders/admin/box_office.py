"""The box office in the staff admin, under the event's admin URLs:

- ``/admin/events/event/<id>/box-office/``: sell places (picked on the section's seat map, the one buyers use, or
  best available) for cash or on the card terminal, to an email address or printed;
- ``/admin/events/event/<id>/box-office/<order id>/print/``: the order's printed tickets (A4, one ticket a block, a
  static QR code each) and the reprint that revokes the older paper;
- ``/admin/events/event/<id>/comps/``: free tickets for a guest list, one emailed order per guest.

Selling and printing take BOX_OFFICE_SELL, comps COMPS, in the event's organization; an event outside the staff
member's scope is not found. The work is the services' (orders/services/box_office.py), which audit it.
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy

from core.admin_site import StaffAdminSite
from core.admin_tenancy import Capability, actor_id
from core.errors import DomainError
from core.ids import as_uuid
from events import selectors as events_selectors
from events.contract import EventOperationsInfo
from inventory import selectors as inventory_selectors
from inventory import services as inventory_services
from orders import DB_ALIAS
from orders.admin.event_operations import event_for_staff
from orders.contract import BoxOfficePayment, OrderChannel
from orders.models import Order
from orders.services import box_office
from orders.views.event_page import seat_section_map


class SaleForm(forms.Form):
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)
    section = forms.ChoiceField(label=gettext_lazy("Section"))
    seat_ids = forms.MultipleChoiceField(
        required=False, label=gettext_lazy("Places"), widget=forms.CheckboxSelectMultiple
    )
    quantity = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=box_office.MAX_PLACES_PER_ISSUE,
        label=gettext_lazy("Or best available: how many"),
        help_text=gettext_lazy("Pick no place on the map and give a number: the best places of the section are taken."),
    )
    payment_method = forms.ChoiceField(
        choices=BoxOfficePayment.choices, widget=forms.RadioSelect, label=gettext_lazy("Paid by")
    )
    email = forms.EmailField(
        required=False, label=gettext_lazy("Buyer's email"), help_text=gettext_lazy("The tickets are emailed there.")
    )
    full_name = forms.CharField(required=False, max_length=200, label=gettext_lazy("Buyer's name"))
    print_tickets = forms.BooleanField(required=False, label=gettext_lazy("Print the tickets"))

    def __init__(self, *args, sections, seats, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["section"].choices = [(str(s.section_id), f"{s.name} ({s.price})") for s in sections]
        self.fields["seat_ids"].choices = [(str(seat["id"]), seat["label"]) for seat in seats]


class CompsForm(forms.Form):
    batch_key = forms.CharField(widget=forms.HiddenInput, max_length=60)
    section = forms.ChoiceField(label=gettext_lazy("Section"))
    places_per_guest = forms.IntegerField(min_value=1, max_value=box_office.MAX_PLACES_PER_ISSUE, initial=1)
    guests = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8, "cols": 60}),
        label=gettext_lazy("Guest list"),
        help_text=gettext_lazy("One guest a line: “Name, email” (or “Name <email>”)."),
    )
    note = forms.CharField(
        required=False,
        max_length=255,
        label=gettext_lazy("Note (audit log)"),
        help_text=gettext_lazy("e.g. Press night"),
    )

    def __init__(self, *args, sections, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["section"].choices = [(str(s.section_id), s.name) for s in sections]


def _available_seats(event_id: uuid.UUID, section_id: uuid.UUID | None) -> list[dict]:
    if section_id is None:
        return []
    seats = inventory_selectors.seat_map(event_id=event_id, section_id=section_id)
    return [
        {"id": seat["id"], "label": f"{seat['row']}{seat['number']}" if not seat["general_admission"] else "GA"}
        for seat in seats
        if seat["status"] == "AVAILABLE" and not seat["general_admission"]
    ]


def _chosen_section(request: HttpRequest, sections) -> uuid.UUID | None:
    chosen = as_uuid(request.POST.get("section") or request.GET.get("section"))
    known = [s.section_id for s in sections]
    return chosen if chosen in known else (known[0] if known else None)


def box_office_view(request: HttpRequest, object_id: str, *, site: StaffAdminSite) -> HttpResponse:
    event = event_for_staff(request, object_id, Capability.BOX_OFFICE_SELL)
    sections = events_selectors.event_sections(event_id=event.id)
    section_id = _chosen_section(request, sections)
    seats = _available_seats(event.id, section_id)
    if request.method == "POST":
        form = SaleForm(request.POST, sections=sections, seats=seats)
        if form.is_valid():
            sold = _sell(request, event, form.cleaned_data, section_id=section_id)
            if sold is not None:
                return sold
            form = SaleForm(
                initial={**request.POST.dict(), "idempotency_key": uuid.uuid4().hex},
                sections=sections,
                seats=_available_seats(event.id, section_id),
            )
    else:
        initial = {"idempotency_key": uuid.uuid4().hex, "section": str(section_id or ""), "payment_method": "CASH"}
        form = SaleForm(initial=initial, sections=sections, seats=seats)
    recent = Order.objects.using(DB_ALIAS).filter(event_id=event.id, channel=OrderChannel.BOX_OFFICE)[:10]
    return site.page(
        request,
        "admin/events/event/box_office.html",
        title=gettext("Box office: %(title)s") % {"title": event.title},
        event=event,
        seat_section=seat_section_map(event_id=event.id, section_id=section_id) if seats else None,
        form=form,
        sections=sections,
        section_id=section_id,
        max_per_order=box_office.MAX_PLACES_PER_ISSUE,
        recent=recent,
    )


def _sell(
    request: HttpRequest, event: EventOperationsInfo, data: dict, *, section_id: uuid.UUID | None
) -> HttpResponse | None:
    """Sell what the valid form asks for; the redirect after the sale, or None (and an error message) when refused."""
    try:
        sale = box_office.box_office_sell(
            actor_id=actor_id(request),
            event_id=event.id,
            payment_method=data["payment_method"],
            idempotency_key=data["idempotency_key"],
            seat_ids=[uuid.UUID(pk) for pk in data["seat_ids"]] or None,
            section_id=section_id,
            quantity=data["quantity"],
            email=data["email"],
            full_name=data["full_name"],
            print_tickets=data["print_tickets"],
        )
    except DomainError as exc:
        messages.error(request, exc.detail)
        return None
    order = sale.order
    method = BoxOfficePayment(data["payment_method"]).label.lower()
    whom = gettext("emailed to %(email)s") % {"email": sale.buyer_email} if sale.buyer_email else gettext("walk-in")
    messages.success(
        request,
        gettext("Sold %(count)s place(s) for %(total)s (%(method)s), %(whom)s: order %(ref)s.")
        % {
            "count": len(order.lines),
            "total": order.total,
            "method": method,
            "whom": whom,
            "ref": str(order.id)[:8].upper(),
        },
    )
    if sale.printed:
        return HttpResponseRedirect(reverse("admin:events_event_box_office_print", args=[event.id, order.id]))
    return HttpResponseRedirect(reverse("admin:events_event_box_office", args=[event.id]) + f"?section={section_id}")


def print_view(request: HttpRequest, object_id: str, order_id: str, *, site: StaffAdminSite) -> HttpResponse:
    event = event_for_staff(request, object_id, Capability.BOX_OFFICE_SELL)
    order = Order.objects.using(DB_ALIAS).filter(pk=as_uuid(order_id), event_id=event.id).first()
    if order is None:
        raise Http404("No such order.")
    if request.method == "POST":
        reprint = request.POST.get("action") == "reprint"
        try:
            box_office.order_tickets_print(actor_id=actor_id(request), order_id=order.pk, reprint=reprint)
        except DomainError as exc:
            messages.error(request, exc.detail)
        else:
            if reprint:
                messages.success(request, gettext("Reprinted: the codes on the older paper no longer open the gate."))
        return HttpResponseRedirect(reverse("admin:events_event_box_office_print", args=[event.id, order.pk]))
    printed = inventory_services.tickets_printed(order_id=order.pk)
    labels = events_selectors.section_names(section_ids={ticket.seat.section_id for ticket in printed})
    tickets = [
        {
            "ticket": ticket,
            "section": labels.get(ticket.seat.section_id, ""),
            "qr_svg": inventory_services.ticket_qr_svg(token=ticket.token),
        }
        for ticket in printed
    ]
    full_event = events_selectors.event_get(event_id=event.id)
    return site.page(
        request,
        "admin/events/event/box_office_print.html",
        title=gettext("Printed tickets: %(title)s") % {"title": event.title},
        order_ref=str(order.pk)[:8].upper(),
        event=full_event,
        order=order,
        tickets=tickets,
        back=reverse("admin:events_event_box_office", args=[event.id]),
    )


def comps_view(request: HttpRequest, object_id: str, *, site: StaffAdminSite) -> HttpResponse:
    event = event_for_staff(request, object_id, Capability.COMPS)
    sections = events_selectors.event_sections(event_id=event.id)
    initial = {"batch_key": uuid.uuid4().hex, "places_per_guest": 1}
    result = None
    form = CompsForm(initial=initial, sections=sections)
    if request.method == "POST":
        form = CompsForm(request.POST, sections=sections)
        if form.is_valid():
            data = form.cleaned_data
            try:
                result = box_office.comps_issue_guest_list(
                    actor_id=actor_id(request),
                    event_id=event.id,
                    guests=box_office.guest_list_parse(data["guests"]),
                    section_id=as_uuid(data["section"]),
                    places_per_guest=data["places_per_guest"],
                    batch_key=data["batch_key"],
                    note=data["note"],
                )
            except DomainError as exc:
                messages.error(request, exc.detail)
            else:
                if result.issued:
                    messages.success(
                        request,
                        gettext("%(count)s guest(s) get their tickets by email.") % {"count": len(result.issued)},
                    )
                if result.refused:
                    messages.warning(
                        request,
                        gettext("%(count)s guest(s) got nothing: see below.") % {"count": len(result.refused)},
                    )
                form = CompsForm(initial={**initial, "section": data["section"]}, sections=sections)
    title = gettext("Comps: %(title)s") % {"title": event.title}
    return site.page(request, "admin/events/event/comps.html", title=title, event=event, form=form, result=result)


def register(site: StaffAdminSite) -> None:
    site.register_page("events/event/<str:object_id>/box-office/", box_office_view, name="events_event_box_office")
    site.register_page(
        "events/event/<str:object_id>/box-office/<str:order_id>/print/",
        print_view,
        name="events_event_box_office_print",
    )
    site.register_page("events/event/<str:object_id>/comps/", comps_view, name="events_event_comps")
