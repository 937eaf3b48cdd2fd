"""Ticket pages, tickets API and scan API, with personas: buyer, other buyer, gate staff, staff of another org."""

import re
import uuid

import pytest

from accounts.tests.factories import MembershipFactory, StaffFactory, UserFactory
from core.testing import cleared_around_each_test
from events.tests.factories import EventSectionFactory
from inventory import DB_ALIAS, services
from inventory.models import EntryLog
from inventory.tests.factories import HOLD, SeatFactory
from orders import presentation
from orders.tests.helpers import api_client

pytestmark = pytest.mark.django_db(databases=["default", "seats", "events", "orders"])


_fresh_presentation_caches = cleared_around_each_test(presentation.clear_caches)


@pytest.fixture
def event_section(db):
    return EventSectionFactory(section__name="Stalls")


@pytest.fixture
def buyer_ticket(buyer, event_section):
    """The buyer's ticket, row C seat 7 of the Stalls, sold by inventory alone (no order row needed here)."""
    event = event_section.event
    seat = SeatFactory(
        event_id=event.id, section_id=event_section.section_id, tier_id=event_section.tier_id, row_label="C", number=7
    )
    services.seats_hold(event_id=event.id, buyer_id=buyer.pk, seat_ids=[seat.id], **HOLD)
    services.seats_sell(buyer_id=buyer.pk, order_id=uuid.uuid4(), seat_ids=[seat.id])
    return services.ticket_get(seat_id=seat.id)


@pytest.fixture
def gate_staff(event_section):
    return MembershipFactory(organization_id=event_section.event.organization_id, role="GATE").user


# --- Pages -----------------------------------------------------------------------------------------------------


def test_my_tickets_lists_the_buyers_tickets(client, buyer, buyer_ticket):
    client.force_login(buyer)

    response = client.get("/tickets/")

    assert response.status_code == 200
    assert "Row C, seat 7" in response.content.decode()
    assert "Stalls" in response.content.decode()


def test_my_tickets_needs_a_login(client):
    response = client.get("/tickets/")

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_ticket_page_shows_a_qr_code_and_its_refresh_url(client, buyer, buyer_ticket):
    client.force_login(buyer)

    response = client.get(f"/tickets/{buyer_ticket.id}/")

    body = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in body and f"/tickets/{buyer_ticket.id}/qr/" in body
    assert "ticket_qr.js" in body and "Reload for a fresh code" in body
    token = response.context["token"]
    assert services.qr_token_read(token).seat_id == buyer_ticket.id


def test_the_qr_json_gives_a_fresh_token_svg_and_expiry(client, buyer, buyer_ticket):
    client.force_login(buyer)

    response = client.get(f"/tickets/{buyer_ticket.id}/qr/")

    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"token", "svg", "expires_at", "expires_at_display", "lifetime_seconds"}
    assert re.fullmatch(r"\d\d:\d\d:\d\d UTC", data["expires_at_display"])
    assert data["svg"].startswith("<svg")
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.parametrize("path", ["/tickets/{id}/", "/tickets/{id}/qr/"])
def test_it_validates_ownership_on_pages(client, other_buyer, buyer_ticket, path):
    client.force_login(other_buyer)

    assert client.get(path.format(id=buyer_ticket.id)).status_code == 404
    assert client.get(path.format(id="not-a-uuid")).status_code == 404
    assert client.get(path.format(id=uuid.uuid4())).status_code == 404


def test_a_listed_ticket_page_has_no_qr_and_the_json_says_why(client, buyer, buyer_ticket):
    services.ticket_set_listed(seat_id=buyer_ticket.id, owner_id=buyer.pk, listed=True)
    client.force_login(buyer)

    page = client.get(f"/tickets/{buyer_ticket.id}/")
    qr = client.get(f"/tickets/{buyer_ticket.id}/qr/")

    assert page.status_code == 200 and "<svg" not in page.content.decode()
    assert qr.status_code == 409 and qr.json()["code"] == "TICKET_LISTED"


# --- Tickets API -----------------------------------------------------------------------------------------------


def test_api_lists_the_buyers_tickets_paginated(buyer, buyer_ticket, event_section):
    response = api_client(buyer).get("/api/v1/tickets/")

    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert row["id"] == str(buyer_ticket.id) and row["status"] == "SOLD"
    assert row["event_title"] == event_section.event.title and row["section_name"] == "Stalls"


