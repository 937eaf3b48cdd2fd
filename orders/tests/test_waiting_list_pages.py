"""The waiting list's pages, API and staff views: join from a sold-out event, "#N in line", the offer page with its
countdown, leaving; the counts on the sales dashboard and the staff list, scoped to the organization."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.tests.factories import MembershipFactory, UserFactory
from core.databases import ALL_DATABASES
from orders import services
from orders.models import WaitingListEntry
from orders.services import waiting_list
from orders.tests.factories import make_event
from orders.tests.helpers import api_client, buy, messages_of, page_client

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


@pytest.fixture
def sold_out():
    setup = make_event(rows=1, seats_per_row=2)
    order = buy(UserFactory(credits="500.00"), setup, count=2)
    return setup, order


def _offer(setup, order, waiter):
    """The waiter joins, a ticket is refunded, the matcher holds it for them."""
    info = waiting_list.waiting_list_join(buyer_id=waiter.pk, event_id=setup.event.pk, quantity=1)
    staff = MembershipFactory(organization_id=order.organization_id, role="BOX_OFFICE").user
    services.order_refund_tickets(order_id=order.id, seat_ids=[setup.seat_ids[0]], actor_id=staff.pk, reason="Back")
    waiting_list.waiting_list_match_due()
    return info


def test_a_sold_out_event_page_offers_the_waiting_list_and_joining_shows_the_place_in_line(sold_out):
    setup, _order = sold_out
    ahead = UserFactory()
    waiting_list.waiting_list_join(buyer_id=ahead.pk, event_id=setup.event.pk, quantity=1)
    client = page_client(UserFactory())

    page = client.get(reverse("orders:event", kwargs={"event_id": setup.event.pk}))
    assert b"Join the waiting list" in page.content

    joined = client.post(
        reverse("orders:waiting_list_join", kwargs={"event_id": setup.event.pk}), {"quantity": "2"}, follow=True
    )
    assert joined.redirect_chain[-1][0] == reverse("orders:waiting_list")
    assert any("#2 in line" in message for message in messages_of(joined))
    assert b"You're #2 in line" in joined.content


def test_an_event_with_places_left_offers_no_waiting_list_and_refuses_a_join(sold_out):
    setup = make_event(rows=1, seats_per_row=2)
    client = page_client(UserFactory())
    assert (
        b"Join the waiting list" not in client.get(reverse("orders:event", kwargs={"event_id": setup.event.pk})).content
    )
    refused = client.post(
        reverse("orders:waiting_list_join", kwargs={"event_id": setup.event.pk}), {"quantity": "1"}, follow=True
    )
    assert any("still on sale" in message for message in messages_of(refused))
    assert not WaitingListEntry.objects.exists()


def test_the_offer_page_shows_the_places_with_a_countdown_and_the_way_to_checkout(sold_out):
    setup, order = sold_out
    waiter = UserFactory(credits="100.00")
    info = _offer(setup, order, waiter)
    client = page_client(waiter)

    page = client.get(reverse("orders:waiting_list_offer", kwargs={"entry_id": info.id}))

    assert page.status_code == 200
    assert b"data-expires-at" in page.content and b'class="countdown"' in page.content
    assert b"Buy them at checkout" in page.content and b"row A, seat 1" in page.content
    assert b"Places held for you" in client.get(reverse("orders:waiting_list")).content
    other = page_client(UserFactory()).get(reverse("orders:waiting_list_offer", kwargs={"entry_id": info.id}))
    assert other.status_code == 404


def test_leaving_from_the_page(sold_out):
    setup, _order = sold_out
    waiter = UserFactory()
    info = waiting_list.waiting_list_join(buyer_id=waiter.pk, event_id=setup.event.pk, quantity=1)
    left = page_client(waiter).post(reverse("orders:waiting_list_leave", kwargs={"entry_id": info.id}), follow=True)
    assert "You left the waiting list." in messages_of(left)
    assert WaitingListEntry.objects.get(pk=info.id).status == "LEFT"


def test_the_api_joins_lists_reads_and_leaves(sold_out):
    setup, _order = sold_out
    waiter = UserFactory()
    api = api_client(waiter)

    created = api.post("/api/v1/waiting-list/", {"event_id": str(setup.event.pk), "quantity": 1}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["position"], body["quantity"]) == ("WAITING", 1, 1)
    again = api.post("/api/v1/waiting-list/", {"event_id": str(setup.event.pk), "quantity": 1}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "WAITING_LIST_ALREADY_JOINED")

    assert [entry["id"] for entry in api.get("/api/v1/waiting-list/").json()] == [body["id"]]
    assert api.get(f"/api/v1/waiting-list/{body['id']}/").json()["position"] == 1
    assert api_client(UserFactory()).get(f"/api/v1/waiting-list/{body['id']}/").status_code == 404

    left = api.post(f"/api/v1/waiting-list/{body['id']}/leave/", {}, format="json")
    assert left.status_code == 200 and left.json()["status"] == "LEFT"
    closed = api.post(f"/api/v1/waiting-list/{body['id']}/leave/", {}, format="json")
    assert (closed.status_code, closed.json()["code"]) == (409, "WAITING_LIST_ENTRY_CLOSED")


def test_the_api_shows_an_offer_with_its_places(sold_out):
    setup, order = sold_out
    waiter = UserFactory(credits="100.00")
    info = _offer(setup, order, waiter)
    body = api_client(waiter).get(f"/api/v1/waiting-list/{info.id}/").json()
    assert body["status"] == "OFFERED" and body["offered_seat_ids"] == [str(setup.seat_ids[0])]
    assert body["offer_expires_at"] and body["position"] is None


def test_staff_see_how_many_wait_per_section_on_the_dashboard_and_the_list(sold_out):
    setup, _order = sold_out
    for _ in range(3):
        waiting_list.waiting_list_join(
            buyer_id=UserFactory().pk, event_id=setup.event.pk, quantity=2, section_id=setup.section.pk
        )
    manager = MembershipFactory(organization_id=setup.event.organization_id, role="MANAGER").user
    client = page_client(manager)

    dashboard = client.get(reverse("admin:events_event_dashboard", args=[setup.event.pk]))
    assert f"3 people wait for {setup.section.name}".encode() in dashboard.content
    listing = client.get(reverse("admin:orders_waitinglistentry_changelist") + f"?event={setup.event.pk}")
    assert listing.status_code == 200 and listing.content.count(setup.section.name.encode()) >= 3

    stranger = MembershipFactory(organization_id=make_event().event.organization_id, role="MANAGER").user
    theirs = page_client(stranger).get(reverse("admin:orders_waitinglistentry_changelist"))
    assert theirs.status_code == 200 and setup.section.name.encode() not in theirs.content
