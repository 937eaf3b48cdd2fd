"""The tenancy matrix: staff of organization A reach nothing of organization B through any admin URL or action.

Every object page (change, delete, history) and every custom page (publish, cancel, dashboard, seat grid, flag,
credit adjustment) of B's objects answers 404 for A's staff, whatever their role; changelists never list B's rows;
actions posted with B's ids change nothing.
"""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from accounts.models import LedgerEntry, OrganizationMembership
from core.databases import ALL_DATABASES
from core.models import AuditLog
from events.models import Event
from events.tests.staff_world import ROLES
from inventory.models import EntryLog, Seat
from orders.exports import EXPORTS
from orders.models import Order

EXPORT_KINDS = sorted(EXPORTS)


def _their_objects(theirs):
    return {
        "events_organization": theirs.organization.pk,
        "events_venue": theirs.venue.pk,
        "events_section": theirs.section.pk,
        "events_event": theirs.event.pk,
        "inventory_seat": theirs.seat_ids[0],
        "inventory_entrylog": theirs.entry_log.pk,
        "orders_order": theirs.order_id,
        "accounts_user": theirs.buyer.pk,
        "accounts_ledgerentry": LedgerEntry.objects.filter(user=theirs.buyer).first().pk,
        "accounts_organizationmembership": OrganizationMembership.objects.get(user=theirs.owner).pk,
        "core_auditlog": AuditLog.objects.filter(organization_id=theirs.organization.pk).first().pk,
    }


@pytest.mark.django_db(databases=ALL_DATABASES)
@pytest.mark.parametrize("role", ROLES)
def test_staff_of_a_get_404_for_every_object_page_of_b(client, world, role):
    ours, theirs = world
    client.force_login(ours.staff[role])
    for name, pk in _their_objects(theirs).items():
        for page in ("change", "delete", "history"):
            url = reverse(f"admin:{name}_{page}", args=[pk])
            response = client.get(url)
            assert response.status_code in (403, 404), f"{role} {url} -> {response.status_code}"
            assert str(pk) not in response.content.decode(), f"{role} {url} leaks the id"
        response = client.post(reverse(f"admin:{name}_delete", args=[pk]), {"post": "yes"})
        assert response.status_code in (403, 404)
    assert Event.objects.filter(pk=theirs.event.pk).exists()


@pytest.mark.django_db(databases=ALL_DATABASES)
@pytest.mark.parametrize("role", ROLES)
def test_staff_of_a_get_404_for_every_custom_page_of_b(client, world, role):
    ours, theirs = world
    client.force_login(ours.staff[role])
    urls = [
        reverse("admin:events_event_publish", args=[theirs.event.pk]),
        reverse("admin:events_event_cancel", args=[theirs.event.pk]),
        reverse("admin:events_event_dashboard", args=[theirs.event.pk]),
        reverse("admin:events_section_grid", args=[theirs.section.pk]),
        reverse("admin:accounts_user_flag", args=[theirs.buyer.pk]),
        reverse("admin:accounts_user_adjust", args=[theirs.buyer.pk]),
        reverse("admin:orders_order_refund_tickets", args=[theirs.order_id]),
        reverse("admin:events_event_exports", args=[theirs.event.pk]),
        *(reverse("admin:events_event_export", args=[theirs.event.pk, kind, "csv"]) for kind in EXPORT_KINDS),
    ]
    for url in urls:
        assert client.get(url).status_code in (403, 404), url
    # Posting the operations changes nothing.
    client.post(urls[1], {"reason": "hostile", "confirm": "on"})
    client.post(urls[4], {"reason": "hostile"})
    client.post(urls[5], {"amount": "1000", "reason": "hostile"})
    client.post(urls[3], {"kind": "GENERAL", "general_capacity": "5"})
    client.post(urls[6], {"seat_ids": [str(theirs.seat_ids[0])], "reason": "hostile"})
    theirs.event.refresh_from_db()
    theirs.buyer.refresh_from_db()
    theirs.section.refresh_from_db()
    assert theirs.event.status == Event.Status.PUBLISHED
    assert not theirs.buyer.is_flagged
    assert str(theirs.buyer.credit_balance) == "150.00"  # 200 minus the 2 x 25.00 order
    assert theirs.section.kind == "SEATED"


@pytest.mark.django_db(databases=ALL_DATABASES)
@pytest.mark.parametrize("role", ROLES)
def test_changelists_of_a_never_list_rows_of_b(client, world, role):
    ours, theirs = world
    client.force_login(ours.staff[role])
    for name in _their_objects(theirs):
        response = client.get(reverse(f"admin:{name}_changelist"))
        if response.status_code != 200:
            continue
        changelist = response.context["cl"]
        shown = {str(obj.pk) for obj in changelist.queryset}
        assert str(_their_objects(theirs)[name]) not in shown, f"{role} sees B's {name}"


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_owner_of_a_cannot_refund_or_publish_b_through_actions(client, world):
    ours, theirs = world
    client.force_login(ours.staff["OWNER"])
    response = client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "refund_orders", ACTION_CHECKBOX_NAME: [str(theirs.order_id)], "apply": "1", "reason": "hostile"},
    )
    assert response.status_code in (200, 302)
    assert Order.objects.get(pk=theirs.order_id).status == Order.Status.CONFIRMED

    Event.objects.filter(pk=theirs.event.pk).update(status=Event.Status.DRAFT)
    client.post(
        reverse("admin:events_event_changelist"),
        {"action": "publish_selected", ACTION_CHECKBOX_NAME: [str(theirs.event.pk)]},
    )
    assert Event.objects.get(pk=theirs.event.pk).status == Event.Status.DRAFT


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_malformed_ids_answer_404_not_500(client, world):
    ours, _ = world
    client.force_login(ours.staff["OWNER"])
    for url in (
        "/admin/events/event/not-a-uuid/change/",
        "/admin/events/event/not-a-uuid/dashboard/",
        "/admin/inventory/seat/123/change/",
        "/admin/orders/order/zzz/change/",
        "/admin/accounts/user/zzz/adjust/",
    ):
        assert client.get(url).status_code == 404, url


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_superuser_sees_both_organizations(client, world):
    from accounts.tests.factories import UserFactory

    ours, theirs = world
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for tenant in (ours, theirs):
        assert client.get(reverse("admin:events_event_change", args=[tenant.event.pk])).status_code == 200
        assert client.get(reverse("admin:orders_order_change", args=[tenant.order_id])).status_code == 200
        assert client.get(reverse("admin:inventory_seat_change", args=[tenant.seat_ids[0]])).status_code == 200
    assert Seat.objects.count() == 30 and EntryLog.objects.count() == 2
