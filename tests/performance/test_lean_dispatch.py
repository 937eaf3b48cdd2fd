"""The lean dispatch of the hot API requests (orders/api/lean.py) answers what the full stack answers, byte for byte.

Each case sends the same request once through ``LeanApiMiddleware`` and once with it turned off (DRF, every
middleware), on a state where both must give the same answer (a replayed checkout, a second scan, a refusal), and
compares status, body and headers. The lean side is asserted to have been lean: DRF's dispatch must not run.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connections
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from accounts.models import User
from core.databases import ALL_DATABASES
from inventory.contract import SeatInfo
from orders.api import lean
from orders.api.serializers import HeldSeatSerializer, OrderSerializer
from orders.api.ticket_serializers import ScanResponseSerializer
from orders.contract import OrderInfo, OrderLineInfo

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES, transaction=True)

VOLATILE_HEADERS = {"X-Request-ID"}


def _not_drf(self, request, *args, **kwargs):
    raise AssertionError("this request went through DRF")


def _post(token: str, path: str, body, *, lean_path: bool, **headers):
    client = Client(HTTP_AUTHORIZATION=f"Token {token}", HTTP_ACCEPT="application/json")
    with override_settings(API_LEAN_DISPATCH=lean_path):
        if lean_path:
            with mock.patch.object(APIView, "dispatch", _not_drf):
                return client.post(path, body, content_type="application/json", **headers)
        return client.post(path, body, content_type="application/json", **headers)


def _both(token: str, path: str, body, **headers):
    """The same request, lean then full; asserts they answer alike and returns the lean answer."""
    answer = _post(token, path, body, lean_path=True, **headers)
    full = _post(token, path, body, lean_path=False, **headers)
    assert answer.status_code == full.status_code
    assert answer.content == full.content
    headers_of = lambda response: {k: v for k, v in response.headers.items() if k not in VOLATILE_HEADERS}  # noqa: E731
    assert headers_of(answer) == headers_of(full)
    return answer


def _hold_path(world) -> str:
    return f"/api/v1/events/{world.stadium_event_id}/holds/"


def _hot_seats(world) -> list[str]:
    from inventory import selectors

    return [
        str(seat["id"]) for seat in selectors.seat_map(event_id=world.stadium_event_id, section_id=world.hot_section_id)
    ]


def test_a_checkout_and_its_replay_answer_alike(world):
    buyer = world.buyers[0].token
    seats = _hot_seats(world)[:2]
    held = _post(buyer, _hold_path(world), {"seat_ids": seats}, lean_path=True)
    assert held.status_code == 201
    key = {"HTTP_IDEMPOTENCY_KEY": "lean-1"}
    first = _post(buyer, "/api/v1/orders/", {"event_id": str(world.stadium_event_id)}, lean_path=True, **key)
    assert first.status_code == 201 and first.json()["status"] == "CONFIRMED"
    replay = _both(buyer, "/api/v1/orders/", {"event_id": str(world.stadium_event_id)}, **key)
    assert replay.status_code == 200 and replay.json() == first.json()
    # A seat sold a moment ago: 409 for anyone else, worded alike (and in German when asked so).
    lost = _both(world.buyers[1].token, _hold_path(world), {"seat_ids": seats[:1]})
    assert (lost.status_code, lost.json()["code"]) == (409, "SEAT_UNAVAILABLE")
    german = _both(world.buyers[1].token, _hold_path(world), {"seat_ids": seats[:1]}, HTTP_ACCEPT_LANGUAGE="de")
    assert german["Content-Language"] == "de"


def test_checkout_refusals_and_their_replays_answer_alike(world):
    buyer = world.buyers[2].token
    body = {"event_id": str(world.stadium_event_id)}
    refused = _post(buyer, "/api/v1/orders/", body, lean_path=True, HTTP_IDEMPOTENCY_KEY="none-held")
    assert (refused.status_code, refused.json()["code"]) == (409, "NO_ACTIVE_HOLDS")
    again = _both(buyer, "/api/v1/orders/", body, HTTP_IDEMPOTENCY_KEY="none-held")
    assert again.json()["code"] == "NO_ACTIVE_HOLDS"
    unknown = _both(buyer, "/api/v1/orders/", {"event_id": str(uuid.uuid4())}, HTTP_IDEMPOTENCY_KEY="k-unknown")
    assert unknown.status_code == 404


def test_holds_answer_alike_and_release_alike(world):
    buyer = world.buyers[3].token
    seat = _hot_seats(world)[10]
    lean_hold = _post(buyer, _hold_path(world), {"seat_ids": [seat]}, lean_path=True)
    lean_release = _post(buyer, "/api/v1/holds/release/", {}, lean_path=True)
    full_hold = _post(buyer, _hold_path(world), {"seat_ids": [seat]}, lean_path=False)
    full_release = _post(buyer, "/api/v1/holds/release/", {}, lean_path=False)
    assert (lean_hold.status_code, lean_release.json()) == (201, {"released": 1})
    assert (full_hold.status_code, full_release.json()) == (201, {"released": 1})
    without_expiry = lambda response: [{**s, "hold_expires_at": None} for s in response.json()]  # noqa: E731
    assert without_expiry(lean_hold) == without_expiry(full_hold)
    assert lean_hold.headers["Content-Type"] == full_hold.headers["Content-Type"] == "application/json"
    assert set(lean_hold.headers) == set(full_hold.headers)
    # Refusals of the service, and ids that name nothing.
    assert _both(buyer, "/api/v1/events/nope/holds/", {"seat_ids": [seat]}).status_code == 404
    assert _both(buyer, f"/api/v1/events/{uuid.uuid4()}/holds/", {"quantity": 1}).status_code == 404
    assert _both(buyer, "/api/v1/holds/release/", {"seat_ids": [seat]}).json() == {"released": 0}


@pytest.mark.parametrize(
    "body",
    [
        {"seat_ids": []},
        {"quantity": "two"},
        {"quantity": True},
        {"seat_ids": ["x"]},
        {"quantity": 1, "colour": "red"},
        {"quantity": 1, "seat_ids": ["00000000-0000-0000-0000-000000000001"]},
        [],
    ],
)
def test_bodies_of_another_shape_get_the_full_stacks_answer(world, body):
    answer = _post(world.buyers[4].token, _hold_path(world), body, lean_path=False)
    lean_side = Client(HTTP_AUTHORIZATION=f"Token {world.buyers[4].token}").post(
        _hold_path(world), body, content_type="application/json"
    )
    assert answer.status_code == lean_side.status_code == 400
    assert answer.content == lean_side.content


def test_a_bad_token_is_refused_as_always(world):
    client = Client(HTTP_AUTHORIZATION="Token not-a-token")
    response = client.post("/api/v1/holds/release/", {}, content_type="application/json")
    assert response.status_code == 401
    assert response.json()["code"] == "AUTHENTICATION_FAILED"
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_users_database_gone_while_the_token_is_read_is_a_503_both_ways(world, language):
    """The principal is read before any service runs; an outage there is the 503 of every outage, in the buyer's
    language, on the lean path as on the full one."""
    users = connections["default"]
    original_port = users.settings_dict["PORT"]
    users.close()
    users.settings_dict["PORT"] = 1  # nothing listens there
    try:
        answer = _both(world.buyers[0].token, _hold_path(world), {"quantity": 1}, HTTP_ACCEPT_LANGUAGE=language)
    finally:
        users.close()
        users.settings_dict["PORT"] = original_port
    assert answer.status_code == 503
    assert answer.json()["code"] == "DATABASE_UNAVAILABLE"
    assert answer["Content-Language"] == language


def _scan_body(world, token: str, event_id=None) -> dict:
    return {"event_id": str(event_id or world.big_event_id), "gate": " North ", "token": token}


def test_scans_answer_alike(world):
    from inventory import services as inventory_services

    gate = world.gate_staff[0].token
    seat_id, owner_id = world.big_tickets[0]
    token = inventory_services.ticket_qr(seat_id=seat_id, owner_id=owner_id)[0]
    first = _post(gate, "/api/v1/scan/", _scan_body(world, token), lean_path=True)
    assert first.json()["result"] == "SUCCESS"
    again = _both(gate, "/api/v1/scan/", _scan_body(world, token))
    assert again.json()["result"] == "DUPLICATE" and again.json()["seat"]["checked_in_at"]
    assert _both(gate, "/api/v1/scan/", _scan_body(world, "garbage")).json()["result"] == "INVALID"
    assert _both(gate, "/api/v1/scan/", _scan_body(world, token, uuid.uuid4())).status_code == 404
    outsider = User.objects.create_user("outsider@example.com", None, is_staff=True, is_verified=True)
    refused = _both(Token.objects.create(user=outsider).key, "/api/v1/scan/", _scan_body(world, token))
    assert (refused.status_code, refused.json()["code"]) == (403, "SCAN_FORBIDDEN")


# --- The lean describers render what the serializers render ---------------------------------------------------------
def _seat(**changes) -> SeatInfo:
    values = {
        "id": uuid.uuid4(),
        "event_id": uuid.uuid4(),
        "section_id": uuid.uuid4(),
        "tier_id": None,
        "row_label": "A",
        "number": 7,
        "label": "Row A, seat 7",
        "x": 0,
        "y": 0,
        "price": Decimal("12.5"),
        "status": "HELD",
        "is_accessible": True,
        "is_general_admission": False,
        "held_by_id": uuid.uuid4(),
        "hold_expires_at": dt.datetime(2026, 12, 3, 13, 0, 0, tzinfo=dt.UTC),
        "owner_id": None,
        "order_id": None,
        "qr_version": 1,
        "checked_in_at": None,
    }
    return SeatInfo(**{**values, **changes})


def _rendered(data) -> bytes:
    return JSONRenderer().render(data)


@pytest.mark.django_db(databases=[])
@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/New_York"])
def test_the_lean_describers_render_what_the_serializers_render(zone):
    seats = [
        _seat(),
        _seat(tier_id=uuid.uuid4(), price=Decimal("0"), hold_expires_at=timezone.now(), is_accessible=False),
        _seat(price=Decimal("99999999.99"), hold_expires_at=dt.datetime(2026, 6, 1, 9, 30, 5, 120, tzinfo=dt.UTC)),
    ]
    now = timezone.now()
    order = OrderInfo(
        id=uuid.uuid4(),
        buyer_id=uuid.uuid4(),
        event_id=uuid.uuid4(),
        organization_id=None,
        status="CONFIRMED",
        step="DONE",
        total=Decimal("37.50"),
        idempotency_key="k€y",
        failure_code="",
        created_at=now,
        confirmed_at=now.replace(microsecond=0),
        refunded_at=None,
        refund_reason="",
        lines=(
            OrderLineInfo(seat_id=uuid.uuid4(), price=Decimal("25"), is_active=True),
            OrderLineInfo(seat_id=uuid.uuid4(), price=Decimal("12.50"), is_active=False),
        ),
    )
    scanned = {
        "id": uuid.uuid4(),
        "event_id": uuid.uuid4(),
        "section_id": uuid.uuid4(),
        "section_name": "Nord",
        "row": "B",
        "number": 3,
        "label": "Reihe B, Platz 3",
        "place": "Nord · Reihe B, Platz 3",
        "is_accessible": False,
        "is_general_admission": False,
        "status": "CHECKED_IN",
        "checked_in_at": now,
    }
    described = [
        {"result": "SUCCESS", "admitted": True, "seat": scanned, "holder_name": "Zoë", "detail": "Welcome."},
        {"result": "INVALID", "admitted": False, "seat": None, "holder_name": "", "detail": "Not a ticket."},
    ]
    with timezone.override(zone):
        assert _rendered([lean.held_seat_json(seat) for seat in seats]) == _rendered(
            HeldSeatSerializer(seats, many=True).data
        )
        assert _rendered(lean.order_json(order)) == _rendered(OrderSerializer(order).data)
        for scan in described:
            assert _rendered(lean.scan_json(scan)) == _rendered(ScanResponseSerializer(scan).data)
