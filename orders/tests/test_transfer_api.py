"""The transfer and listing API: POST actions, stable error codes, and nobody but the parties sees a transfer."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from accounts.tests.factories import MembershipFactory, UserFactory
from core.databases import ALL_DATABASES
from orders.tests.helpers import api_client, assert_invariants, balance, code_for, seat_row

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def create(owner, ticket, friend, price="0"):
    return api_client(owner).post(
        "/api/v1/transfers/", {"seat_id": str(ticket.pk), "to_email": friend.email, "price": price}, format="json"
    )


def test_full_paid_transfer_through_the_api(ticket, owner, friend):
    response = create(owner, ticket, friend, price="25.00")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "OFFERED" and body["your_role"] == "sender" and body["to_email"] == friend.email
    transfer_id = body["id"]

    incoming = api_client(friend).get("/api/v1/transfers/?direction=incoming").json()
    assert [row["id"] for row in incoming["results"]] == [transfer_id]

    assert api_client(friend).post(f"/api/v1/transfers/{transfer_id}/accept/").json()["status"] == "ACCEPTED"
    sender_code = code_for(owner, purpose="TRANSFER_SENDER", transfer_id=transfer_id)
    recipient_code = code_for(friend, purpose="TRANSFER_RECIPIENT", transfer_id=transfer_id)
    first = api_client(owner).post(f"/api/v1/transfers/{transfer_id}/confirm/", {"code": sender_code}, format="json")
    assert first.status_code == 200 and first.json()["you_confirmed"] is True
    done = api_client(friend).post(f"/api/v1/transfers/{transfer_id}/confirm/", {"code": recipient_code})
    assert done.status_code == 200 and done.json()["status"] == "COMPLETED"
    assert seat_row(ticket.pk)["owner_id"] == friend.pk
    assert balance(friend) == Decimal("75.00")
    assert_invariants()


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"seat_id": None, "to_email": "friend@example.com"}, 400, "VALIDATION_ERROR"),
        ({"seat_id": "nope", "to_email": "friend@example.com"}, 400, "VALIDATION_ERROR"),
        ({"to_email": "not-an-email"}, 400, "VALIDATION_ERROR"),
        ({"to_email": "friend@example.com", "price": "-1"}, 400, "VALIDATION_ERROR"),
        ({"to_email": "friend@example.com", "price": "1e20"}, 400, "VALIDATION_ERROR"),
        ({"to_email": "owner@example.com"}, 400, "SELF_TRANSFER"),
        ({"to_email": "friend@example.com", "price": "50.01"}, 400, "PRICE_ABOVE_CAP"),
    ],
)
def test_bad_offers_answer_4xx_with_a_stable_code(ticket, owner, friend, payload, status, code):
    body = {key: value for key, value in {"seat_id": str(ticket.pk), **payload}.items() if value is not None}
    response = api_client(owner).post("/api/v1/transfers/", body, format="json")
    assert (response.status_code, response.json()["code"]) == (status, code)


def test_second_offer_answers_409_transfer_active(ticket, owner, friend, outsider):
    assert create(owner, ticket, friend).status_code == 201
    response = create(owner, ticket, outsider)
    assert (response.status_code, response.json()["code"]) == (409, "TRANSFER_ACTIVE")


def test_flagged_unverified_and_unknown_recipients_get_the_answer_a_real_one_gets(ticket, owner, friend):
    """The check happens silently: the offer is made, and never becomes acceptable (test_transfer_pricing.py)."""
    people = [
        UserFactory(is_flagged=True),
        UserFactory(is_verified=False),
        UserFactory.build(email="ghost@example.com"),
    ]
    answers = []
    for person in [friend, *people]:
        response = create(owner, ticket, person)
        answers.append((response.status_code, response.json()["status"], response.json()["to_email"] == person.email))
        api_client(owner).post(f"/api/v1/transfers/{response.json()['id']}/cancel/")
    assert set(answers) == {(201, "OFFERED", True)}


def test_it_validates_ownership(ticket, owner, friend, outsider):
    transfer_id = create(owner, ticket, friend).json()["id"]
    stranger = api_client(outsider)
    assert stranger.get(f"/api/v1/transfers/{transfer_id}/").status_code == 404
    for action in ("accept", "decline", "cancel", "send-code"):
        response = stranger.post(f"/api/v1/transfers/{transfer_id}/{action}/")
        assert (response.status_code, response.json()["code"]) == (404, "NOT_FOUND"), action
    assert stranger.post(f"/api/v1/transfers/{transfer_id}/confirm/", {"code": "123456"}).status_code == 404
    assert stranger.post(f"/api/v1/transfers/{transfer_id}/dispute/", {"reason": "x"}).status_code == 404
    assert stranger.get("/api/v1/transfers/").json()["results"] == []


def test_someone_elses_ticket_cannot_be_offered(ticket, friend, outsider):
    response = create(outsider, ticket, friend)
    assert (response.status_code, response.json()["code"]) == (404, "NOT_FOUND")


@pytest.mark.parametrize("transfer_id", ["not-a-uuid", str(uuid.uuid4())])
def test_unknown_and_malformed_ids_are_json_404s(owner, transfer_id):
    response = api_client(owner).post(f"/api/v1/transfers/{transfer_id}/accept/")
    assert (response.status_code, response.json()["code"]) == (404, "NOT_FOUND")


@pytest.mark.parametrize("listing_id", ["garbage", str(uuid.uuid4())])
def test_buying_an_unknown_or_malformed_listing_is_a_json_404(friend, listing_id):
    response = api_client(friend).post(f"/api/v1/listings/{listing_id}/buy/")
    assert (response.status_code, response.json()["code"]) == (404, "NOT_FOUND")


def test_wrong_party_action_is_403(ticket, owner, friend):
    transfer_id = create(owner, ticket, friend).json()["id"]
    response = api_client(owner).post(f"/api/v1/transfers/{transfer_id}/accept/")
    assert (response.status_code, response.json()["code"]) == (403, "TRANSFER_ACTION_FORBIDDEN")


def test_confirm_needs_a_code_and_a_wrong_code_is_refused(ticket, owner, friend):
    transfer_id = create(owner, ticket, friend).json()["id"]
    api_client(friend).post(f"/api/v1/transfers/{transfer_id}/accept/")
    assert api_client(owner).post(f"/api/v1/transfers/{transfer_id}/confirm/", {}).json()["code"] == "VALIDATION_ERROR"
    code_for(owner, purpose="TRANSFER_SENDER", transfer_id=transfer_id)
    response = api_client(owner).post(f"/api/v1/transfers/{transfer_id}/confirm/", {"code": "99999x"})
    assert (response.status_code, response.json()["code"]) == (400, "OTP_INVALID")


def test_send_code_is_throttled(ticket, owner, friend):
    transfer_id = create(owner, ticket, friend).json()["id"]
    api_client(friend).post(f"/api/v1/transfers/{transfer_id}/accept/")  # emails both parties a code just now
    response = api_client(owner).post(f"/api/v1/transfers/{transfer_id}/send-code/")
    assert (response.status_code, response.json()["code"]) == (429, "OTP_RESEND_TOO_SOON")


def test_decline_and_cancel_through_the_api(ticket, owner, friend):
    first = create(owner, ticket, friend).json()["id"]
    assert api_client(friend).post(f"/api/v1/transfers/{first}/decline/").json()["status"] == "DECLINED"
    second = create(owner, ticket, friend).json()["id"]
    assert api_client(owner).post(f"/api/v1/transfers/{second}/cancel/").json()["status"] == "CANCELLED"
    again = api_client(owner).post(f"/api/v1/transfers/{second}/cancel/")
    assert (again.status_code, again.json()["code"]) == (409, "TRANSFER_INVALID_STATE")


def test_staff_dispute_and_reverse_through_the_api(ticket, owner, friend):
    transfer_id = create(owner, ticket, friend).json()["id"]
    api_client(friend).post(f"/api/v1/transfers/{transfer_id}/accept/")
    for user, purpose in ((owner, "TRANSFER_SENDER"), (friend, "TRANSFER_RECIPIENT")):
        code = code_for(user, purpose=purpose, transfer_id=transfer_id)
        api_client(user).post(f"/api/v1/transfers/{transfer_id}/confirm/", {"code": code})
    staff = MembershipFactory(organization_id=ticket.setup.event.organization_id, role="OWNER").user
    assert api_client(staff).post(f"/api/v1/transfers/{transfer_id}/reverse/", {"reason": "x"}).status_code == 409
    assert api_client(staff).post(f"/api/v1/transfers/{transfer_id}/dispute/", {}).status_code == 400
    disputed = api_client(staff).post(f"/api/v1/transfers/{transfer_id}/dispute/", {"reason": "Fraud report"})
    assert disputed.json()["status"] == "DISPUTED"
    assert api_client(friend).post(f"/api/v1/transfers/{transfer_id}/dispute/", {"reason": "x"}).status_code == 404
    reversed_ = api_client(staff).post(f"/api/v1/transfers/{transfer_id}/reverse/", {"reason": "Fraud confirmed"})
    assert reversed_.json()["status"] == "REVERSED"
    assert seat_row(ticket.pk)["owner_id"] == owner.pk
    assert_invariants()


def test_anonymous_requests_are_refused(ticket):
    response = api_client().get("/api/v1/transfers/")
    assert response.status_code in (401, 403) and response.json()["code"] in ("NOT_AUTHENTICATED", "PERMISSION_DENIED")


# --- Listings ---------------------------------------------------------------------------------------------------------


def test_list_browse_buy_through_the_api(ticket, owner, friend):
    created = api_client(owner).post("/api/v1/listings/", {"seat_id": str(ticket.pk), "price": "45.00"}, format="json")
    assert created.status_code == 201, created.json()
    listing_id = created.json()["id"]
    browse = api_client(friend).get(f"/api/v1/listings/?event={ticket.event_id}").json()
    assert [row["id"] for row in browse["results"]] == [listing_id]
    assert browse["results"][0]["ticket_label"]
    bought = api_client(friend).post(f"/api/v1/listings/{listing_id}/buy/")
    assert bought.status_code == 200 and bought.json()["status"] == "SOLD"
    again = api_client(UserFactory(credits="100")).post(f"/api/v1/listings/{listing_id}/buy/")
    assert (again.status_code, again.json()["code"]) == (409, "LISTING_UNAVAILABLE")
    assert seat_row(ticket.pk)["owner_id"] == friend.pk
    assert_invariants()


@pytest.mark.parametrize(
    ("price", "status", "code"),
    [("50.01", 400, "PRICE_ABOVE_CAP"), ("0", 400, "VALIDATION_ERROR"), ("-3", 400, "VALIDATION_ERROR")],
)
def test_bad_listing_prices_are_refused(ticket, owner, price, status, code):
    response = api_client(owner).post("/api/v1/listings/", {"seat_id": str(ticket.pk), "price": price}, format="json")
    assert (response.status_code, response.json()["code"]) == (status, code)


def test_own_listing_cannot_be_bought_and_others_cannot_withdraw(ticket, owner, friend):
    listing_id = api_client(owner).post("/api/v1/listings/", {"seat_id": str(ticket.pk), "price": "40"}).json()["id"]
    own = api_client(owner).post(f"/api/v1/listings/{listing_id}/buy/")
    assert (own.status_code, own.json()["code"]) == (400, "OWN_LISTING")
    assert api_client(friend).post(f"/api/v1/listings/{listing_id}/withdraw/").status_code == 404
    withdrawn = api_client(owner).post(f"/api/v1/listings/{listing_id}/withdraw/")
    assert withdrawn.json()["status"] == "WITHDRAWN"
    assert api_client(owner).get("/api/v1/listings/?mine=1").json()["results"][0]["status"] == "WITHDRAWN"


def test_listing_list_needs_an_event_or_mine(owner):
    response = api_client(owner).get("/api/v1/listings/")
    assert (response.status_code, response.json()["code"]) == (400, "VALIDATION_ERROR")
    assert api_client(owner).get("/api/v1/listings/?event=garbage").status_code == 404


def test_buyer_short_of_credits_gets_402(ticket, owner):
    listing_id = api_client(owner).post("/api/v1/listings/", {"seat_id": str(ticket.pk), "price": "40"}).json()["id"]
    poor = UserFactory(credits="1.00")
    response = api_client(poor).post(f"/api/v1/listings/{listing_id}/buy/")
    assert (response.status_code, response.json()["code"]) == (402, "INSUFFICIENT_CREDITS")
