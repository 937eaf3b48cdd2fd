"""Project-level views: health check."""

from __future__ import annotations

from django.conf import settings
from django.db import connections
from django.db.utils import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.databases import REPLICA_OF
from core.routers import replica_lag_seconds


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when all four databases answer ``SELECT 1``; 503 naming each one that does not.

    A read replica is reported (its lag) but never fails the check: its reads fall back to the primary."""
    status: dict[str, str] = {}
    replicas: dict[str, str] = {}
    for alias in settings.DATABASES:
        if alias in REPLICA_OF:
            lag = replica_lag_seconds(alias)
            replicas[alias] = f"lag {lag:.1f} s" if lag != float("inf") else "unavailable (reads go to the primary)"
            continue
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
            status[alias] = "ok"
        except DatabaseError as exc:
            connections[alias].close_if_unusable_or_obsolete()
            status[alias] = f"unavailable: {str(exc).strip().splitlines()[0] if str(exc).strip() else 'error'}"
    failing = sorted(alias for alias, state in status.items() if state != "ok")
    body: dict = {"status": "ok" if not failing else "unavailable", "databases": status}
    if replicas:
        body["replicas"] = replicas
    if failing:
        body["code"] = "DATABASE_UNAVAILABLE"
        body["detail"] = f"Unavailable: {', '.join(failing)}."
    return JsonResponse(body, status=503 if failing else 200)


@never_cache
@require_GET
def livez(request: HttpRequest) -> JsonResponse:
    """200 while this process serves requests, whatever the databases do: what a load balancer should probe.

    A load balancer that probed /healthz would take every app server out when one domain's database is down,
    although requests for the other domains (and the clean 503s for that one) are still served.
    """
    return JsonResponse({"status": "ok"})
