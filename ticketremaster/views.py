"""Project-level views: health check."""

from __future__ import annotations

from django.conf import settings
from django.db import connections
from django.db.utils import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when all four databases answer ``SELECT 1``; 503 naming each one that does not."""
    status: dict[str, str] = {}
    for alias in settings.DATABASES:
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
            status[alias] = "ok"
        except DatabaseError as exc:
            connections[alias].close_if_unusable_or_obsolete()
            status[alias] = f"unavailable: {str(exc).strip().splitlines()[0] if str(exc).strip() else 'error'}"
    failing = sorted(alias for alias, state in status.items() if state != "ok")
    body = {"status": "ok" if not failing else "unavailable", "databases": status}
    if failing:
        body["code"] = "DATABASE_UNAVAILABLE"
        body["detail"] = f"Unavailable: {', '.join(failing)}."
    return JsonResponse(body, status=503 if failing else 200)
