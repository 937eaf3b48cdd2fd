"""Staff admin of seats_db: seats/tickets and the gate's entry logs. Both read-only here.

A seat's status only changes through inventory.services (holds, sales, scans, refunds), so the admin shows seats
and never edits them. Rows are scoped to the events of the staff member's organizations (events live in another
database, so the scope is a list of event ids, not a join).
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from core import directory
from core.admin_tenancy import Capability, EventFilter, EventScopedAdmin, label_rows, row_label
from inventory.models import EntryLog, Seat


@admin.register(Seat)
class SeatAdmin(EventScopedAdmin):
    view_capability = Capability.EVENTS_VIEW
    manage_capability = None
    superuser_can_manage = False  # seats change only through inventory.services
    list_display = ["__str__", "event_title", "status", "price", "is_accessible", "owner", "order_id"]
    list_filter = [EventFilter, "status", "is_accessible", "is_general_admission"]
    search_fields = ["=id", "=order_id", "=owner_id", "row_label"]
    show_full_result_count = False  # an 80,000-seat event: skip the second count(*) of the whole table
    list_per_page = 100
    readonly_fields = [
        "id",
        "event_id",
        "section_id",
        "tier_id",
        "row_label",
        "number",
        "x",
        "y",
        "is_accessible",
        "is_general_admission",
        "price",
        "status",
        "held_by_id",
        "hold_expires_at",
        "owner_id",
        "order_id",
        "qr_version",
        "checked_in_at",
        "created_at",
        "updated_at",
    ]

    def base_queryset(self, request: HttpRequest):
        return Seat.all_objects.all()

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        label_rows(changelist.result_list, kind=directory.USER, id_attr="owner_id", label_attr="owner_label")
        return changelist

    @admin.display(description="owner")
    def owner(self, obj):
        return (
            row_label(obj, kind=directory.USER, id_attr="owner_id", label_attr="owner_label") if obj.owner_id else "—"
        )


@admin.register(EntryLog)
class EntryLogAdmin(EventScopedAdmin):
    view_capability = Capability.ENTRY_LOGS
    read_only_for_all = True  # append-only
    list_display = ["created_at", "result", "gate", "event_title", "seat", "staff", "holder", "detail"]
    list_filter = [EventFilter, "result", "gate", "created_at"]
    search_fields = ["=seat_id", "gate", "token_fingerprint", "=staff_id"]
    date_hierarchy = "created_at"
    show_full_result_count = False
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
    NAMED = (
        (directory.SEAT, "seat_id", "seat_label"),
        (directory.USER, "staff_id", "staff_label"),
        (directory.USER, "holder_id", "holder_label"),
    )

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        for kind, id_attr, label_attr in self.NAMED:
            label_rows(changelist.result_list, kind=kind, id_attr=id_attr, label_attr=label_attr)
        return changelist

    @admin.display(description="place")
    def seat(self, obj):
        return row_label(obj, kind=directory.SEAT, id_attr="seat_id", label_attr="seat_label")

    @admin.display(description="scanned by")
    def staff(self, obj):
        return (
            row_label(obj, kind=directory.USER, id_attr="staff_id", label_attr="staff_label") if obj.staff_id else "—"
        )

    @admin.display(description="ticket holder")
    def holder(self, obj):
        return row_label(obj, kind=directory.USER, id_attr="holder_id", label_attr="holder_label")
