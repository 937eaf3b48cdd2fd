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
        # core.api.UUIDField takes ids as text only (DRF alone reads 1 as UUID(int=1)); 404: unknown seats.
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


# --- Every endpoint, table-driven ------------------------------------------------------------------------------------
# A well-formed id that names nothing: input checks must answer before (and independently of) any lookup.
NOBODY = "00000000-0000-4000-8000-000000000001"

# Every endpoint that reads a request body, as (method, path, persona, a body that is well-formed for it). Body-less
# actions (resend, step-up, accept, buy, ...) take ``{}``. The payment webhook is signed by the provider and has its
# own tests below.
BODY_ENDPOINTS = [
    ("post", "/api/v1/auth/token/", "anonymous", {"email": "who@example.com", "password": "secret-password"}),
    (
        "post",
        "/api/v1/auth/register/",
        "anonymous",
        {"email": "fresh@example.com", "password": "A-long-enough-passw0rd", "full_name": "Fresh Buyer"},
    ),
    ("post", "/api/v1/auth/verify/", "buyer", {"code": "123456"}),
    ("post", "/api/v1/auth/verify/resend/", "buyer", {}),
    ("patch", "/api/v1/me/", "buyer", {"full_name": "New Name"}),
    ("post", "/api/v1/me/step-up/", "buyer", {}),
    ("post", "/api/v1/me/step-up/verify/", "buyer", {"code": "123456"}),
    ("post", "/api/v1/wallet/topups/", "buyer", {"amount": "10.00"}),
    ("post", f"/api/v1/events/{NOBODY}/holds/", "buyer", {"quantity": 1, "section_id": NOBODY}),
    ("post", "/api/v1/holds/release/", "buyer", {"event_id": NOBODY}),
    ("post", "/api/v1/orders/", "buyer", {"event_id": NOBODY}),
    ("post", "/api/v1/waiting-list/", "buyer", {"event_id": NOBODY, "quantity": 1}),
    ("post", f"/api/v1/waiting-list/{NOBODY}/leave/", "buyer", {}),
    ("post", f"/api/v1/orders/{NOBODY}/refund/", "staff", {"reason": "customer asked"}),
    ("post", "/api/v1/scan/", "staff", {"event_id": NOBODY, "gate": "North", "token": "garbage"}),
    ("post", "/api/v1/transfers/", "buyer", {"seat_id": NOBODY, "to_email": "friend@example.com"}),
    ("post", f"/api/v1/transfers/{NOBODY}/accept/", "buyer", {}),
    ("post", f"/api/v1/transfers/{NOBODY}/decline/", "buyer", {}),
    ("post", f"/api/v1/transfers/{NOBODY}/cancel/", "buyer", {}),
    ("post", f"/api/v1/transfers/{NOBODY}/send-code/", "buyer", {}),
    ("post", f"/api/v1/transfers/{NOBODY}/confirm/", "buyer", {"code": "123456"}),
    ("post", f"/api/v1/transfers/{NOBODY}/dispute/", "staff", {"reason": "never arrived"}),
    ("post", f"/api/v1/transfers/{NOBODY}/reverse/", "staff", {"reason": "fraud"}),
    ("post", "/api/v1/listings/", "buyer", {"seat_id": NOBODY, "price": "10.00"}),
    ("post", f"/api/v1/listings/{NOBODY}/buy/", "buyer", {}),
    ("post", f"/api/v1/listings/{NOBODY}/withdraw/", "buyer", {}),
]
BODY_IDS = [f"{method} {path}" for method, path, _persona, _body in BODY_ENDPOINTS]
WEBHOOK = ("post", "/api/v1/payments/webhook/", "anonymous", {})


@pytest.fixture
def client_as(buyer):
    """persona name -> an API client: anonymous, the buyer (token) or a superuser (token)."""
    staff = StaffFactory(is_superuser=True)
    tokens = {"buyer": Token.objects.create(user=buyer).key, "staff": Token.objects.create(user=staff).key}

    def make(persona: str) -> APIClient:
        client = APIClient()
        if persona in tokens:
            client.credentials(HTTP_AUTHORIZATION=f"Token {tokens[persona]}")
        return client

    return make


def row_counts() -> dict[str, int]:
    """Rows a refused request must not have written, one count per database touched by the API."""
    from accounts.models import OneTimeCode, TopUp, User
    from inventory.models import EntryLog, Seat
    from orders.models import Order, ResaleListing, Transfer

    return {
        "users": User.objects.count(),
        "ledger": LedgerEntry.objects.count(),
        "topups": TopUp.objects.count(),
        "codes": OneTimeCode.objects.count(),
        "orders": Order.objects.count(),
        "transfers": Transfer.objects.count(),
        "listings": ResaleListing.objects.count(),
        "held": Seat.objects.filter(status="HELD").count(),
        "scans": EntryLog.objects.count(),
    }


