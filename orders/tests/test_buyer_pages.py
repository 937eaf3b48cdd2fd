"""Checkout, order list and order pages."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from core.databases import ALL_DATABASES
from orders import services
from orders.models import Order
from orders.tests.factories import make_event
from orders.tests.helpers import balance, hold, ledger, messages_of

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def _checkout_page(client, setup):
    return client.get(reverse("orders:checkout"), {"event": str(setup.event.pk)})


def _key(html: str) -> str:
    return re.search(r'name="idempotency_key" value="([0-9a-f]+)"', html).group(1)


def test_checkout_page_shows_holds_total_balance_and_a_fresh_key(client, buyer):
    setup = make_event(price="30.00")
    hold(buyer, setup)
    client.force_login(buyer)
    first, second = _checkout_page(client, setup), _checkout_page(client, setup)
    assert first.status_code == 200
    assert "60.00" in first.text and "500.00" in first.text and "Pay 60.00 credits" in first.text
    assert "data-expires-at" in first.text
    assert _key(first.text) != _key(second.text)


def test_paying_confirms_the_order_and_a_resubmitted_form_pays_once(client, buyer):
    setup = make_event()
    hold(buyer, setup)
    client.force_login(buyer)
    key = _key(_checkout_page(client, setup).text)
    data = {"event": str(setup.event.pk), "idempotency_key": key}
    response = client.post(reverse("orders:checkout"), data)
    order = Order.objects.get(buyer_id=buyer.pk)
    assert response["Location"] == reverse("orders:detail", kwargs={"order_id": order.pk})
    again = client.post(reverse("orders:checkout"), data)  # a double click / reload of the POST
    assert again["Location"] == response["Location"]
    assert ledger("PURCHASE", order.pk) == [Decimal("-100.00")]
    detail = client.get(response["Location"])
    assert "Confirmed" in detail.text and f"/tickets/{setup.seat_ids[0]}/" in detail.text


def test_checkout_page_without_an_event_goes_back_to_browsing(client, buyer):
    client.force_login(buyer)
    assert client.get(reverse("orders:checkout")).status_code == 302
    assert client.get(reverse("orders:checkout"), {"event": "junk"}).status_code == 302
    assert client.get(reverse("orders:checkout"), {"event": str(uuid.uuid4())}).status_code == 404


def test_checkout_needs_a_login(client):
    setup = make_event()
    response = _checkout_page(client, setup)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_paying_with_too_few_credits_explains_and_charges_nothing(client):
    poor = UserFactory(credits="5.00")
    setup = make_event()
    hold(poor, setup, 1)
    client.force_login(poor)
    page = _checkout_page(client, setup)
    assert "/accounts/wallet/topup/" in page.text
    response = client.post(
        reverse("orders:checkout"), {"event": str(setup.event.pk), "idempotency_key": _key(page.text)}, follow=True
    )
    assert any("Top up" in m for m in messages_of(response))
    assert balance(poor) == Decimal("5.00")


def test_paying_without_holds_explains(client, buyer):
    setup = make_event()
    client.force_login(buyer)
    response = client.post(
        reverse("orders:checkout"), {"event": str(setup.event.pk), "idempotency_key": "x"}, follow=True
    )
    assert any("hold no seats" in m for m in messages_of(response))


def test_flagged_buyer_is_sent_to_the_step_up_page(client):
    flagged = UserFactory(credits="500.00", is_flagged=True)
    setup = make_event()
    hold(flagged, setup, 1)
    client.force_login(flagged)
    page = _checkout_page(client, setup)
    assert "/accounts/step-up/" in page.text
    response = client.post(reverse("orders:checkout"), {"event": str(setup.event.pk), "idempotency_key": "k"})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/step-up/?next=")
    assert not Order.objects.exists()


def test_order_pages_show_only_the_buyers_own_orders(client, buyer, other_buyer):
    setup = make_event()
    hold(buyer, setup, 1)
    order = services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="k")
    client.force_login(buyer)
    listing = client.get(reverse("orders:list"))
    assert setup.event.title in listing.text and str(order.id)[:8] in listing.text

    client.force_login(other_buyer)
    assert str(order.id)[:8] not in client.get(reverse("orders:list")).text
    assert client.get(reverse("orders:detail", kwargs={"order_id": order.id})).status_code == 404
    assert client.get(f"/orders/{uuid.uuid4()}/").status_code == 404
