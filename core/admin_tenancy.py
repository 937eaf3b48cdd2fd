"""Tenancy for the staff admin: every ModelAdmin sees and changes only its staff member's organizations.

Every row a staff member may reach carries the ``organization_id`` it belongs to (an event, a seat, an order, an
entry log, a membership...). :class:`TenantScopedAdmin`

* scopes ``get_queryset`` to the organizations where the user holds the admin's view capability (superusers: all),
* answers ``has_*_permission`` from the one capability table (core/permissions.py) through ``user.has_perm``,
* turns an object outside the scope into a 404 instead of the admin's usual "perhaps it was deleted" redirect,
* writes every add/change/delete to the audit log with the organization.

Nothing here is kept on the ModelAdmin between requests: a ModelAdmin is shared by every thread of a worker, so
what belongs to one request (the user's organizations, the names shown on a page) lives on the request or on the
rows of that request's page.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_lazy as _

from core import directory
from core.audit import audit_record
from core.ids import as_uuid
from core.permissions import Capability
from core.permissions import has_capability as user_has_capability
from core.permissions import organization_ids as user_organization_ids

__all__ = [
    "AppendOnlyLogAdmin",
    "Capability",
    "EventFilter",
    "EventScopedAdmin",
    "TenantScopedAdmin",
    "TenantScopedInline",
    "actor_id",
    "has_capability",
    "is_superuser",
    "label_rows",
    "organization_ids",
]


def is_superuser(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_authenticated and user.is_active and user.is_superuser)


def organization_ids(request: HttpRequest, capability: Capability | str) -> frozenset[uuid.UUID] | None:
    """Organizations where the user holds ``capability``; ``None`` means every organization (superuser)."""
    return user_organization_ids(request.user, capability)


def has_capability(request: HttpRequest, capability: Capability | str, organization_id: Any = None) -> bool:
    """The user holds ``capability`` somewhere, or in ``organization_id`` when it is given."""
    return user_has_capability(request.user, capability, organization_id)


def actor_id(request: HttpRequest) -> uuid.UUID:
    return request.user.pk


def label_rows(rows: Iterable[Any], *, kind: str, id_attr: str, label_attr: str) -> None:
    """Name another domain's objects on one page of rows, with one lookup for the whole page.

    The label is stored on each row object of this request's page, never on the (shared) ModelAdmin.
    """
    rows = list(rows)
    labels = directory.names(kind, {getattr(row, id_attr) for row in rows if getattr(row, id_attr, None)})
    for row in rows:
        object_id = getattr(row, id_attr, None)
        setattr(row, label_attr, labels.get(object_id, str(object_id) if object_id else "—"))


def row_label(obj: Any, *, kind: str, id_attr: str, label_attr: str) -> str:
    """The label :func:`label_rows` put on ``obj``, or one looked up alone (a change page shows one row)."""
    if not hasattr(obj, label_attr):
        label_rows([obj], kind=kind, id_attr=id_attr, label_attr=label_attr)
    return getattr(obj, label_attr)


# Columns every table has that staff never type in.
INTERNAL_FIELDS = frozenset({"id", "created_at", "updated_at", "deleted_at"})


def label_widgets(field: forms.Field | None, *, in_table: bool) -> forms.Field | None:
    """Give a form field's inputs accessible names where Django's admin renders none: each input of a split date and
    time ("Starts at (date)"), and every input of a tabular inline row, whose only label is the column heading."""
    if field is None:
        return field
    widget = getattr(field.widget, "widget", field.widget)  # inside the related-object wrapper
    label = str(field.label or "")
    if isinstance(widget, forms.MultiWidget):
        parts = [_("date"), _("time")] if len(widget.widgets) == 2 else [str(n + 1) for n in range(len(widget.widgets))]
        for part, subwidget in zip(parts, widget.widgets, strict=True):
            subwidget.attrs.setdefault("aria-label", f"{label} ({part})")
    elif in_table and label:
        widget.attrs.setdefault("aria-label", label)
    return field


def capability_action(capability: Capability, *, description: Any):
    """An admin action offered only to staff holding ``capability`` (``TenantScopedAdmin.get_actions``); the action
    checks each chosen row's organization again when it runs."""

    def decorate(function):
        function.required_capability = capability
        return admin.action(description=description)(function)

    return decorate