def send(client: APIClient, method: str, path: str, payload, **extra):
    """A JSON request with ``payload`` as the body (str and bytes are sent as they are, anything else as JSON)."""
    content_type = extra.pop("content_type", "application/json")
    data = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
    return getattr(client, method)(path, data, content_type=content_type, **extra)


@pytest.mark.parametrize(("method", "path", "persona", "body"), BODY_ENDPOINTS, ids=BODY_IDS)
def test_every_endpoint_refuses_an_unknown_field_by_name_and_writes_nothing(client_as, method, path, persona, body):
    before = row_counts()
    response = send(client_as(persona), method, path, {**body, "smuggled_field": "1"})
    reply = assert_clean_4xx(response, 400)
    assert reply["code"] == "VALIDATION_ERROR", reply
    assert "smuggled_field" in reply.get("fields", {}), reply
    assert row_counts() == before


def test_an_unknown_field_is_reported_together_with_the_other_field_errors(api):
    reply = assert_clean_4xx(send(api, "post", "/api/v1/listings/", {"sead_id": NOBODY, "price": "-1"}), 400)
    assert {"sead_id", "seat_id", "price"} <= set(reply["fields"]), reply


@pytest.mark.parametrize("payload", ["[]", "[{}]", '"a string"', "null", "1", "true", "{}{}"])
@pytest.mark.parametrize(("method", "path", "persona", "body"), BODY_ENDPOINTS, ids=BODY_IDS)
def test_every_endpoint_refuses_a_json_body_that_is_not_an_object(client_as, method, path, persona, body, payload):
    before = row_counts()
    reply = assert_clean_4xx(send(client_as(persona), method, path, payload), 400)
    assert reply["code"] in ("VALIDATION_ERROR", "MALFORMED_REQUEST"), reply
    assert row_counts() == before


@pytest.mark.parametrize(
    ("content_type", "payload"),
    [
        ("text/plain", "event_id=1"),
        ("application/xml", "<order/>"),
        ("application/x-yaml", "a: 1"),
        ("application/octet-stream", "\x00\x01"),
        ("application/jsonx", "{}"),
    ],
)
@pytest.mark.parametrize(("method", "path", "persona", "body"), [*BODY_ENDPOINTS, WEBHOOK], ids=[*BODY_IDS, "webhook"])
def test_every_endpoint_answers_a_wrong_content_type_with_415(
    client_as, method, path, persona, body, content_type, payload
):
    before = row_counts()
    reply = assert_clean_4xx(send(client_as(persona), method, path, payload, content_type=content_type), 415)
    assert reply["code"] == "UNSUPPORTED_MEDIA_TYPE", reply
    assert row_counts() == before


