"""Staff admin of orders_db: orders with their lines (refund action), transfers (disputes) and resale listings.

Orders are created by checkout and changed only by services (refund), so the admin shows them read-only and the
refund goes through an intermediate page that asks for the reason. Rows are scoped to the staff member's
organizations by their organization_id (core.admin_tenancy.EventScopedAdmin).
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext, gettext_lazy

from accounts.selectors import user_find_by_email
from core import directory
from core.admin_tenancy import (
    Capability,
    EventFilter,
    EventScopedAdmin,
    TenantScopedInline,
    actor_id,
    capability_action,
    has_capability,
    label_rows,
    row_label,
)
from core.errors import DomainError
from core.forms import ReasonField
from inventory import selectors as inventory_selectors
from orders import DB_ALIAS
from orders.models import Order, OrderLine, ResaleListing, Transfer
from orders.services import order_refund, order_refund_tickets
from orders.services.transfer import transfer_dispute, transfer_reverse


def short_id_column(description):
    """The changelist column that names a row by the first eight characters of its id, as staff quote it."""

    @admin.display(description=description, ordering="id")
    def short_id(self, obj):
        return str(obj.pk)[:8]

    return short_id


def person_column(field: str, description):
    """The changelist column that names the person of ``field`` (a users_db id) by the page's one lookup."""

    @admin.display(description=description)
    def person(self, obj):
        return self._buyer_label(obj, field)

    return person


class BuyerNamesMixin:
    """Shows the people of each row (users_db) with one lookup per changelist page, kept on that page's rows."""

    buyer_field = "buyer_id"  # searched by id or email
    person_fields: tuple[str, ...] = ("buyer_id",)  # shown by name

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        rows = list(changelist.result_list)
        labels = directory.names(directory.USER, {getattr(row, f) for row in rows for f in self.person_fields})
        for row in rows:
            for field in self.person_fields:
                person_id = getattr(row, field)
                setattr(row, f"{field}_label", labels.get(person_id, str(person_id) if person_id else "—"))
        return changelist

    def _buyer_label(self, obj, field: str | None = None) -> str:
        field = field or self.buyer_field
        return row_label(obj, kind=directory.USER, id_attr=field, label_attr=f"{field}_label")

    def get_search_results(self, request, queryset, search_term):
        """Search by order id, by buyer id, or by a buyer's full email address (looked up in users_db)."""
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        if "@" in term:
            user = user_find_by_email(email=term)
            return (queryset.filter(**{self.buyer_field: user.id}) if user else queryset.none()), False
        try:
            pk = uuid.UUID(term)
        except ValueError:
            return super().get_search_results(request, queryset, term)
        return queryset.filter(**{"pk": pk}) | queryset.filter(**{self.buyer_field: pk}), False


def seat_labels(seat_ids) -> dict[uuid.UUID, str]:
    """ "Section · Row A · Seat 12" for each seat, with one seats_db and one events_db lookup."""
    seats = inventory_selectors.seats_get_many(seat_ids=list(seat_ids))
    sections = directory.names(directory.SECTION, {seat.section_id for seat in seats.values()})
    return {seat_id: f"{sections.get(seat.section_id, 'Section')} · {seat.label}" for seat_id, seat in seats.items()}


class SalesRecordAdmin(BuyerNamesMixin, EventScopedAdmin):
    """Orders, transfers and listings: staff with the ORDERS capability read them by day; they change only through
    services (checkout, refunds, the transfer and resale flows), never through the admin's forms."""

    view_capability = Capability.ORDERS
    manage_capability = None
    superuser_can_manage = False
    date_hierarchy = "created_at"
    show_full_result_count = False