def test_api_ticket_detail_and_qr(buyer, buyer_ticket):
    detail = api_client(buyer).get(f"/api/v1/tickets/{buyer_ticket.id}/")
    qr = api_client(buyer).get(f"/api/v1/tickets/{buyer_ticket.id}/qr/")

    assert detail.status_code == 200 and detail.json()["label"] == "Row C, seat 7"
    assert qr.status_code == 200 and qr.json()["svg"].startswith("<svg")
    assert services.qr_token_read(qr.json()["token"]).owner_id == buyer.pk


@pytest.mark.parametrize("path", ["/api/v1/tickets/{id}/", "/api/v1/tickets/{id}/qr/"])
def test_it_validates_ownership_in_the_api(other_buyer, buyer_ticket, path):
    for seat_id in (buyer_ticket.id, "junk", uuid.uuid4()):
        response = api_client(other_buyer).get(path.format(id=seat_id))
        assert response.status_code == 404 and response.json()["code"] == "NOT_FOUND"


def test_api_needs_authentication(buyer_ticket):
    assert api_client().get("/api/v1/tickets/").status_code in (401, 403)


# --- Scan API --------------------------------------------------------------------------------------------------


def scan(user, event_id, token, gate="North"):
    return api_client(user).post(
        "/api/v1/scan/", {"event_id": str(event_id), "gate": gate, "token": token}, format="json"
    )


def test_gate_staff_admit_a_ticket_and_see_seat_and_holder(buyer, buyer_ticket, gate_staff, event_section):
    token, _ = services.ticket_qr(seat_id=buyer_ticket.id, owner_id=buyer.pk)

    response = scan(gate_staff, event_section.event_id, token)

    assert response.status_code == 200
    data = response.json()
    assert (data["result"], data["admitted"], data["holder_name"]) == ("SUCCESS", True, "Bea Buyer")
    assert data["seat"]["label"] == "Row C, seat 7" and data["seat"]["section_name"] == "Stalls"
    entry = EntryLog.objects.using(DB_ALIAS).get()
    assert entry.staff_id == gate_staff.pk and entry.organization_id == event_section.event.organization_id
    again = scan(gate_staff, event_section.event_id, token).json()
    assert (again["result"], again["admitted"]) == ("DUPLICATE", False)


def test_garbage_codes_answer_invalid_and_are_logged(gate_staff, event_section):
    response = scan(gate_staff, event_section.event_id, "hello world")

    assert response.status_code == 200
    assert response.json() == {
        "result": "INVALID",
        "admitted": False,
        "seat": None,
        "holder_name": "",
        "detail": "This is not a valid TicketRemaster code.",
    }
    assert EntryLog.objects.using(DB_ALIAS).filter(result="INVALID").count() == 1


def test_staff_of_another_organization_cannot_scan(buyer, buyer_ticket, event_section):
    outsider = MembershipFactory(role="OWNER").user
    token, _ = services.ticket_qr(seat_id=buyer_ticket.id, owner_id=buyer.pk)

    response = scan(outsider, event_section.event_id, token)

    assert response.status_code == 403 and response.json()["code"] == "SCAN_FORBIDDEN"
    assert not EntryLog.objects.using(DB_ALIAS).exists()
    assert services.ticket_get(seat_id=buyer_ticket.id).status == "SOLD"


def test_buyers_cannot_scan(buyer, buyer_ticket, event_section):
    token, _ = services.ticket_qr(seat_id=buyer_ticket.id, owner_id=buyer.pk)

    assert scan(buyer, event_section.event_id, token).status_code == 403


def test_superusers_can_scan_any_event(buyer, buyer_ticket, event_section):
    admin = StaffFactory(is_superuser=True)
    token, _ = services.ticket_qr(seat_id=buyer_ticket.id, owner_id=buyer.pk)

    assert scan(admin, event_section.event_id, token).json()["result"] == "SUCCESS"


def test_scan_of_an_unknown_event_is_404(gate_staff):
    response = scan(gate_staff, uuid.uuid4(), "x")

    assert response.status_code == 404 and response.json()["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"event_id": "nope", "gate": "N", "token": "x"},
        {"event_id": str(uuid.uuid4()), "token": "x"},
        {"event_id": str(uuid.uuid4()), "gate": "N", "token": "x" * 5000},
    ],
    ids=["empty", "bad-event-id", "no-gate", "huge-token"],
)
def test_malformed_scan_requests_are_validation_errors(gate_staff, body):
    response = api_client(gate_staff).post("/api/v1/scan/", body, format="json")

    assert response.status_code == 400 and response.json()["code"] == "VALIDATION_ERROR"


def test_a_gate_member_who_is_not_staff_cannot_scan(event_section):
    member = MembershipFactory(
        organization_id=event_section.event.organization_id, role="GATE", user=UserFactory(is_staff=False)
    ).user

    assert scan(member, event_section.event_id, "x").status_code == 403
