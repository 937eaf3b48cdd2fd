"""The API's edges: a browsable root that lists every endpoint group, and every unknown path or method under /api/
answering the one JSON error shape with a stable code."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import resolve
from rest_framework.authtoken.models import Token

from core.api import API_PREFIX, api_routes
from core.databases import ALL_DATABASES

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
SOME_ID = "00000000-0000-0000-0000-000000000000"


def _concrete(route: str) -> str:
    path = "/" + route
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        path = path[:start] + SOME_ID + path[end + 1 :]
    return path


def _json_error(response, status: int, code: str) -> None:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    assert response.json()["code"] == code and response.json()["detail"]


def test_the_api_root_lists_every_endpoint_group_and_every_endpoint(client):
    response = client.get("/api/v1/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    body = response.json()
    listed = {url.removeprefix("http://testserver/") for urls in body["groups"].values() for url in urls}
    assert listed == set(api_routes()) and listed
    for group in ("auth", "me", "wallet", "events", "orders", "tickets", "transfers", "listings", "scan"):
        assert group in body["groups"], group
    assert body["documentation"]["redoc"].endswith("/api/v1/redoc/")


def test_the_api_root_is_browsable(client):
    response = client.get("/api/v1/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert b"Api Root" in response.content and b"/api/v1/events/" in response.content


@pytest.mark.parametrize(
    "path",
    ["/api/", "/api/v1/nope/", "/api/v1/nope", "/api/v2/events/", "/api/v1/events/a/b/c/d/", "/api/v1/orders/x/y/"],
)
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_an_unknown_api_path_is_a_json_404(client, path, method):
    _json_error(getattr(client, method)(path), 404, "NOT_FOUND")


def _cases() -> list:
    import django

    django.setup()
    cases = []
    for route in api_routes():
        path = _concrete(route)
        view = resolve(path).func.view_class()
        allowed = {method.upper() for method in view.allowed_methods}
        cases += [pytest.param(path, method, id=f"{method} {path}") for method in METHODS if method not in allowed]
    return cases


@pytest.mark.django_db(databases=ALL_DATABASES)
@pytest.mark.parametrize(("path", "method"), _cases())
def test_an_unsupported_method_on_any_api_endpoint_is_a_json_405(path, method):
    from accounts.tests.factories import UserFactory

    superuser = UserFactory(is_staff=True, is_superuser=True)
    token = Token.objects.create(user=superuser)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = client.generic(method, path, b"{}", content_type="application/json")
    _json_error(response, 405, "METHOD_NOT_ALLOWED")


def test_every_api_route_is_under_the_versioned_prefix():
    assert all(route.startswith(API_PREFIX) for route in api_routes())
