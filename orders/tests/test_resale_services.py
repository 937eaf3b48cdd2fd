"""Resale listings: create under the cap, withdraw, buy in one step, and every refusal."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.contract import InsufficientCredits
from accounts.tests.factories import UserFactory
from core import config
from core.databases import ALL_DATABASES
from core.errors import NotFound
from orders import contract
from orders.models import Order, ResaleListing
from orders.services import resale as svc
from orders.services import transfer as transfer_svc
from orders.tests.factories import sold_ticket
from orders.tests.helpers import api_client, assert_invariants, balance, fee_paid, ledger_kinds, seat_row

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def listed(ticket, seller, price="40.00"):
    return svc.listing_create(seat_id=ticket.pk, seller_id=seller.pk, price=price)


# --- Create -----------------------------------------------------------------------------------------------------------


def test_owner_lists_a_sold_ticket_and_it_becomes_listed(ticket, seller):
    info = listed(ticket, seller, price="45.00")
    assert info.status == "ACTIVE" and info.price == Decimal("45.00") and info.face_value == Decimal("50.00")
    assert seat_row(ticket.pk)["status"] == "LISTED"
    assert_invariants()


def test_price_at_the_cap_is_accepted_and_above_it_refused(ticket, seller):
    with pytest.raises(contract.PriceAboveCap) as caught:
        listed(ticket, seller, price="50.01")
    assert caught.value.code == "PRICE_ABOVE_CAP" and caught.value.status == 400
    assert seat_row(ticket.pk)["status"] == "SOLD"
    assert listed(ticket, seller, price="50.00").status == "ACTIVE"


def test_cap_follows_the_configured_percentage(ticket, seller):
    config.set_value("resale_price_cap_percent", "120")
    assert listed(ticket, seller, price="60.00").price == Decimal("60.00")


@pytest.mark.parametrize("price", ["0", "-5", "0.001", "abc", None, "1e12"])
def test_price_must_be_positive_and_well_formed(ticket, seller, price):
    with pytest.raises(contract.InvalidListingPrice):
        listed(ticket, seller, price=price)


def test_someone_elses_ticket_cannot_be_listed(ticket, shopper):
    with pytest.raises(NotFound):
        listed(ticket, shopper)


def test_ticket_cannot_be_listed_twice(ticket, seller):
    listed(ticket, seller)
    with pytest.raises(contract.ListingActive) as caught:
        listed(ticket, seller)
    assert caught.value.status == 409


def test_checked_in_or_refunding_ticket_cannot_be_listed(ticket, seller):
    Order.objects.using("orders").filter(pk=ticket.order_id).update(step="REFUNDING")
    with pytest.raises(contract.TicketNotTransferable):
        listed(ticket, seller)
    Order.objects.using("orders").filter(pk=ticket.order_id).update(step="DONE")
    type(ticket).objects.using("seats").filter(pk=ticket.pk).update(status="CHECKED_IN", checked_in_at=timezone.now())
    with pytest.raises(contract.TicketNotTransferable):
        listed(ticket, seller)


def test_ticket_with_an_open_transfer_cannot_be_listed(ticket, seller, shopper):
    transfer_svc.transfer_offer(seat_id=ticket.pk, from_user_id=seller.pk, to_email=shopper.email)
    with pytest.raises(contract.TicketNotTransferable):
        listed(ticket, seller)
    assert seat_row(ticket.pk)["status"] == "SOLD"


def test_flagged_seller_cannot_list(ticket, seller):
    type(seller).objects.filter(pk=seller.pk).update(is_flagged=True)
    with pytest.raises(contract.UserFlagged):
        listed(ticket, seller)


# --- Browse and withdraw ----------------------------------------------------------------------------------------------


def test_listings_of_an_event_are_browsable_cheapest_first(seller):
    first = sold_ticket(seller)
    second = sold_ticket(seller, setup=first.setup, seat_index=1)
    expensive = listed(first, seller, price="45.00")
    cheap = listed(second, seller, price="30.00")
    assert [info.id for info in svc.listings_for_event(event_id=first.event_id)] == [cheap.id, expensive.id]
    assert svc.listings_for_event(event_id=uuid.uuid4()) == []
    # A malformed event id is parsed at the edge: NOT_FOUND, like an unknown event.
    assert api_client(seller).get("/api/v1/listings/?event=nope").json()["code"] == "NOT_FOUND"


def test_owner_withdraws_an_active_listing_and_the_ticket_is_sold_again(ticket, seller):
    info = listed(ticket, seller)
    after = svc.listing_withdraw(listing_id=info.id, seller_id=seller.pk)
    assert (after.status, after.step) == ("WITHDRAWN", "DONE")
    assert seat_row(ticket.pk)["status"] == "SOLD"
    assert svc.listings_for_event(event_id=ticket.event_id) == []
    assert listed(ticket, seller).status == "ACTIVE"  # can be listed again
    assert_invariants()


def test_withdrawing_twice_is_harmless(ticket, seller):
    info = listed(ticket, seller)
    svc.listing_withdraw(listing_id=info.id, seller_id=seller.pk)
    assert svc.listing_withdraw(listing_id=info.id, seller_id=seller.pk).status == "WITHDRAWN"


def test_only_the_seller_can_withdraw(ticket, seller, shopper):
    info = listed(ticket, seller)
    with pytest.raises(NotFound):
        svc.listing_withdraw(listing_id=info.id, seller_id=shopper.pk)


def test_sold_listing_cannot_be_withdrawn(ticket, seller, shopper):
    info = listed(ticket, seller)
    svc.listing_buy(listing_id=info.id, buyer_id=shopper.pk)
    with pytest.raises(contract.ListingUnavailable):
        svc.listing_withdraw(listing_id=info.id, seller_id=seller.pk)


def test_a_non_active_listing_is_visible_only_to_its_parties(ticket, seller, shopper):
    info = listed(ticket, seller)
    assert svc.listing_get(listing_id=info.id, user_id=shopper.pk).status == "ACTIVE"
    svc.listing_withdraw(listing_id=info.id, seller_id=seller.pk)
    with pytest.raises(NotFound):
        svc.listing_get(listing_id=info.id, user_id=shopper.pk)
    assert svc.listing_get(listing_id=info.id, user_id=seller.pk).status == "WITHDRAWN"


# --- Buy --------------------------------------------------------------------------------------------------------------


def test_buyer_buys_a_listing_in_one_step(ticket, seller, shopper):
    qr_before = seat_row(ticket.pk)["qr_version"]
    info = listed(ticket, seller, price="40.00")
    bought = svc.listing_buy(listing_id=info.id, buyer_id=shopper.pk)
    assert (bought.status, bought.step) == ("SOLD", "DONE") and bought.buyer_id == shopper.pk and bought.sold_at
    assert bought.fee == Decimal("2.00")  # 5 % default platform fee
    row = seat_row(ticket.pk)
    assert (row["status"], row["owner_id"]) == ("SOLD", shopper.pk) and row["qr_version"] > qr_before
    assert balance(shopper) == Decimal("60.00")
    assert balance(seller) == Decimal("88.00")  # 100 - 50 purchase + 40 - 2 fee
    assert ledger_kinds(bought.sale_attempt_id) == fee_paid("RESALE", "40.00", "2.00")
    assert_invariants()


def test_fee_is_rounded_to_the_cent(ticket, seller, shopper):
    config.set_value("platform_fee_percent", "7.5")
    info = listed(ticket, seller, price="33.33")
    bought = svc.listing_buy(listing_id=info.id, buyer_id=shopper.pk)
    assert bought.fee == Decimal("2.50")  # 2.49975 -> 2.50
    assert_invariants()


def test_seller_cannot_buy_their_own_listing(ticket, seller):
    info = listed(ticket, seller)
    with pytest.raises(contract.OwnListing):
        svc.listing_buy(listing_id=info.id, buyer_id=seller.pk)
    assert ResaleListing.objects.using("orders").get(pk=info.id).status == "ACTIVE"


def test_buyer_without_enough_credits_is_refused_and_the_listing_stays_for_sale(ticket, seller):
    poor = UserFactory(credits="10.00")
    info = listed(ticket, seller, price="40.00")
    with pytest.raises(InsufficientCredits):
        svc.listing_buy(listing_id=info.id, buyer_id=poor.pk)
    assert ResaleListing.objects.using("orders").get(pk=info.id).status == "ACTIVE"
    assert balance(poor) == Decimal("10.00")


def test_withdrawn_or_sold_listing_cannot_be_bought(ticket, seller, shopper):
    info = listed(ticket, seller)
    svc.listing_withdraw(listing_id=info.id, seller_id=seller.pk)
    with pytest.raises(contract.ListingUnavailable) as caught:
        svc.listing_buy(listing_id=info.id, buyer_id=shopper.pk)
    assert caught.value.status == 409
    assert balance(shopper) == Decimal("100.00")


def test_unknown_listing_is_not_found(shopper):
    with pytest.raises(NotFound):
        svc.listing_buy(listing_id=uuid.uuid4(), buyer_id=shopper.pk)


def test_flagged_buyer_cannot_buy(ticket, seller, shopper):
    info = listed(ticket, seller)
    type(shopper).objects.filter(pk=shopper.pk).update(is_flagged=True)
    with pytest.raises(contract.UserFlagged):
        svc.listing_buy(listing_id=info.id, buyer_id=shopper.pk)


def test_ticket_refunded_under_an_active_listing_refunds_the_buyer_and_cancels(ticket, seller, shopper):
    info = listed(ticket, seller)
    # Staff refunded the order meanwhile (seats_unsell frees LISTED seats too).
    type(ticket).objects.using("seats").filter(pk=ticket.pk).update(status="AVAILABLE", owner_id=None, order_id=None)
    with pytest.raises(contract.ListingUnavailable):
        svc.listing_buy(listing_id=info.id, buyer_id=shopper.pk)
    after = ResaleListing.objects.using("orders").get(pk=info.id)
    assert (after.status, after.step) == ("CANCELLED", "COMPENSATED")
    assert balance(shopper) == Decimal("100.00")
    assert balance(seller) == Decimal("50.00")


def test_resold_ticket_can_be_resold_by_its_new_owner(ticket, seller, shopper):
    svc.listing_buy(listing_id=listed(ticket, seller).id, buyer_id=shopper.pk)
    again = svc.listing_create(seat_id=ticket.pk, seller_id=shopper.pk, price="50.00")
    assert again.status == "ACTIVE" and again.seller_id == shopper.pk
