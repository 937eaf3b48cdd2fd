"""Hostile input: malformed ids, bad amounts, oversized quantities and bodies, wrong content types and unknown
fields get a clear 4xx with a stable code (API) or a readable answer (pages) — never a 500, never a write."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import LedgerEntry
from accounts.tests.factories import StaffFactory, UserFactory
from events.tests.factories import EventFactory
from inventory.tests.factories import SeatFactory

ALL = ["default", "seats", "orders", "events"]
pytestmark = pytest.mark.django_db(databases=ALL)

BAD_IDS = [
    "not-a-uuid",
    "1",
    "../../etc/passwd",
    "00000000-0000-0000-0000-00000000000g",
    "%00",
    "' OR 1=1 --",
    "x" * 300,
]
BAD_AMOUNTS = ["-5", "0", "NaN", "Infinity", "-Infinity", "1e309", "99999999999999", "12.345", "", "ten", None, [], {}]


@pytest.fixture
def buyer():
    return UserFactory(credits=Decimal("100.00"))


@pytest.fixture
def api(buyer):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=buyer).key}")
    return client


@pytest.fixture
def event():
    event = EventFactory(sales_start=timezone.now() - dt.timedelta(days=1))
    SeatFactory(event_id=event.pk)
    return event


def assert_clean_4xx(response, *statuses: int) -> dict:
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    if statuses:
        assert response.status_code in statuses, (response.status_code, response.content[:300])
    body = response.json()
    assert isinstance(body.get("code"), str) and body["code"], body
    assert isinstance(body.get("detail"), str), body
    return body


# Every endpoint that takes an id in its path.
ID_PATHS = [
    ("get", "/api/v1/events/{}/"),
    ("get", "/api/v1/events/{}/sections/"),
    ("get", "/api/v1/events/{}/seats/"),
    ("post", "/api/v1/events/{}/holds/"),
    ("get", "/api/v1/orders/{}/"),
    ("post", "/api/v1/orders/{}/refund/"),
    ("get", "/api/v1/tickets/{}/"),
    ("get", "/api/v1/tickets/{}/qr/"),
    ("get", "/api/v1/transfers/{}/"),
    ("post", "/api/v1/transfers/{}/accept/"),
    ("post", "/api/v1/transfers/{}/decline/"),
    ("post", "/api/v1/transfers/{}/cancel/"),
    ("post", "/api/v1/transfers/{}/confirm/"),
    ("get", "/api/v1/listings/{}/"),
    ("post", "/api/v1/listings/{}/buy/"),
    ("post", "/api/v1/listings/{}/withdraw/"),
]


@pytest.mark.parametrize(("method", "path"), ID_PATHS)
def test_a_malformed_id_in_the_path_is_a_clean_404(api, method, path):
    for bad in BAD_IDS:
        response = getattr(api, method)(path.format(bad), {}, format="json")
        assert_clean_4xx(response, 400, 403, 404)  # 403: a buyer may not refund at all


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/orders/", "event_id"),
        ("/api/v1/transfers/", "seat_id"),
        ("/api/v1/listings/", "seat_id"),
        ("/api/v1/holds/release/", "event_id"),
    ],
)
def test_a_malformed_id_in_the_body_is_a_validation_error(api, path, field):
    for bad in BAD_IDS:
        body = assert_clean_4xx(api.post(path, {field: bad}, format="json"), 400)
        assert body["code"] == "VALIDATION_ERROR"


def test_malformed_seat_ids_in_a_hold_are_refused(api, event):
    for bad in [["nope"], "not-a-list", [None], [1, 2], [{}], list(range(500))]:
        # Integers are valid UUIDs to DRF (UUID(int=1)): those are unknown seats, 404.
        assert_clean_4xx(api.post(f"/api/v1/events/{event.pk}/holds/", {"seat_ids": bad}, format="json"), 400, 404)


def test_oversized_negative_and_non_numeric_quantities_are_refused(api, event):
    for quantity in [0, -1, 10**9, 2**63, "NaN", "many", 1.5, None, True]:
        body = assert_clean_4xx(
            api.post(f"/api/v1/events/{event.pk}/holds/", {"quantity": quantity}, format="json"), 400
        )
        assert body["code"] == "VALIDATION_ERROR"


def test_bad_amounts_for_a_top_up_are_refused_and_nothing_is_credited(api, buyer):
    before = LedgerEntry.objects.count()
    for amount in BAD_AMOUNTS:
        body = assert_clean_4xx(api.post("/api/v1/wallet/topups/", {"amount": amount}, format="json"), 400)
        assert body["code"] in ("VALIDATION_ERROR", "INVALID_AMOUNT"), (amount, body)
    assert LedgerEntry.objects.count() == before


def test_bad_prices_for_a_transfer_or_a_listing_are_refused(api, buyer):
    seat = SeatFactory(status="SOLD", owner_id=buyer.pk, order_id=SeatFactory().pk)
    other = UserFactory()
    for amount in ["-1", "NaN", "Infinity", "1e309", "99999999999", "1.001", "abc", [], {}]:
        assert_clean_4xx(
            api.post(
                "/api/v1/transfers/", {"seat_id": str(seat.pk), "to_email": other.email, "price": amount}, format="json"
            ),
            400,
        )
        assert_clean_4xx(api.post("/api/v1/listings/", {"seat_id": str(seat.pk), "price": amount}, format="json"), 400)


def test_an_oversized_body_is_refused_before_it_is_parsed(api, settings):
    huge = json.dumps({"seat_ids": ["x"] * 10, "padding": "a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10)})
    response = api.post("/api/v1/orders/", huge, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["code"] == "REQUEST_TOO_LARGE"


def test_a_page_form_with_an_oversized_body_is_refused_readably(client, settings):
    response = client.post(
        "/accounts/login/",
        "a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    assert b"larger than" in response.content


@pytest.mark.parametrize(
    "path",
    ["/api/v1/orders/", "/api/v1/transfers/", "/api/v1/listings/", "/api/v1/holds/release/", "/api/v1/wallet/topups/"],
)
def test_a_wrong_content_type_is_415_with_a_code(api, path):
    for content_type, payload in [
        ("text/plain", "event_id=1"),
        ("application/xml", "<order/>"),
        ("application/x-yaml", "a: 1"),
    ]:
        body = assert_clean_4xx(api.post(path, payload, content_type=content_type), 415)
        assert body["code"] == "UNSUPPORTED_MEDIA_TYPE"


@pytest.mark.parametrize(
    "path", ["/api/v1/orders/", "/api/v1/transfers/", "/api/v1/listings/", "/api/v1/wallet/topups/"]
)
def test_malformed_json_is_a_clean_400(api, path):
    for payload in ['{"event_id": ', "[1, 2", "\x00\x01", '{"a": NaN}', "null", "[]", '"string"']:
        body = assert_clean_4xx(api.post(path, payload, content_type="application/json"), 400)
        assert body["code"] in ("MALFORMED_REQUEST", "VALIDATION_ERROR")


def test_unknown_fields_are_refused_not_ignored(api, event):
    body = assert_clean_4xx(
        api.post(f"/api/v1/events/{event.pk}/holds/", {"quantity": 1, "price": "0.01"}, format="json"), 400
    )
    assert "price" in body.get("fields", {}), body


def test_unknown_fields_are_refused_on_checkout(api, event):
    body = assert_clean_4xx(
        api.post(
            "/api/v1/orders/", {"event_id": str(event.pk), "total": "0.00"}, format="json", HTTP_IDEMPOTENCY_KEY="k1"
        ),
        400,
    )
    assert "total" in body.get("fields", {}), body


def test_a_bad_content_length_header_is_refused(api):
    response = api.post("/api/v1/orders/", "{}", content_type="application/json", CONTENT_LENGTH="abc")
    assert response.status_code == 400
    assert response.json()["code"] == "MALFORMED_REQUEST"


def test_staff_only_actions_refuse_malformed_bodies_cleanly():
    staff = StaffFactory(is_superuser=True)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff).key}")
    order_id = "00000000-0000-0000-0000-000000000001"
    for body in [
        {},
        {"reason": ""},
        {"reason": "x" * 100_000},
        {"reason": ["list"]},
        {"reason": "ok", "block_seats": "maybe"},
    ]:
        assert_clean_4xx(client.post(f"/api/v1/orders/{order_id}/refund/", body, format="json"))
