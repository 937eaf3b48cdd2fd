"""Organization-wide exports: the organization's orders across its events and its ledger movements, over a range of
days; CSV and XLSX; only the staff member's organizations; audited; from the admin and the API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import MembershipFactory, UserFactory
from core.databases import ALL_DATABASES
from orders import services
from orders.tests.factories import make_event
from orders.tests.helpers import api_client, buy, page_client
from orders.tests.test_exports import _csv, _xlsx

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


@pytest.fixture
def organization(buyer):
    """Two events of one organization (and one of another) with sales, and one ticket refunded."""
    first = make_event(rows=1, seats_per_row=4, price="30.00", title="Spring Gala")
    second = make_event(rows=1, seats_per_row=4, price="20.00", title="Summer Jam", venue=first.event.venue)
    elsewhere = make_event(rows=1, seats_per_row=4, title="Someone Else's")
    order = buy(buyer, first, count=2)
    buy(buyer, second, count=1)
    buy(UserFactory(credits="100.00"), elsewhere, count=1)
    clerk = MembershipFactory(organization_id=first.event.organization_id, role="BOX_OFFICE").user
    services.order_refund_tickets(order_id=order.id, seat_ids=[first.seat_ids[0]], actor_id=clerk.pk, reason="x")
    return {"id": first.event.organization_id, "clerk": clerk, "other_org": elsewhere.event.organization_id}


def _query(kind, *, days=(0, 0), file="csv", organization=None):
    today = timezone.now().date()
    first, last = (today + dt.timedelta(days=offset) for offset in days)
    return {"organization": str(organization), "kind": kind, "date_from": first, "date_to": last, "file": file}


def _admin(client, **query):
    return client.get(reverse("admin:orders_organization_exports"), query)


def test_the_orders_export_has_every_event_of_the_organization_and_no_other(organization):
    rows = _csv(_admin(page_client(organization["clerk"]), **_query("orders", organization=organization["id"])))
    assert rows[0][:4] == ["order", "created at (UTC)", "event", "order status"]
    events = sorted(row[2] for row in rows[1:])
    assert events == ["Spring Gala", "Spring Gala", "Summer Jam"]
    assert sorted(row[9] for row in rows[1:]) == ["active", "active", "refunded"]


def test_the_ledger_export_has_the_purchases_and_the_refund_of_the_organization(organization):
    rows = _csv(_admin(page_client(organization["clerk"]), **_query("ledger", organization=organization["id"])))
    assert rows[0] == ["at (UTC)", "event", "name", "email", "kind", "amount", "flow", "reference", "memo"]
    movements = sorted((row[1], row[4], row[5]) for row in rows[1:])
    assert movements == [
        ("Spring Gala", "Purchase", "-60.00"),
        ("Spring Gala", "Purchase refund", "30.00"),
        ("Summer Jam", "Purchase", "-20.00"),
    ]


def test_the_range_keeps_out_what_happened_on_other_days(organization):
    client = page_client(organization["clerk"])
    for kind in ("orders", "ledger"):
        before = _csv(_admin(client, **_query(kind, days=(-10, -1), organization=organization["id"])))
        assert len(before) == 1  # the header only
    refused = _admin(client, **_query("orders", days=(0, -1), organization=organization["id"]))
    assert refused.status_code == 200 and b"ends before it starts" in refused.content


def test_xlsx_matches_csv_and_every_download_is_audited(organization):
    client = page_client(organization["clerk"])
    as_csv = _csv(_admin(client, **_query("orders", organization=organization["id"])))
    as_xlsx = _xlsx(_admin(client, **_query("orders", file="xlsx", organization=organization["id"])))

    # XLSX keeps numbers as numbers (30), CSV writes them as text ("30.00").
    def same(value):
        return "" if value is None else (Decimal(str(value)) if isinstance(value, int | float) else str(value))

    assert [[same(value) for value in row] for row in as_xlsx] == [
        [Decimal(value) if value.replace(".", "", 1).isdigit() else value for value in row] for row in as_csv
    ]
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT action, organization_id, data->>'format' FROM core_auditlog "
            "WHERE object_type = 'organization' ORDER BY created_at"
        )
        assert cursor.fetchall() == [
            ("export.organization_orders", organization["id"], "csv"),
            ("export.organization_orders", organization["id"], "xlsx"),
        ]


def test_the_form_offers_only_the_staff_members_organizations(organization):
    client = page_client(organization["clerk"])
    page = client.get(reverse("admin:orders_organization_exports"))
    assert page.status_code == 200
    assert (
        str(organization["id"]).encode() in page.content and str(organization["other_org"]).encode() not in page.content
    )
    foreign = _admin(client, **_query("orders", organization=organization["other_org"]))
    assert foreign.status_code == 200 and b"Select a valid choice" in foreign.content
    gate = MembershipFactory(organization_id=organization["id"], role="GATE").user
    assert page_client(gate).get(reverse("admin:orders_organization_exports")).status_code == 404


def test_the_api_serves_the_same_files_to_the_organizations_staff_only(organization, buyer):
    url = f"/api/v1/organizations/{organization['id']}/exports/ledger/"
    today = timezone.now().date().isoformat()
    response = api_client(organization["clerk"]).get(url, {"from": today, "to": today})
    assert response.status_code == 200 and len(_csv(response)) == 4
    assert api_client(organization["clerk"]).get(url, {"from": today}).status_code == 400
    assert api_client(buyer).get(url, {"from": today, "to": today}).json()["code"] == "EXPORT_NOT_ALLOWED"
    stranger = MembershipFactory(organization_id=organization["other_org"], role="OWNER").user
    assert api_client(stranger).get(url, {"from": today, "to": today}).status_code == 404
    nope = f"/api/v1/organizations/{organization['id']}/exports/nope/"
    assert api_client(organization["clerk"]).get(nope, {"from": today, "to": today}).status_code == 404
