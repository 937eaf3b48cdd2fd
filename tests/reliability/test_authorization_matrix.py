"""Authorization matrix: every API operation and every page × six personas, with the status each must get.

The tables below are the specification. Two guard tests walk the URL resolver and the OpenAPI schema, so an
endpoint added later without a row here fails the suite instead of going untested.

Personas (tests/reliability/personas.py): anonymous, buyer (owns every object named in a URL), other_buyer,
gate (GATE staff of the buyer's event's organization), box_office_other (BOX_OFFICE of another organization),
superuser. The rules the tables encode:

* anonymous: 401 NOT_AUTHENTICATED on the API (public reads excepted), a redirect to the login page on pages;
* the buyer's orders, tickets, transfers, top-ups are 404 to everybody else — other buyers, staff and superusers
  alike (buyer endpoints are scoped to the caller; staff work happens in the admin), so an id leaks nothing;
* a transfer is also visible to managing staff (OWNER / BOX_OFFICE) of its event's organization and superusers;
* refunds: superusers and OWNER / MANAGER / BOX_OFFICE of the event's organization; everyone else 403;
* scanning: staff of the event's organization and superusers; everyone else 403 (the event itself is public).

The world is built once per module (committed) and every case runs in a transaction that is rolled back, so a
refund or a purchase in one case is invisible to the next.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from core.databases import ALL_DATABASES
from core.testing import cleared_around_each_test
from inventory import services as inventory_services
from tests.reliability.personas import PASSWORD, PERSONAS, World, committed_world

LOGIN = "login"  # a redirect (302) to the login page
pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Row:
    method: str
    route: str  # the Django route, exactly as the URL resolver spells it
    expect: tuple  # one status (or LOGIN) per persona, in PERSONAS order
    body: Any = None  # dict, or a function of the world returning one
    query: str = ""
    params: dict = field(default_factory=dict)  # values for route parameters the world does not name
    path: str = ""  # a concrete path instead of a route (admin URLs)

    def case_id(self, persona: str) -> str:
        return f"{self.method} /{self.path or self.route}{self.query} as {persona}"


def R(method: str, route: str, anon, buyer, other, gate, box, superuser, **options) -> Row:  # noqa: N802 - a table
    return Row(method, route, (anon, buyer, other, gate, box, superuser), **options)


def _scan_body(world: World) -> dict:
    token, _expires = inventory_services.ticket_qr(seat_id=world.ticket_id, owner_id=world.buyer.pk)
    return {"event_id": str(world.event.pk), "token": token, "gate": "North 1"}


def _hold_body(world: World) -> dict:
    return {"seat_ids": [str(world.free_seat_id)]}


def _event_body(world: World) -> dict:
    return {"event_id": str(world.event.pk)}


def _offer_body(world: World) -> dict:
    return {"seat_id": str(world.ticket_id), "to_email": world.recipient.email, "price": "0.00"}


def _listing_body(world: World) -> dict:
    return {"seat_id": str(world.ticket_id), "price": "20.00"}


def _token_body(world: World) -> dict:
    return {"email": world.buyer.email, "password": PASSWORD}


REGISTER = {"email": "new-person@example.com", "password": "a sufficiently long passphrase 42", "full_name": "New"}

# fmt: off
API = [
    #   method   route                                          anon buyer other gate box  super
    R("GET",   "api/v1/",                                        200, 200, 200, 200, 200, 200),
    R("POST",  "api/v1/auth/token/",                             200, 200, 200, 200, 200, 200, body=_token_body),
    R("POST",  "api/v1/auth/token/revoke/",                      401, 204, 204, 204, 204, 204),
    R("POST",  "api/v1/auth/register/",                          201, 201, 201, 201, 201, 201, body=REGISTER),
    # Already verified: nothing left to verify, whatever the code; the answer is the unchanged profile.
    R("POST",  "api/v1/auth/verify/",                            401, 200, 200, 200, 200, 200, body={"code": "123456"}),
    R("POST",  "api/v1/auth/verify/resend/",                     401, 409, 409, 409, 409, 409),
    R("GET",   "api/v1/me/",                                     401, 200, 200, 200, 200, 200),
    R("PATCH", "api/v1/me/",                                     401, 200, 200, 200, 200, 200, body={"full_name": "N"}),
    R("POST",  "api/v1/me/step-up/",                             401, 202, 202, 202, 202, 202),
    R("POST",  "api/v1/me/step-up/verify/",                      401, 400, 400, 400, 400, 400, body={"code": "000000"}),
    R("GET",   "api/v1/wallet/",                                 401, 200, 200, 200, 200, 200),
    R("GET",   "api/v1/wallet/ledger/",                          401, 200, 200, 200, 200, 200),
    R("GET",   "api/v1/wallet/topups/",                          401, 200, 200, 200, 200, 200),
    R("POST",  "api/v1/wallet/topups/",                          401, 201, 201, 201, 201, 201,
      body={"amount": "10.00"}),
    # Unsigned: the signature is the only authentication, whoever sends it.
    R("POST",  "api/v1/payments/webhook/",                       400, 400, 400, 400, 400, 400, body={"type": "x"}),
    # Stripe's endpoint answers 503 while no Stripe signing secret is configured (the tests configure none).
    R("POST",  "api/v1/payments/stripe/webhook/",                503, 503, 503, 503, 503, 503, body={"type": "x"}),
    R("GET",   "api/v1/wallet/card-refunds/",                    401, 200, 200, 200, 200, 200),
    # Refunds go to cards only through a card provider (Stripe); the tests' test provider cannot: 503 for everyone.
    R("POST",  "api/v1/wallet/card-refunds/",                    401, 503, 503, 503, 503, 503,
      body={"amount": "10.00"}),
    R("GET",   "api/v1/events/",                                 200, 200, 200, 200, 200, 200),
    R("GET",   "api/v1/events/<str:event_id>/",                  200, 200, 200, 200, 200, 200),
    R("GET",   "api/v1/events/<str:event_id>/sections/",         200, 200, 200, 200, 200, 200),
    R("GET",   "api/v1/events/<str:event_id>/seats/",            200, 200, 200, 200, 200, 200,
      query="?section={section_id}"),
    R("GET",   "api/v1/tickets/",                                401, 200, 200, 200, 200, 200),
    R("GET",   "api/v1/tickets/<str:seat_id>/",                  401, 200, 404, 404, 404, 404),
    R("GET",   "api/v1/tickets/<str:seat_id>/qr/",               401, 200, 404, 404, 404, 404),
    R("POST",  "api/v1/scan/",                                   401, 403, 403, 200, 403, 200, body=_scan_body),
    # Exports: staff with the data's capability in the event's organization; staff of another organization do not
    # find the event; people who may export nowhere are refused.
    R("GET",   "api/v1/events/<str:event_id>/exports/<str:kind>/", 401, 403, 403, 403, 404, 200,
      params={"kind": "attendees"}),
    # The organization's own exports: its ORDERS roles only; staff of another organization do not find it.
    R("GET",   "api/v1/organizations/<str:organization_id>/exports/<str:kind>/", 401, 403, 403, 403, 404, 200,
      params={"kind": "ledger"}, query="?from=2026-01-01&to=2026-12-31"),
    R("POST",  "api/v1/events/<str:event_id>/holds/",            401, 201, 201, 201, 201, 201, body=_hold_body),
    # The world's event has no waiting room: everybody signed in is told so (409 WAITING_ROOM_CLOSED).
    R("GET",   "api/v1/events/<str:event_id>/waiting-room/",     401, 409, 409, 409, 409, 409),
    R("POST",  "api/v1/events/<str:event_id>/waiting-room/",     401, 409, 409, 409, 409, 409),
    R("GET",   "api/v1/holds/",                                  401, 200, 200, 200, 200, 200),
    # The world's event is not sold out: nobody joins its waiting list (409 WAITING_LIST_NOT_SOLD_OUT). An entry is
    # its buyer's alone.
    R("GET",   "api/v1/waiting-list/",                           401, 200, 200, 200, 200, 200),
    R("POST",  "api/v1/waiting-list/",                           401, 409, 409, 409, 409, 409,
      body=lambda w: {"event_id": str(w.event.pk), "quantity": 1}),
    R("GET",   "api/v1/waiting-list/<str:entry_id>/",            401, 200, 404, 404, 404, 404),
    R("POST",  "api/v1/waiting-list/<str:entry_id>/leave/",      401, 200, 404, 404, 404, 404),
    R("POST",  "api/v1/holds/release/",                          401, 200, 200, 200, 200, 200, body={}),
    R("GET",   "api/v1/orders/",                                 401, 200, 200, 200, 200, 200),
    # Only the buyer holds seats, so only the buyer can pay; nobody pays with someone else's holds.
    R("POST",  "api/v1/orders/",                                 401, 201, 409, 409, 409, 409, body=_event_body),
    R("GET",   "api/v1/orders/<str:order_id>/",                  401, 200, 404, 404, 404, 404),
    R("POST",  "api/v1/orders/<str:order_id>/refund/",           401, 403, 403, 403, 403, 200,
      body={"reason": "Asked nicely"}),
    R("GET",   "api/v1/transfers/",                              401, 200, 200, 200, 200, 200),
    R("POST",  "api/v1/transfers/",                              401, 201, 404, 404, 404, 404, body=_offer_body),
    R("GET",   "api/v1/transfers/<str:transfer_id>/",            401, 200, 404, 404, 404, 200),
    # Party actions: the wrong party is refused; non-parties (superusers included) do not find the transfer.
    R("POST",  "api/v1/transfers/<str:transfer_id>/accept/",     401, 403, 404, 404, 404, 404),
    R("POST",  "api/v1/transfers/<str:transfer_id>/decline/",    401, 403, 404, 404, 404, 404),
    R("POST",  "api/v1/transfers/<str:transfer_id>/cancel/",     401, 200, 404, 404, 404, 404),
    R("POST",  "api/v1/transfers/<str:transfer_id>/send-code/",  401, 409, 404, 404, 404, 404),
    R("POST",  "api/v1/transfers/<str:transfer_id>/confirm/",    401, 409, 404, 404, 404, 404, body={"code": "000000"}),
    R("POST",  "api/v1/transfers/<str:transfer_id>/dispute/",    401, 404, 404, 404, 404, 409, body={"reason": "r"}),
    R("POST",  "api/v1/transfers/<str:transfer_id>/reverse/",    401, 404, 404, 404, 404, 409, body={"reason": "r"}),
    R("GET",   "api/v1/listings/",                               401, 200, 200, 200, 200, 200,
      query="?event={event_id}"),
    R("POST",  "api/v1/listings/",                               401, 201, 404, 404, 404, 404, body=_listing_body),
    # An ACTIVE listing is public on purpose: it is an offer to anyone.
    R("GET",   "api/v1/listings/<str:listing_id>/",              401, 200, 200, 200, 200, 200),
    # The seller cannot buy their own listing; staff have no credits (402); the other buyer can.
    R("POST",  "api/v1/listings/<str:listing_id>/buy/",          401, 400, 200, 402, 402, 402),
    R("POST",  "api/v1/listings/<str:listing_id>/withdraw/",     401, 200, 404, 404, 404, 404),
    R("GET",   "api/v1/schema/",                                 200, 200, 200, 200, 200, 200),
    R("GET",   "api/v1/docs/",                                   200, 200, 200, 200, 200, 200),
    R("GET",   "api/v1/redoc/",                                  200, 200, 200, 200, 200, 200),
]

PAGES = [
    #   method   route                                          anon   buyer other gate box  super
    R("GET",   "healthz",                                        200,   200, 200, 200, 200, 200),
    R("GET",   "livez",                                          200,   200, 200, 200, 200, 200),
    # The language switcher and the scripts' translations: the same for everyone.
    R("POST",  "i18n/setlang/",                                  302,   302, 302, 302, 302, 302,
      body={"language": "de"}),
    R("GET",   "jsi18n/",                                        200,   200, 200, 200, 200, 200),
    # /metrics answers by network address or bearer token, never by persona (core/tests/test_observability.py):
    # the test client is a direct request from 127.0.0.1.
    R("GET",   "metrics",                                        200,   200, 200, 200, 200, 200),
    R("GET",   "",                                               200,   200, 200, 200, 200, 200),
    R("GET",   "events/<uuid:event_id>/",                        200,   200, 200, 200, 200, 200),
    R("GET",   "events/<uuid:event_id>/sections/<uuid:section_id>/", 200, 200, 200, 200, 200, 200),
    # The same section's seats as a plain list, for browsers without JavaScript.
    R("GET",   "events/<uuid:event_id>/sections/<uuid:section_id>/seats/", 200, 200, 200, 200, 200, 200),
    # What open seat maps poll: public like the map itself (a buyer's own holds show as MINE only to that buyer).
    R("GET",   "events/<uuid:event_id>/changes/",                200,   200, 200, 200, 200, 200,
      query="?since=0&section={section_id}"),
    # Where open maps subscribe to pushed changes: the edge (nginx) answers it; Django's 204 says "poll instead".
    R("GET",   "events/<uuid:event_id>/live/",                   204,   204, 204, 204, 204, 204),
    R("POST",  "events/<uuid:event_id>/hold/",                   LOGIN, 302, 302, 302, 302, 302, body=_hold_body),
    R("POST",  "events/<uuid:event_id>/holds/release/",          LOGIN, 302, 302, 302, 302, 302),
    R("GET",   "events/<uuid:event_id>/waiting-room/",           LOGIN, 200, 200, 200, 200, 200),
    R("POST",  "events/<uuid:event_id>/waiting-list/join/",      LOGIN, 302, 302, 302, 302, 302,
      body={"quantity": "1"}),
    R("GET",   "waiting-list/",                                  LOGIN, 200, 200, 200, 200, 200),
    R("GET",   "waiting-list/<uuid:entry_id>/",                  LOGIN, 200, 404, 404, 404, 404),
    R("POST",  "waiting-list/<uuid:entry_id>/leave/",            LOGIN, 302, 404, 404, 404, 404),
    # The rooms' public status files (served by nginx in production); the world's event has none.
    R("GET",   r"^waiting-room-status/(?P<name>[0-9a-f-]{36}\.json)$", 404, 404, 404, 404, 404, 404,
      path="waiting-room-status/{event_id}.json"),
    R("GET",   "checkout/",                                      LOGIN, 200, 200, 200, 200, 200,
      query="?event={event_id}"),
    R("GET",   "orders/",                                        LOGIN, 200, 200, 200, 200, 200),
    R("GET",   "orders/<uuid:order_id>/",                        LOGIN, 200, 404, 404, 404, 404),
    R("GET",   "tickets/",                                       LOGIN, 200, 200, 200, 200, 200),
    R("GET",   "tickets/<str:seat_id>/",                         LOGIN, 200, 404, 404, 404, 404),
    R("GET",   "tickets/<str:seat_id>/qr/",                      LOGIN, 200, 404, 404, 404, 404),
    R("GET",   "transfers/",                                     LOGIN, 200, 200, 200, 200, 200),
    R("GET",   "transfers/offer/<str:seat_id>/",                 LOGIN, 200, 404, 404, 404, 404),
    R("POST",  "transfers/offer/<str:seat_id>/",                 LOGIN, 302, 404, 404, 404, 404,
      body={"to_email": "recipient@example.com", "price": "0"}),
    R("GET",   "transfers/<str:transfer_id>/",                   LOGIN, 200, 404, 404, 404, 200),
    R("POST",  "transfers/<str:transfer_id>/confirm/",           LOGIN, 302, 404, 404, 404, 404, body={"code": "1"}),
    R("POST",  "transfers/<str:transfer_id>/<str:action>/",      LOGIN, 302, 404, 404, 404, 404,
      params={"action": "cancel"}),
    R("GET",   "resale/mine/",                                   LOGIN, 200, 200, 200, 200, 200),
    R("GET",   "resale/sell/<str:seat_id>/",                     LOGIN, 200, 404, 404, 404, 404),
    R("GET",   "resale/events/<str:event_id>/",                  LOGIN, 200, 200, 200, 200, 200),
    R("POST",  "resale/<str:listing_id>/buy/",                   LOGIN, 302, 302, 302, 302, 302),
    R("POST",  "resale/<str:listing_id>/withdraw/",              LOGIN, 302, 404, 404, 404, 404),
    R("GET",   "gate/",                                          LOGIN, 403, 403, 200, 200, 200),
    # Staff of another organization do not learn the event is scannable: 404, like an unknown event.
    R("GET",   "gate/<uuid:event_id>/",                          LOGIN, 403, 403, 200, 404, 200, query="?gate=North"),
    R("POST",  "gate/<uuid:event_id>/",                          LOGIN, 403, 403, 200, 404, 200,
      body=lambda w: {"gate": "North", "token": _scan_body(w)["token"]}),
    # Signed-in people are sent on from the sign-up page.
    R("GET",   "accounts/signup/",                               200,   302, 302, 302, 302, 302),
    R("GET",   "accounts/verify/",                               LOGIN, 302, 302, 302, 302, 302),
    R("POST",  "accounts/verify/resend/",                        LOGIN, 302, 302, 302, 302, 302),
    # Two-factor login is off in the test settings: nobody owes a second factor, so the page sends them on.
    R("GET",   "accounts/two-factor/",                           LOGIN, 302, 302, 302, 302, 302),
    R("GET",   "accounts/login/",                                200,   200, 200, 200, 200, 200),
    R("POST",  "accounts/logout/",                               302,   302, 302, 302, 302, 302),
    R("GET",   "accounts/password-reset/",                       200,   200, 200, 200, 200, 200),
    R("GET",   "accounts/password-reset/confirm/",               200,   200, 200, 200, 200, 200),
    R("GET",   "accounts/profile/",                              LOGIN, 200, 200, 200, 200, 200),
    R("GET",   "accounts/wallet/",                               LOGIN, 200, 200, 200, 200, 200),
    R("GET",   "accounts/wallet/topup/",                         LOGIN, 200, 200, 200, 200, 200),
    R("GET",   "accounts/pay/<str:provider_reference>/",         LOGIN, 200, 404, 404, 404, 404),
    R("POST",  "accounts/pay/<str:provider_reference>/",         LOGIN, 302, 404, 404, 404, 404,
      body={"action": "pay"}),
    R("GET",   "accounts/wallet/topups/<str:topup_id>/",         LOGIN, 200, 404, 404, 404, 404),
    R("POST",  "accounts/wallet/card-refund/",                   LOGIN, 302, 302, 302, 302, 302,
      body={"amount": "1.00"}),
    R("GET",   "accounts/step-up/",                              LOGIN, 200, 200, 200, 200, 200),
    R("GET",   "api-auth/login/",                                200,   200, 200, 200, 200, 200),
    R("POST",  "api-auth/logout/",                               302,   302, 302, 302, 302, 302),
]

# Admin entry points (events/tests/test_admin_tenancy.py covers the admin in depth).
ADMIN = [
    R("GET",   "admin/", LOGIN, LOGIN, LOGIN, 200, 200, 200, path="admin/"),
    # Resetting someone's lost authenticator is platform staff's work.
    R("GET",   "admin/accounts/two-factor/", LOGIN, LOGIN, LOGIN, 403, 403, 200, path="admin/accounts/two-factor/"),
    R("GET",   "admin/events/event/", LOGIN, LOGIN, LOGIN, 403, 200, 200, path="admin/events/event/"),
    # Outside a staff member's capability or organization an object is 404, so nothing about it leaks.
    R("GET",   "admin/events/event/<id>/change/", LOGIN, LOGIN, LOGIN, 404, 404, 200,
      path="admin/events/event/{event_id}/change/"),
    R("GET",   "admin/orders/order/<id>/change/", LOGIN, LOGIN, LOGIN, 404, 404, 200,
      path="admin/orders/order/{order_id}/change/"),
    R("GET",   "admin/orders/organization-exports/", LOGIN, LOGIN, LOGIN, 404, 200, 200,
      path="admin/orders/organization-exports/"),
    # Who waits is buyers' data: the organization's ORDERS roles; another organization's staff do not find the entry.
    R("GET",   "admin/orders/waitinglistentry/", LOGIN, LOGIN, LOGIN, 403, 200, 200,
      path="admin/orders/waitinglistentry/"),
    R("GET",   "admin/orders/waitinglistentry/<id>/change/", LOGIN, LOGIN, LOGIN, 404, 404, 200,
      path="admin/orders/waitinglistentry/{entry_id}/change/"),
    # People and wallets are platform data: an organization's box office sees buyers only through its orders.
    R("GET",   "admin/accounts/user/", LOGIN, LOGIN, LOGIN, 403, 403, 200, path="admin/accounts/user/"),
]
# fmt: on


# --- The world, built once per module -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    yield from committed_world(django_db_blocker)


# DRF's throttle history lives in the process cache; hundreds of cases must not throttle each other.
_no_throttle_history = cleared_around_each_test(cache.clear)


_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")


def _url(row: Row, world: World) -> str:
    values = {**world.values(), **row.params}
    if row.path:
        path = row.path.format(**values)
    else:
        path = _PARAM.sub(lambda match: values[match.group(1)], row.route)
    return "/" + path + row.query.format(**values)


def _send(row: Row, persona: str, world: World, *, api: bool):
    client = Client()
    headers: dict[str, str] = {}
    user = world.users[persona]
    if user is not None:
        if api:
            headers["HTTP_AUTHORIZATION"] = f"Token {world.tokens[persona]}"
        else:
            client.force_login(user)
    body = row.body(world) if callable(row.body) else row.body
    url = _url(row, world)
    method = row.method.lower()
    if method == "get":
        return client.get(url, **headers)
    if api:
        headers["HTTP_IDEMPOTENCY_KEY"] = uuid.uuid4().hex
        return getattr(client, method)(url, body or {}, content_type="application/json", **headers)
    return getattr(client, method)(url, body or {}, **headers)


def _check(response, expected) -> None:
    if expected == LOGIN:
        location = response.headers.get("Location", "")
        assert response.status_code == 302 and "login" in location, (response.status_code, location)
        return
    assert response.status_code == expected, (response.status_code, response.content[:400])
    if response.status_code >= 400 and response["Content-Type"].startswith("application/json"):
        body = response.json()
        assert body.get("code"), body  # every API refusal carries its stable code


def _cases(rows: list[Row]) -> list:
    return [
        pytest.param(row, persona, expected, id=row.case_id(persona))
        for row in rows
        for persona, expected in zip(PERSONAS, row.expect, strict=True)
    ]


@pytest.mark.django_db(databases=ALL_DATABASES)
@pytest.mark.parametrize(("row", "persona", "expected"), _cases(API))
def test_api_endpoint_answers_each_persona_as_specified(world, row, persona, expected):
    _check(_send(row, persona, world, api=True), expected)


@pytest.mark.django_db(databases=ALL_DATABASES)
@pytest.mark.parametrize(("row", "persona", "expected"), _cases(PAGES + ADMIN))
def test_page_answers_each_persona_as_specified(world, row, persona, expected):
    _check(_send(row, persona, world, api=False), expected)


# --- Nothing is forgotten ------------------------------------------------------------------------------------


def _routes(patterns=None, prefix: str = "") -> list[str]:
    routes = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            routes += _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            routes.append(prefix + str(pattern.pattern))
    return routes


def test_every_url_of_the_project_has_a_row_in_the_matrix():
    covered = {row.route for row in API + PAGES}
    missing = [route for route in _routes() if not route.startswith("admin/") and route not in covered]
    assert not missing, f"add these URLs to the authorization matrix: {missing}"
    stale = covered - set(_routes())
    assert not stale, f"rows for URLs that no longer exist: {stale}"


def test_every_operation_of_the_openapi_schema_has_a_row_in_the_matrix():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    covered = {(row.method.lower(), "/" + _PARAM.sub(r"{\1}", row.route)) for row in API}
    operations = {
        (method, path)
        for path, item in schema["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }
    missing = sorted(operations - covered)
    assert not missing, f"add these API operations to the authorization matrix: {missing}"


def test_every_row_names_an_expectation_for_every_persona():
    for row in API + PAGES + ADMIN:
        assert len(row.expect) == len(PERSONAS), row
        assert all(expected == LOGIN or 200 <= expected < 600 for expected in row.expect), row
