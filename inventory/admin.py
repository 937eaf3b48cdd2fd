"""Staff admin of seats_db: seats/tickets and the gate's entry logs. Both read-only here.

A seat's status only changes through inventory.services (holds, sales, scans, refunds), so the admin shows seats
and never edits them; its two actions (keep places off sale for production, return them to sale) call the
services too. Rows are scoped to the events of the staff member's organizations (events live in another
database, so the scope is a list of event ids, not a join).
"""

from __future__ import annotations

from collections import defaultdict

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.http import HttpRequest
from django.utils.translation import gettext, gettext_lazy

from core import directory
from core.admin_tenancy import (
    AppendOnlyLogAdmin,
    Capability,
    EventFilter,
    EventScopedAdmin,
    actor_id,
    capability_action,
    organization_ids,
    row_label,
)
from core.errors import DomainError
from inventory.models import EntryLog, Seat
from inventory.selectors import SEAT_FIELDS
from inventory.services import seats_keep_off_sale, seats_return_to_sale
from inventory.services.production import KEPT_FOR_MAX_LENGTH


class KeepOffSaleForm(forms.Form):
    kept_for = forms.CharField(
        max_length=KEPT_FOR_MAX_LENGTH,
        initial="Production",
        label=gettext_lazy("Kept for"),
        help_text=gettext_lazy("Production, Cameras, VIP, a sponsor… the name you return them to sale by. Audited."),
    )


@admin.register(Seat)
class SeatAdmin(EventScopedAdmin):
    view_capability = Capability.EVENTS_VIEW
    manage_capability = None
    superuser_can_manage = False  # seats change only through inventory.services
    list_display = ["__str__", "event_title", "status", "kept_for", "price", "is_accessible", "owner", "order_id"]
    list_filter = [EventFilter, "status", "kept_for", "is_accessible", "is_general_admission"]
    actions = ["keep_off_sale", "return_to_sale"]
    search_fields = ["=id", "=order_id", "=owner_id", "row_label"]
    show_full_result_count = False  # an 80,000-seat event: skip the second count(*) of the whole table
    list_per_page = 100
    # Every column a SeatInfo carries, then the bookkeeping ones: all read-only (seats change through services).
    readonly_fields = [*SEAT_FIELDS, "kept_for", "created_at", "updated_at"]

    named_columns = (*EventScopedAdmin.named_columns, (directory.USER, "owner_id", "owner_label"))

    def base_queryset(self, request: HttpRequest):
        return Seat.all_objects.all()

    @admin.display(description=gettext_lazy("owner"))
    def owner(self, obj):
        return (
            row_label(obj, kind=directory.USER, id_attr="owner_id", label_attr="owner_label") if obj.owner_id else "—"
        )

    def _by_event(self, request: HttpRequest, queryset) -> tuple[dict, int]:
        """The chosen places per event, only of events whose organization the staff member manages."""
        managed = organization_ids(request, Capability.EVENTS_MANAGE)  # None: every organization (a superuser)
        chosen: dict = defaultdict(list)
        refused = 0
        for event_id, organization_id, seat_id in queryset.values_list("event_id", "organization_id", "id"):
            if managed is None or organization_id in managed:
                chosen[event_id].append(seat_id)
            else:
                refused += 1
        return chosen, refused

    @capability_action(
        Capability.EVENTS_MANAGE, description=gettext_lazy("Keep selected places off sale (production, VIP…)…")
    )
    def keep_off_sale(self, request: HttpRequest, queryset):
        """An intermediate page asks what the places are kept for; free ones are blocked under that name."""
        form = KeepOffSaleForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            chosen, refused = self._by_event(request, queryset)
            kept = skipped = 0
            for event_id, seat_ids in chosen.items():
                try:
                    result = seats_keep_off_sale(
                        event_id=event_id,
                        seat_ids=seat_ids,
                        kept_for=form.cleaned_data["kept_for"],
                        actor_id=actor_id(request),
                    )
                except DomainError as exc:
                    messages.error(request, exc.detail)
                    return None
                kept += len(result.changed)
                skipped += len(result.skipped)
            name = " ".join(form.cleaned_data["kept_for"].split())
            messages.success(
                request, gettext("%(kept)s place(s) kept off sale for %(name)s.") % {"kept": kept, "name": name}
            )
            if skipped or refused:
                messages.warning(
                    request,
                    gettext("%(count)s place(s) left as they were: sold, held, blocked already or not yours.")
                    % {"count": skipped + refused},
                )
            return None
        return self.model_page(
            request,
            "admin/inventory/seat/keep_off_sale.html",
            title=gettext("Keep places off sale"),
            seat_ids=list(queryset.values_list("id", flat=True)),
            form=form,
            action_checkbox_name=ACTION_CHECKBOX_NAME,
            action="keep_off_sale",
        )

    @capability_action(Capability.EVENTS_MANAGE, description=gettext_lazy("Return selected blocked places to sale"))
    def return_to_sale(self, request: HttpRequest, queryset):
        chosen, refused = self._by_event(request, queryset)
        returned = skipped = 0
        for event_id, seat_ids in chosen.items():
            result = seats_return_to_sale(event_id=event_id, seat_ids=seat_ids, actor_id=actor_id(request))
            returned += len(result.changed)
            skipped += len(result.skipped)
        messages.success(request, gettext("%(returned)s place(s) returned to sale.") % {"returned": returned})
        if skipped or refused:
            messages.warning(
                request,
                gettext("%(count)s place(s) left as they were: not blocked, or not yours.")
                % {"count": skipped + refused},
            )


@admin.register(EntryLog)
class EntryLogAdmin(AppendOnlyLogAdmin, EventScopedAdmin):
    view_capability = Capability.ENTRY_LOGS
    list_display = ["created_at", "result", "gate", "event_title", "seat", "staff", "holder", "detail"]
    list_filter = [EventFilter, "result", "gate", "created_at"]
    search_fields = ["=seat_id", "gate", "token_fingerprint", "=staff_id"]
    readonly_fields = [
        "id",
        "created_at",
        "event_id",
        "organization_id",
        "seat_id",
        "staff_id",
        "gate",
        "result",
        "holder_id",
        "token_fingerprint",
        "detail",
        "seat",
        "staff",
        "holder",
    ]

    # The page names places and people, not their ids: one lookup per kind for the whole page.
    named_columns = (
        *EventScopedAdmin.named_columns,
        (directory.SEAT, "seat_id", "seat_label"),
        (directory.USER, "staff_id", "staff_label"),
        (directory.USER, "holder_id", "holder_label"),
    )

    @admin.display(description=gettext_lazy("place"))
    def seat(self, obj):
        return row_label(obj, kind=directory.SEAT, id_attr="seat_id", label_attr="seat_label")

    @admin.display(description=gettext_lazy("scanned by"))
    def staff(self, obj):
        return (
            row_label(obj, kind=directory.USER, id_attr="staff_id", label_attr="staff_label") if obj.staff_id else "—"
        )

    @admin.display(description=gettext_lazy("ticket holder"))
    def holder(self, obj):
        return row_label(obj, kind=directory.USER, id_attr="holder_id", label_attr="holder_label")
