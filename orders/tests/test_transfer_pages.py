"""Buyer pages for transfers and resale, and the staff admin for transfers and listings."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client

from accounts.tests.factories import MembershipFactory, UserFactory
from core.databases import ALL_DATABASES
from orders.models import ResaleListing, Transfer
from orders.services import resale
from orders.tests.factories import sold_ticket
from orders.tests.helpers import accepted, assert_invariants, code_for, confirm_both, offer, page_client, seat_row

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def test_offer_accept_confirm_through_the_pages(ticket, owner, friend):
    page = page_client(owner).get(f"/transfers/offer/{ticket.pk}/")
    assert page.status_code == 200 and b"Send offer" in page.content
    sent = page_client(owner).post(
        f"/transfers/offer/{ticket.pk}/", {"to_email": friend.email, "price": "10.00"}, follow=True
    )
    assert b"Offer made to" in sent.content
    transfer_id = Transfer.objects.using("orders").get(seat_id=ticket.pk).pk

    inbox = page_client(friend).get("/transfers/")
    assert inbox.status_code == 200 and str(transfer_id).encode() in inbox.content
    accept_page = page_client(friend).post(f"/transfers/{transfer_id}/accept/", follow=True)
    assert b"Offer accepted" in accept_page.content and b"Confirm with your code" in accept_page.content

    for user, purpose in ((owner, "TRANSFER_SENDER"), (friend, "TRANSFER_RECIPIENT")):
        code = code_for(user, purpose=purpose, transfer_id=transfer_id)
        response = page_client(user).post(f"/transfers/{transfer_id}/confirm/", {"code": code}, follow=True)
    assert b"Transfer complete" in response.content
    assert seat_row(ticket.pk)["owner_id"] == friend.pk
    assert_invariants()


def test_offer_form_shows_refusals_as_messages(ticket, owner):
    response = page_client(owner).post(f"/transfers/offer/{ticket.pk}/", {"to_email": owner.email}, follow=True)
    assert response.status_code == 200 and b"cannot transfer a ticket to yourself" in response.content
    invalid = page_client(owner).post(f"/transfers/offer/{ticket.pk}/", {"to_email": "nope", "price": "-2"})
    assert invalid.status_code == 400
    assert not Transfer.objects.using("orders").exists()


def test_it_validates_ownership(ticket, owner, friend, outsider):
    info = offer(ticket, owner, friend)
    stranger = page_client(outsider)
    assert stranger.get(f"/transfers/offer/{ticket.pk}/").status_code == 404
    assert stranger.get(f"/resale/sell/{ticket.pk}/").status_code == 404
    assert stranger.get(f"/transfers/{info.id}/").status_code == 404
    assert stranger.post(f"/transfers/{info.id}/accept/").status_code == 404
    assert stranger.post(f"/transfers/{info.id}/cancel/").status_code == 404
    assert stranger.post(f"/transfers/{info.id}/confirm/", {"code": "123456"}).status_code == 404
    assert Transfer.objects.using("orders").get(pk=info.id).status == "OFFERED"


@pytest.mark.parametrize("path", ["/transfers/not-a-uuid/", f"/transfers/{uuid.uuid4()}/", "/resale/events/x/"])
def test_unknown_and_malformed_ids_are_404_pages(owner, path):
    assert page_client(owner).get(path).status_code == 404


@pytest.mark.parametrize("seat_id", ["not-a-uuid", uuid.uuid4()])
def test_offering_an_unknown_or_malformed_ticket_is_a_404_page(owner, friend, seat_id):
    page = page_client(owner).post(f"/transfers/offer/{seat_id}/", {"to_email": friend.email, "price": "0"})
    assert page.status_code == 404


def test_wrong_action_name_is_404_and_get_on_an_action_is_405(ticket, owner, friend):
    info = offer(ticket, owner, friend)
    assert page_client(friend).post(f"/transfers/{info.id}/explode/").status_code == 404
    assert page_client(friend).get(f"/transfers/{info.id}/accept/").status_code == 405


def test_pages_need_a_login(ticket):
    response = Client().get("/transfers/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_cancel_and_decline_buttons(ticket, owner, friend):
    info = offer(ticket, owner, friend)
    detail = page_client(owner).get(f"/transfers/{info.id}/")
    assert b"Cancel offer" in detail.content and b"Accept offer" not in detail.content
    response = page_client(owner).post(f"/transfers/{info.id}/cancel/", follow=True)
    assert b"Offer cancelled" in response.content
    again = page_client(owner).post(f"/transfers/{info.id}/cancel/", follow=True)
    assert b"The transfer is cancelled" in again.content


def test_sell_browse_buy_withdraw_through_the_pages(owner, friend):
    first = sold_ticket(owner)
    second = sold_ticket(owner, setup=first.setup, seat_index=1)
    form = page_client(owner).get(f"/resale/sell/{first.pk}/")
    assert form.status_code == 200 and b"At most 50.00 credits" in form.content
    too_much = page_client(owner).post(f"/resale/sell/{first.pk}/", {"price": "80"}, follow=True)
    assert b"The most you may ask" in too_much.content
    page_client(owner).post(f"/resale/sell/{first.pk}/", {"price": "40.00"})
    page_client(owner).post(f"/resale/sell/{second.pk}/", {"price": "45.00"})

    browse = page_client(friend).get(f"/resale/events/{first.event_id}/")
    assert browse.status_code == 200 and browse.content.count(b"Buy for") == 2
    cheap = ResaleListing.objects.using("orders").get(seat_id=first.pk)
    bought = page_client(friend).post(f"/resale/{cheap.pk}/buy/", follow=True)
    assert b"Bought for 40.00" in bought.content
    assert seat_row(first.pk)["owner_id"] == friend.pk

    lost = page_client(UserFactory(credits="100")).post(f"/resale/{cheap.pk}/buy/", follow=True)
    assert lost.status_code == 404  # a sold listing is visible only to its parties

    other = ResaleListing.objects.using("orders").get(seat_id=second.pk)
    withdrawn = page_client(owner).post(f"/resale/{other.pk}/withdraw/", follow=True)
    assert b"Listing withdrawn" in withdrawn.content
    assert seat_row(second.pk)["status"] == "SOLD"
    mine = page_client(friend).get("/resale/mine/")
    assert b"Resale tickets you bought" in mine.content and b"40.00" in mine.content
    assert_invariants()


# --- Admin ------------------------------------------------------------------------------------------------------------


def test_admin_changelists_search_and_change_pages_render(ticket, owner, friend):
    transfer_id = confirm_both(accepted(ticket, owner, friend, price="20.00"), owner, friend).id
    other = sold_ticket(friend, setup=ticket.setup, seat_index=1)
    listing = resale.listing_create(seat_id=other.pk, seller_id=friend.pk, price="30")
    staff = MembershipFactory(organization_id=ticket.setup.event.organization_id, role="OWNER").user
    admin = page_client(staff)
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
    transfer_id = confirm_both(accepted(ticket, owner, friend, price="20.00"), owner, friend).id
    staff = MembershipFactory(organization_id=ticket.setup.event.organization_id, role="BOX_OFFICE").user
    admin = page_client(staff)
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
    transfer_id = confirm_both(accepted(ticket, owner, friend, price="0"), owner, friend).id
    elsewhere = MembershipFactory(role="OWNER").user
    admin = page_client(elsewhere)
    assert str(transfer_id).encode() not in admin.get("/admin/orders/transfer/").content
    assert admin.get(f"/admin/orders/transfer/{transfer_id}/change/").status_code == 404
    assert Decimal("0") == Transfer.objects.using("orders").get(pk=transfer_id).price
