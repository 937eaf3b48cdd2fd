"""Tenancy and roles for the staff admin: who may see and do what, in which organizations.

Staff belong to organizations with one role each (accounts.services.memberships_for_user). A capability names a
kind of work; each is granted to a set of roles. Every ModelAdmin of the project derives from
:class:`TenantScopedAdmin`, which

* scopes ``get_queryset`` to the organizations where the user holds the admin's view capability (superusers: all),
* answers ``has_*_permission`` from roles instead of Django's per-model permissions,
* turns an object outside the scope (another organization's event, seat, order, log) into a 404 instead of the
  admin's usual "perhaps it was deleted" redirect, so nothing about it leaks.

Django's admin already wraps changeform_view, delete_view and changelist bulk edits in
``transaction.atomic(using=router.db_for_write(model))``; actions here call services, which open their own
transaction on their own alias.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from enum import StrEnum
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import Http404, HttpRequest

OWNER, MANAGER, BOX_OFFICE, GATE = "OWNER", "MANAGER", "BOX_OFFICE", "GATE"
ALL_ROLES = frozenset({OWNER, MANAGER, BOX_OFFICE, GATE})


class Capability(StrEnum):
    GATE = "gate"  # scan page
    ENTRY_LOGS = "entry_logs"  # read entry logs
    EVENTS_VIEW = "events_view"  # see events, seats, the sales dashboard
    EVENTS_MANAGE = "events_manage"  # venues, sections, events, tiers, publishing, cancelling
    ORDERS = "orders"  # orders and refunds
    BUYERS_VIEW = "buyers_view"  # see buyers of the organization's events
    BUYERS_MANAGE = "buyers_manage"  # flag / unflag, credit adjustments
    STAFF = "staff"  # memberships of the organization, its audit log


CAPABILITY_ROLES: dict[Capability, frozenset[str]] = {
    Capability.GATE: ALL_ROLES,
    Capability.ENTRY_LOGS: ALL_ROLES,
    Capability.EVENTS_VIEW: frozenset({OWNER, MANAGER, BOX_OFFICE}),
    Capability.EVENTS_MANAGE: frozenset({OWNER, MANAGER}),
    Capability.ORDERS: frozenset({OWNER, BOX_OFFICE}),
    Capability.BUYERS_VIEW: frozenset({OWNER, MANAGER, BOX_OFFICE}),
    Capability.BUYERS_MANAGE: frozenset({OWNER, BOX_OFFICE}),
    Capability.STAFF: frozenset({OWNER}),
}

_CACHE_ATTR = "_tenancy_cache"


def _cache(request: HttpRequest) -> dict[str, Any]:
    cache = getattr(request, _CACHE_ATTR, None)
    if cache is None:
        cache = {}
        setattr(request, _CACHE_ATTR, cache)
    return cache


def is_superuser(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_authenticated and user.is_active and user.is_superuser)


def memberships(request: HttpRequest) -> dict[uuid.UUID, str]:
    """organization id -> role of the logged-in staff member, read once per request."""
    cache = _cache(request)
    if "memberships" not in cache:
        user = request.user
        if not (user.is_authenticated and user.is_active and user.is_staff):
            cache["memberships"] = {}
        else:
            from accounts.services import memberships_for_user

            cache["memberships"] = dict(memberships_for_user(user_id=user.pk))
    return cache["memberships"]


def organization_ids(request: HttpRequest, capability: Capability | str) -> set[uuid.UUID] | None:
    """Organizations where the user holds ``capability``; ``None`` means every organization (superuser)."""
    if is_superuser(request):
        return None
    roles = CAPABILITY_ROLES[Capability(capability)]
    return {org_id for org_id, role in memberships(request).items() if role in roles}


def has_capability(request: HttpRequest, capability: Capability | str, organization_id: Any = None) -> bool:
    """The user holds ``capability`` somewhere, or in ``organization_id`` when it is given."""
    orgs = organization_ids(request, capability)
    if orgs is None:
        return True
    if organization_id is None:
        return bool(orgs)
    try:
        return uuid.UUID(str(organization_id)) in orgs
    except ValueError:
        return False


def event_ids(request: HttpRequest, capability: Capability | str) -> set[uuid.UUID] | None:
    """Events (any status, soft-deleted too) of the organizations where the user holds ``capability``."""
    orgs = organization_ids(request, capability)
    if orgs is None:
        return None
    key = f"events:{Capability(capability).value}"
    cache = _cache(request)
    if key not in cache:
        from events.staff_selectors import event_ids_for_organizations

        cache[key] = event_ids_for_organizations(organization_ids=orgs) if orgs else set()
    return cache[key]


def event_organization_ids(event_ids_: Iterable[Any]) -> dict[uuid.UUID, uuid.UUID]:
    """event id -> organization id, for object checks on rows of other databases (seats, orders, logs)."""
    from events.staff_selectors import organizations_of_events

    return organizations_of_events(event_ids=event_ids_)


class TenantScopedAdmin(admin.ModelAdmin):
    """Base of every ModelAdmin: organization scoping, role permissions, 404 for objects out of scope.

    Subclasses set ``view_capability`` (who may see the model), ``manage_capability`` (who may change it; ``None``
    means read-only for everyone but superusers when ``superuser_can_manage``), and implement
    ``scope_queryset`` and ``object_organization_id``.
    """

    view_capability: Capability | None = None
    manage_capability: Capability | None = None
    add_capability: Capability | None = None  # defaults to manage_capability
    delete_capability: Capability | None = None  # defaults to nobody: most records are soft-deleted or append-only
    superuser_can_manage = True
    # Append-only records (logs, ledgers) are read-only for everyone, superusers included.
    read_only_for_all = False

    # --- scoping -------------------------------------------------------------------------------------------------
    def scope_queryset(self, request: HttpRequest, queryset: QuerySet, organization_ids: set[uuid.UUID]) -> QuerySet:
        raise NotImplementedError

    def object_organization_id(self, obj: Any) -> uuid.UUID | None:
        raise NotImplementedError

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

    # --- audit -------------------------------------------------------------------------------------------------
    # Django's admin history (django_admin_log) stays; every add/change/delete also goes to the project's audit log,
    # with the organization, so owners see their staff's edits next to publishing, refunds and adjustments.
    def _audit(self, request: HttpRequest, obj: Any, verb: str, message: Any) -> None:
        from accounts.services import audit_record

        try:
            organization_id = self.object_organization_id(obj)
        except NotImplementedError:
            organization_id = None
        audit_record(
            actor_id=request.user.pk,
            action=f"{obj._meta.model_name}.{verb}",
            object_type=obj._meta.model_name,
            object_id=str(obj.pk),
            organization_id=organization_id,
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


class TenantScopedInline:
    """Inline permissions follow the parent admin's manage capability (tiers, event sections, order lines)."""

    manage_capability: Capability | None = None
    read_only_for_all = False

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
    """Filter by event, offering only the events the staff member may see."""

    title = "event"
    parameter_name = "event"

    def lookups(self, request, model_admin):
        from events.staff_selectors import event_choices

        return event_choices(event_ids=event_ids(request, model_admin.view_capability))

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        try:
            return queryset.filter(event_id=uuid.UUID(value))
        except ValueError:
            return queryset.none()


class EventScopedAdmin(TenantScopedAdmin):
    """Rows of other databases that carry an ``event_id``: scoped to the events of the user's organizations.

    Importable by the orders admin (orders, transfers, resale listings) as well.
    """

    def scope_queryset(self, request, queryset, organization_ids):
        return queryset.filter(event_id__in=event_ids(request, self.view_capability) or [])

    def object_organization_id(self, obj):
        return event_organization_ids([obj.event_id]).get(obj.event_id)

    @admin.display(description="event")
    def event_title(self, obj):
        titles = getattr(self, "_titles", None)
        if titles is None or obj.event_id not in titles:
            from events.staff_selectors import event_titles

            # One query per changelist page: titles of every event on it.
            page_ids = getattr(self, "_page_event_ids", None) or [obj.event_id]
            self._titles = titles = event_titles(event_ids=set(page_ids) | {obj.event_id})
        return titles.get(obj.event_id, str(obj.event_id))

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        self._page_event_ids = [row.event_id for row in changelist.result_list]
        self._titles = None
        return changelist


def actor_id(request: HttpRequest) -> uuid.UUID:
    return request.user.pk
