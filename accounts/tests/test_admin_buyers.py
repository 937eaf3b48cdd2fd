"""Buyer pages in the admin: ledger, flag/unflag and credit adjustments through services (never the balance field),
memberships managed by owners, the audit log, and the system-settings form."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import LedgerEntry, OrganizationMembership, User
from accounts.tests.factories import UserFactory
from core import config
from core.models import AuditLog, SystemSetting
from events.tests.staff_world import ALL_DBS, make_world


@pytest.fixture
def world(db):
    return make_world()


@pytest.fixture
def platform_staff(db):
    return UserFactory(email="platform@example.com", is_staff=True, is_superuser=True)


@pytest.mark.django_db(databases=ALL_DBS)
def test_buyer_page_shows_platform_staff_the_ledger_and_a_read_only_balance(client, world, platform_staff):
    ours, _ = world
    client.force_login(platform_staff)
    page = client.get(reverse("admin:accounts_user_change", args=[ours.buyer.pk])).content.decode()
    assert "Purchase" in page and "Staff adjustment" in page and "150.00" in page
    assert 'name="credit_balance"' not in page  # never an input
    change_url = reverse("admin:accounts_user_change", args=[ours.buyer.pk])
    client.post(change_url, {"email": ours.buyer.email, "credit_balance": "9999"})
    ours.buyer.refresh_from_db()
    assert ours.buyer.credit_balance == Decimal("150.00")


@pytest.mark.django_db(databases=ALL_DBS)
@pytest.mark.parametrize("role", ["OWNER", "MANAGER", "BOX_OFFICE", "GATE"])
def test_organization_staff_never_see_a_buyers_platform_ledger_or_wallet(client, world, role):
    ours, _ = world
    client.force_login(ours.staff[role])
    assert client.get(reverse("admin:accounts_user_change", args=[ours.buyer.pk])).status_code == 404
    ledger = client.get(reverse("admin:accounts_ledgerentry_changelist"))
    assert ledger.status_code == 403


@pytest.mark.django_db(databases=ALL_DBS)
def test_platform_staff_adjust_credits_with_a_required_reason(client, world, platform_staff):
    ours, _ = world
    client.force_login(platform_staff)
    url = reverse("admin:accounts_user_adjust", args=[ours.buyer.pk])
    response = client.post(url, {"amount": "10.00", "reason": " "})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    response = client.post(url, {"amount": "0", "reason": "nothing"})
    assert "changes nothing" in response.content.decode()
    response = client.post(url, {"amount": "-500.00", "reason": "too much"})
    assert response.status_code == 200  # would go below zero: refused by the service, shown on the form
    ours.buyer.refresh_from_db()
    assert ours.buyer.credit_balance == Decimal("150.00")

    response = client.post(url, {"amount": "12.50", "reason": "Goodwill for the late doors"})
    assert response.status_code == 302
    ours.buyer.refresh_from_db()
    assert ours.buyer.credit_balance == Decimal("162.50")
    entry = (
        LedgerEntry.objects.filter(user=ours.buyer, kind="ADJUSTMENT").exclude(reference__startswith="factory-").get()
    )
    assert entry.amount == Decimal("12.50") and entry.actor_id == platform_staff.pk
    audit = AuditLog.objects.get(action="credit_adjust", object_id=str(ours.buyer.pk))
    assert audit.actor == platform_staff and audit.reason == "Goodwill for the late doors"


@pytest.mark.django_db(databases=ALL_DBS)
def test_flag_and_unflag_are_audited(client, world, platform_staff):
    ours, _ = world
    client.force_login(platform_staff)
    url = reverse("admin:accounts_user_flag", args=[ours.buyer.pk])
    assert client.post(url, {"reason": ""}).status_code == 200
    assert client.post(url, {"reason": "Chargeback"}).status_code == 302
    ours.buyer.refresh_from_db()
    assert ours.buyer.is_flagged and ours.buyer.flag_reason == "Chargeback"
    assert client.post(url, {"reason": "Resolved"}).status_code == 302
    ours.buyer.refresh_from_db()
    assert not ours.buyer.is_flagged
    assert list(
        AuditLog.objects.filter(object_id=str(ours.buyer.pk)).order_by("created_at").values_list("action", flat=True)
    ) == ["user_flag", "user_unflag"]


@pytest.mark.django_db(databases=ALL_DBS)
@pytest.mark.parametrize("role", ["OWNER", "MANAGER", "BOX_OFFICE", "GATE"])
def test_organization_staff_cannot_flag_or_adjust_a_buyer_platform_wide(client, world, role):
    ours, _ = world
    client.force_login(ours.staff[role])
    for name in ("admin:accounts_user_flag", "admin:accounts_user_adjust"):
        assert client.post(reverse(name, args=[ours.buyer.pk]), {"reason": "x", "amount": "-1"}).status_code == 404
    ours.buyer.refresh_from_db()
    assert not ours.buyer.is_flagged and ours.buyer.credit_balance == Decimal("150.00")


@pytest.mark.django_db(databases=ALL_DBS)
def test_an_owner_sees_the_people_who_work_for_the_organization_only(client, world):
    ours, theirs = world
    stranger = UserFactory(email="stranger@example.com")
    client.force_login(ours.staff["OWNER"])
    shown = {u.email for u in client.get(reverse("admin:accounts_user_changelist")).context["cl"].queryset}
    assert ours.staff["GATE"].email in shown and ours.staff["BOX_OFFICE"].email in shown
    assert ours.buyer.email not in shown  # buyers are seen through the organization's orders, not here
    assert theirs.buyer.email not in shown and stranger.email not in shown and theirs.owner.email not in shown


@pytest.mark.django_db(databases=ALL_DBS)
def test_owner_adds_a_staff_member_by_email(client, world):
    ours, theirs = world
    newcomer = UserFactory(email="newcomer@example.com")
    client.force_login(ours.staff["OWNER"])
    url = reverse("admin:accounts_organizationmembership_add")
    # Only the owner's organizations are offered.
    page = client.get(url).content.decode()
    assert ours.organization.name in page and theirs.organization.name not in page
    org = str(ours.organization.pk)
    response = client.post(url, {"email": "nobody@example.com", "organization_id": org, "role": "GATE"})
    assert response.status_code == 200 and "No account" in response.content.decode()
    response = client.post(
        url, {"email": "newcomer@example.com", "organization_id": str(theirs.organization.pk), "role": "GATE"}
    )
    assert response.status_code == 200
    assert not OrganizationMembership.objects.filter(user=newcomer).exists()
    response = client.post(
        url, {"email": "NEWCOMER@example.com", "organization_id": str(ours.organization.pk), "role": "GATE"}
    )
    assert response.status_code == 302
    assert OrganizationMembership.objects.get(user=newcomer).role == "GATE"
    assert User.objects.get(pk=newcomer.pk).is_staff
    assert AuditLog.objects.filter(action="membership.add", organization_id=ours.organization.pk).exists()
    response = client.post(
        url, {"email": "newcomer@example.com", "organization_id": str(ours.organization.pk), "role": "OWNER"}
    )
    assert response.status_code == 200 and "already a member" in response.content.decode()


@pytest.mark.django_db(databases=ALL_DBS)
def test_audit_log_is_read_only_and_filterable(client, world):
    ours, _ = world
    client.force_login(ours.staff["OWNER"])
    changelist = reverse("admin:core_auditlog_changelist")
    rows = client.get(changelist, {"action": "event.publish"}).context["cl"].queryset
    assert [row.object_id for row in rows] == [str(ours.event.pk)]
    entry = rows[0]
    page = client.get(reverse("admin:core_auditlog_change", args=[entry.pk]))
    assert page.status_code == 200 and b'type="submit"' not in page.content.split(b'id="content-main"')[1][:20000]
    assert client.post(reverse("admin:core_auditlog_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403


# --- system settings ---------------------------------------------------------------------------------------------


@pytest.mark.django_db(databases=ALL_DBS)
def test_settings_page_lists_every_key_with_the_default_in_effect(client, platform_staff):
    client.force_login(platform_staff)
    page = client.get(reverse("admin:core_systemsetting_changelist")).content.decode()
    for key in config.SETTINGS:
        assert key in page
    assert "(default)" in page


@pytest.mark.django_db(databases=ALL_DBS)
@pytest.mark.parametrize(
    "key, value, message",
    [
        ("hold_seconds", "5", "between 30 and 3600"),
        ("hold_seconds", "abc", "expected a whole number"),
        ("hold_seconds", "2.5", "expected a whole number"),
        ("platform_fee_percent", "99", "between 0 and 50"),
        ("platform_fee_percent", "NaN", "finite"),
    ],
)
def test_settings_form_refuses_values_of_the_wrong_type_or_range(client, platform_staff, key, value, message):
    client.force_login(platform_staff)
    response = client.post(reverse("admin:core_systemsetting_add"), {"key": key, "value": value})
    assert response.status_code == 200 and message in response.content.decode()
    assert not SystemSetting.objects.filter(key=key).exists()


@pytest.mark.django_db(databases=ALL_DBS)
def test_settings_form_stores_a_typed_value_that_config_reads(client, platform_staff):
    client.force_login(platform_staff)
    response = client.post(reverse("admin:core_systemsetting_add"), {"key": "platform_fee_percent", "value": "7.5"})
    assert response.status_code == 302
    config.clear_cache()
    assert config.get("platform_fee_percent") == Decimal("7.5")
    setting = SystemSetting.objects.get(key="platform_fee_percent")
    assert setting.updated_by_id == platform_staff.pk
    response = client.post(reverse("admin:core_systemsetting_change", args=[setting.pk]), {"value": "12"})
    assert response.status_code == 302
    config.clear_cache()
    assert config.get("platform_fee_percent") == Decimal("12")


@pytest.mark.django_db(databases=ALL_DBS)
def test_organization_owners_cannot_change_platform_settings(client, world):
    ours, _ = world
    client.force_login(ours.staff["OWNER"])
    response = client.post(reverse("admin:core_systemsetting_add"), {"key": "hold_seconds", "value": "60"})
    assert response.status_code == 403
    assert not SystemSetting.objects.filter(key="hold_seconds").exists()
