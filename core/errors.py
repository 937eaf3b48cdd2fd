"""One error type for the domain, one shape for the API.

Services raise a subclass of :class:`DomainError`; the API answers every failure as
``{"code": "STABLE_CODE", "detail": "human text", "fields": {...}}`` and pages show ``detail`` as a message.
Subclasses register themselves, so ``docs/API.md``'s table of codes is generated from the code.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import psycopg
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy
from rest_framework import exceptions as drf_exceptions
from rest_framework.response import Response

from core.observability import note_outcome

logger = logging.getLogger(__name__)


class DomainError(Exception):
    """A refused business operation. ``code`` is stable and machine-readable; ``status`` is its HTTP status."""

    code: ClassVar[str] = "DOMAIN_ERROR"
    status: ClassVar[int] = 400
    default_detail: ClassVar[str | Promise] = gettext_lazy("The request could not be completed.")
    registry: ClassVar[dict[str, type[DomainError]]] = {}

    def __init__(self, detail: str | None = None, *, fields: dict[str, Any] | None = None, **context: Any):
        # Translated here, in the language of the request that failed (default_detail is lazy); the code stays.
        self.detail = str(detail or self.default_detail)
        self.fields = fields or {}
        self.context = context
        note_outcome(self.code)  # the request's metrics are labelled with the code (core/metrics.py)
        super().__init__(self.detail)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        DomainError.registry.setdefault(cls.code, cls)

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "detail": self.detail}
        if self.fields:
            body["fields"] = self.fields
        body.update({key: value for key, value in self.context.items() if value is not None})
        return body


class NotFound(DomainError):
    code = "NOT_FOUND"
    status = 404
    default_detail = gettext_lazy("Not found.")


class InvalidInput(DomainError):
    code = "VALIDATION_ERROR"
    status = 400
    default_detail = gettext_lazy("Invalid input.")


class Conflict(DomainError):
    code = "CONFLICT"
    status = 409
    default_detail = gettext_lazy("The resource changed; try again.")


class ServiceUnavailable(DomainError):
    code = "DATABASE_UNAVAILABLE"
    status = 503
    default_detail = gettext_lazy("A database is unavailable; try again shortly.")


def database_unavailable(exc: BaseException) -> bool:
    """The error means a database went away (server down, connection killed), not a bug in a query.

    OperationalError and InterfaceError say so directly. Behind a pooler, a backend killed under a running request
    can surface as another DatabaseError (psycopg: "received 2 results from command 'COMMIT'"); it counts too when
    the connection it came from is now broken. A library may wrap the database's error in its own (the job queue's
    ConnectorException when a job is queued): the causes are looked at too.
    """
    seen = 0
    cause: BaseException | None = exc
    while cause is not None and seen < 5:
        if isinstance(cause, (OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError)):
            return True
        if isinstance(cause, DatabaseError):
            break
        cause, seen = cause.__cause__, seen + 1
    if not isinstance(cause, DatabaseError):
        return False
    from django.db import connections

    for connection in connections.all(initialized_only=True):
        raw = connection.connection
        if raw is not None and (getattr(raw, "broken", False) or getattr(raw, "closed", False)):
            return True
    return False


# DRF's own exceptions mapped to stable codes.
_DRF_CODES: dict[type[Exception], str] = {
    drf_exceptions.ValidationError: "VALIDATION_ERROR",
    drf_exceptions.ParseError: "MALFORMED_REQUEST",
    drf_exceptions.AuthenticationFailed: "AUTHENTICATION_FAILED",
    drf_exceptions.NotAuthenticated: "NOT_AUTHENTICATED",
    drf_exceptions.PermissionDenied: "PERMISSION_DENIED",
    drf_exceptions.NotFound: "NOT_FOUND",
    drf_exceptions.MethodNotAllowed: "METHOD_NOT_ALLOWED",
    drf_exceptions.NotAcceptable: "NOT_ACCEPTABLE",
    drf_exceptions.UnsupportedMediaType: "UNSUPPORTED_MEDIA_TYPE",
    drf_exceptions.Throttled: "THROTTLED",
}
API_ONLY_CODES = sorted(set(_DRF_CODES.values()))


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    elif database_unavailable(exc):
        logger.warning("database unavailable: %s", exc)
        error = ServiceUnavailable()
        return Response(error.as_dict(), status=error.status, headers={"Retry-After": "5"})
    elif isinstance(exc, DatabaseError):
        return None  # a genuine bug: let it surface as a 500 and be fixed at its cause
    if not isinstance(exc, drf_exceptions.APIException):
        return None
    code = next((code for cls, code in _DRF_CODES.items() if isinstance(exc, cls)), "ERROR")
    headers = {}
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if isinstance(exc, drf_exceptions.ValidationError):
        detail = exc.detail
        if isinstance(detail, dict):
            fields = {key: value for key, value in detail.items() if key != "non_field_errors"}
            message = detail.get("non_field_errors", ["Invalid input."])[0]
        else:
            fields, message = {}, (detail[0] if isinstance(detail, list) and detail else "Invalid input.")
        body = {"code": code, "detail": str(message)}
        if fields:
            body["fields"] = fields
        return Response(body, status=exc.status_code, headers=headers)
    return Response({"code": code, "detail": str(exc.detail)}, status=exc.status_code, headers=headers)
