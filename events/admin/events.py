"""Events in the staff admin: set-up (dates, price tiers, the sections sold), status and links to operations.

The operations pages themselves (publish, cancel and refund, the sales dashboard) are orders' (they span
databases); the links here name them by URL (``admin:events_event_publish``...).
"""

from __future__ import annotations

from functools import partial

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, gettext_lazy

from core.admin_tenancy import Capability, TenantScopedAdmin, TenantScopedInline, has_capability
from core.timefmt import venue_datetime
from events import DB_ALIAS, services
from events.admin.common import DeletedFilter, OrganizationChoiceMixin, SoftDeleteAdminMixin
from events.contract import EventInventoryStatus, EventStatus
from events.forms import EventAdminForm, EventSectionInlineForm
from events.models import Event, EventSection, PriceTier, Section


class EventInline(TenantScopedInline, admin.TabularInline):
    """A part of an event (its tiers, its sections): managed by who manages the event's organization."""

    manage_capability = Capability.EVENTS_MANAGE

    @staticmethod
    def parent_organization_id(event: Event):
        return event.organization_id


class PriceTierInline(EventInline):
    model = PriceTier
    extra = 1
    fields = ["name", "price", "colour", "sort_order"]

    def get_readonly_fields(self, request, obj=None):
        # Once places exist, a price changes only through the audited reprice (it updates the places on sale too);
        # an edit here would show one price and charge another.
        if obj is not None and obj.status != EventStatus.DRAFT:
            return [*super().get_readonly_fields(request, obj), "price"]
        return super().get_readonly_fields(request, obj)


class EventSectionInline(EventInline):
    model = EventSection
    form = EventSectionInlineForm
    extra = 1
    fields = ["section", "tier", "capacity_override", "is_active"]

    def get_formset(self, request, obj=None, **kwargs):
        # The choices depend on the event (sections of its venue, tiers of this event): it is handed to the form
        # fields of this request, never kept on the (shared) admin.
        callback = partial(self._event_formfield, request=request, event=obj)
        return super().get_formset(request, obj, formfield_callback=callback, **kwargs)

    def _event_formfield(self, db_field, *, request, event: Event | None, **kwargs):
        if db_field.name == "section":
            # A stadium section's layout is megabytes of seats; a choice needs only its name.
            sections = Section.objects.using(DB_ALIAS).select_related("venue").defer("layout")
            kwargs["queryset"] = sections.filter(venue_id=event.venue_id) if event else sections.none()
        elif db_field.name == "tier":
            tiers = PriceTier.objects.using(DB_ALIAS)
            kwargs["queryset"] = tiers.filter(event=event) if event else tiers.none()
        return self.formfield_for_dbfield(db_field, request, **kwargs)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if field is not None and db_field.name in ("section", "tier"):
            # Without the add/change/view icons on every row: building their links cost a third of the page on an
            # 80-section stadium. Sections are added on the venue's page and tiers in the inline above.
            field.widget = getattr(field.widget, "widget", field.widget)
        return field

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and db_field.name in ("section", "tier"):
            # Read the choices once for the whole inline, not once per row (a stadium has dozens of sections).
            field.choices = list(field.choices)
        return field

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("event", "section", "tier").defer("section__layout")

    def has_add_permission(self, request, obj=None):
        # Sections are attached once the event (and its tiers) exist.
        return obj is not None and super().has_add_permission(request, obj)


class EventStatusFilter(admin.SimpleListFilter):
    title = gettext_lazy("on sale")
    parameter_name = "on_sale"

    def lookups(self, request, model_admin):
        return [("yes", gettext("On sale now")), ("upcoming", gettext("Upcoming"))]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "yes":
            return queryset.filter(
                Q(status=EventStatus.PUBLISHED),
                Q(sales_start__isnull=True) | Q(sales_start__lte=now),
                Q(sales_end__isnull=True) | Q(sales_end__gt=now),
            )
        if self.value() == "upcoming":
            return queryset.filter(starts_at__gte=now)
        return queryset


