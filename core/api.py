"""Shared API pieces: the one error shape in the OpenAPI schema, and a serializer base that refuses unknown fields.

* ``add_error_responses`` is a drf-spectacular post-processing hook (settings.SPECTACULAR_SETTINGS): every operation
  documents the error answers every endpoint can give, all in the ``Error`` shape
  ``{"code": "STABLE_CODE", "detail": "...", "fields": {...}}``, so a client (and schemathesis) finds each status it
  may receive in the schema.
* ``StrictSerializer``: a request serializer that answers 400 VALIDATION_ERROR naming any field it does not know,
  instead of silently ignoring a misspelt or smuggled field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.urls import reverse
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

ERROR_COMPONENT = {
    "type": "object",
    "description": "Every error answer of the API.",
    "properties": {
        "code": {"type": "string", "description": "Stable, machine-readable code, e.g. SEAT_UNAVAILABLE."},
        "detail": {"type": "string", "description": "Human-readable explanation."},
        "fields": {
            "type": "object",
            "description": "Per-field messages of a validation error.",
            "additionalProperties": True,
        },
    },
    "required": ["code", "detail"],
    "additionalProperties": True,
}

# Status -> description. Each can come from any endpoint: validation, authentication, permissions, unknown or
# foreign objects (404, never 403, so ids do not leak), business conflicts, oversized bodies, wrong content types,
# throttling and a database that is down.
COMMON_ERRORS = {
    "400": "Invalid input (VALIDATION_ERROR, MALFORMED_REQUEST, ...).",
    "401": "Not authenticated (NOT_AUTHENTICATED, AUTHENTICATION_FAILED).",
    "402": "Not enough credits (INSUFFICIENT_CREDITS).",
    "403": "Not allowed (PERMISSION_DENIED and domain refusals).",
    "404": "Unknown object, or one you may not see (NOT_FOUND).",
    "405": "Method not allowed (METHOD_NOT_ALLOWED).",
    "406": "Not acceptable (NOT_ACCEPTABLE).",
    "409": "Conflict with the current state (SEAT_UNAVAILABLE, HOLD_EXPIRED, ...).",
    "413": "Request body too large (REQUEST_TOO_LARGE).",
    "415": "Unsupported content type (UNSUPPORTED_MEDIA_TYPE).",
    "428": "A one-time-code step-up is required first (STEP_UP_REQUIRED).",
    "429": "Too many requests (THROTTLED, OTP_ATTEMPTS_EXCEEDED).",
    "503": "A database is unavailable; retry later (DATABASE_UNAVAILABLE).",
}


def add_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular POSTPROCESSING_HOOKS entry: document the shared error answers on every operation."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("Error", ERROR_COMPONENT)
    reference = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in ("get", "post", "put", "patch", "delete") or not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            for status, description in COMMON_ERRORS.items():
                responses.setdefault(
                    status, {"description": description, "content": {"application/json": {"schema": reference}}}
                )
    return result


class StrictSerializer(serializers.Serializer):
    """A request serializer that refuses fields it does not declare (400 VALIDATION_ERROR naming them).

    Checked in ``to_internal_value`` rather than ``validate``: the unknown names are reported together with the
    other field errors (a misspelt field usually also means a missing required one), a subclass's own ``validate``
    never runs on a body with smuggled fields, and nested strict serializers are strict too. A body that is not an
    object (a list, a string, null) is refused by DRF itself with 400 VALIDATION_ERROR.
    """

    def to_internal_value(self, data: Any) -> Any:
        unknown = sorted(str(name) for name in set(data) - set(self.fields)) if isinstance(data, Mapping) else []
        errors = {name: [ErrorDetail("Unknown field.", code="unknown_field")] for name in unknown}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            if errors and isinstance(exc.detail, dict):
                exc.detail.update(errors)
            raise
        if errors:
            raise serializers.ValidationError(errors)
        return value


class StrictSerializerSchema(OpenApiSerializerExtension):
    """The schema says what StrictSerializer enforces: request bodies admit no properties beyond the declared ones
    (so clients learn it, and schemathesis sends extra properties as invalid data that must be refused)."""

    target_class = StrictSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema = auto_schema._map_basic_serializer(self.target, direction)
        if direction == "request":
            schema["additionalProperties"] = False
        return schema


class UUIDField(serializers.UUIDField):
    """A UUID given as text only. DRF's own field also takes a JSON number (and ``true``, a bool being an int) as
    ``UUID(int=...)``, so ``{"event_id": true}`` would quietly name event 00000000-...-0001; no client means that."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class MoneyField(serializers.DecimalField):
    """An amount of money as every database stores it, NUMERIC(10,2): a string with two decimals in an answer."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(max_digits=10, decimal_places=2, **kwargs)


def paginated(serializer_class: type[serializers.Serializer]) -> serializers.Serializer:
    """The schema of a PageNumberPagination answer of ``serializer_class`` rows, for ``@extend_schema(responses=...)``
    on an APIView that paginates by hand (drf-spectacular only infers it for generic list views)."""
    from drf_spectacular.utils import inline_serializer

    name = serializer_class.__name__.removesuffix("Serializer")
    return inline_serializer(
        f"Paginated{name}List",
        {
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )


def not_found(request, exception=None):
    """handler404: an unrouted /api/ URL answers in the API's error shape; pages get the 404 template."""
    from django.http import JsonResponse
    from django.views.defaults import page_not_found

    if request.path.startswith("/api/"):
        return JsonResponse({"code": "NOT_FOUND", "detail": "No such API endpoint or object."}, status=404)
    return page_not_found(request, exception)