@pytest.mark.parametrize(("method", "path", "persona", "body"), [*BODY_ENDPOINTS, WEBHOOK], ids=[*BODY_IDS, "webhook"])
def test_every_endpoint_refuses_an_oversized_body_with_413(client_as, settings, method, path, persona, body):
    padded = json.dumps({**body, "padding": "a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    reply = assert_clean_4xx(send(client_as(persona), method, path, padded), 413)
    assert reply["code"] == "REQUEST_TOO_LARGE", reply


@pytest.mark.parametrize(("method", "path", "persona", "body"), BODY_ENDPOINTS, ids=BODY_IDS)
def test_every_endpoint_answers_malformed_json_and_content_length_with_400(client_as, method, path, persona, body):
    client = client_as(persona)
    for payload in ['{"a": ', "\x00\x01", '{"a": NaN}', '{"a": Infinity}', b"\xff\xfe{"]:  # the last: not UTF-8
        reply = assert_clean_4xx(send(client, method, path, payload), 400)
        assert reply["code"] in ("MALFORMED_REQUEST", "VALIDATION_ERROR"), (payload, reply)
    reply = assert_clean_4xx(send(client, method, path, body, CONTENT_LENGTH="-5"), 400)
    assert reply["code"] == "MALFORMED_REQUEST", reply


# (path, persona, a valid body, the id field, how the bad id is wrapped): every id a body carries.
BODY_ID_FIELDS = [
    (f"/api/v1/events/{NOBODY}/holds/", "buyer", {"quantity": 1}, "section_id", None),
    (f"/api/v1/events/{NOBODY}/holds/", "buyer", {"quantity": 1}, "tier_id", None),
    (f"/api/v1/events/{NOBODY}/holds/", "buyer", {}, "seat_ids", list),
    ("/api/v1/holds/release/", "buyer", {}, "event_id", None),
    ("/api/v1/holds/release/", "buyer", {}, "seat_ids", list),
    ("/api/v1/orders/", "buyer", {}, "event_id", None),
    ("/api/v1/waiting-list/", "buyer", {"quantity": 1}, "event_id", None),
    ("/api/v1/waiting-list/", "buyer", {"quantity": 1, "event_id": NOBODY}, "section_id", None),
    ("/api/v1/waiting-list/", "buyer", {"quantity": 1, "event_id": NOBODY}, "tier_id", None),
    ("/api/v1/scan/", "staff", {"gate": "North", "token": "x"}, "event_id", None),
    ("/api/v1/transfers/", "buyer", {"to_email": "friend@example.com"}, "seat_id", None),
    ("/api/v1/listings/", "buyer", {"price": "10.00"}, "seat_id", None),
]


@pytest.mark.parametrize(
    ("path", "persona", "body", "field", "wrap"), BODY_ID_FIELDS, ids=[f"{p} {f}" for p, _, _, f, _ in BODY_ID_FIELDS]
)
def test_every_id_in_a_body_refuses_malformed_values_by_field(client_as, path, persona, body, field, wrap):
    client = client_as(persona)
    before = row_counts()
    for bad in [*BAD_IDS, "", 12.5, True, {"id": NOBODY}, ["nested"]]:
        value = [bad] if wrap else bad
        reply = assert_clean_4xx(send(client, "post", path, {**body, field: value}), 400)
        assert reply["code"] == "VALIDATION_ERROR" and field in reply.get("fields", {}), (bad, reply)
    assert row_counts() == before


# Every endpoint with an id in its path, with the persona allowed to reach it: malformed ids are 404 (or 400).
ALL_ID_PATHS = [
    *[(method, path, "buyer") for method, path in ID_PATHS if not path.endswith("/refund/")],  # buyer: 403
    ("post", "/api/v1/transfers/{}/send-code/", "buyer"),
    ("post", "/api/v1/orders/{}/refund/", "staff"),
    ("post", "/api/v1/transfers/{}/dispute/", "staff"),
    ("post", "/api/v1/transfers/{}/reverse/", "staff"),
    ("get", "/api/v1/orders/{}/", "staff"),
    ("get", "/api/v1/transfers/{}/", "staff"),
]
VALID_BODIES = {"/refund/": {"reason": "r"}, "/dispute/": {"reason": "r"}, "/reverse/": {"reason": "r"}}


@pytest.mark.parametrize(("method", "path", "persona"), ALL_ID_PATHS, ids=[f"{m} {p} {r}" for m, p, r in ALL_ID_PATHS])
def test_every_path_id_refuses_malformed_values_cleanly(client_as, method, path, persona):
    client = client_as(persona)
    body = next((b for suffix, b in VALID_BODIES.items() if path.endswith(suffix)), {})
    for bad in [*BAD_IDS, NOBODY.upper().replace("-", ""), NOBODY + "0", "%E2%98%83", "..", "null"]:
        if method == "get":
            response = client.get(path.format(bad))
        else:
            response = send(client, method, path.format(bad), body)
        reply = assert_clean_4xx(response, 400, 404)
        assert reply["code"] in ("NOT_FOUND", "VALIDATION_ERROR"), (bad, reply)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/holds/?event=not-a-uuid",
        "/api/v1/listings/?event=not-a-uuid",
        "/api/v1/listings/?event=" + "x" * 300,
        "/api/v1/events/?venue=not-a-uuid",
        "/api/v1/events/?organization=1",
        "/api/v1/events/?date_from=yesterday",
        "/api/v1/events/?date_to=2025-13-45",
        "/api/v1/events/?q=" + "x" * 500,
        "/api/v1/events/{event}/seats/?section=not-a-uuid",
        "/api/v1/events/{event}/seats/",
        "/api/v1/events/?page=abc",
        "/api/v1/events/?page=-1",
        f"/api/v1/events/?page={10**30}",
        "/api/v1/orders/?page=0",
        "/api/v1/tickets/?page=NaN",
        "/api/v1/transfers/?page=9999",
        "/api/v1/wallet/ledger/?page=x",
        "/api/v1/wallet/topups/?page=x",
    ],
)
def test_malformed_query_parameters_are_a_clean_4xx(api, event, url):
    assert_clean_4xx(api.get(url.format(event=event.pk)), 400, 404)


