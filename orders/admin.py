"""Staff admin of orders_db: orders with their lines, and the refund action.

Orders are created by checkout and changed only by services (refund), so the admin shows them read-only and the
refund goes through an intermediate page that asks for the reason. Rows are scoped to the events of the staff
member's organizations (EventScopedAdmin). The TRANSFER engineer appends Transfer/ResaleListing admins below,
reusing EventScopedAdmin and EventFilter from ticketremaster.admin_tenancy.
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.http import HttpRequest
from django.template.response import TemplateResponse

from orders.models import Order, OrderLine, ResaleListing, Transfer
from ticketremaster.admin_tenancy import (
    Capability,
    EventFilter,
    EventScopedAdmin,
    TenantScopedInline,
    actor_id,
    has_capability,
)
from ticketremaster.errors import DomainError


class BuyerNamesMixin:
    """Shows buyers' emails (users_db) with one query per changelist page."""

    buyer_field = "buyer_id"

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        from accounts.selectors import user_get_many

        self._buyers = user_get_many(user_ids={getattr(row, self.buyer_field) for row in changelist.result_list})
        return changelist

    def _buyer_label(self, buyer_id) -> str:
        buyers = getattr(self, "_buyers", None) or {}
        if buyer_id not in buyers:
            from accounts.selectors import user_get_many

            buyers.update(user_get_many(user_ids=[buyer_id]))
            self._buyers = buyers
        info = buyers.get(buyer_id)
        return info.email if info else str(buyer_id)

    def get_search_results(self, request, queryset, search_term):
        """Search by order id, by buyer id, or by a buyer's full email address (looked up in users_db)."""
        term = (search_term or "").strip()
        if not term:
            return queryset, False
        if "@" in term:
            from accounts.selectors import user_find_by_email

            user = user_find_by_email(email=term)
            return (queryset.filter(**{self.buyer_field: user.id}) if user else queryset.none()), False
        try:
            pk = uuid.UUID(term)
        except ValueError:
            return super().get_search_results(request, queryset, term)
        return queryset.filter(**{"pk": pk}) | queryset.filter(**{self.buyer_field: pk}), False


class OrderLineInline(TenantScopedInline, admin.TabularInline):
    model = OrderLine
    extra = 0
    fields = ["seat_id", "price", "is_active", "created_at"]
    readonly_fields = fields
    read_only_for_all = True
    can_delete = False


class RefundForm(forms.Form):
    reason = forms.CharField(max_length=255, widget=forms.Textarea(attrs={"rows": 3}), help_text="Required; audited.")
    block_seats = forms.BooleanField(
        required=False, label="Block the seats (do not put them back on sale)", initial=False
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Give a reason.")
        return reason


@admin.register(Order)
class OrderAdmin(BuyerNamesMixin, EventScopedAdmin):
    view_capability = Capability.ORDERS
    manage_capability = None
    superuser_can_manage = False  # orders change only through services (checkout, refund)
    inlines = [OrderLineInline]
    list_display = ["short_id", "created_at", "buyer", "event_title", "status", "step", "total"]
    list_filter = ["status", EventFilter, "step", "created_at"]
    search_fields = ["idempotency_key"]
    search_help_text = "Order id, buyer id, a buyer's full email address, or an idempotency key."
    date_hierarchy = "created_at"
    show_full_result_count = False
    actions = ["refund_orders"]
    readonly_fields = [
        "id",
        "buyer",
        "buyer_id",
        "event_id",
        "organization_id",
        "status",
        "step",
        "total",
        "idempotency_key",
        "failure_code",
        "created_at",
        "confirmed_at",
        "refunded_at",
        "refund_reason",
    ]

    @admin.display(description="order", ordering="id")
    def short_id(self, obj):
        return str(obj.pk)[:8]

    @admin.display(description="buyer")
    def buyer(self, obj):
        return self._buyer_label(obj.buyer_id)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not has_capability(request, Capability.ORDERS):
            actions.pop("refund_orders", None)
        return actions

    @admin.action(description="Refund selected orders…")
    def refund_orders(self, request: HttpRequest, queryset):
        """An intermediate page asks for the reason; the refund service does the work, one order at a time."""
        orders = list(queryset)
        if "apply" in request.POST:
            form = RefundForm(request.POST)
            if form.is_valid():
                done, failed = 0, 0
                for order in orders:
                    if not has_capability(request, Capability.ORDERS, self.object_organization_id(order)):
                        failed += 1
                        continue
                    try:
                        from orders.services import order_refund

                        order_refund(
                            order_id=order.pk,
                            actor_id=actor_id(request),
                            reason=form.cleaned_data["reason"],
                            block_seats=form.cleaned_data["block_seats"],
                        )
                    except DomainError as exc:
                        failed += 1
                        messages.error(request, f"Order {str(order.pk)[:8]}: {exc.detail}")
                    else:
                        done += 1
                if done:
                    messages.success(request, f"Refunded {done} order(s).")
                if failed and not done:
                    messages.warning(request, "No order was refunded.")
                return None
        else:
            form = RefundForm()
        context = {
            **self.admin_site.each_context(request),
            "title": "Refund orders",
            "opts": self.model._meta,
            "orders": orders,
            "form": form,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "action": "refund_orders",
        }
        return TemplateResponse(request, "admin/orders/order/refund.html", context)


# --- Transfers and resale listings (TRANSFER engineer) ---------------------------------------------------------------


class StaffReasonForm(forms.Form):
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 3}), help_text="Required; audited.")

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Give a reason.")
        return reason


