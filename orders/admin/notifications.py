"""The outbox in the staff admin: every email the product sent or will send (who, what, when, status).

Support staff (Capability.ORDERS) see their organizations' mail; payment notices belong to no organization and are
seen by platform staff (superusers). Rows are written by the sending jobs only, so the admin is read-only; "Send
again" queues the job once more for mail that is still waiting (it never sends a mail twice).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext, gettext_lazy

from core.admin_tenancy import Capability, TenantScopedAdmin
from orders.models import Notification
from orders.notifications.delivery import notifications_requeue


@admin.register(Notification)
class NotificationAdmin(TenantScopedAdmin):
    view_capability = Capability.ORDERS
    read_only_for_all = True
    list_display = ["created_at", "kind", "email", "subject", "status", "attempts", "sent_at"]
    list_filter = ["status", "kind", "created_at"]
    search_fields = ["email", "subject", "=object_id", "=recipient_id"]
    date_hierarchy = "created_at"
    actions = ["send_again"]
    readonly_fields = [
        "kind",
        "object_id",
        "recipient_id",
        "organization_id",
        "email",
        "subject",
        "status",
        "attempts",
        "last_error",
        "message_id",
        "sent_at",
        "created_at",
        "updated_at",
    ]

    @admin.action(description=gettext_lazy("Send again (mail not sent yet)"))
    def send_again(self, request: HttpRequest, queryset: QuerySet) -> None:
        queued = notifications_requeue(notification_ids=list(queryset.values_list("pk", flat=True)))
        messages.success(
            request,
            gettext("%(queued)s email(s) queued again; the others were sent or skipped already.") % {"queued": queued},
        )
