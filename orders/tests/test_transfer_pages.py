"""Buyer pages for transfers and resale, and the staff admin for transfers and listings."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client

from accounts.tests.factories import MembershipFactory, UserFactory
from orders.models import ResaleListing, Transfer
from orders.services import resale, transfer
from orders.tests.transfer_support import ALL_DATABASES, assert_invariants, code_for, seat_row, sold_ticket

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


@pytest.fixture
def owner():
    return UserFactory(email="owner@example.com", full_name="Olga Owner", credits="100.00")


@pytest.fixture
def friend():
    return UserFactory(email="friend@example.com", full_name="Fred Friend", credits="100.00")


@pytest.fixture
def outsider():
    return UserFactory(email="outsider@example.com", credits="100.00")


@pytest.fixture
def ticket(owner):
    return sold_ticket(owner)


def browser_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_offer_accept_confirm_through_the_pages(ticket, owner, friend):
    page = browser_for(owner).get(f"/transfers/offer/{ticket.pk}/")
    assert page.status_code == 200 and b"Send offer" in page.content
    sent = browser_for(owner).post(
        f"/transfers/offer/{ticket.pk}/", {"to_email": friend.email, "price": "10.00"}, follow=True
    )
    assert b"Offer sent" in sent.content
    transfer_id = Transfer.objects.using("orders").get(seat_id=ticket.pk).pk

    inbox = browser_for(friend).get("/transfers/")
    assert inbox.status_code == 200 and str(transfer_id).encode() in inbox.content
    accepted = browser_for(friend).post(f"/transfers/{transfer_id}/accept/", follow=True)
    assert b"Offer accepted" in accepted.content and b"Confirm with your code" in accepted.content

    for user, purpose in ((owner, "TRANSFER_SENDER"), (friend, "TRANSFER_RECIPIENT")):
        code = code_for(user, purpose=purpose, transfer_id=transfer_id)
        response = browser_for(user).post(f"/transfers/{transfer_id}/confirm/", {"code": code}, follow=True)
    assert b"Transfer complete" in response.content
    assert seat_row(ticket.pk)["owner_id"] == friend.pk
    assert_invariants()


def test_offer_form_shows_refusals_as_messages(ticket, owner):
    response = browser_for(owner).post(f"/transfers/offer/{ticket.pk}/", {"to_email": owner.email}, follow=True)
    assert response.status_code == 200 and b"cannot transfer a ticket to yourself" in response.content
    invalid = browser_for(owner).post(f"/transfers/offer/{ticket.pk}/", {"to_email": "nope", "price": "-2"})
    assert invalid.status_code == 400
    assert not Transfer.objects.using("orders").exists()


def test_it_validates_ownership(ticket, owner, friend, outsider):
    info = transfer.transfer_offer(seat_id=ticket.pk, from_user_id=owner.pk, to_email=friend.email)
    stranger = browser_for(outsider)
    assert stranger.get(f"/transfers/offer/{ticket.pk}/").status_code == 404
    assert stranger.get(f"/resale/sell/{ticket.pk}/").status_code == 404
    assert stranger.get(f"/transfers/{info.id}/").status_code == 404
    assert stranger.post(f"/transfers/{info.id}/accept/").status_code == 404
    assert stranger.post(f"/transfers/{info.id}/cancel/").status_code == 404
    assert stranger.post(f"/transfers/{info.id}/confirm/", {"code": "123456"}).status_code == 404
    assert Transfer.objects.using("orders").get(pk=info.id).status == "OFFERED"


@pytest.mark.parametrize("path", ["/transfers/not-a-uuid/", f"/transfers/{uuid.uuid4()}/", "/resale/events/x/"])
def test_unknown_and_malformed_ids_are_404_pages(owner, path):
    assert browser_for(owner).get(path).status_code == 404


def test_wrong_action_name_is_404_and_get_on_an_action_is_405(ticket, owner, friend):
    info = transfer.transfer_offer(seat_id=ticket.pk, from_user_id=owner.pk, to_email=friend.email)
    assert browser_for(friend).post(f"/transfers/{info.id}/explode/").status_code == 404
    assert browser_for(friend).get(f"/transfers/{info.id}/accept/").status_code == 405


def test_pages_need_a_login(ticket):
    response = Client().get("/transfers/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_cancel_and_decline_buttons(ticket, owner, friend):
    info = transfer.transfer_offer(seat_id=ticket.pk, from_user_id=owner.pk, to_email=friend.email)
    detail = browser_for(owner).get(f"/transfers/{info.id}/")
    assert b"Cancel offer" in detail.content and b"Accept offer" not in detail.content
    response = browser_for(owner).post(f"/transfers/{info.id}/cancel/", follow=True)
    assert b"Offer cancelled" in response.content
    again = browser_for(owner).post(f"/transfers/{info.id}/cancel/", follow=True)
    assert b"The transfer is cancelled" in again.content


def test_sell_browse_buy_withdraw_through_the_pages(owner, friend):
    first = sold_ticket(owner)
    second = sold_ticket(owner, setup=first.setup, seat_index=1)
    form = browser_for(owner).get(f"/resale/sell/{first.pk}/")
    assert form.status_code == 200 and b"At most 50.00 credits" in form.content
    too_much = browser_for(owner).post(f"/resale/sell/{first.pk}/", {"price": "80"}, follow=True)
    assert b"The most you may ask" in too_much.content
    browser_for(owner).post(f"/resale/sell/{first.pk}/", {"price": "40.00"})
    browser_for(owner).post(f"/resale/sell/{second.pk}/", {"price": "45.00"})

    browse = browser_for(friend).get(f"/resale/events/{first.event_id}/")
    assert browse.status_code == 200 and browse.content.count(b"Buy for") == 2
    cheap = ResaleListing.objects.using("orders").get(seat_id=first.pk)
    bought = browser_for(friend).post(f"/resale/{cheap.pk}/buy/", follow=True)
    assert b"Bought for 40.00" in bought.content
    assert seat_row(first.pk)["owner_id"] == friend.pk

    lost = browser_for(UserFactory(credits="100")).post(f"/resale/{cheap.pk}/buy/", follow=True)
    assert lost.status_code == 404  # a sold listing is visible only to its parties

    other = ResaleListing.objects.using("orders").get(seat_id=second.pk)
    withdrawn = browser_for(owner).post(f"/resale/{other.pk}/withdraw/", follow=True)
    assert b"Listing withdrawn" in withdrawn.content
    assert seat_row(second.pk)["status"] == "SOLD"
    mine = browser_for(friend).get("/resale/mine/")
    assert b"Resale tickets you bought" in mine.content and b"40.00" in mine.content
    assert_invariants()


# --- Admin ------------------------------------------------------------------------------------------------------------


def _completed(ticket, owner, friend, price="20.00"):
    info = transfer.transfer_offer(seat_id=ticket.pk, from_user_id=owner.pk, to_email=friend.email, price=price)
    transfer.transfer_accept(transfer_id=info.id, user_id=friend.pk)
    for user, purpose in ((owner, "TRANSFER_SENDER"), (friend, "TRANSFER_RECIPIENT")):
        transfer.transfer_confirm(
            transfer_id=info.id, user_id=user.pk, code=code_for(user, purpose=purpose, transfer_id=info.id)
        )
    return info.id


def test_admin_changelists_search_and_change_pages_render(ticket, owner, friend):
    transfer_id = _completed(ticket, owner, friend)
    other = sold_ticket(friend, setup=ticket.setup, seat_index=1)
    listing = resale.listing_create(seat_id=other.pk, seller_id=friend.pk, price="30")
    staff = MembershipFactory(organization_id=ticket.setup.event.organization_id, role="OWNER").user
    admin = browser_for(staff)
    assert admin.get("/admin/orders/transfer/").status_code == 200
    assert owner.email.encode() in admin.get("/admin/orders/transfer/").content
    for term in (owner.email, str(transfer_id), "anything"):
        assert admin.get("/admin/orders/transfer/", {"q": term}).status_code == 200
    assert admin.get(f"/admin/orders/transfer/{transfer_id}/change/").status_code == 200
    assert admin.get("/admin/orders/resalelisting/").status_code == 200
    for term in (friend.email, str(listing.id), "anything"):
        assert admin.get("/admin/orders/resalelisting/", {"q": term}).status_code == 200
    assert admin.get(f"/admin/orders/resalelisting/{listing.id}/change/").status_code == 200


def test_admin_dispute_and_reverse_actions_ask_for_a_reason(ticket, owner, friend):
    transfer_id = _completed(ticket, owner, friend)
    staff = MembershipFactory(organization_id=ticket.setup.event.organization_id, role="BOX_OFFICE").user
    admin = browser_for(staff)
    asked = admin.post(
        "/admin/orders/transfer/", {"action": "dispute_transfers", ACTION_CHECKBOX_NAME: [str(transfer_id)]}
    )
    assert asked.status_code == 200 and b"Dispute transfers" in asked.content
    no_reason = admin.post(
        "/admin/orders/transfer/",
        {"action": "dispute_transfers", ACTION_CHECKBOX_NAME: [str(transfer_id)], "apply": "1", "reason": " "},
    )
    assert no_reason.status_code == 200 and Transfer.objects.using("orders").get(pk=transfer_id).status == "COMPLETED"
    for action in ("dispute_transfers", "reverse_transfers"):
        admin.post(
            "/admin/orders/transfer/",
            {"action": action, ACTION_CHECKBOX_NAME: [str(transfer_id)], "apply": "1", "reason": "Fraud"},
        )
    assert Transfer.objects.using("orders").get(pk=transfer_id).status == "REVERSED"
    assert seat_row(ticket.pk)["owner_id"] == owner.pk
    assert_invariants()


def test_admin_hides_other_organizations_transfers(ticket, owner, friend):
    transfer_id = _completed(ticket, owner, friend, price="0")
    elsewhere = MembershipFactory(role="OWNER").user
    admin = browser_for(elsewhere)
    assert str(transfer_id).encode() not in admin.get("/admin/orders/transfer/").content
    assert admin.get(f"/admin/orders/transfer/{transfer_id}/change/").status_code == 404
    assert Decimal("0") == Transfer.objects.using("orders").get(pk=transfer_id).price
