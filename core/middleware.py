"""Turn an unreachable database into a clean 503 with a stable code, for pages and API alike."""

from __future__ import annotations

import functools
import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse

from core.errors import database_unavailable

logger = logging.getLogger(__name__)


def viewer_independent(view):
    """Marks a view whose answer is the same for everyone (public, cacheable by the proxy): middleware must neither
    read the session nor the user for it, so a poll of it costs no session or user lookup."""
    view.viewer_independent = True
    return view


def is_viewer_independent(view) -> bool:
    return getattr(view, "viewer_independent", False)


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not database_unavailable(exception):
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


# A strict policy for every page: scripts and styles only from our own origin (the pages keep their JavaScript in
# static files), no plugins, no framing, forms post only to us. Inline style *attributes* are allowed (progress
# bars set a width); inline <style> and <script> elements are not. ``form_action`` adds origins a form's answer may
# redirect to (browsers apply form-action to the redirect too): the card provider's hosted payment page.
@functools.lru_cache(maxsize=8)
def page_content_security_policy(form_action: tuple[str, ...] = ()) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "style-src-attr 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            " ".join(["form-action 'self'", *form_action]),
            "frame-ancestors 'none'",
        ]
    )


# The third-party API documentation pages (drf-spectacular's Swagger UI and ReDoc templates) carry an inline
# <style> and, for ReDoc, an inline start-up script and a blob: worker; they get a policy that allows exactly that.
API_DOCS_CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
    ]
)
API_DOCS_PATHS = ("/api/v1/docs/", "/api/v1/redoc/")
# The gate's scan page uses the camera of the device it runs on; nothing uses the rest.
DEFAULT_PERMISSIONS_POLICY = "camera=(self), microphone=(), geolocation=(), payment=(), usb=()"


class SecurityHeadersMiddleware:
    """Content-Security-Policy and Permissions-Policy on every response (Django 5.2 sets the other headers)."""

    def __init__(self, get_response):
        from django.conf import settings

        self.get_response = get_response
        self.policy = getattr(settings, "CONTENT_SECURITY_POLICY", None)
        self.permissions = getattr(settings, "PERMISSIONS_POLICY", DEFAULT_PERMISSIONS_POLICY)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings

        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            if request.path.startswith(API_DOCS_PATHS):
                policy = API_DOCS_CONTENT_SECURITY_POLICY
            else:
                policy = self.policy or page_content_security_policy(tuple(settings.PAYMENT_PAGE_ORIGINS))
            response["Content-Security-Policy"] = policy
        response.setdefault("Permissions-Policy", self.permissions)
        return response


class RequestSizeLimitMiddleware:
    """Refuse a request body larger than DATA_UPLOAD_MAX_MEMORY_SIZE before anything reads it.

    Django checks that limit only when ``request.body``/``request.POST`` is read; DRF's parsers read the stream
    directly, so without this an API client could make a worker parse a body of any size.
    """

    def __init__(self, get_response):
        from django.conf import settings

        self.get_response = get_response
        self.limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0 or (self.limit is not None and length > self.limit):
            detail = (
                "The Content-Length header is not a number."
                if length < 0
                else f"The request body is larger than {self.limit} bytes."
            )
            code, status = ("MALFORMED_REQUEST", 400) if length < 0 else ("REQUEST_TOO_LARGE", 413)
            if request.path.startswith("/api/"):
                return JsonResponse({"code": code, "detail": detail}, status=status)
            return HttpResponse(detail, status=status, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