class TransferPartiesMixin(BuyerNamesMixin):
    """Both parties' emails with one users_db query per changelist page."""

    def get_changelist_instance(self, request):
        changelist = super(BuyerNamesMixin, self).get_changelist_instance(request)
        from accounts.selectors import user_get_many

        ids = {row.from_user_id for row in changelist.result_list} | {row.to_user_id for row in changelist.result_list}
        self._buyers = user_get_many(user_ids=ids)
        return changelist


@admin.register(Transfer)
class TransferAdmin(TransferPartiesMixin, EventScopedAdmin):
    """Transfers change only through services; staff resolve disputes with the two actions below."""

    view_capability = Capability.ORDERS
    manage_capability = None
    superuser_can_manage = False
    buyer_field = "from_user_id"
    list_display = ["short_id", "created_at", "event_title", "sender", "recipient", "price", "status", "step"]
    list_filter = ["status", EventFilter, "step", "created_at"]
    search_fields = ["dispute_reason"]
    search_help_text = "Transfer id, the sender's id or full email address, or words of a dispute reason."
    date_hierarchy = "created_at"
    show_full_result_count = False
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

    @admin.display(description="transfer", ordering="id")
    def short_id(self, obj):
        return str(obj.pk)[:8]

    @admin.display(description="from")
    def sender(self, obj):
        return self._buyer_label(obj.from_user_id)

    @admin.display(description="to")
    def recipient(self, obj):
        return self._buyer_label(obj.to_user_id)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not has_capability(request, Capability.ORDERS):
            actions.pop("dispute_transfers", None)
            actions.pop("reverse_transfers", None)
        return actions

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
                        messages.error(request, f"Transfer {str(transfer.pk)[:8]}: {exc.detail}")
                    else:
                        done += 1
                if done:
                    messages.success(request, f"{done_label} {done} transfer(s).")
                return None
        else:
            form = StaffReasonForm()
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "explanation": explanation,
            "submit_label": f"{title} ({len(transfers)})",
            "opts": self.model._meta,
            "objects": transfers,
            "form": form,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "action": action,
        }
        return TemplateResponse(request, "orders/transfers/admin_reason.html", context)

    @admin.action(description="Mark selected completed transfers disputed…")
    def dispute_transfers(self, request: HttpRequest, queryset):
        from orders.services.transfer import transfer_dispute

        return self._staff_action(
            request,
            queryset,
            action="dispute_transfers",
            service=transfer_dispute,
            title="Dispute transfers",
            explanation="Mark these completed transfers disputed while you investigate. Nothing moves yet.",
            done_label="Disputed",
        )

    @admin.action(description="Reverse selected disputed transfers…")
    def reverse_transfers(self, request: HttpRequest, queryset):
        from orders.services.transfer import transfer_reverse

        return self._staff_action(
            request,
            queryset,
            action="reverse_transfers",
            service=transfer_reverse,
            title="Reverse transfers",
            explanation=(
                "Give each ticket back to its sender (its QR code changes, so the recipient's codes stop working) "
                "and return the price to the recipient."
            ),
            done_label="Reversed",
        )


@admin.register(ResaleListing)
class ResaleListingAdmin(BuyerNamesMixin, EventScopedAdmin):
    """Read-only: listings change through the seller (withdraw), a buyer (buy) and the recovery command."""

    view_capability = Capability.ORDERS
    manage_capability = None
    superuser_can_manage = False
    buyer_field = "seller_id"
    list_display = ["short_id", "created_at", "event_title", "seller", "price", "face_value", "fee", "status", "step"]
    list_filter = ["status", EventFilter, "step", "created_at"]
    search_fields = ["seat_id"]
    search_help_text = "Listing id, the seller's id or full email address."
    date_hierarchy = "created_at"
    show_full_result_count = False
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

    @admin.display(description="listing", ordering="id")
    def short_id(self, obj):
        return str(obj.pk)[:8]

    @admin.display(description="seller")
    def seller(self, obj):
        return self._buyer_label(obj.seller_id)