# (path, persona, a valid body, the field, values too long, too many or out of range for it).
OVERSIZED_FIELDS = [
    (f"/api/v1/events/{NOBODY}/holds/", "buyer", {}, "seat_ids", [[NOBODY] * 51, [NOBODY] * 10_000]),
    (f"/api/v1/events/{NOBODY}/holds/", "buyer", {"section_id": NOBODY}, "quantity", [51, 10**6, -(2**63), "9" * 5000]),
    ("/api/v1/holds/release/", "buyer", {}, "seat_ids", [[NOBODY] * 51, []]),
    ("/api/v1/orders/", "buyer", {"event_id": NOBODY}, "idempotency_key", ["k" * 101, ""]),
    ("/api/v1/wallet/topups/", "buyer", {}, "amount", ["9" * 33, "1" + "0" * 400]),
    ("/api/v1/transfers/", "buyer", {"seat_id": NOBODY}, "to_email", ["a" * 250 + "@example.com", "not-an-email"]),
    ("/api/v1/transfers/", "buyer", {"seat_id": NOBODY, "to_email": "f@example.com"}, "price", ["9" * 5000, "1e-9"]),
    ("/api/v1/listings/", "buyer", {"seat_id": NOBODY}, "price", ["9" * 5000, "0", "0.001", "100000000"]),
    (f"/api/v1/transfers/{NOBODY}/confirm/", "buyer", {}, "code", ["1" * 13, None, ["123456"]]),
    (f"/api/v1/transfers/{NOBODY}/dispute/", "staff", {}, "reason", ["r" * 2001, "   ", None]),
    (f"/api/v1/orders/{NOBODY}/refund/", "staff", {}, "reason", ["r" * 256, "", None]),
    ("/api/v1/scan/", "staff", {"event_id": NOBODY, "token": "x"}, "gate", ["g" * 65, None]),
    ("/api/v1/scan/", "staff", {"event_id": NOBODY, "gate": "North"}, "token", ["t" * 4097, None]),
    (
        "/api/v1/auth/register/",
        "anonymous",
        {"email": "n@example.com", "password": "A-long-passw0rd"},
        "full_name",
        [
            "n" * 201,
            "",
        ],
    ),
    ("/api/v1/auth/token/", "anonymous", {"email": "n@example.com"}, "password", ["p" * 257, None]),
    ("/api/v1/auth/verify/", "buyer", {}, "code", ["12345", "1234567", "abcdef", "1" * 5000]),
]


@pytest.mark.parametrize(
    ("path", "persona", "body", "field", "values"),
    OVERSIZED_FIELDS,
    ids=[f"{p} {f}" for p, _, _, f, _ in OVERSIZED_FIELDS],
)
def test_oversized_and_out_of_range_fields_are_refused_by_name(client_as, path, persona, body, field, values):
    client = client_as(persona)
    before = row_counts()
    for value in values:
        reply = assert_clean_4xx(send(client, "post", path, {**body, field: value}), 400)
        assert reply["code"] == "VALIDATION_ERROR" and field in reply.get("fields", {}), (str(value)[:50], reply)
    assert row_counts() == before


def test_profile_fields_that_may_not_change_are_refused_by_name(api, buyer):
    for extra in [{"email": "new@example.com"}, {"credit_balance": "1000000.00"}, {"is_flagged": False}]:
        reply = assert_clean_4xx(send(api, "patch", "/api/v1/me/", {"full_name": "X", **extra}), 400)
        assert set(extra) <= set(reply["fields"]), reply
    buyer.refresh_from_db()
    assert buyer.credit_balance == Decimal("100.00")


def _signed_webhook(raw: bytes):
    """``raw`` posted to the test provider's webhook, signed with the current time."""
    from accounts import payments

    stamp = int(timezone.now().timestamp())
    headers = {"X-Signature": payments.sign(raw, stamp), "X-Timestamp": str(stamp)}
    return APIClient().post("/api/v1/payments/webhook/", raw, content_type="application/json", headers=headers)


def test_the_webhook_refuses_a_signed_body_that_is_not_an_event_object():

    before = row_counts()
    for raw in [b"[]", b'"string"', b"null", b"1", b"{}", b'{"id": "evt", "type": "payment.succeeded", "data": []}']:
        reply = assert_clean_4xx(_signed_webhook(raw), 400)
        assert reply["code"] == "WEBHOOK_PAYLOAD_INVALID", (raw, reply)
    assert row_counts() == before


