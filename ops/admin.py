"""Admin pages of the operations layer: the database health page for platform staff (superusers)."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext

from ops import db_health

HEALTH_REFRESH_SECONDS = 15


def database_health_view(request: HttpRequest) -> TemplateResponse:
    """Per database: size, cache hits, connections by state, slowest statements, dead tuples, bloat. Live."""
    if not request.user.is_superuser:
        raise PermissionDenied
    return admin.site.page(
        request,
        "admin/ops/database_health.html",
        title=gettext("Database health"),
        databases=db_health.all_database_health(),
        read_at=timezone.now(),
        refresh_seconds=HEALTH_REFRESH_SECONDS,
    )


admin.site.register_view("database-health/", database_health_view, name="database_health")
