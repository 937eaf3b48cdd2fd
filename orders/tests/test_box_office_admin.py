"""The box-office, printed tickets and comps pages of the staff admin."""

from __future__ import annotations

import csv
import io
import re
import uuid

import pytest
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import MembershipFactory
from core.audit import AuditLog
from core.databases import ALL_DATABASES
from inventory import services as inventory_services
from orders import services
from orders.models import Order
from orders.tests.factories import Seat, make_event
from orders.tests.helpers import page_client

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


@pytest.fixture
def setup():
    return make_event()


@pytest.fixture
def clerk(setup):
    return MembershipFactory(organization_id=setup.event.organization_id, role="BOX_OFFICE").user


def box_office_url(setup):
    return reverse("admin:events_event_box_office", args=[setup.event.pk])


def test_the_page_lists_the_free_places_of_the_section_and_sells_the_ticked_ones_for_cash(setup, clerk):
    client = page_client(clerk)
    page = client.get(box_office_url(setup)).content.decode()
    assert all(f'value="{pk}"' in page for pk in setup.seat_ids)
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page).group(1)

    response = client.post(
        box_office_url(setup),
        {
            "idempotency_key": key,
            "section": str(setup.section.pk),
            "seat_ids": [str(pk) for pk in setup.seat_ids[:2]],
            "payment_method": "CASH",
            "email": "door@example.com",
        },
        follow=True,
    )

    assert "Sold 2 place(s) for 100.00 (cash), emailed to door@example.com" in response.content.decode()
    order = Order.objects.get(channel="BOX_OFFICE")
    assert Seat.objects.filter(order_id=order.pk, status="SOLD").count() == 2
    again = client.get(box_office_url(setup)).content.decode()
    assert f'value="{setup.seat_ids[0]}"' not in again  # sold places are no longer offered
    assert 'id="recent-sales"' in again


def test_a_printed_walk_in_sale_lands_on_the_print_page_whose_reprint_revokes_the_old_codes(setup, clerk):
    client = page_client(clerk)
    response = client.post(
        box_office_url(setup),
        {
            "idempotency_key": uuid.uuid4().hex,
            "section": str(setup.section.pk),
            "quantity": "1",
            "payment_method": "CARD_TERMINAL",
            "print_tickets": "on",
        },
        follow=True,
    )
    html = response.content.decode()
    order = Order.objects.get(channel="BOX_OFFICE")
    assert response.redirect_chain[-1][0] == reverse(
        "admin:events_event_box_office_print", args=[setup.event.pk, order.pk]
    )
    first = re.search(r'data-token="([^"]+)"', html).group(1)
    assert "<svg" in html and "orders/admin/box_office_print.css" in html and "print 1" in html

    reprinted = client.post(response.redirect_chain[-1][0], {"action": "reprint"}, follow=True).content.decode()
    second = re.search(r'data-token="([^"]+)"', reprinted).group(1)
    assert second != first and "print 2" in reprinted
    gate = MembershipFactory(organization_id=setup.event.organization_id, role="GATE").user
    scan = inventory_services.ticket_scan(token=first, event_id=setup.event.pk, gate="A", staff_id=gate.pk)
    assert scan.result == "REVOKED"
    assert AuditLog.objects.filter(action="order.tickets_reprint", object_id=str(order.pk)).exists()


def test_a_refused_sale_shows_why_and_sells_nothing(setup, clerk):
    response = page_client(clerk).post(
        box_office_url(setup),
        {"idempotency_key": "k1", "section": str(setup.section.pk), "quantity": "1", "payment_method": "CASH"},
        follow=True,
    )
    assert "Enter the buyer&#x27;s email address or print the tickets." in response.content.decode()
    assert not Order.objects.exists()


def test_the_comps_page_issues_a_guest_list(setup, clerk):
    url = reverse("admin:events_event_comps", args=[setup.event.pk])
    response = page_client(clerk).post(
        url,
        {
            "batch_key": "b1",
            "section": str(setup.section.pk),
            "places_per_guest": "1",
            "guests": "Ada Lovelace, ada@example.com\nAlan Turing <alan@example.com>",
            "note": "Press night",
        },
    )
    html = response.content.decode()
    assert "2 guest(s) get their tickets by email." in html
    assert "ada@example.com (new account)" in html
    assert Order.objects.filter(channel="COMP", status="CONFIRMED").count() == 2


@pytest.mark.parametrize("role", ["GATE", "OTHER_ORG"])
def test_gate_staff_and_other_organizations_do_not_find_the_pages(setup, role):
    organization = uuid.uuid4() if role == "OTHER_ORG" else setup.event.organization_id
    user = MembershipFactory(organization_id=organization, role="OWNER" if role == "OTHER_ORG" else role).user
    client = page_client(user)
    for name in ("events_event_box_office", "events_event_comps"):
        url = reverse(f"admin:{name}", args=[setup.event.pk])
        assert client.get(url).status_code == 404
        assert client.post(url, {"quantity": "1", "payment_method": "CASH"}).status_code == 404
    assert not Order.objects.exists()


def test_the_event_page_and_the_dashboard_link_to_the_box_office_and_comps(setup, clerk):
    owner = MembershipFactory(organization_id=setup.event.organization_id, role="OWNER").user
    client = page_client(owner)
    change = client.get(reverse("admin:events_event_change", args=[setup.event.pk])).content.decode()
    assert box_office_url(setup) in change
    assert reverse("admin:events_event_comps", args=[setup.event.pk]) in change


def test_the_orders_export_shows_the_channel_and_the_box_office_payment_to_reconcile_the_till(setup, clerk):
    client = page_client(clerk)
    client.post(
        box_office_url(setup),
        {
            "idempotency_key": "till-1",
            "section": str(setup.section.pk),
            "quantity": "2",
            "payment_method": "CARD_TERMINAL",
            "email": "till@example.com",
        },
    )
    response = client.get(reverse("admin:events_event_export", args=[setup.event.pk, "orders", "csv"]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][-3:] == ["channel", "paid by", "amount taken"]
    assert {tuple(row[-3:]) for row in rows[1:]} == {("Box office", "Card terminal", "100.00")}


def test_the_buyer_sees_a_box_office_order_as_paid_at_the_box_office_and_a_comp_as_complimentary(setup, clerk):
    sale = services.box_office_sell(
        actor_id=clerk.pk,
        event_id=setup.event.pk,
        payment_method="CASH",
        idempotency_key="b1",
        quantity=1,
        email="walkup@example.com",
    )
    comp = services.comp_issue(
        actor_id=clerk.pk, event_id=setup.event.pk, email="walkup@example.com", idempotency_key="c1", quantity=1
    )
    client = page_client(User.objects.get(pk=sale.order.buyer_id))
    sold = client.get(reverse("orders:detail", kwargs={"order_id": sale.order.id})).content.decode()
    assert "50.00, paid at the box office" in sold and "credits" not in sold.split("<tfoot>")[1].split("</tfoot>")[0]
    free = client.get(reverse("orders:detail", kwargs={"order_id": comp.order.id})).content.decode()
    assert "Complimentary" in free
