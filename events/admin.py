"""Staff admin of the events domain: organizations, venues, sections (seat-grid generator), events.

Events carry the operations: publish (bulk inventory with progress), cancel (refund every order, resumable) and a
live sales dashboard. Everything is scoped to the staff member's organizations (ticketremaster.admin_tenancy).
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from events import DB_ALIAS
from events.forms import (
    CancelEventForm,
    EventAdminForm,
    EventSectionInlineForm,
    SectionAdminForm,
    SectionGridForm,
    VenueAdminForm,
)
from events.models import Event, EventSection, Organization, PriceTier, Section, Venue
from events.services import event_cancel, event_publish, section_generate_grid
from ticketremaster.admin_tenancy import (
    Capability,
    TenantScopedAdmin,
    TenantScopedInline,
    actor_id,
    has_capability,
    is_superuser,
    organization_ids,
)
from ticketremaster.errors import DomainError
from ticketremaster.ids import as_uuid


class DeletedFilter(admin.SimpleListFilter):
    """Soft-deleted records stay reachable for staff, hidden unless asked for."""

    title = "deleted"
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return [("no", "Live"), ("yes", "Deleted"), ("all", "All")]

    def choices(self, changelist):
        value = self.value() or "no"
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or "no"
        if value == "yes":
            return queryset.filter(deleted_at__isnull=False)
        if value == "all":
            return queryset
        return queryset.filter(deleted_at__isnull=True)


class SoftDeleteAdminMixin:
    """Delete means soft delete (SPEC 2): the row stays for staff and audits, hidden from buyers."""

    def base_queryset(self, request):
        return self.model.all_objects.using(DB_ALIAS).all()

    def delete_model(self, request, obj):
        obj.soft_delete()

    def delete_queryset(self, request, queryset):
        queryset.soft_delete()


# --- organizations -----------------------------------------------------------------------------------------------
@admin.register(Organization)
class OrganizationAdmin(SoftDeleteAdminMixin, TenantScopedAdmin):
    view_capability = Capability.EVENTS_VIEW
    manage_capability = Capability.STAFF
    list_display = ["name", "slug", "venue_count", "created_at"]
    list_filter = [DeletedFilter]
    search_fields = ["name", "slug"]
    readonly_fields = ["id", "created_at", "updated_at", "deleted_at"]

    def scope_queryset(self, request, queryset, organization_ids):
        return queryset.filter(pk__in=organization_ids)

    def object_organization_id(self, obj):
        return obj.pk

    def get_queryset(self, request):
        # Counted by subquery, not by a join that multiplies rows.
        venues = (
            Venue.objects.filter(organization=OuterRef("pk")).order_by().values("organization").annotate(n=Count("pk"))
        )
        return super().get_queryset(request).annotate(_venues=Subquery(venues.values("n")))

    def has_add_permission(self, request, obj=None):
        return is_superuser(request)  # new tenants are created by the platform, not by another tenant's staff

    @admin.display(description="venues", ordering="_venues")
    def venue_count(self, obj):
        return obj._venues or 0


# --- venues and sections -----------------------------------------------------------------------------------------
class OrganizationChoiceMixin:
    """Foreign keys to organizations/venues offer only those the user may manage."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        orgs = organization_ids(request, Capability.EVENTS_MANAGE)
        if db_field.name == "organization" and orgs is not None:
            kwargs["queryset"] = Organization.objects.using(DB_ALIAS).filter(pk__in=orgs)
        elif db_field.name == "venue" and orgs is not None:
            kwargs["queryset"] = Venue.objects.using(DB_ALIAS).filter(organization_id__in=orgs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Venue)
