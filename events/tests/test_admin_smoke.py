"""Admin smoke tests: every registered ModelAdmin of the project, as staff of each role and as a superuser.

For each model: changelist, search, a filter, the add page and the change page of an object of the staff member's
own organization answer 200 when the role allows it and 403/404 when it does not (roles table in docs/STAFF.md).
"""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from accounts.models import LedgerEntry, OrganizationMembership, User
from accounts.tests.factories import UserFactory
from core import config
from core.databases import ALL_DATABASES
from core.models import AuditLog, SystemSetting
from events.models import Event, Organization, Section, Venue
from inventory.models import EntryLog, Seat
from orders.models import BuyerBlock, Notification, Order, WaitingListEntry

OWN, M, B, G = "OWNER", "MANAGER", "BOX_OFFICE", "GATE"

# model -> (roles that may view, roles that may add, search term, filter query)
MATRIX = {
    Organization: ({OWN, M, B}, set(), "Org", "deleted=all"),
    Venue: ({OWN, M}, {OWN, M}, "Hall", "deleted=yes"),
    Section: ({OWN, M}, {OWN, M}, "Stalls", "kind__exact=SEATED"),
    Event: ({OWN, M, B}, {OWN, M}, "Show", "status__exact=PUBLISHED"),
    Seat: ({OWN, M, B}, set(), "A", "status__exact=SOLD"),
    EntryLog: ({OWN, M, B, G}, set(), "Gate", "result__exact=INVALID"),
    Order: ({OWN, M, B}, set(), "buyer-a@example.com", "status__exact=CONFIRMED"),
    User: ({OWN}, set(), "gate", "is_flagged__exact=0"),  # the organization's staff; buyers only via orders
    LedgerEntry: (set(), set(), "factory", "kind__exact=TOPUP"),  # the platform ledger: platform staff only
    OrganizationMembership: ({OWN}, {OWN}, "owner", "role__exact=OWNER"),
    AuditLog: ({OWN}, set(), "event", "action=event.publish"),
    SystemSetting: (set(), set(), "hold", "q=hold"),
    Notification: ({OWN, M, B}, set(), "buyer", "status__exact=PENDING"),  # the organization's outbox
    BuyerBlock: ({OWN, M, B}, {OWN, B}, "Touting", "q=Touting"),  # buyers the organization blocked
    WaitingListEntry: ({OWN, M, B}, set(), "buyer", "status__exact=WAITING"),  # who waits: read-only
}
SUPERUSER_CANNOT_ADD = {Seat, EntryLog, Order, LedgerEntry, AuditLog, Notification, WaitingListEntry}
DENIED = (403, 404)


def _object(model, tenant):
    if model is BuyerBlock:
        return BuyerBlock.objects.using("orders").create(
            organization_id=tenant.organization.pk, user_id=tenant.buyer.pk, reason="Touting"
        )
    if model is Notification:
        return Notification.objects.create(
            kind="ORDER_CONFIRMED",
            object_id=tenant.order_id,
            recipient_id=tenant.buyer.pk,
            organization_id=tenant.organization.pk,
            email=tenant.buyer.email,
            subject="Your tickets",
        )
    if model is WaitingListEntry:
        return WaitingListEntry.objects.using("orders").create(
            event_id=tenant.event.pk, organization_id=tenant.organization.pk, buyer_id=tenant.buyer.pk, quantity=2
        )
    if model is Organization:
        return tenant.organization
    if model is Venue:
        return tenant.venue
    if model is Section:
        return tenant.section
    if model is Event:
        return tenant.event
    if model is Seat:
        return Seat.objects.get(pk=tenant.seat_ids[0])
    if model is EntryLog:
        return tenant.entry_log
    if model is Order:
        return Order.objects.get(pk=tenant.order_id)
    if model is User:
        return tenant.staff.get("GATE") or tenant.owner
    if model is LedgerEntry:
        return LedgerEntry.objects.filter(user=tenant.buyer).first()
    if model is OrganizationMembership:
        return OrganizationMembership.objects.get(user=tenant.owner)
    if model is AuditLog:
        return AuditLog.objects.filter(organization_id=tenant.organization.pk).first()
    if model is SystemSetting:
        config.set_value("hold_seconds", 240)
        return SystemSetting.objects.get(key="hold_seconds")
    raise AssertionError(model)


def _urls(model, obj):
    info = (model._meta.app_label, model._meta.model_name)
    return {
        "changelist": reverse("admin:{}_{}_changelist".format(*info)),
        "add": reverse("admin:{}_{}_add".format(*info)),
        "change": reverse("admin:{}_{}_change".format(*info), args=[obj.pk]),
    }


def test_every_project_model_admin_is_covered_by_the_matrix():
    project_apps = {"accounts", "events", "inventory", "orders", "core", "ops"}
    registered = {m for m in admin.site._registry if m._meta.app_label in project_apps}
    # Transfer/ResaleListing admins belong to the transfer area and have their own tests.
    registered -= {m for m in registered if m._meta.model_name in {"transfer", "resalelisting"}}
    assert registered == set(MATRIX)


@pytest.mark.django_db(databases=ALL_DATABASES)
@pytest.mark.parametrize("role", [OWN, M, B, G])
@pytest.mark.parametrize("model", list(MATRIX), ids=lambda m: m.__name__)
def test_admin_pages_answer_by_role(client, world, role, model):
    ours, _theirs = world
    can_view, can_add, term, filter_query = MATRIX[model]
    obj = _object(model, ours)
    urls = _urls(model, obj)
    client.force_login(ours.staff[role])

    for url in (urls["changelist"], f"{urls['changelist']}?q={term}", f"{urls['changelist']}?{filter_query}"):
        response = client.get(url)
        if role in can_view:
            assert response.status_code == 200, url
        else:
            assert response.status_code in DENIED, url

    response = client.get(urls["change"])
    assert (response.status_code == 200) if role in can_view else (response.status_code in DENIED)

    response = client.get(urls["add"])
    assert (response.status_code == 200) if role in can_add else (response.status_code in DENIED)


@pytest.mark.django_db(databases=ALL_DATABASES)
@pytest.mark.parametrize("model", list(MATRIX), ids=lambda m: m.__name__)
def test_superuser_reaches_every_admin_page(client, world, model):
    ours, _theirs = world
    superuser = UserFactory(email="root@example.com", is_staff=True, is_superuser=True)
    client.force_login(superuser)
    obj = _object(model, ours)
    urls = _urls(model, obj)
    _, _, term, filter_query = MATRIX[model]
    for url in (urls["changelist"], f"{urls['changelist']}?q={term}", f"{urls['changelist']}?{filter_query}"):
        assert client.get(url).status_code == 200, url
    assert client.get(urls["change"]).status_code == 200
    expected_add = DENIED if model in SUPERUSER_CANNOT_ADD else (200,)
    assert client.get(urls["add"]).status_code in expected_add


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_buyer_without_staff_flag_cannot_open_the_admin(client, world):
    ours, _ = world
    client.force_login(ours.buyer)
    response = client.get(reverse("admin:events_event_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_admin_index_lists_only_what_the_role_may_see(client, world):
    ours, _ = world
    client.force_login(ours.staff[G])
    body = client.get(reverse("admin:index")).content.decode()
    assert "Entry logs" in body
    assert "Orders" not in body and "Events" not in body

    client.force_login(ours.staff[B])
    body = client.get(reverse("admin:index")).content.decode()
    assert "Orders" in body and "Venues" not in body