def test_the_webhook_accepts_envelope_fields_a_provider_adds_later(buyer):
    """Deliberately lenient: the provider signs the envelope and retries until a 2xx, so refusing a field it adds
    would stall every top-up. The signature, not the field list, is what authenticates the sender."""
    from accounts import payments, services

    started = services.topup_start(user_id=buyer.pk, amount="25.00")
    event = json.loads(
        payments.build_event(
            provider_reference=started.topup.provider_reference, amount=Decimal("25.00"), succeeded=True
        )
    )
    response = _signed_webhook(json.dumps({**event, "livemode": False, "api_version": "2030-01-01"}).encode())
    assert response.status_code == 200, response.content
    buyer.refresh_from_db()
    assert buyer.credit_balance == Decimal("125.00")


# PostgreSQL refuses NUL in text: a NUL that reached a query would be a 500. Every text input stops it first.
NUL_FIELDS = [
    ("/api/v1/auth/token/", "anonymous", {"email": "a\x00@example.com", "password": "pw"}),
    ("/api/v1/auth/token/", "anonymous", {"email": "a@example.com", "password": "p\x00w"}),
    (
        "/api/v1/auth/register/",
        "anonymous",
        {"email": "n@example.com", "password": "A-long-passw0rd", "full_name": "\x00"},
    ),
    ("/api/v1/auth/verify/", "buyer", {"code": "12345\x00"}),
    ("/api/v1/wallet/topups/", "buyer", {"amount": "10\x00"}),
    ("/api/v1/orders/", "buyer", {"event_id": NOBODY, "idempotency_key": "k\x00"}),
    (f"/api/v1/orders/{NOBODY}/refund/", "staff", {"reason": "r\x00"}),
    ("/api/v1/scan/", "staff", {"event_id": NOBODY, "gate": "G\x00", "token": "x"}),
    ("/api/v1/scan/", "staff", {"event_id": NOBODY, "gate": "G", "token": "x\x00"}),
    ("/api/v1/transfers/", "buyer", {"seat_id": NOBODY, "to_email": "f\x00@example.com"}),
    (f"/api/v1/transfers/{NOBODY}/confirm/", "buyer", {"code": "1\x00"}),
    (f"/api/v1/transfers/{NOBODY}/dispute/", "staff", {"reason": "\x00"}),
]


@pytest.mark.parametrize(("path", "persona", "body"), NUL_FIELDS, ids=[f"{p} {sorted(b)}" for p, _, b in NUL_FIELDS])
def test_a_nul_character_in_a_text_field_is_refused(client_as, path, persona, body):
    assert_clean_4xx(send(client_as(persona), "post", path, body), 400, 404)


def test_a_nul_character_in_a_profile_change_or_a_query_is_refused(api, event):
    assert_clean_4xx(send(api, "patch", "/api/v1/me/", {"phone": "1\x00"}), 400)
    assert_clean_4xx(send(api, "patch", "/api/v1/me/", {"preferences": {"news\x00letter": True}}), 400)
    for url in ["/api/v1/events/?q=%00", "/api/v1/listings/?event=%00", "/api/v1/holds/?event=%00"]:
        assert_clean_4xx(api.get(url), 400, 404)
    response = send(api, "post", "/api/v1/orders/", {"event_id": str(event.pk)}, HTTP_IDEMPOTENCY_KEY="k\x00")
    assert_clean_4xx(response, 400, 409)


# Amounts as raw JSON numbers (not strings): 1e309 parses to an infinite float, 1e-400 to 0.0 (a valid price for a
# free transfer, so not in that row), long integers exactly.
ABSURD_NUMBERS = ["1e309", "-1e309", "-0.5", "123456789012345678901234567890", "0.001"]
RAW_AMOUNT_BODIES = [
    ("/api/v1/wallet/topups/", '{{"amount": {}}}', [*ABSURD_NUMBERS, "1e-400"]),
    ("/api/v1/transfers/", '{{"seat_id": "' + NOBODY + '", "to_email": "f@example.com", "price": {}}}', ABSURD_NUMBERS),
    ("/api/v1/listings/", '{{"seat_id": "' + NOBODY + '", "price": {}}}', [*ABSURD_NUMBERS, "1e-400"]),
]


@pytest.mark.parametrize(("path", "template", "numbers"), RAW_AMOUNT_BODIES, ids=[p for p, _, _ in RAW_AMOUNT_BODIES])
def test_amounts_sent_as_absurd_json_numbers_are_refused(api, path, template, numbers):
    before = row_counts()
    for number in numbers:
        reply = assert_clean_4xx(send(api, "post", path, template.format(number)), 400)
        assert reply["code"] in ("VALIDATION_ERROR", "INVALID_AMOUNT"), (number, reply)
    assert row_counts() == before