class VenueAdmin(OrganizationChoiceMixin, SoftDeleteAdminMixin, TenantScopedAdmin):
    form = VenueAdminForm
    view_capability = Capability.EVENTS_MANAGE
    manage_capability = Capability.EVENTS_MANAGE
    delete_capability = Capability.EVENTS_MANAGE
    list_display = ["name", "organization", "city", "section_count"]
    list_filter = [DeletedFilter, "city"]
    list_select_related = ["organization"]
    search_fields = ["name", "city", "address"]
    readonly_fields = ["id", "created_at", "updated_at", "deleted_at"]

    def scope_queryset(self, request, queryset, organization_ids):
        return queryset.filter(organization_id__in=organization_ids)

    def object_organization_id(self, obj):
        return obj.organization_id

    def get_queryset(self, request):
        sections = Section.objects.filter(venue=OuterRef("pk")).order_by().values("venue").annotate(n=Count("pk"))
        return super().get_queryset(request).annotate(_sections=Subquery(sections.values("n")))

    @admin.display(description="sections", ordering="_sections")
    def section_count(self, obj):
        return obj._sections or 0


# Presentation attributes, not a <style> element: the site's Content-Security-Policy refuses inline styles.
SEAT_PAINT = mark_safe('fill="#93c5fd" stroke="#1d4ed8"')  # noqa: S308 - constant markup
ACCESSIBLE_SEAT_PAINT = mark_safe('fill="#fde68a" stroke="#b45309" stroke-width="2"')  # noqa: S308 - constant markup


def render_section_svg(section: Section, *, max_width: int = 900) -> str:
    """An SVG preview of a section's seats (accessible seats marked), or a box for general admission."""
    if section.kind == Section.Kind.GENERAL:
        return format_html(
            '<svg class="section-map" viewBox="0 0 300 120" width="300" height="120" role="img" '
            'aria-label="General admission, {} places"><rect x="1" y="1" width="298" height="118" rx="8" '
            'fill="#dbeafe" stroke="#2563eb"/><text x="150" y="66" text-anchor="middle" font-size="16">'
            "General admission · {} places</text></svg>",
            section.capacity,
            section.capacity,
        )
    rows = (section.layout or {}).get("rows") or []
    if not rows:
        return "No seat grid yet: use the generator below."
    seats = [(row["label"], seat) for row in rows for seat in row.get("seats", [])]
    width = max(seat["x"] for _, seat in seats) + 40
    height = max(seat["y"] for _, seat in seats) + 40
    circles = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="7" class="{}" {}><title>{}{}{}</title></circle>',
        (
            (
                seat["x"] + 30,
                seat["y"] + 20,
                "acc" if seat.get("accessible") else "seat",
                ACCESSIBLE_SEAT_PAINT if seat.get("accessible") else SEAT_PAINT,
                label,
                seat["number"],
                " (accessible)" if seat.get("accessible") else "",
            )
            for label, seat in seats
        ),
    )
    labels = format_html_join(
        "",
        '<text x="4" y="{}" font-size="11">{}</text>',
        ((row["seats"][0]["y"] + 24, row["label"]) for row in rows if row.get("seats")),
    )
    shown_width = min(width, max_width)
    return format_html(
        '<svg class="section-map" viewBox="0 0 {} {}" width="{}" role="img" aria-label="Seat map of {}: {} seats">'
        '<text x="{}" y="{}" text-anchor="middle" font-size="12" fill="#6b7280">stage</text>{}{}</svg>',
        width,
        height + 20,
        shown_width,
        section.name,
        len(seats),
        width // 2,
        height + 14,
        labels,
        circles,
    )


