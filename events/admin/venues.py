"""Organizations, venues and sections in the staff admin, with a section's seat-grid generator page."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Count, OuterRef, Subquery
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_lazy

from core.admin_tenancy import Capability, TenantScopedAdmin, actor_id, is_superuser
from core.errors import DomainError
from events.admin.common import DeletedFilter, OrganizationChoiceMixin, SoftDeleteAdminMixin
from events.admin.section_svg import render_section_svg
from events.admin.venue_map import render_venue_svg
from events.forms import SectionAdminForm, SectionGridForm, VenueAdminForm, VenueLayoutForm
from events.models import Organization, Section, Venue
from events.services import section_generate_grid, venue_generate_layout


def _unsaved(obj) -> bool:
    # An unsaved row already has its (default) UUID: whether it is in the database is the question.
    return obj is None or obj._state.adding


class GeneratorPageMixin:
    """A page of its own beside the change form (``<id>/<generator_path>/``) where a generator rewrites the object:
    the link to it on the change form, its URL, the object looked up for it, and the page in the admin's frame."""

    generator_path: str  # "layout" → the URL <id>/layout/, named admin:events_<model>_layout
    generator_label: str  # the link's text
    generator_unsaved: str  # what the link's place says before the object is saved
    generator_not_found: str
    generator_template: str

    def _generator_url_name(self) -> str:
        return f"events_{self.model._meta.model_name}_{self.generator_path}"

    @admin.display(description=gettext_lazy("generator"))
    def generator_link(self, obj):
        if _unsaved(obj):
            return self.generator_unsaved
        url = reverse(f"admin:{self._generator_url_name()}", args=[obj.pk])
        return format_html('<a class="button" href="{}">{}</a>', url, self.generator_label)

    def get_urls(self):
        view = self.admin_site.admin_view(self.generator_view)
        page = path(f"<path:object_id>/{self.generator_path}/", view, name=self._generator_url_name())
        return [page, *super().get_urls()]

    def generator_object(self, request: HttpRequest, object_id: str):
        obj = self.get_object(request, object_id)  # a malformed or foreign id is a 404 (TenantScopedAdmin)
        if obj is None or not self.has_change_permission(request, obj):
            raise Http404(self.generator_not_found)
        return obj

    def generator_page(self, request: HttpRequest, obj, *, title: str, form, preview: str) -> HttpResponse:
        return self.model_page(request, self.generator_template, title=title, original=obj, form=form, preview=preview)


class VenueSetupAdmin(GeneratorPageMixin, OrganizationChoiceMixin, SoftDeleteAdminMixin, TenantScopedAdmin):
    """Venues and their sections: set up by staff who manage events, the only ones who see them in the admin."""

    view_capability = Capability.EVENTS_MANAGE
    manage_capability = Capability.EVENTS_MANAGE
    delete_capability = Capability.EVENTS_MANAGE


@admin.register(Organization)
class OrganizationAdmin(SoftDeleteAdminMixin, TenantScopedAdmin):
    view_capability = Capability.EVENTS_VIEW
    manage_capability = Capability.STAFF
    list_display = ["name", "slug", "venue_count", "created_at"]
    list_filter = [DeletedFilter]
    search_fields = ["name", "slug"]
    readonly_fields = ["id", "created_at", "updated_at", "deleted_at"]

    # An organization is its own tenant: scoped by its primary key.
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

    @admin.display(description=gettext_lazy("venues"), ordering="_venues")
    def venue_count(self, obj):
        return obj._venues or 0


