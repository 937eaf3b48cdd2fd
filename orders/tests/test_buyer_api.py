"""Holds and orders API: hold -> checkout with an idempotency key -> order; errors in the one shape."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from accounts.tests.factories import MembershipFactory, UserFactory
from core.databases import ALL_DATABASES
from orders.tests.factories import make_event
from orders.tests.helpers import api_checkout, api_client, api_hold, balance, hold, ledger

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def test_anonymous_cannot_hold_or_order():
    setup = make_event()
    client = api_client()
    assert client.post(f"/api/v1/events/{setup.event.pk}/holds/", {"quantity": 1}).status_code in (401, 403)
    assert client.get("/api/v1/orders/").status_code in (401, 403)
    assert client.get("/api/v1/holds/").json()["code"] in ("NOT_AUTHENTICATED", "AUTHENTICATION_FAILED")


def test_hold_then_checkout_with_an_idempotency_key(api, buyer):
    setup = make_event()
    held = api_hold(api, setup, setup.seat_ids[:2])
    assert held.status_code == 201
    assert {seat["id"] for seat in held.json()} == {str(pk) for pk in setup.seat_ids[:2]}
    assert all(seat["hold_expires_at"] for seat in held.json())

    first = api_checkout(api, setup, "abc")
    assert first.status_code == 201
    order = first.json()
    assert (order["status"], order["total"], len(order["lines"])) == ("CONFIRMED", "100.00", 2)

    retry = api_checkout(api, setup, "abc")
    assert retry.status_code == 200 and retry.json()["id"] == order["id"]
    assert ledger("PURCHASE", order["id"]) == [Decimal("-100.00")]
    assert balance(buyer) == Decimal("400.00")


def test_a_browser_session_holds_and_checks_out_through_the_api(client, buyer):
    """Session authentication hands the view Django's lazy request user, not a token's user row."""
    setup = make_event()
    client.force_login(buyer)
    assert api_hold(client, setup, setup.seat_ids[:1]).status_code == 201
    paid = api_checkout(client, setup, "session-1")
    assert paid.status_code == 201 and paid.json()["status"] == "CONFIRMED"


def test_idempotency_key_may_come_in_the_body(api):
    setup = make_event()
    api_hold(api, setup, setup.seat_ids[:2])
    response = api.post("/api/v1/orders/", {"event_id": str(setup.event.pk), "idempotency_key": "body"}, format="json")
    assert response.status_code == 201 and response.json()["idempotency_key"] == "body"


def test_checkout_without_a_key_is_a_validation_error(api):
    setup = make_event()
    api_hold(api, setup, setup.seat_ids[:2])
    response = api_checkout(api, setup)
    assert response.status_code == 400 and response.json()["code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize("body", [{}, {"event_id": "nope"}])
def test_checkout_with_a_bad_body_is_a_validation_error(api, body):
    response = api.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 400 and "event_id" in response.json()["fields"]


def test_checkout_errors_have_stable_codes(api, buyer):
    setup = make_event()
    no_holds = api_checkout(api, setup, "1")
    assert (no_holds.status_code, no_holds.json()["code"]) == (409, "NO_ACTIVE_HOLDS")

    poor = UserFactory(credits="1.00")
    client = api_client(poor)
    api_hold(client, setup, setup.seat_ids[:2])
    broke = api_checkout(client, setup, "2")
    assert (broke.status_code, broke.json()["code"]) == (402, "INSUFFICIENT_CREDITS")

    flagged = UserFactory(credits="500.00", is_flagged=True)
    client.force_authenticate(flagged)
    api_hold(client, setup, setup.seat_ids[5:6])
    step = api_checkout(client, setup, "3")
    assert (step.status_code, step.json()["code"]) == (428, "STEP_UP_REQUIRED")


def test_busy_seat_is_409_seat_unavailable(api, other_buyer):
    setup = make_event()
    hold(other_buyer, setup, 1)
    response = api_hold(api, setup, setup.seat_ids[:2])
    assert response.status_code == 409
    assert response.json()["code"] == "SEAT_UNAVAILABLE"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"seat_ids": []},
        {"seat_ids": ["x"]},
        {"seat_ids": ["not-a-uuid"]},
        {"seat_ids": "abc"},
        {"quantity": 0},
        {"quantity": 10_000},
        {"seat_ids": [str(uuid.uuid4())], "quantity": 1},
        {"seat_ids": [str(uuid.uuid4())], "section_id": str(uuid.uuid4())},
    ],
)
def test_bad_hold_requests_are_400(api, body):
    setup = make_event()
    response = api.post(f"/api/v1/events/{setup.event.pk}/holds/", body, format="json")
    assert response.status_code == 400 and response.json()["code"] == "VALIDATION_ERROR"


def test_best_available_hold_by_quantity(api):
    setup = make_event(general=True)
    response = api.post(
        f"/api/v1/events/{setup.event.pk}/holds/",
        {"quantity": 2, "section_id": str(setup.section.pk)},
        format="json",
    )
    assert response.status_code == 201 and len(response.json()) == 2


def test_hold_on_a_malformed_event_id_is_404(api):
    assert api.post("/api/v1/events/xyz/holds/", {"quantity": 1}, format="json").status_code == 404


def test_list_and_release_holds(api):
    setup = make_event()
    api_hold(api, setup, setup.seat_ids[:3])
    assert len(api.get("/api/v1/holds/").json()) == 3
    assert len(api.get("/api/v1/holds/", {"event": str(setup.event.pk)}).json()) == 3
    assert api.get("/api/v1/holds/", {"event": "junk"}).status_code == 400
    one = api.post("/api/v1/holds/release/", {"seat_ids": [str(setup.seat_ids[0])]}, format="json")
    assert one.json() == {"released": 1}
    assert api.post("/api/v1/holds/release/", {"event_id": str(setup.event.pk)}, format="json").json() == {
        "released": 2
    }
    assert api.post("/api/v1/holds/release/", {"seat_ids": ["bad"]}, format="json").status_code == 400


def test_release_with_a_malformed_seat_id_is_a_validation_error(api):
    response = api.post("/api/v1/holds/release/", {"seat_ids": ["nope"]}, format="json")
    assert response.json()["code"] == "VALIDATION_ERROR"


def test_orders_are_listed_and_shown_to_their_buyer_only(api, other_buyer):
    setup = make_event()
    api_hold(api, setup, setup.seat_ids[:2])
    order = api_checkout(api, setup, "k")
    order_id = order.json()["id"]
    listing = api.get("/api/v1/orders/").json()
    assert listing["count"] == 1 and listing["results"][0]["id"] == order_id
    assert api.get(f"/api/v1/orders/{order_id}/").json()["status"] == "CONFIRMED"

    stranger = api_client(other_buyer)
    assert stranger.get(f"/api/v1/orders/{order_id}/").status_code == 404
    assert stranger.get("/api/v1/orders/").json()["count"] == 0
    assert api.get("/api/v1/orders/not-a-uuid/").json()["code"] == "NOT_FOUND"


def test_refund_api_is_for_the_events_refund_staff(api, buyer):
    setup = make_event()
    api_hold(api, setup, setup.seat_ids[:2])
    order_id = api_checkout(api, setup, "k").json()["id"]

    assert api.post(f"/api/v1/orders/{order_id}/refund/", {"reason": "mine"}, format="json").status_code == 403

    outsider = MembershipFactory(organization_id=uuid.uuid4(), role="MANAGER").user
    client = api_client(outsider)
    denied = client.post(f"/api/v1/orders/{order_id}/refund/", {"reason": "x"}, format="json")
    assert (denied.status_code, denied.json()["code"]) == (403, "REFUND_NOT_ALLOWED")

    staff = MembershipFactory(organization_id=setup.event.organization_id, role="BOX_OFFICE").user
    client.force_authenticate(staff)
    assert client.post(f"/api/v1/orders/{order_id}/refund/", {}, format="json").status_code == 400
    done = client.post(f"/api/v1/orders/{order_id}/refund/", {"reason": "Asked nicely"}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "REFUNDED"
    assert balance(buyer) == Decimal("500.00")
    assert client.post(f"/api/v1/orders/{uuid.uuid4()}/refund/", {"reason": "x"}, format="json").status_code == 404