@admin.register(Section)
class SectionAdmin(OrganizationChoiceMixin, SoftDeleteAdminMixin, TenantScopedAdmin):
    form = SectionAdminForm
    view_capability = Capability.EVENTS_MANAGE
    manage_capability = Capability.EVENTS_MANAGE
    delete_capability = Capability.EVENTS_MANAGE
    list_display = ["name", "venue", "kind", "capacity", "sort_order"]
    list_filter = [DeletedFilter, "kind"]
    list_select_related = ["venue", "venue__organization"]
    search_fields = ["name", "venue__name"]
    readonly_fields = ["kind", "capacity", "map_preview", "grid_link", "created_at", "updated_at", "deleted_at"]
    fields = ["venue", "name", "map_x", "map_y", "sort_order", "kind", "capacity", "grid_link", "map_preview"]

    def base_queryset(self, request):
        # The layout (every seat) is read only where it is drawn; lists and lookups skip it.
        return super().base_queryset(request).defer("layout")

    def scope_queryset(self, request, queryset, organization_ids):
        return queryset.filter(venue__organization_id__in=organization_ids)

    def object_organization_id(self, obj):
        return obj.venue.organization_id

    @admin.display(description="seat map")
    def map_preview(self, obj):
        if obj is None or obj.pk is None:
            return "Save the section, then generate its seats."
        return render_section_svg(obj)

    @admin.display(description="seat grid")
    def grid_link(self, obj):
        if obj is None or obj.pk is None:
            return "Save the section first."
        url = reverse("admin:events_section_grid", args=[obj.pk])
        return format_html('<a class="button" href="{}">Generate seat grid…</a>', url)

    def get_urls(self):
        return [
            path("<path:object_id>/grid/", self.admin_site.admin_view(self.grid_view), name="events_section_grid"),
            *super().get_urls(),
        ]

    def grid_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        section = self.get_object(request, object_id)
        if not self.has_change_permission(request, section):
            raise Http404("No such section.")
        if request.method == "POST":
            form = SectionGridForm(request.POST)
            if form.is_valid():
                try:
                    info = section_generate_grid(
                        section_id=section.pk, actor_id=actor_id(request), **form.service_kwargs()
                    )
                except DomainError as exc:
                    for field, errors in exc.fields.items():
                        if field in form.fields:
                            for error in errors:
                                form.add_error(field, error)
                    if not exc.fields:
                        form.add_error(None, exc.detail)
                else:
                    messages.success(
                        request,
                        f"{section.name}: {info.capacity} places"
                        + (f" in {info.rows} rows, {info.accessible} accessible." if info.rows else "."),
                    )
                    return HttpResponseRedirect(reverse("admin:events_section_change", args=[section.pk]))
        else:
            form = SectionGridForm(initial=SectionGridForm.initial_for(section))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Seat grid of {section}",
            "opts": self.model._meta,
            "original": section,
            "form": form,
            "preview": render_section_svg(section),
        }
        return TemplateResponse(request, "admin/events/section/grid.html", context)


# --- events ------------------------------------------------------------------------------------------------------
class PriceTierInline(TenantScopedInline, admin.TabularInline):
    model = PriceTier
    extra = 1
    fields = ["name", "price", "colour", "sort_order"]
    manage_capability = Capability.EVENTS_MANAGE

    @staticmethod
    def parent_organization_id(obj):
        return obj.organization_id