API_PREFIX = "api/v1/"
_ROUTE_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")


def api_routes() -> list[str]:
    """Every route under /api/v1/, as the URL resolver spells it with ``{param}`` placeholders, in URLconf order."""
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(patterns, prefix: str) -> list[str]:
        routes: list[str] = []
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                routes += walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                routes.append(prefix + str(pattern.pattern))
        return routes

    found = [route for route in walk(get_resolver().url_patterns, "") if route.startswith(API_PREFIX)]
    return [_ROUTE_PARAM.sub(r"{\1}", route) for route in found if route != API_PREFIX]


class ApiRootView(APIView):
    """The API's front door: every endpoint, grouped by its first path segment (events, orders, transfers...)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        groups: dict[str, list[str]] = {}
        site = request.build_absolute_uri("/")  # routes keep their {param} placeholders unquoted
        for route in api_routes():
            group = route.removeprefix(API_PREFIX).split("/", 1)[0]
            groups.setdefault(group, []).append(site + route)
        return Response(
            {
                "version": "v1",
                "documentation": {
                    "openapi": request.build_absolute_uri(reverse("schema")),
                    "swagger": request.build_absolute_uri(reverse("swagger-ui")),
                    "redoc": request.build_absolute_uri(reverse("redoc")),
                },
                "errors": 'Every error: {"code": "STABLE_CODE", "detail": "...", "fields": {...}}.',
                "groups": groups,
            }
        )


class JsonErrorsMixin:
    """A view whose successful answers are not JSON (the OpenAPI document in YAML, the documentation pages in HTML)
    still answers its errors (405 for an unsupported method...) in the API's JSON error shape."""

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        if isinstance(response, Response) and response.status_code >= 400:
            response.accepted_renderer = JSONRenderer()
            response.accepted_media_type = "application/json"
            response.renderer_context = self.get_renderer_context()
        return response


class SchemaView(JsonErrorsMixin, SpectacularAPIView):
    """The OpenAPI document (YAML or JSON by content negotiation)."""


class SwaggerView(JsonErrorsMixin, SpectacularSwaggerView):
    """Swagger UI from the vendored drf-spectacular-sidecar files."""


class RedocView(JsonErrorsMixin, SpectacularRedocView):
    """ReDoc from the vendored drf-spectacular-sidecar files (templates/drf_spectacular/redoc.html drops its web
    fonts from an outside host)."""
