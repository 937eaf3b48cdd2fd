"""The on-sale's and the gate's API requests without the machinery they do not use.

A hold, a release, a checkout and a gate scan sent the way scanner apps and integrations send them (``Authorization:
Token ...``, a JSON object body, no cookie, no content negotiation) spend most of Django's time per request in parts
that decide nothing for them: sessions, messages, CSRF (token requests are exempt), DRF's request wrapper, content
negotiation, parsers and serializer classes built per request. ``LeanApiMiddleware`` answers exactly those requests
itself, with the same services, the same token authentication (and its principal cache), the same user throttle,
the same language selection and the same answer, byte for byte, headers included (tests/performance/test_lean_paths.py
compares both paths). Anything else — another method or route, a cookie, an ``Accept`` other than JSON, a body that
is not a plain JSON object of the expected shape, an authentication or throttle refusal — goes on to the full stack,
which then answers it as always: the lean path never produces an error the full one would word differently.

It sits after the request id and metrics, the waiting room's timing, the security headers and the body size limit
(settings.MIDDLEWARE), which keep working for these requests. ``API_LEAN_DISPATCH = False`` turns it off.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, ResolverMatch, get_resolver
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.renderers import JSONRenderer

from accounts import selectors as accounts_selectors
from accounts.api.authentication import ExpiringTokenAuthentication
from core.errors import api_exception_handler
from inventory import services as inventory_services
from orders import presentation
from orders import services as order_services
from orders.api.serializers import MAX_SEATS_PER_REQUEST
from orders.ids import id_or_not_found
from orders.services.waiting_room import waiting_room_pass_from_request

MAX_GATE_LENGTH = 64
MAX_TOKEN_LENGTH = 4096
MAX_IDEMPOTENCY_KEY_BODY = 100


class FullPath(Exception):  # noqa: N818 - control flow: this request goes through the full stack
    """Raised before any service is called: the full stack answers this request (and words any refusal)."""


# --- Input: only the plain, valid shapes; anything else is the full stack's to answer -----------------------------
def _object(data: Any, allowed: frozenset[str]) -> dict[str, Any]:
    if not isinstance(data, dict) or not data.keys() <= allowed:
        raise FullPath
    return data


def _uuid(value: Any) -> uuid.UUID:
    if not isinstance(value, str):
        raise FullPath
    try:
        return uuid.UUID(hex=value)
    except ValueError:
        raise FullPath from None


def _optional_uuid(data: dict[str, Any], name: str) -> uuid.UUID | None:
    value = data.get(name)
    return None if value is None else _uuid(value)


def _seat_ids(data: dict[str, Any]) -> list[uuid.UUID] | None:
    if "seat_ids" not in data:
        return None
    value = data["seat_ids"]
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_SEATS_PER_REQUEST:
        raise FullPath
    return [_uuid(item) for item in value]


def _text(value: Any, *, max_length: int, allow_blank: bool) -> str:
    """DRF's CharField (whitespace trimmed, no NUL), for text values only."""
    if not isinstance(value, str) or "\x00" in value:
        raise FullPath
    value = value.strip()
    if len(value) > max_length or (not value and not allow_blank):
        raise FullPath
    return value


# --- Output: what the serializers render, without building them per request ----------------------------------------
def _id(value: Any) -> str | None:
    return None if value is None else str(value)


def _money(value: Decimal) -> str:
    """core.api.MoneyField: NUMERIC(10,2) as DRF renders it."""
    return "{:f}".format(Decimal(value).quantize(Decimal("0.01")))