class EventSectionInline(TenantScopedInline, admin.TabularInline):
    model = EventSection
    form = EventSectionInlineForm
    extra = 1
    fields = ["section", "tier", "capacity_override", "is_active"]
    manage_capability = Capability.EVENTS_MANAGE

    @staticmethod
    def parent_organization_id(obj):
        return obj.organization_id

    def get_formset(self, request, obj=None, **kwargs):
        # The choices depend on the event: sections of its venue, tiers of this event.
        self._parent = obj
        return super().get_formset(request, obj, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        parent = getattr(self, "_parent", None)
        if db_field.name == "section":
            kwargs["queryset"] = (
                (Section.objects.using(DB_ALIAS).filter(venue_id=parent.venue_id) if parent else Section.objects.none())
                .select_related("venue")
                .defer("layout")
            )  # a stadium section's layout is megabytes of seats
        elif db_field.name == "tier":
            kwargs["queryset"] = (
                PriceTier.objects.using(DB_ALIAS).filter(event=parent) if parent else PriceTier.objects.none()
            )
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
    title = "on sale"
    parameter_name = "on_sale"

    def lookups(self, request, model_admin):
        return [("yes", "On sale now"), ("upcoming", "Upcoming")]

    def queryset(self, request, queryset):
        from django.utils import timezone

        now = timezone.now()
        if self.value() == "yes":
            return queryset.filter(
                Q(status=Event.Status.PUBLISHED),
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
    list_display = ["title", "organization", "venue", "starts_at", "status", "inventory_progress", "dashboard_link"]
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
        ("Dates", {"fields": ["starts_at", "doors_at", "ends_at", "sales_start", "sales_end"]}),
        (
            "Status and operations",
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

    def scope_queryset(self, request, queryset, organization_ids):
        return queryset.filter(organization_id__in=organization_ids)

    def object_organization_id(self, obj):
        return obj.organization_id

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
        if obj is not None and obj.status != Event.Status.DRAFT:
            # Once on sale, the tenant and the venue are fixed: inventory was built from them.
            fields += ["organization", "venue"]
        return fields

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else [PriceTierInline]

    @admin.display(description="inventory")
    def inventory_progress(self, obj):
        if not obj.inventory_total:
            return "—"
        return f"{obj.inventory_created:,} / {obj.inventory_total:,}"

    @admin.display(description="refunds")
    def refund_progress(self, obj):
        if obj.status != Event.Status.CANCELLED and not obj.refunds_total:
            return "—"
        return f"{obj.refunds_done:,} / {obj.refunds_total:,} orders refunded"

    @admin.display(description="dashboard")
    def dashboard_link(self, obj):
        if obj.inventory_status == Event.InventoryStatus.NONE:
            return "—"
        return format_html('<a href="{}">Sales</a>', reverse("admin:events_event_dashboard", args=[obj.pk]))

    @admin.display(description="operations")
    def operations(self, obj):
        if obj is None or obj.pk is None:
            return "Save the event, add tiers and sections, then publish it."
        links = []
        if obj.status in (Event.Status.DRAFT, Event.Status.PUBLISHED):
            label = "Publish…" if obj.status == Event.Status.DRAFT else "Re-sync inventory…"
            links.append((reverse("admin:events_event_publish", args=[obj.pk]), "button", label))
        if obj.inventory_status != Event.InventoryStatus.NONE:
            links.append((reverse("admin:events_event_dashboard", args=[obj.pk]), "button", "Sales dashboard"))
        if obj.status in (Event.Status.DRAFT, Event.Status.PUBLISHED) or (
            obj.status == Event.Status.CANCELLED and obj.refunds_done < obj.refunds_total
        ):
            label = "Cancel event…" if obj.status != Event.Status.CANCELLED else "Resume refunds…"
            links.append((reverse("admin:events_event_cancel", args=[obj.pk]), "button danger", label))
        return format_html_join(" ", '<a class="{}" href="{}">{}</a>', ((c, u, t) for u, c, t in links))

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/publish/", view(self.publish_view), name="events_event_publish"),
            path("<path:object_id>/cancel/", view(self.cancel_view), name="events_event_cancel"),
            path("<path:object_id>/dashboard/", view(self.dashboard_view), name="events_event_dashboard"),
            *super().get_urls(),
        ]

    # --- operations ----------------------------------------------------------------------------------------------
    def _event_for(self, request, object_id, capability: Capability) -> Event:
        event = self.get_object(request, object_id)
        if not has_capability(request, capability, event.organization_id):
            raise Http404("No such event.")
        return event

    def _publish(self, request, event: Event) -> bool:
        started = time.monotonic()
        try:
            result = event_publish(event_id=event.pk, actor_id=actor_id(request))
        except DomainError as exc:
            messages.error(request, f"{event.title}: {exc.detail}")
            return False
        took = time.monotonic() - started
        messages.success(
            request,
            f"{event.title}: published with {result.total:,} places ({result.created:,} created now) in {took:.1f} s.",
        )
        return True

    def publish_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        event = self._event_for(request, object_id, Capability.EVENTS_MANAGE)
        if request.method == "POST":
            self._publish(request, event)
            return HttpResponseRedirect(reverse("admin:events_event_change", args=[event.pk]))
        sections = list(
            EventSection.objects.using(DB_ALIAS).filter(event=event, is_active=True).select_related("section", "tier")
        )
        rows = [
            (
                es.section.name,
                es.section.get_kind_display(),
                es.tier.name,
                es.tier.price,
                es.effective_capacity
                if es.section.kind == Section.Kind.GENERAL
                else sum(len(r.get("seats", [])) for r in (es.section.layout or {}).get("rows", [])),
            )
            for es in sections
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": f"Publish {event.title}",
            "opts": self.model._meta,
            "original": event,
            "rows": rows,
            "total": sum(r[4] for r in rows),
        }
        return TemplateResponse(request, "admin/events/event/publish.html", context)

    def cancel_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        event = self._event_for(request, object_id, Capability.EVENTS_MANAGE)
        form = CancelEventForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                result = event_cancel(event_id=event.pk, actor_id=actor_id(request), reason=form.cleaned_data["reason"])
            except DomainError as exc:
                messages.error(request, exc.detail)
            else:
                level = messages.SUCCESS if result.complete else messages.WARNING
                note = "" if result.complete else " Some orders could not be refunded yet; run this again to resume."
                summary = f"{event.title} is cancelled: {result.refunded} of {result.total} orders refunded."
                messages.add_message(request, level, summary + note)
            return HttpResponseRedirect(reverse("admin:events_event_change", args=[event.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Cancel {event.title}",
            "opts": self.model._meta,
            "original": event,
            "form": form,
        }
        return TemplateResponse(request, "admin/events/event/cancel.html", context)

    def dashboard_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        event = self._event_for(request, object_id, Capability.EVENTS_VIEW)
        started = time.perf_counter()
        table = sales_table(event)
        took_ms = (time.perf_counter() - started) * 1000
        context = {
            **self.admin_site.each_context(request),
            "title": f"Sales: {event.title}",
            "opts": self.model._meta,
            "original": event,
            "table": table,
            "took_ms": took_ms,
            "refresh_seconds": 5,
        }
        template = (
            "admin/events/event/dashboard_table.html"
            if request.GET.get("fragment")
            else "admin/events/event/dashboard.html"
        )
        return TemplateResponse(request, template, context)

    @admin.action(description="Publish selected events (create their inventory)")
    def publish_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        for event in queryset:
            if not has_capability(request, Capability.EVENTS_MANAGE, event.organization_id):
                messages.error(request, f"{event.title}: you may not publish events of this organization.")
                continue
            self._publish(request, event)


COUNT_KEYS = ("available", "held", "sold", "listed", "checked_in", "blocked")


def sales_table(event: Event) -> dict[str, Any]:
    """Rows per section and tier, and totals, from inventory.selectors.event_sales_summary (one GROUP BY)."""
    from inventory.selectors import event_sales_summary

    summary = event_sales_summary(event_id=event.pk)
    # Names only: a section's layout JSON holds every seat and is not needed here.
    sections = dict(Section.all_objects.using(DB_ALIAS).filter(venue_id=event.venue_id).values_list("id", "name"))
    tiers = dict(PriceTier.objects.using(DB_ALIAS).filter(event=event).values_list("id", "name"))
    rows = []
    for item in _summary_items(summary):
        row = {key: int(item.get(key) or 0) for key in COUNT_KEYS}
        row["revenue"] = Decimal(str(item.get("revenue") or 0))
        row["section"] = sections.get(as_uuid(item.get("section_id")), str(item.get("section_id") or "—"))
        row["tier"] = tiers.get(as_uuid(item.get("tier_id")), "—")
        row["total"] = sum(row[key] for key in COUNT_KEYS)
        rows.append(row)
    rows.sort(key=lambda r: (r["section"], r["tier"]))
    totals = {key: sum(r[key] for r in rows) for key in (*COUNT_KEYS, "total")}
    totals["revenue"] = sum((r["revenue"] for r in rows), Decimal("0"))
    totals["sold_percent"] = (
        round(100 * (totals["sold"] + totals["checked_in"] + totals["listed"]) / totals["total"], 1)
        if totals["total"]
        else 0
    )
    return {"rows": rows, "totals": totals}


def _summary_items(summary: dict) -> list[dict]:
    """The per-(section, tier) rows of event_sales_summary: {"sections": [...], "totals": {...}}."""
    return list(summary.get("sections") or [])
