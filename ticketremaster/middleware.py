"""Turn an unreachable database into a clean 503 with a stable code, for pages and API alike."""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse

logger = logging.getLogger(__name__)


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        logger.warning("database unavailable during %s %s: %s", request.method, request.path, exception)
        # The broken connection is discarded so the next request reconnects once the server is back.
        from django.db import connections

        for connection in connections.all(initialized_only=True):
            connection.close_if_unusable_or_obsolete()
        if request.path.startswith("/api/") or request.path == "/healthz":
            response = JsonResponse(
                {"code": "DATABASE_UNAVAILABLE", "detail": "A database is unavailable; try again shortly."},
                status=503,
            )
        else:
            response = TemplateResponse(request, "503.html", status=503).render()
        response["Retry-After"] = "5"
        return response
