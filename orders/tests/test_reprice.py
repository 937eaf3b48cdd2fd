"""One price everywhere: a tier repriced after publishing is the price every page and API answer shows and every
checkout charges; a place held before the reprice is charged the price it was held at, and the checkout says so.

The reprice is a staff operation (queued from the admin, run as a worker would), audited, and applied to every free
place of the tier in one seats_db transaction; held and sold places take the new price only when next free.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from accounts.tests.factories import UserFactory
from core.databases import ALL_DATABASES
from core.errors import NotFound
from core.models import AuditLog
from events.tests.staff_world import add_staff, make_tenant
from inventory.models import Seat
from orders import services
from orders.models import StaffOperation
from orders.tests.helpers import balance, expire_holds, seat_map_data
from orders.tests.jobs_helpers import run_queued_operations

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

OLD, NEW = Decimal("40.00"), Decimal("45.00")


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _price(seat_id) -> Decimal:
    return Seat.objects.using("seats").get(pk=seat_id).price


def _reprice_through_the_admin(staff, tenant, price: Decimal):
    response = _client(staff).post(
        reverse("admin:events_event_reprice", args=[tenant.event.pk]),
        {"tier": str(tenant.tier.pk), "price": str(price), "reason": "Demand is high"},
    )
    assert response.status_code == 302, response.content[:500]
    assert run_queued_operations() == ["SUCCEEDED"]  # what a worker does
    return StaffOperation.objects.using("orders").get(kind="REPRICE", event_id=tenant.event.pk)


def _checkout(user, tenant):
    return services.order_checkout(buyer_id=user.pk, event_id=tenant.event.pk, idempotency_key=uuid.uuid4().hex)


def test_a_reprice_is_shown_and_charged_everywhere_and_an_earlier_hold_keeps_its_price():
    tenant = make_tenant("R", price=OLD)
    manager = add_staff(tenant, "MANAGER")
    sold, early, fresh = tenant.seat_ids[0], tenant.seat_ids[5], tenant.seat_ids[6]
    early_bird = UserFactory(email="early@example.com", credits="100.00")
    newcomer = UserFactory(email="newcomer@example.com", credits="100.00")
    services.hold_seats(buyer_id=early_bird.pk, event_id=tenant.event.pk, seat_ids=[early])

    operation = _reprice_through_the_admin(manager, tenant, NEW)

    assert operation.result["old_price"] == "40.00" and operation.result["new_price"] == "45.00"
    assert operation.result["deferred"] == 3  # two sold places and the early hold
    assert operation.result["repriced"] == len(tenant.seat_ids) - 3
    assert operation.done == operation.total == len(tenant.seat_ids)
    audit = AuditLog.objects.get(action="tier.reprice", object_id=str(tenant.tier.pk))
    assert audit.organization_id == tenant.organization.pk and audit.actor_id == manager.pk
    assert audit.reason == "Demand is high" and audit.data["new_price"] == "45.00"
    assert (_price(sold), _price(early), _price(fresh)) == (OLD, OLD, NEW)

    # The event page: the price table and every free seat of the map say 45.00, nothing free says 40.00.
    page = Client().get(reverse("orders:event", args=[tenant.event.pk])).content.decode()
    assert "45.00" in page
    drawn = seat_map_data(page, tenant.section.pk)
    free_prices = {
        drawn["prices"][price] for price, state in zip(drawn["price"], drawn["state"], strict=True) if state == "a"
    }
    assert free_prices == {"45.00"}
    section_page = Client().get(reverse("orders:event_section", args=[tenant.event.pk, tenant.section.pk]))
    assert str(NEW) in seat_map_data(section_page.content.decode(), tenant.section.pk)["prices"]
    # The API's sections and seats.
    sections = Client().get(f"/api/v1/events/{tenant.event.pk}/sections/").json()
    assert {Decimal(row["price"]) for row in (sections["results"] if "results" in sections else sections)} == {NEW}
    seats = Client().get(f"/api/v1/events/{tenant.event.pk}/seats/?section={tenant.section.pk}").json()
    rows = seats["results"] if isinstance(seats, dict) and "results" in seats else seats
    by_id = {row["id"]: Decimal(row["price"]) for row in (rows if isinstance(rows, list) else rows["seats"])}
    assert by_id[str(fresh)] == NEW

    # A new hold costs the new price, on the checkout page and in the charge.
    held = services.hold_seats(buyer_id=newcomer.pk, event_id=tenant.event.pk, seat_ids=[fresh])
    assert [seat.price for seat in held] == [NEW]
    checkout = _client(newcomer).get(reverse("orders:checkout") + f"?event={tenant.event.pk}").content.decode()
    assert "Pay 45.00 credits" in checkout and "held at this price" not in checkout
    order = _checkout(newcomer, tenant)
    assert order.total == NEW and balance(newcomer) == Decimal("55.00")

    # The place held before the reprice is charged what it was held at, and the checkout page says so.
    checkout = _client(early_bird).get(reverse("orders:checkout") + f"?event={tenant.event.pk}").content.decode()
    assert "Pay 40.00 credits" in checkout
    assert "held at this price; it is 45.00 now" in checkout
    order = _checkout(early_bird, tenant)
    assert order.total == OLD and balance(early_bird) == Decimal("60.00")


def test_places_held_or_sold_at_the_old_price_return_to_sale_at_the_new_one():
    tenant = make_tenant("S", price=OLD)
    lapsed, released = tenant.seat_ids[5], tenant.seat_ids[6]
    somebody = UserFactory(email="somebody@example.com", credits="300.00")
    services.hold_seats(buyer_id=somebody.pk, event_id=tenant.event.pk, seat_ids=[lapsed, released])

    services.tier_reprice(
        event_id=tenant.event.pk, tier_id=tenant.tier.pk, price=NEW, actor_id=tenant.owner.pk, reason="r"
    )
    assert (_price(lapsed), _price(released)) == (OLD, OLD)

    services.release_holds(buyer_id=somebody.pk, event_id=tenant.event.pk, seat_ids=[released])
    assert _price(released) == NEW
    expire_holds([lapsed])
    other = UserFactory(email="other@example.com", credits="300.00")
    taken = services.hold_seats(buyer_id=other.pk, event_id=tenant.event.pk, seat_ids=[lapsed])
    assert [seat.price for seat in taken] == [NEW]

    # The buyer's order of two places at 40.00 is refunded: both places return to sale at 45.00.
    services.order_refund(order_id=tenant.order_id, actor_id=tenant.owner.pk, reason="asked")
    assert [_price(pk) for pk in tenant.seat_ids[:2]] == [NEW, NEW]
    assert Seat.objects.using("seats").filter(event_id=tenant.event.pk, next_price__isnull=False).count() == 0


def test_repricing_again_with_the_same_price_changes_nothing_more():
    tenant = make_tenant("T", price=OLD)
    first = services.tier_reprice(event_id=tenant.event.pk, tier_id=tenant.tier.pk, price=NEW, actor_id=None)
    again = services.tier_reprice(event_id=tenant.event.pk, tier_id=tenant.tier.pk, price=NEW, actor_id=None)
    assert (first.old_price, first.new_price) == (OLD, NEW)
    assert (again.old_price, again.new_price) == (NEW, NEW)
    assert {_price(pk) for pk in tenant.seat_ids[2:]} == {NEW}


def test_after_publishing_a_tier_price_cannot_be_edited_in_place(client):
    tenant = make_tenant("U", price=OLD)
    client.force_login(tenant.owner)
    page = client.get(reverse("admin:events_event_change", args=[tenant.event.pk])).content.decode()
    assert 'name="tiers-0-price"' not in page
    assert reverse("admin:events_event_reprice", args=[tenant.event.pk]) in page


@pytest.mark.parametrize("role", ["BOX_OFFICE", "GATE"])
def test_only_who_manages_events_may_reprice(role):
    tenant = make_tenant("V", price=OLD)
    member = add_staff(tenant, role)
    url = reverse("admin:events_event_reprice", args=[tenant.event.pk])
    response = _client(member).post(url, {"tier": str(tenant.tier.pk), "price": "1.00", "reason": "cheap"})
    assert response.status_code == 404
    assert run_queued_operations() == []
    assert {_price(pk) for pk in tenant.seat_ids} == {OLD}


def test_staff_of_another_organization_cannot_reprice():
    ours, theirs = make_tenant("W", price=OLD), make_tenant("X", price=OLD)
    url = reverse("admin:events_event_reprice", args=[theirs.event.pk])
    response = _client(ours.owner).post(url, {"tier": str(theirs.tier.pk), "price": "1.00", "reason": "cheap"})
    assert response.status_code == 404
    assert {_price(pk) for pk in theirs.seat_ids} == {OLD}


def test_a_tier_of_another_event_is_refused():
    ours, theirs = make_tenant("Y", price=OLD), make_tenant("Z", price=OLD)
    with pytest.raises(NotFound):
        services.tier_reprice(event_id=ours.event.pk, tier_id=theirs.tier.pk, price=NEW, actor_id=None)
    theirs.tier.refresh_from_db()
    assert theirs.tier.price == OLD