class OrderLinesFormSet(BaseInlineFormSet):
    """The order page's lines, their seats named with one lookup for all of them (on this request's line objects)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        lines = [form.instance for form in self.initial_forms]
        labels = seat_labels(line.seat_id for line in lines)
        for line in lines:
            line.seat_label = labels.get(line.seat_id, str(line.seat_id))


class OrderLineInline(TenantScopedInline, admin.TabularInline):
    model = OrderLine
    formset = OrderLinesFormSet
    extra = 0
    fields = ["seat", "price", "is_active", "refund", "created_at"]
    readonly_fields = fields
    read_only_for_all = True
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("refund")

    @admin.display(description=gettext_lazy("seat"))
    def seat(self, obj):
        if not hasattr(obj, "seat_label"):
            obj.seat_label = seat_labels([obj.seat_id]).get(obj.seat_id, str(obj.seat_id))
        return obj.seat_label


class RefundTicketsForm(forms.Form):
    """Which tickets of one order to refund, and why."""

    seat_ids = forms.TypedMultipleChoiceField(
        coerce=uuid.UUID, widget=forms.CheckboxSelectMultiple, label=gettext_lazy("Tickets to refund")
    )
    reason = ReasonField()
    block_seats = forms.BooleanField(
        required=False, label=gettext_lazy("Block the seats (do not put them back on sale)"), initial=False
    )

    def __init__(self, *args, choices: list[tuple[uuid.UUID, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["seat_ids"].choices = choices


class RefundForm(forms.Form):
    reason = ReasonField()
    block_seats = forms.BooleanField(
        required=False, label=gettext_lazy("Block the seats (do not put them back on sale)"), initial=False
    )


@admin.register(Order)
class OrderAdmin(SalesRecordAdmin):
    inlines = [OrderLineInline]
    list_display = ["short_id", "created_at", "buyer", "event_title", "status_label", "channel", "step", "total"]
    list_filter = ["status", "channel", EventFilter, "step", "created_at"]
    search_fields = ["idempotency_key"]
    search_help_text = gettext_lazy("Order id, buyer id, a buyer's full email address, or an idempotency key.")
    actions = ["refund_orders"]
    change_form_template = "admin/orders/order/change_form.html"
    readonly_fields = [
        "id",
        "buyer",
        "event_title",
        "organization",
        "status",
        "step",
        "total",
        "channel",
        "payment_method",
        "amount_taken",
        "refunded_amount",
        "idempotency_key",
        "failure_code",
        "created_at",
        "confirmed_at",
        "refunded_at",
        "refund_reason",
    ]

    short_id = short_id_column(gettext_lazy("order"))
    buyer = person_column("buyer_id", gettext_lazy("buyer"))

    @admin.display(description=gettext_lazy("organization"))
    def organization(self, obj):
        return directory.name(directory.ORGANIZATION, obj.organization_id, default=str(obj.organization_id or "—"))

    @admin.display(description=gettext_lazy("status"), ordering="status")
    def status_label(self, obj):
        if obj.status == Order.Status.CONFIRMED and obj.refunded_amount > 0:
            return gettext("Partly refunded (%(amount)s)") % {"amount": obj.refunded_amount}
        return obj.get_status_display()

    def get_urls(self):
        return [
            path(
                "<path:object_id>/refund-tickets/",
                self.admin_site.admin_view(self.refund_tickets_view),
                name="orders_order_refund_tickets",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        order = self.get_object(request, object_id)
        extra_context = {
            **(extra_context or {}),
            "can_refund_tickets": order.status == Order.Status.CONFIRMED
            and has_capability(request, Capability.REFUND, order.organization_id),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def refund_tickets_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The order page's refund button: choose tickets, give a reason; the refund service does the work."""
        order = self.get_object(request, object_id)  # out of scope or malformed: 404 (TenantScopedAdmin)
        if not has_capability(request, Capability.REFUND, order.organization_id):
            raise PermissionDenied
        change_url = reverse("admin:orders_order_change", args=[order.pk])
        live = list(OrderLine.objects.using(DB_ALIAS).filter(order_id=order.pk, is_active=True).order_by("seat_id"))
        labels = seat_labels(line.seat_id for line in live)
        choices = [(line.seat_id, f"{labels.get(line.seat_id, line.seat_id)} — {line.price}") for line in live]
        form = RefundTicketsForm(request.POST or None, choices=choices)
        if request.method == "POST" and form.is_valid():
            try:
                refunded = order_refund_tickets(
                    order_id=order.pk,
                    seat_ids=form.cleaned_data["seat_ids"],
                    actor_id=actor_id(request),
                    reason=form.cleaned_data["reason"],
                    block_seats=form.cleaned_data["block_seats"],
                )
            except DomainError as exc:
                messages.error(request, exc.detail)
            else:
                count = len(form.cleaned_data["seat_ids"])
                if refunded.status == Order.Status.REFUNDED:
                    messages.success(
                        request, gettext("Refunded the whole order (%(count)s ticket(s)).") % {"count": count}
                    )
                else:
                    messages.success(
                        request,
                        gettext("Refunded %(count)s ticket(s); the order's other tickets still work.")
                        % {"count": count},
                    )
                return HttpResponseRedirect(change_url)
        return self.model_page(
            request,
            "admin/orders/order/refund_tickets.html",
            title=gettext("Refund tickets of order %(ref)s") % {"ref": str(order.pk)[:8]},
            original=order,
            buyer=self._buyer_label(order, "buyer_id"),
            form=form,
            refundable=order.status == Order.Status.CONFIRMED and bool(live),
            change_url=change_url,
        )

    @capability_action(Capability.REFUND, description=gettext_lazy("Refund selected orders…"))
    def refund_orders(self, request: HttpRequest, queryset):
        """An intermediate page asks for the reason; the refund service does the work, one order at a time."""
        orders = list(queryset)
        if "apply" in request.POST:
            form = RefundForm(request.POST)
            if form.is_valid():
                done, failed = 0, 0
                for order in orders:
                    if not has_capability(request, Capability.REFUND, self.object_organization_id(order)):
                        failed += 1
                        continue
                    try:
                        order_refund(
                            order_id=order.pk,
                            actor_id=actor_id(request),
                            reason=form.cleaned_data["reason"],
                            block_seats=form.cleaned_data["block_seats"],
                        )
                    except DomainError as exc:
                        failed += 1
                        messages.error(
                            request,
                            gettext("Order %(ref)s: %(detail)s") % {"ref": str(order.pk)[:8], "detail": exc.detail},
                        )
                    else:
                        done += 1
                if done:
                    messages.success(request, gettext("Refunded %(done)s order(s).") % {"done": done})
                if failed and not done:
                    messages.warning(request, gettext("No order was refunded."))
                return None
        else:
            form = RefundForm()
        return self.model_page(
            request,
            "admin/orders/order/refund.html",
            title=gettext("Refund orders"),
            orders=orders,
            form=form,
            action_checkbox_name=ACTION_CHECKBOX_NAME,
            action="refund_orders",
        )


