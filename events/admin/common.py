"""What the events admins share: soft delete, and choices limited to the staff member's organizations."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext, gettext_lazy

from core.admin_tenancy import Capability, organization_ids
from events import DB_ALIAS
from events.models import Organization, Venue


class DeletedFilter(admin.SimpleListFilter):
    """Soft-deleted records stay reachable for staff, hidden unless asked for."""

    title = gettext_lazy("deleted")
    parameter_name = "deleted"

    def lookups(self, request, model_admin):
        return [("no", gettext("Live")), ("yes", gettext("Deleted")), ("all", gettext("All"))]

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
    """Delete means soft delete: the row stays for staff and audits (orders and tickets refer to it), not for buyers."""

    def base_queryset(self, request):
        return self.model.all_objects.using(DB_ALIAS).all()

    def delete_model(self, request, obj):
        obj.soft_delete()

    def delete_queryset(self, request, queryset):
        queryset.soft_delete()


class OrganizationChoiceMixin:
    """Foreign keys to organizations/venues offer only those the user may manage."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        orgs = organization_ids(request, Capability.EVENTS_MANAGE)
        if db_field.name == "organization" and orgs is not None:
            kwargs["queryset"] = Organization.objects.using(DB_ALIAS).filter(pk__in=orgs)
            if len(orgs) == 1:
                # One organization: nothing to choose, so it is chosen (the usual case for a venue's staff).
                kwargs.setdefault("initial", next(iter(orgs)))
        elif db_field.name == "venue" and orgs is not None:
            kwargs["queryset"] = Venue.objects.using(DB_ALIAS).filter(organization_id__in=orgs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
