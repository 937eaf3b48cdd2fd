"""Waiting lists in the staff admin: every entry of the organization's events, newest first, filterable by event
and status (Capability.ORDERS: who waits is buyers' data). Read-only: buyers join and leave, the matcher offers."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext, gettext_lazy

from core import directory
from core.admin_tenancy import Capability, EventFilter, EventScopedAdmin, row_label
from orders.admin.sales import BuyerNamesMixin
from orders.models import WaitingListEntry


@admin.register(WaitingListEntry)
class WaitingListEntryAdmin(BuyerNamesMixin, EventScopedAdmin):
    view_capability = Capability.ORDERS
    manage_capability = None
    list_display = ["created_at", "event_title", "line", "buyer", "quantity", "status", "offer_expires_at"]
    list_filter = [EventFilter, "status"]
    ordering = ["-created_at"]
    list_per_page = 100
    fields = ["event_title", "line", "buyer", "quantity", "status", "offered_at", "offer_expires_at", "closed_at"]
    readonly_fields = fields
    named_columns = (*EventScopedAdmin.named_columns, (directory.SECTION, "section_id", "section_label"))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description=gettext_lazy("buyer"))
    def buyer(self, obj):
        return self._buyer_label(obj)

    @admin.display(description=gettext_lazy("waits for"))
    def line(self, obj):
        if obj.section_id:
            return row_label(obj, kind=directory.SECTION, id_attr="section_id", label_attr="section_label")
        return gettext("a price tier") if obj.tier_id else gettext("any place")