def _when(value: Any) -> str | None:
    """serializers.DateTimeField: ISO 8601 in the current time zone, UTC written as Z."""
    if value is None:
        return None
    text = timezone.localtime(value, timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def held_seat_json(seat: Any) -> dict[str, Any]:
    """orders.api.serializers.HeldSeatSerializer."""
    return {
        "id": str(seat.id),
        "event_id": str(seat.event_id),
        "section_id": str(seat.section_id),
        "tier_id": _id(seat.tier_id),
        "row_label": str(seat.row_label),
        "number": int(seat.number),
        "label": str(seat.label),
        "price": _money(seat.price),
        "is_accessible": bool(seat.is_accessible),
        "is_general_admission": bool(seat.is_general_admission),
        "hold_expires_at": _when(seat.hold_expires_at),
    }


def order_json(order: Any) -> dict[str, Any]:
    """orders.api.serializers.OrderSerializer of an OrderInfo."""
    return {
        "id": str(order.id),
        "event_id": str(order.event_id),
        "status": str(order.status),
        "step": str(order.step),
        "total": _money(order.total),
        "idempotency_key": str(order.idempotency_key),
        "failure_code": str(order.failure_code),
        "created_at": _when(order.created_at),
        "confirmed_at": _when(order.confirmed_at),
        "refunded_at": _when(order.refunded_at),
        "refunded_amount": _money(order.refunded_amount),
        "lines": [
            {"seat_id": str(line.seat_id), "price": _money(line.price), "is_active": bool(line.is_active)}
            for line in order.lines
        ],
        "pay_url": order.pay_url or "",
    }


def scan_json(described: dict[str, Any]) -> dict[str, Any]:
    """orders.api.ticket_serializers.ScanResponseSerializer of presentation.scan_describe()."""
    seat = described["seat"]
    if seat is not None:
        seat = {
            "id": str(seat["id"]),
            "event_id": str(seat["event_id"]),
            "section_id": str(seat["section_id"]),
            "section_name": str(seat["section_name"]),
            "row": str(seat["row"]),
            "number": int(seat["number"]),
            "label": str(seat["label"]),
            "place": str(seat["place"]),
            "is_accessible": bool(seat["is_accessible"]),
            "is_general_admission": bool(seat["is_general_admission"]),
            "status": str(seat["status"]),
            "checked_in_at": _when(seat["checked_in_at"]),
        }
    return {
        "result": str(described["result"]),
        "admitted": bool(described["admitted"]),
        "seat": seat,
        "holder_name": str(described["holder_name"]),
        "detail": str(described["detail"]),
    }


# --- The endpoints: check the body, then (after the throttle) call the one service the view calls ----------------
# Each returns the call to make: refusals of the services (a 404 event, a 409 seat) happen in it, after the user
# throttle, as they do behind DRF's view; only FullPath is raised before.
Call = Callable[[], tuple[int, Any]]
_HOLD_FIELDS = frozenset({"seat_ids", "section_id", "tier_id", "quantity"})
_RELEASE_FIELDS = frozenset({"event_id", "seat_ids"})
_CHECKOUT_FIELDS = frozenset({"event_id", "pay_difference_by_card"})
_SCAN_FIELDS = frozenset({"event_id", "gate", "token"})


def hold_create(request: HttpRequest, data: Any, *, event_id: str) -> Call:
    """orders.api.views.HoldCreateView.post."""
    body = _object(data, _HOLD_FIELDS)
    seat_ids = _seat_ids(body)
    section_id, tier_id = _optional_uuid(body, "section_id"), _optional_uuid(body, "tier_id")
    quantity = body.get("quantity")
    if "quantity" in body and (type(quantity) is not int or not 1 <= quantity <= MAX_SEATS_PER_REQUEST):
        raise FullPath
    if (seat_ids is None) == (quantity is None) or (seat_ids is not None and (section_id or tier_id)):
        raise FullPath

    def call() -> tuple[int, Any]:
        event_pk = id_or_not_found(event_id, name="event")
        held = order_services.hold_seats(
            buyer_id=request.user.pk,
            event_id=event_pk,
            seat_ids=seat_ids,
            section_id=section_id,
            tier_id=tier_id,
            quantity=quantity,
            waiting_room_pass=waiting_room_pass_from_request(request, event_pk),
            buyer=accounts_selectors.user_info_of(request.user),
        )
        return 201, [held_seat_json(seat) for seat in held]

    return call


def hold_release(request: HttpRequest, data: Any) -> Call:
    """orders.api.views.HoldReleaseView.post."""
    body = _object(data, _RELEASE_FIELDS)
    event_pk, seat_ids = _optional_uuid(body, "event_id"), _seat_ids(body)

    def call() -> tuple[int, Any]:
        released = order_services.release_holds(buyer_id=request.user.pk, event_id=event_pk, seat_ids=seat_ids)
        return 200, {"released": released}

    return call


def order_create(request: HttpRequest, data: Any) -> Call:
    """orders.api.views.OrderListCreateView.post, paid from credits, with the key in the Idempotency-Key header."""
    body = _object(data, _CHECKOUT_FIELDS)
    event_pk = _uuid(body.get("event_id"))
    if body.get("pay_difference_by_card", False) is not False:
        raise FullPath
    key = request.META.get("HTTP_IDEMPOTENCY_KEY")
    if not key:
        raise FullPath

    def call() -> tuple[int, Any]:
        order = order_services.order_checkout(
            buyer_id=request.user.pk,
            event_id=event_pk,
            idempotency_key=key,
            waiting_room_pass=waiting_room_pass_from_request(request, event_pk),
        )
        return (200 if order.is_replay else 201), order_json(order)

    return call


def ticket_scan(request: HttpRequest, data: Any) -> Call:
    """orders.api.ticket_views.ScanView.post."""
    body = _object(data, _SCAN_FIELDS)
    if body.keys() != _SCAN_FIELDS:
        raise FullPath
    event_id = _uuid(body["event_id"])
    gate = _text(body["gate"], max_length=MAX_GATE_LENGTH, allow_blank=False)
    token = _text(body["token"], max_length=MAX_TOKEN_LENGTH, allow_blank=True)

    def call() -> tuple[int, Any]:
        event = presentation.gate_event_for_staff(user=request.user, event_id=event_id)
        outcome = inventory_services.ticket_scan(
            token=token, event_id=event.id, gate=gate, staff_id=request.user.pk, organization_id=event.organization_id
        )
        return 200, scan_json(presentation.scan_describe(outcome))

    return call


ENDPOINTS: dict[str, Callable[..., Call]] = {
    "api-hold-create": hold_create,
    "api-holds-release": hold_release,
    "api-orders": order_create,
    "api-scan": ticket_scan,
}


# --- The dispatch ----------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=4096)
def _hot_match(urlconf: str, path: str) -> ResolverMatch | None:
    """The URL's match when it names one of ENDPOINTS, else None; Resolver404 is raised (and not cached).

    Resolving walks the project's URL patterns, about 0.45 ms of CPU per request (bench.hot_path's profile: a fifth
    of a scan), and the hot paths are few (one per event for holds and scans, two others), so their matches are
    kept per process: a pure function of the URLconf and the path, nothing of any request's. Bounded: an LRU of
    4,096 paths."""
    match = get_resolver(urlconf).resolve(path)
    return match if match.url_name in ENDPOINTS else None


def _refuse_constant(name: str) -> None:
    raise ValueError(name)  # NaN and Infinity: DRF's strict JSON parser refuses them


class LeanApiMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.enabled = getattr(settings, "API_LEAN_DISPATCH", True)
        self.renderer = JSONRenderer()
        self._allow: dict[Any, str] = {}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        if (
            not self.enabled
            or request.method != "POST"
            or meta.get("CONTENT_TYPE") != "application/json"
            or meta.get("HTTP_ACCEPT", "application/json") not in ("application/json", "*/*")
            or meta.get("HTTP_COOKIE")
            or meta.get("QUERY_STRING")
            or not request.path_info.startswith("/api/")
            or hasattr(request, "urlconf")
        ):
            return self.get_response(request)
        try:
            match = _hot_match(settings.ROOT_URLCONF, request.path_info)
        except Resolver404:
            return self.get_response(request)
        if match is None:
            return self.get_response(request)
        endpoint = ENDPOINTS[match.url_name]
        try:
            return self._answer(request, match, endpoint)
        except FullPath:
            return self.get_response(request)

    def _answer(self, request: HttpRequest, match, endpoint) -> HttpResponse:
        view_class = match.func.view_class
        view = view_class()
        view.setup(request, **match.kwargs)  # as as_view() does: GET also answers HEAD, which Allow names
        request.resolver_match = match
        # As LocaleMiddleware would before the view: an error from any step below is answered in the buyer's language.
        translation.activate(translation.get_language_from_request(request))
        request.LANGUAGE_CODE = translation.get_language()
        headers: dict[str, str] = {}
        try:
            status, body = self._run(request, match, endpoint, view)
        except FullPath:
            raise
        except Exception as exc:
            # What DRF's handle_exception does with an error of any step, the token lookup included: a database
            # gone away while the principal is read is the 503 of every outage, not a 500.
            answer = api_exception_handler(exc, {"request": request})
            if answer is None:
                raise  # a bug: a 500, as behind DRF
            status, body = answer.status_code, answer.data
            headers = {name: value for name, value in answer.items() if name.lower() != "content-type"}
        return self._response(request, view, status, body, headers)

    def _run(self, request: HttpRequest, match, endpoint, view) -> tuple[int, Any]:
        """Authenticate, parse, check permissions and throttles in DRF's order, then call the endpoint; FullPath
        where the full stack must answer instead."""
        view_class = type(view)
        request.user = self._authenticate(request, cached=getattr(view_class, "cached_principal", False))
        try:
            data = json.loads(request.body, parse_constant=_refuse_constant) if request.body else None
        except (ValueError, RecursionError):  # not JSON, NaN, nested past the parser's depth: DRF's to answer
            raise FullPath from None
        call = endpoint(request, data, **match.kwargs)
        # DRF's order: permissions, then throttles (a throttle records the request it lets through).
        for permission in view_class.permission_classes:
            if not permission().has_permission(request, view):
                raise FullPath
        for throttle in view_class.throttle_classes:
            if not throttle().allow_request(request, view):
                raise FullPath
        return call()

    def _authenticate(self, request: HttpRequest, *, cached: bool):
        """``Authorization: Token <key>`` through the API's token authentication (and its principal cache where the
        view asks for it)."""
        parts = request.META.get("HTTP_AUTHORIZATION", "").split()
        if len(parts) != 2 or parts[0].lower() != "token":
            raise FullPath
        authentication = ExpiringTokenAuthentication()
        authentication.use_cache = bool(cached)
        try:
            user, _token = authentication.authenticate_credentials(parts[1])
        except AuthenticationFailed:
            raise FullPath from None
        return user

    def _response(self, request: HttpRequest, view, status: int, body: Any, headers) -> HttpResponse:
        response = HttpResponse(self.renderer.render(body), status=status, content_type="application/json")
        for name, value in headers.items():
            response[name] = value
        # What DRF's finalize_response and the middleware this request skipped add, in their order.
        patch_vary_headers(response, ("Accept",))
        response["Allow"] = self._allowed(view)
        response.setdefault("X-Frame-Options", getattr(settings, "X_FRAME_OPTIONS", "DENY").upper())
        response["Content-Length"] = str(len(response.content))
        patch_vary_headers(response, ("Accept-Language",))
        response.setdefault("Content-Language", request.LANGUAGE_CODE)
        # The session middleware's: the skipped language middleware reads the (absent) session of every request
        # without a language cookie, so the full stack says Vary: Cookie too.
        if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
            patch_vary_headers(response, ("Cookie",))
        return response

    def _allowed(self, view) -> str:
        allowed = self._allow.get(type(view))
        if allowed is None:
            allowed = self._allow[type(view)] = ", ".join(view.allowed_methods)
        return allowed