class TenantScopedAdmin(admin.ModelAdmin):
    """Base of every ModelAdmin: organization scoping, role permissions, 404 for objects out of scope.

    Subclasses set ``view_capability`` (who may see the model), ``manage_capability`` (who may change it; ``None``
    means read-only for everyone but superusers when ``superuser_can_manage``). Rows are scoped by their
    ``organization_id`` column; override ``scope_queryset`` and ``object_organization_id`` where it is elsewhere.
    """

    view_capability: Capability | None = None
    manage_capability: Capability | None = None
    add_capability: Capability | None = None  # defaults to manage_capability

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        return label_widgets(super().formfield_for_dbfield(db_field, request, **kwargs), in_table=False)

    delete_capability: Capability | None = None  # defaults to nobody: most records are soft-deleted or append-only
    # Other domains' objects the changelist shows by name: (directory kind, id attribute, label attribute), each
    # looked up once for the whole page (label_rows); the columns read the label back with row_label.
    named_columns: tuple[tuple[str, str, str], ...] = ()
    superuser_can_manage = True
    # Append-only records (logs, ledgers) are read-only for everyone, superusers included.
    read_only_for_all = False

    # --- scoping -------------------------------------------------------------------------------------------------
    def scope_queryset(self, request: HttpRequest, queryset: QuerySet, organization_ids: frozenset) -> QuerySet:
        return queryset.filter(organization_id__in=organization_ids)

    def object_organization_id(self, obj: Any) -> uuid.UUID | None:
        return getattr(obj, "organization_id", None)

    def base_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = self.base_queryset(request)
        if self.view_capability is None:
            return queryset if is_superuser(request) else queryset.none()
        orgs = organization_ids(request, self.view_capability)
        if orgs is None:
            return queryset
        if not orgs:
            return queryset.none()
        return self.scope_queryset(request, queryset, orgs)

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            # Django would redirect to the index with "perhaps it was deleted"; out of scope is simply not found.
            raise Http404("No such object.")
        return obj

    def _allowed(self, request: HttpRequest, capability: Capability | None, obj: Any) -> bool:
        if capability is None:
            return False
        if obj is None:
            return has_capability(request, capability)
        return has_capability(request, capability, self.object_organization_id(obj))

    # --- add forms ---------------------------------------------------------------------------------------------
    # A new row's id and timestamps are the database's business: the add form does not show them (an unsaved row
    # already has its default UUID, which would read like a real one).
    def get_fields(self, request: HttpRequest, obj: Any = None):
        fields = super().get_fields(request, obj)
        return fields if obj is not None else [f for f in fields if f not in INTERNAL_FIELDS]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None:
            return fieldsets
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f not in INTERNAL_FIELDS]})
            for name, options in fieldsets
        ]

    # --- audit -------------------------------------------------------------------------------------------------
    # Django's admin history (django_admin_log) stays; every add/change/delete also goes to the project's audit log,
    # with the organization, so owners see their staff's edits next to publishing, refunds and adjustments.
    def _audit(self, request: HttpRequest, obj: Any, verb: str, message: Any) -> None:
        audit_record(
            actor_id=request.user.pk,
            action=f"{obj._meta.model_name}.{verb}",
            object_type=obj._meta.model_name,
            object_id=str(obj.pk),
            organization_id=self.object_organization_id(obj),
            data={"change": str(message)[:1000]} if message else {},
        )

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        self._audit(request, obj, "add", message)
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        self._audit(request, obj, "change", message)
        return entry

    def log_deletions(self, request, queryset):
        entries = super().log_deletions(request, queryset)
        for obj in queryset:
            self._audit(request, obj, "delete", "")
        return entries

    # --- permissions ---------------------------------------------------------------------------------------------
    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if is_superuser(request):
            return True
        return self._allowed(request, self.view_capability, obj) or self.has_change_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if self.read_only_for_all:
            return False
        if is_superuser(request):
            return self.superuser_can_manage
        return self._allowed(request, self.manage_capability, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if self.read_only_for_all:
            return False
        if is_superuser(request):
            return self.superuser_can_manage
        return self._allowed(request, self.add_capability or self.manage_capability, None)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if self.read_only_for_all:
            return False
        if is_superuser(request):
            return self.superuser_can_manage and self.delete_capability is not None
        return self._allowed(request, self.delete_capability, obj)

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        for kind, id_attr, label_attr in self.named_columns:
            label_rows(changelist.result_list, kind=kind, id_attr=id_attr, label_attr=label_attr)
        return changelist

    def get_actions(self, request: HttpRequest) -> dict:
        """Django's actions, less those of a ``capability_action`` whose capability the staff member lacks."""
        actions = super().get_actions(request)
        return {
            name: action
            for name, action in actions.items()
            if getattr(action[0], "required_capability", None) is None
            or has_capability(request, action[0].required_capability)
        }

    # --- pages -----------------------------------------------------------------------------------------------------
    def model_page(self, request: HttpRequest, template: str, *, title: Any, **context: Any) -> TemplateResponse:
        """A page of the model's own (an action's form, a tool on one object) in the admin's frame, with the model's
        breadcrumbs (``opts``)."""
        return self.admin_site.page(request, template, title=title, opts=self.model._meta, **context)


class AppendOnlyLogAdmin:
    """Before a ModelAdmin of an append-only log (the ledger, the audit log, the gate's entry log): nobody edits it,
    it is browsed by day, and its changelist skips the second count(*) of a table that only grows."""

    read_only_for_all = True
    date_hierarchy = "created_at"
    show_full_result_count = False


class TenantScopedInline:
    """Inline permissions follow the parent admin's manage capability (tiers, event sections, order lines)."""

    manage_capability: Capability | None = None
    read_only_for_all = False

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        in_table = isinstance(self, admin.TabularInline)
        return label_widgets(super().formfield_for_dbfield(db_field, request, **kwargs), in_table=in_table)

    def get_formset(self, request, obj=None, **kwargs):
        """Each row's delete box named too (the formset adds it, not formfield_for_dbfield)."""
        formset = super().get_formset(request, obj, **kwargs)

        def add_fields(formset_self, form, index):
            formset.add_fields(formset_self, form, index)
            if "DELETE" in form.fields:
                form.fields["DELETE"].widget.attrs.setdefault("aria-label", _("Delete"))

        return type(formset.__name__, (formset,), {"add_fields": add_fields})

    def _can_manage(self, request: HttpRequest, obj: Any) -> bool:
        if self.read_only_for_all:
            return False
        if is_superuser(request):
            return True
        if self.manage_capability is None:
            return False
        parent_org = getattr(self, "parent_organization_id", None)
        org = parent_org(obj) if (parent_org and obj is not None) else None
        return has_capability(request, self.manage_capability, org)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return True  # the parent admin already decided the user may see this object

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._can_manage(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._can_manage(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._can_manage(request, obj)


class EventFilter(admin.SimpleListFilter):
    """Filter by event, offering the events of the organizations the staff member may see."""

    title = gettext_lazy("event")
    parameter_name = "event"

    def lookups(self, request, model_admin):
        orgs = organization_ids(request, model_admin.view_capability)
        return list(directory.names(directory.EVENTS_OF_ORGANIZATIONS, orgs).items())

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        event_id = as_uuid(value)
        return queryset.none() if event_id is None else queryset.filter(event_id=event_id)


class EventScopedAdmin(TenantScopedAdmin):
    """Rows of an event (seats, entry logs, orders, transfers, listings), shown with the event's title."""

    named_columns = ((directory.EVENT, "event_id", "event_label"),)

    @admin.display(description=gettext_lazy("event"))
    def event_title(self, obj):
        return row_label(obj, kind=directory.EVENT, id_attr="event_id", label_attr="event_label")