# --- Transfers and resale listings (TRANSFER engineer) ---------------------------------------------------------------


class StaffReasonForm(forms.Form):
    reason = ReasonField(max_length=2000)


class TransferPartiesMixin(BuyerNamesMixin):
    """Both parties by name, with one users_db lookup per changelist page."""

    person_fields = ("from_user_id", "to_user_id")


@admin.register(Transfer)
class TransferAdmin(TransferPartiesMixin, SalesRecordAdmin):
    """Transfers change only through services; staff resolve disputes with the two actions below."""

    buyer_field = "from_user_id"
    list_display = ["short_id", "created_at", "event_title", "sender", "recipient", "price", "status", "step"]
    list_filter = ["status", EventFilter, "step", "created_at"]
    search_fields = ["dispute_reason"]
    search_help_text = gettext_lazy("Transfer id, the sender's id or full email address, or words of a dispute reason.")
    actions = ["dispute_transfers", "reverse_transfers"]
    readonly_fields = [
        "id",
        "sender",
        "recipient",
        "seat_id",
        "event_id",
        "organization_id",
        "price",
        "status",
        "step",
        "expires_at",
        "accepted_at",
        "sender_confirmed_at",
        "recipient_confirmed_at",
        "completed_at",
        "failure_code",
        "dispute_reason",
        "created_at",
        "updated_at",
    ]
    fields = readonly_fields

    short_id = short_id_column(gettext_lazy("transfer"))
    sender = person_column("from_user_id", gettext_lazy("from"))
    recipient = person_column("to_user_id", gettext_lazy("to"))

    def get_urls(self):
        return [
            path("disputes/", self.admin_site.admin_view(self.disputes_view), name="orders_transfer_disputes"),
            *super().get_urls(),
        ]

    def disputes_view(self, request: HttpRequest) -> HttpResponse:
        """The organization's open disputes with both parties, their history, and the reverse action."""
        if not has_capability(request, Capability.TRANSFER_DISPUTES):
            raise PermissionDenied
        disputes = list(
            self.get_queryset(request).filter(status=Transfer.Status.DISPUTED).order_by("-updated_at")[:200]
        )
        disputes = [t for t in disputes if has_capability(request, Capability.TRANSFER_DISPUTES, t.organization_id)]
        label_rows(disputes, kind=directory.EVENT, id_attr="event_id", label_attr="event_label")
        for field in self.person_fields:
            label_rows(disputes, kind=directory.USER, id_attr=field, label_attr=f"{field}_label")
        seats = seat_labels(t.seat_id for t in disputes)
        for transfer in disputes:
            transfer.seat_label = seats.get(transfer.seat_id, str(transfer.seat_id))
        return self.model_page(
            request,
            "admin/orders/transfer/disputes.html",
            title=gettext("Open transfer disputes"),
            disputes=disputes,
            action_checkbox_name=ACTION_CHECKBOX_NAME,
        )

    def _staff_action(self, request, queryset, *, action: str, service, title: str, explanation: str, done_label: str):
        transfers = list(queryset)
        if "apply" in request.POST:
            form = StaffReasonForm(request.POST)
            if form.is_valid():
                done = 0
                for transfer in transfers:
                    try:
                        # The service re-checks the staff member's role in the event's organization.
                        service(transfer_id=transfer.pk, actor_id=actor_id(request), reason=form.cleaned_data["reason"])
                    except DomainError as exc:
                        messages.error(
                            request,
                            gettext("Transfer %(ref)s: %(detail)s")
                            % {"ref": str(transfer.pk)[:8], "detail": exc.detail},
                        )
                    else:
                        done += 1
                if done:
                    messages.success(
                        request,
                        done_label % {"done": done},
                    )
                return None
        else:
            form = StaffReasonForm()
        return self.model_page(
            request,
            "orders/transfers/admin_reason.html",
            title=title,
            explanation=explanation,
            submit_label=gettext("%(title)s (%(count)s)") % {"title": title, "count": len(transfers)},
            objects=transfers,
            form=form,
            action_checkbox_name=ACTION_CHECKBOX_NAME,
            action=action,
        )

    @capability_action(
        Capability.TRANSFER_DISPUTES, description=gettext_lazy("Mark selected completed transfers disputed…")
    )
    def dispute_transfers(self, request: HttpRequest, queryset):
        return self._staff_action(
            request,
            queryset,
            action="dispute_transfers",
            service=transfer_dispute,
            title=gettext("Dispute transfers"),
            explanation=gettext("Mark these completed transfers disputed while you investigate. Nothing moves yet."),
            done_label=gettext("Disputed %(done)s transfer(s)."),
        )

    @capability_action(Capability.TRANSFER_DISPUTES, description=gettext_lazy("Reverse selected disputed transfers…"))
    def reverse_transfers(self, request: HttpRequest, queryset):
        return self._staff_action(
            request,
            queryset,
            action="reverse_transfers",
            service=transfer_reverse,
            title=gettext("Reverse transfers"),
            explanation=gettext(
                "Give each ticket back to its sender (its QR code changes, so the recipient's codes stop working) "
                "and return the price to the recipient."
            ),
            done_label=gettext("Reversed %(done)s transfer(s)."),
        )


@admin.register(ResaleListing)
class ResaleListingAdmin(SalesRecordAdmin):
    """Read-only: listings change through the seller (withdraw), a buyer (buy) and the recovery command."""

    buyer_field = "seller_id"
    person_fields = ("seller_id",)
    list_display = ["short_id", "created_at", "event_title", "seller", "price", "face_value", "fee", "status", "step"]
    list_filter = ["status", EventFilter, "step", "created_at"]
    search_fields = ["seat_id"]
    search_help_text = gettext_lazy("Listing id, the seller's id or full email address.")
    readonly_fields = [
        "id",
        "seller",
        "seat_id",
        "event_id",
        "organization_id",
        "price",
        "face_value",
        "fee",
        "status",
        "step",
        "buyer_id",
        "sale_attempt_id",
        "sold_at",
        "created_at",
        "updated_at",
    ]
    fields = readonly_fields

    short_id = short_id_column(gettext_lazy("listing"))
    seller = person_column("seller_id", gettext_lazy("seller"))
