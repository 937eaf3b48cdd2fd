"""An organization blocks a buyer from its own events; the audit log records every staff change (blocks, system
settings, reprices) for the right staff, and staff pages name places and people instead of showing raw ids."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from core.databases import ALL_DATABASES
from core.models import AuditLog, SystemSetting
from events.tests.staff_world import add_staff, make_tenant
from inventory.services import ticket_qr, ticket_scan
from orders import services
from orders.contract import BuyerBlocked
from orders.models import BuyerBlock
from orders.services import blocks

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _block_through_the_admin(staff, tenant, email: str):
    return _client(staff).post(
        reverse("admin:orders_buyerblock_add"),
        {"organization_id": str(tenant.organization.pk), "email": email, "reason": "Touting"},
    )


def test_a_blocked_buyer_cannot_hold_buy_or_buy_resale_at_that_organization_only():
    ours, theirs = make_tenant("A"), make_tenant("B")
    box_office = add_staff(ours, "BOX_OFFICE")
    response = _block_through_the_admin(box_office, ours, ours.buyer.email)
    assert response.status_code == 302, response.content[:600]
    block = BuyerBlock.objects.using("orders").get(organization_id=ours.organization.pk, user_id=ours.buyer.pk)

    with pytest.raises(BuyerBlocked):
        services.hold_seats(buyer_id=ours.buyer.pk, event_id=ours.event.pk, seat_ids=[ours.seat_ids[5]])
    # Another organization's events are not theirs to block.
    services.hold_seats(buyer_id=ours.buyer.pk, event_id=theirs.event.pk, seat_ids=[theirs.seat_ids[5]])
    order = services.order_checkout(buyer_id=ours.buyer.pk, event_id=theirs.event.pk, idempotency_key=uuid.uuid4().hex)
    assert order.status == "CONFIRMED"
    # A listing of our event, offered by someone else, cannot be bought by the blocked buyer.
    listing = services.listing_create(seat_id=theirs.seat_ids[0], seller_id=theirs.buyer.pk, price=Decimal("20.00"))
    services.listing_buy(listing_id=listing.id, buyer_id=ours.buyer.pk)  # their event: fine
    own = services.listing_create(seat_id=ours.seat_ids[0], seller_id=ours.buyer.pk, price=Decimal("20.00"))
    other = make_tenant("C").buyer
    BuyerBlock.objects.using("orders").create(organization_id=ours.organization.pk, user_id=other.pk, reason="x")
    with pytest.raises(BuyerBlocked):
        services.listing_buy(listing_id=own.id, buyer_id=other.pk)

    audit = AuditLog.objects.get(action="buyer.block")
    assert audit.organization_id == ours.organization.pk and audit.actor_id == box_office.pk
    assert audit.reason == "Touting"

    # Unblocking is audited too, and the buyer may buy again.
    _client(box_office).post(reverse("admin:orders_buyerblock_delete", args=[block.pk]), {"post": "yes"})
    assert not BuyerBlock.objects.using("orders").filter(pk=block.pk).exists()
    assert AuditLog.objects.filter(action="buyer.unblock", organization_id=ours.organization.pk).exists()
    services.hold_seats(buyer_id=ours.buyer.pk, event_id=ours.event.pk, seat_ids=[ours.seat_ids[5]])


def test_the_block_form_finds_only_buyers_of_the_organization_and_answers_the_same_otherwise():
    ours, theirs = make_tenant("A"), make_tenant("B")
    owner = ours.owner
    for email in (theirs.buyer.email, "nobody@example.com"):
        response = _block_through_the_admin(owner, ours, email)
        assert response.status_code == 200
        assert "None of your events&#x27; buyers uses that address." in response.content.decode()
    assert not BuyerBlock.objects.using("orders").exists()


@pytest.mark.parametrize("role", ["MANAGER", "GATE"])
def test_roles_without_buyer_powers_cannot_block(role):
    ours = make_tenant("A")
    member = add_staff(ours, role)
    response = _block_through_the_admin(member, ours, ours.buyer.email)
    assert response.status_code == 403
    assert not BuyerBlock.objects.using("orders").exists()


def test_staff_of_another_organization_cannot_block_for_it():
    ours, theirs = make_tenant("A"), make_tenant("B")
    response = _block_through_the_admin(ours.owner, theirs, theirs.buyer.email)
    assert response.status_code == 200  # the organization is not among the choices: a form error
    assert not BuyerBlock.objects.using("orders").exists()
    assert not blocks.buyer_is_blocked(organization_id=theirs.organization.pk, user_id=theirs.buyer.pk)


# --- Audit ----------------------------------------------------------------------------------------------------------


def test_adding_changing_and_deleting_a_system_setting_is_audited(client):
    root = make_tenant("A").owner
    type(root).objects.filter(pk=root.pk).update(is_superuser=True)
    client.force_login(root)
    client.post(reverse("admin:core_systemsetting_add"), {"key": "hold_seconds", "value": "300"})
    setting = SystemSetting.objects.get(key="hold_seconds")
    client.post(reverse("admin:core_systemsetting_change", args=[setting.pk]), {"key": "hold_seconds", "value": "420"})
    client.post(reverse("admin:core_systemsetting_delete", args=[setting.pk]), {"post": "yes"})
    rows = list(AuditLog.objects.filter(object_type="systemsetting").order_by("created_at"))
    assert [row.action for row in rows] == ["setting.add", "setting.change", "setting.delete"]
    assert rows[1].data == {"key": "hold_seconds", "before": "300", "after": "420"}
    assert all(row.actor_id == root.pk and row.organization_id is None for row in rows)


def test_audit_and_entry_logs_name_people_places_and_organizations(client):
    tenant = make_tenant("A")
    services.tier_reprice(
        event_id=tenant.event.pk, tier_id=tenant.tier.pk, price=Decimal("30.00"), actor_id=tenant.owner.pk
    )
    client.force_login(tenant.owner)
    audit_page = client.get(reverse("admin:core_auditlog_changelist")).content.decode()
    assert "event: Show A" in audit_page  # the publish row names the event
    assert "Org A" in audit_page
    assert str(tenant.event.pk) not in audit_page

    token, _ = ticket_qr(seat_id=tenant.seat_ids[0], owner_id=tenant.buyer.pk)
    ticket_scan(
        event_id=tenant.event.pk,
        token=token,
        staff_id=tenant.owner.pk,
        gate="North",
        organization_id=tenant.organization.pk,
    )
    entry_page = client.get(reverse("admin:inventory_entrylog_changelist")).content.decode()
    assert "Row A, seat 1" in entry_page
    assert "Buyer A" in entry_page and "Owner A" in entry_page
    assert str(tenant.seat_ids[0]) not in entry_page
