"""Transfers are priced like resale (the same cap of face value and the same platform fee, or free), and the offer
form answers the same whatever the recipient's address names: no account, an unverified, inactive or flagged one.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tests.factories import MembershipFactory, StaffFactory, UserFactory
from core import config
from core.databases import ALL_DATABASES
from core.errors import NotFound
from orders import contract
from orders.models import Transfer
from orders.services import transfer as svc
from orders.tests.helpers import (
    accepted,
    assert_invariants,
    balance,
    confirm_both,
    fee_paid,
    ledger_kinds,
    offer,
)
from orders.tests.jobs_helpers import queued_notifications

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


# --- The same price rules as resale -------------------------------------------------------------------------------


def test_a_transfer_above_the_resale_cap_is_refused(ticket, owner, friend):
    """The ticket's face value is 50.00 and the cap 100 %: 99,999 credits is not a way round resale's cap."""
    with pytest.raises(contract.PriceAboveCap) as caught:
        offer(ticket, owner, friend, price="99999")
    assert caught.value.code == "PRICE_ABOVE_CAP" and "50.00" in caught.value.detail
    config.set_value("resale_price_cap_percent", Decimal("120"))
    assert offer(ticket, owner, friend, price="60.00").price == Decimal("60.00")


def test_a_paid_transfer_keeps_the_platform_fee_like_a_resale(ticket, owner, friend):
    config.set_value("platform_fee_percent", Decimal("5"))
    info = accepted(ticket, owner, friend, price="40.00")
    assert info.fee == Decimal("2.00")
    before_owner, before_friend = balance(owner), balance(friend)
    done = confirm_both(info, owner, friend)
    assert done.status == "COMPLETED"
    assert balance(friend) == before_friend - Decimal("40.00")
    assert balance(owner) == before_owner + Decimal("38.00")
    assert ledger_kinds(info.id) == fee_paid("TRANSFER", "40.00", "2.00")
    assert_invariants()


def test_a_free_transfer_pays_no_fee(ticket, owner, friend):
    config.set_value("platform_fee_percent", Decimal("10"))
    info = accepted(ticket, owner, friend, price="0")
    assert info.fee == Decimal("0.00")
    confirm_both(info, owner, friend)
    assert ledger_kinds(info.id) == {}
    assert_invariants()


def test_a_reversed_paid_transfer_returns_the_price_and_the_fee(ticket, owner, friend):
    config.set_value("platform_fee_percent", Decimal("5"))
    before_owner, before_friend = balance(owner), balance(friend)
    info = confirm_both(accepted(ticket, owner, friend, price="40.00"), owner, friend)
    staff = StaffFactory(email="box@example.com")
    MembershipFactory(user=staff, organization_id=ticket.setup.event.organization_id, role="BOX_OFFICE")
    svc.transfer_dispute(transfer_id=info.id, actor_id=staff.pk, reason="fraud")
    reversed_ = svc.transfer_reverse(transfer_id=info.id, actor_id=staff.pk, reason="fraud")
    assert reversed_.status == "REVERSED"
    assert (balance(owner), balance(friend)) == (before_owner, before_friend)
    assert_invariants()


# --- The recipient's address tells the sender nothing ---------------------------------------------------------------


def _recipients():
    verified = UserFactory(email="verified@example.com")
    unverified = UserFactory(email="unverified@example.com", is_verified=False)
    flagged = UserFactory(email="flagged@example.com", is_flagged=True)
    inactive = UserFactory(email="inactive@example.com", is_active=False)
    return {
        "verified": verified.email,
        "unverified": unverified.email,
        "flagged": flagged.email,
        "inactive": inactive.email,
        "nobody": "nobody@example.com",
    }


def _offer_page(client: Client, seat_id, email: str) -> tuple[int, str]:
    response = client.post(reverse("transfers:offer", args=[seat_id]), {"to_email": email, "price": "0"}, follow=True)
    page = response.content.decode().replace(email, "<address>")
    body = page[page.index("<main") : page.index("</main>")] if "<main" in page else page
    # The transfer's own id and the form's CSRF token differ per offer; everything else must be the same.
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "<csrf>", body)
    return response.status_code, body.replace(str(response.context["t"]["id"]), "<id>")


def test_the_offer_page_answers_the_same_for_any_address(ticket, owner):
    addresses = _recipients()
    client = Client()
    client.force_login(owner)
    answers = {}
    for name, email in addresses.items():
        answers[name] = _offer_page(client, ticket.pk, email)
        # Withdraw it so the next offer of the same ticket is allowed.
        latest = Transfer.objects.using("orders").filter(seat_id=ticket.pk).order_by("-created_at").first()
        svc.transfer_cancel(transfer_id=latest.pk, user_id=owner.pk)
    assert len({status for status, _ in answers.values()}) == 1
    reference = answers["verified"][1]
    for name, (_status, body) in answers.items():
        assert body == reference, f"the page for a {name} address differs from a verified account's"


def test_the_api_answers_the_same_for_any_address(ticket, owner):
    client = APIClient()
    client.force_authenticate(owner)
    shapes = {}
    for name, email in _recipients().items():
        response = client.post(
            "/api/v1/transfers/", {"seat_id": str(ticket.pk), "to_email": email, "price": "0.00"}, format="json"
        )
        assert response.status_code == 201, (name, response.json())
        body = response.json()
        shapes[name] = sorted(key for key in body if key not in ("to_user_id",))
        assert body["to_email"] == email
        latest = Transfer.objects.using("orders").filter(seat_id=ticket.pk).order_by("-created_at").first()
        svc.transfer_cancel(transfer_id=latest.pk, user_id=owner.pk)
    assert len({tuple(shape) for shape in shapes.values()}) == 1


@pytest.mark.parametrize("who", ["unverified", "flagged", "nobody"])
def test_an_offer_to_an_address_that_may_not_receive_never_becomes_acceptable(ticket, owner, who):
    email = _recipients()[who]
    mail.outbox.clear()
    info = svc.transfer_offer(seat_id=ticket.pk, from_user_id=owner.pk, to_email=email)
    assert info.status == "OFFERED" and info.to_user_id is None
    offered = [job for job in queued_notifications("TRANSFER_OFFERED") if job["object_id"] == str(info.id)]
    assert offered == []  # nobody is told of it
    person = type(owner).objects.filter(email=email).first()
    if person is not None:
        assert svc.transfers_for_user(user_id=person.pk) == []
        with pytest.raises((NotFound, contract.UserFlagged)):  # a flagged account hears it is flagged, as always
            svc.transfer_accept(transfer_id=info.id, user_id=person.pk)
    # The sender sees it as offered to the address they typed, and may cancel it.
    assert svc.transfer_get(transfer_id=info.id, user_id=owner.pk).to_email == email
    assert svc.transfer_cancel(transfer_id=info.id, user_id=owner.pk).status == "CANCELLED"


def test_offering_to_your_own_address_is_still_refused(ticket, owner):
    with pytest.raises(contract.SelfTransfer):
        svc.transfer_offer(seat_id=ticket.pk, from_user_id=owner.pk, to_email=owner.email.upper())