@admin.register(Event)
class EventAdmin(OrganizationChoiceMixin, SoftDeleteAdminMixin, TenantScopedAdmin):
    form = EventAdminForm
    view_capability = Capability.EVENTS_VIEW
    manage_capability = Capability.EVENTS_MANAGE
    delete_capability = Capability.EVENTS_MANAGE
    inlines = [PriceTierInline, EventSectionInline]
    list_display = ["title", "organization", "venue", "starts", "status", "inventory_progress", "dashboard_link"]
    list_filter = [DeletedFilter, "status", EventStatusFilter, "selection_mode", "starts_at"]
    list_select_related = ["organization", "venue"]
    search_fields = ["title", "slug", "venue__name"]
    date_hierarchy = "starts_at"
    prepopulated_fields = {"slug": ["title"]}
    actions = ["publish_selected"]
    readonly_fields = [
        "status",
        "published_at",
        "cancelled_at",
        "inventory_status",
        "inventory_progress",
        "refund_progress",
        "operations",
        "created_at",
        "updated_at",
        "deleted_at",
    ]
    fieldsets = [
        (None, {"fields": ["organization", "venue", "title", "slug", "description", "selection_mode"]}),
        (gettext_lazy("Dates"), {"fields": ["starts_at", "doors_at", "ends_at", "sales_start", "sales_end"]}),
        (
            gettext_lazy("Status and operations"),
            {
                "fields": [
                    "status",
                    "operations",
                    "inventory_status",
                    "inventory_progress",
                    "published_at",
                    "refund_progress",
                    "cancelled_at",
                ]
            },
        ),
    ]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and has_capability(request, Capability.EVENTS_MANAGE, obj.organization_id):
            return fieldsets
        # View-only roles (box office) get the dashboard link, not buttons that would only answer 404.
        return [
            (name, {**options, "fields": [f if f != "operations" else "dashboard_link" for f in options["fields"]]})
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj)) + ["dashboard_link"]
        if obj is not None and obj.status != EventStatus.DRAFT:
            # Once on sale, the tenant and the venue are fixed: inventory was built from them.
            fields += ["organization", "venue"]
        return fields

    # A change of these on an event people hold tickets for is mailed to every holder.
    ANNOUNCED_FIELDS = ("starts_at", "doors_at")

    def save_model(self, request, obj, form, change):
        """Django's admin saves inside an events_db transaction: the announcement commits with the change."""
        changed = [name for name in self.ANNOUNCED_FIELDS if name in form.changed_data]
        super().save_model(request, obj, form, change)
        if change and changed and obj.status == EventStatus.PUBLISHED:
            before = {name: form.initial.get(name) for name in changed}
            before["venue_name"] = obj.venue.name
            services.event_change_announce(event_id=obj.pk, before=before)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else [PriceTierInline]

    @admin.display(description=gettext_lazy("starts (venue time)"), ordering="starts_at")
    def starts(self, obj):
        return venue_datetime(obj.starts_at, obj.venue.timezone)

    @admin.display(description=gettext_lazy("inventory"))
    def inventory_progress(self, obj):
        if not obj.inventory_total:
            return "—"
        return f"{obj.inventory_created:,} / {obj.inventory_total:,}"

    @admin.display(description=gettext_lazy("refunds"))
    def refund_progress(self, obj):
        if obj.status != EventStatus.CANCELLED and not obj.refunds_total:
            return "—"
        return gettext("%(done)s / %(total)s orders refunded") % {
            "done": f"{obj.refunds_done:,}",
            "total": f"{obj.refunds_total:,}",
        }

    @admin.display(description=gettext_lazy("dashboard"))
    def dashboard_link(self, obj):
        if obj.inventory_status == EventInventoryStatus.NONE:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:events_event_dashboard", args=[obj.pk]), gettext("Sales")
        )

    @admin.display(description=gettext_lazy("operations"))
    def operations(self, obj):
        if obj is None or obj._state.adding:
            return gettext("Save the event, add tiers and sections, then publish it.")
        on_sale_or_draft = obj.status in (EventStatus.DRAFT, EventStatus.PUBLISHED)
        links = []
        if on_sale_or_draft:
            label = gettext("Publish…") if obj.status == EventStatus.DRAFT else gettext("Re-sync inventory…")
            links.append((reverse("admin:events_event_publish", args=[obj.pk]), "button", label))
        if obj.status == EventStatus.PUBLISHED:
            links.append((reverse("admin:events_event_reprice", args=[obj.pk]), "button", gettext("Reprice a tier…")))
            links.append((reverse("admin:events_event_box_office", args=[obj.pk]), "button", gettext("Box office")))
            links.append((reverse("admin:events_event_comps", args=[obj.pk]), "button", gettext("Comps")))
        if on_sale_or_draft:
            label = gettext("Waiting room (on)…") if obj.waiting_room else gettext("Waiting room…")
            links.append((reverse("admin:events_event_waiting_room", args=[obj.pk]), "button", label))
        if obj.inventory_status != EventInventoryStatus.NONE:
            links.append((reverse("admin:events_event_dashboard", args=[obj.pk]), "button", gettext("Sales dashboard")))
            links.append((reverse("admin:events_event_exports", args=[obj.pk]), "button", gettext("Exports")))
        if on_sale_or_draft or (obj.status == EventStatus.CANCELLED and obj.refunds_done < obj.refunds_total):
            label = gettext("Cancel event…") if obj.status != EventStatus.CANCELLED else gettext("Resume refunds…")
            links.append((reverse("admin:events_event_cancel", args=[obj.pk]), "button danger", label))
        return format_html_join(" ", '<a class="{}" href="{}">{}</a>', ((c, u, t) for u, c, t in links))

    @admin.action(description=gettext_lazy("Publish selected events (create their inventory)…"))
    def publish_selected(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        """Ask first, then publish through the event operations pages (orders drives the inventory)."""
        events = [e for e in queryset if has_capability(request, Capability.EVENTS_MANAGE, e.organization_id)]
        if len(events) < queryset.count():
            messages.error(
                request, gettext("Some selected events belong to organizations whose events you may not publish.")
            )
        return self.admin_site.page(
            request, "admin/events/event/publish_selected.html", title=gettext("Publish events"), events=events
        )