@admin.register(Venue)
class VenueAdmin(VenueSetupAdmin):
    form = VenueAdminForm
    generator_path = "layout"
    generator_label = gettext_lazy("Generate a layout…")
    generator_unsaved = gettext_lazy("Save the venue first.")
    generator_not_found = gettext_lazy("No such venue.")
    generator_template = "admin/events/venue/layout.html"
    list_display = ["name", "organization", "city", "timezone", "section_count"]
    list_filter = [DeletedFilter, "city"]
    list_select_related = ["organization"]
    search_fields = ["name", "city", "address"]
    readonly_fields = ["id", "layout_link", "map_preview", "created_at", "updated_at", "deleted_at"]
    fieldsets = [
        (None, {"fields": ["organization", "name", "address", "city", "timezone"]}),
        (
            gettext_lazy("Venue map"),
            {
                "description": gettext_lazy(
                    "The stage (or pitch) buyers see the sections around, in map units. Each section's "
                    "place is on its own page; a layout generator places them all at once."
                ),
                "fields": [
                    "layout_link",
                    ("stage_shape", "stage_label"),
                    ("stage_x", "stage_y"),
                    ("stage_width", "stage_height"),
                    "map_preview",
                ],
            },
        ),
        (None, {"fields": ["id", "created_at", "updated_at", "deleted_at"]}),
    ]

    def get_queryset(self, request):
        sections = Section.objects.filter(venue=OuterRef("pk")).order_by().values("venue").annotate(n=Count("pk"))
        return super().get_queryset(request).annotate(_sections=Subquery(sections.values("n")))

    @admin.display(description=gettext_lazy("sections"), ordering="_sections")
    def section_count(self, obj):
        return obj._sections or 0

    @admin.display(description=gettext_lazy("venue map"))
    def map_preview(self, obj):
        if _unsaved(obj):
            return gettext("Save the venue, then add sections or generate a layout.")
        return render_venue_svg(obj)

    @admin.display(description=gettext_lazy("layout generator"))
    def layout_link(self, obj):
        return self.generator_link(obj)

    def generator_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The layout generators: a shape to draw the venue as, and the map before and after."""
        venue = self.generator_object(request, object_id)
        form = VenueLayoutForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                info = venue_generate_layout(venue_id=venue.pk, actor_id=actor_id(request), **form.cleaned_data)
            except DomainError as exc:
                form.add_error(None, exc.detail)
            else:
                text = (
                    gettext("%(name)s: drawn as %(shape)s, %(placed)s sections placed, %(created)s created.")
                    if info.created
                    else gettext("%(name)s: drawn as %(shape)s, %(placed)s sections placed.")
                )
                values = {"name": venue.name, "shape": info.shape.lower(), "placed": info.placed}
                messages.success(request, text % {**values, "created": info.created})
                return HttpResponseRedirect(reverse("admin:events_venue_change", args=[venue.pk]))
        preview = render_venue_svg(venue)
        return self.generator_page(
            request, venue, title=gettext("Layout of %(venue)s") % {"venue": venue}, form=form, preview=preview
        )


@admin.register(Section)
class SectionAdmin(VenueSetupAdmin):
    form = SectionAdminForm
    generator_path = "grid"
    generator_label = gettext_lazy("Generate seat grid…")
    generator_unsaved = gettext_lazy("Save the section first.")
    generator_not_found = gettext_lazy("No such section.")
    generator_template = "admin/events/section/grid.html"
    list_display = ["name", "venue", "kind", "capacity", "sort_order"]
    list_filter = [DeletedFilter, "kind"]
    list_select_related = ["venue", "venue__organization"]
    search_fields = ["name", "venue__name"]
    readonly_fields = [
        "kind",
        "capacity",
        "map_preview",
        "venue_preview",
        "grid_link",
        "created_at",
        "updated_at",
        "deleted_at",
    ]
    fields = [
        "venue",
        "name",
        ("map_x", "map_y", "map_rotation"),
        ("map_shape", "map_arc_radius"),
        ("map_width", "map_height"),
        "sort_order",
        "kind",
        "capacity",
        "grid_link",
        "map_preview",
        "venue_preview",
    ]

    def base_queryset(self, request):
        # The layout (every seat) is read only where it is drawn; lists and lookups skip it.
        return super().base_queryset(request).defer("layout")

    # A section belongs to its venue's organization (it has no organization column of its own).
    def scope_queryset(self, request, queryset, organization_ids):
        return queryset.filter(venue__organization_id__in=organization_ids)

    def object_organization_id(self, obj):
        return obj.venue.organization_id

    @admin.display(description=gettext_lazy("seat map"))
    def map_preview(self, obj):
        if _unsaved(obj):
            return gettext("Save the section, then generate its seats.")
        return render_section_svg(obj)

    @admin.display(description=gettext_lazy("on the venue map"))
    def venue_preview(self, obj):
        if _unsaved(obj):
            return gettext("Save the section to see it on its venue's map.")
        return render_venue_svg(obj.venue, max_width=600)

    @admin.display(description=gettext_lazy("seat grid"))
    def grid_link(self, obj):
        return self.generator_link(obj)

    def generator_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The seat-grid generator: a form whose errors come back on their fields, and a preview of the grid."""
        section = self.generator_object(request, object_id)
        if request.method == "POST":
            form = SectionGridForm(request.POST)
            if form.is_valid() and self._generate_grid(request, section, form):
                return HttpResponseRedirect(reverse("admin:events_section_change", args=[section.pk]))
        else:
            form = SectionGridForm(initial=SectionGridForm.initial_for(section))
        return self.generator_page(
            request,
            section,
            title=gettext("Seat grid of %(section)s") % {"section": section},
            form=form,
            preview=render_section_svg(section),
        )

    def _generate_grid(self, request: HttpRequest, section: Section, form: SectionGridForm) -> bool:
        """Write the grid through the service; a refusal goes onto the form's fields (or the form) instead."""
        try:
            info = section_generate_grid(section_id=section.pk, actor_id=actor_id(request), **form.service_kwargs())
        except DomainError as exc:
            for field, errors in exc.fields.items():
                if field in form.fields:
                    for error in errors:
                        form.add_error(field, error)
            if not exc.fields:
                form.add_error(None, exc.detail)
            return False
        messages.success(
            request,
            f"{section.name}: {info.capacity} places"
            + (f" in {info.rows} rows, {info.accessible} accessible." if info.rows else "."),
        )
        return True
