"""Exports of an event: the door list, orders with lines, ledger movements, entry logs; CSV and XLSX; scoped to the
event's organization by capability; audited; from the admin and the API."""

from __future__ import annotations

import csv
import io
import zoneinfo
from decimal import Decimal

import pytest
from django.db import connections
from django.urls import reverse
from openpyxl import load_workbook

from accounts.tests.factories import MembershipFactory, UserFactory
from core.databases import ALL_DATABASES
from events.models import Venue
from inventory import services as inventory_services
from orders import services
from orders.tests.factories import Seat, make_event
from orders.tests.helpers import api_client, buy, page_client

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def _staff(organization_id, role="BOX_OFFICE"):
    return MembershipFactory(organization_id=organization_id, role=role).user


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def _xlsx(response) -> list[list]:
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.fixture
def sold(buyer):
    setup = make_event(rows=2, seats_per_row=5, price="30.00", title="Harbour Lights")
    buyer.full_name = "Dana Doe"
    buyer.save()
    order = buy(buyer, setup, count=3)
    other = UserFactory(email="=cmd@example.com", full_name="@Evil", credits="100.00")
    services.hold_seats(buyer_id=other.pk, event_id=setup.event.pk, seat_ids=setup.seat_ids[5:6])
    services.order_checkout(buyer_id=other.pk, event_id=setup.event.pk, idempotency_key="k2")
    gate = _staff(setup.event.organization_id, role="GATE")
    token, _ = inventory_services.ticket_qr(seat_id=setup.seat_ids[0], owner_id=buyer.pk)
    inventory_services.ticket_scan(token=token, event_id=setup.event.pk, staff_id=gate.pk, gate="North 1")
    clerk = _staff(setup.event.organization_id)
    services.order_refund_tickets(order_id=order.id, seat_ids=[setup.seat_ids[2]], actor_id=clerk.pk, reason="x")
    return {"setup": setup, "order": order, "clerk": clerk, "gate": gate, "other": other}


def _url(event_id, kind, fmt="csv"):
    return reverse("admin:events_event_export", args=[event_id, kind, fmt])


def test_the_door_list_names_each_ticket_holder_with_seat_status_and_check_in_time(sold):
    setup = sold["setup"]
    rows = _csv(page_client(sold["clerk"]).get(_url(setup.event.pk, "attendees")))

    assert rows[0] == ["name", "email", "section", "row", "seat", "ticket status", "checked in at"]
    body = rows[1:]
    assert len(body) == 3  # two tickets left of the first order (one refunded) and the other buyer's one
    first = body[0]
    assert first[:2] == ["Dana Doe", "buyer@example.com"] and first[3:5] == ["A", "1"]
    assert first[5] == "Checked in" and first[6]
    assert body[1][5] == "Sold" and body[1][6] == ""
    # Text a spreadsheet would run as a formula is quoted.
    assert ["'@Evil", "'=cmd@example.com"] == body[2][:2]


def test_orders_export_has_one_row_per_line_with_the_partial_refund(sold):
    setup, order = sold["setup"], sold["order"]
    rows = _csv(page_client(sold["clerk"]).get(_url(setup.event.pk, "orders")))
    mine = [row for row in rows[1:] if row[0] == str(order.id)]
    assert len(mine) == 3
    assert {row[2] for row in mine} == {"Partly refunded"}
    assert sorted(row[8] for row in mine) == ["active", "active", "refunded"]
    assert {(row[9], row[10]) for row in mine} == {("90.00", "30.00")}


def test_ledger_export_lists_the_purchases_and_the_refund_of_the_event(sold):
    setup, order = sold["setup"], sold["order"]
    rows = _csv(page_client(sold["clerk"]).get(_url(setup.event.pk, "ledger")))
    amounts = sorted(Decimal(row[4]) for row in rows[1:])
    assert amounts == [Decimal("-90.00"), Decimal("-30.00"), Decimal("30.00")]
    assert any(row[6].startswith(f"{order.id}:refund:") for row in rows[1:])


def test_entry_log_export_names_gate_result_seat_and_people(sold):
    setup = sold["setup"]
    rows = _csv(page_client(sold["gate"]).get(_url(setup.event.pk, "entries")))
    assert len(rows) == 2
    assert rows[1][1:3] == ["North 1", "Admitted"]
    assert rows[1][4:7] == ["A1", "Dana Doe", sold["gate"].full_name or sold["gate"].email]


def test_xlsx_has_the_same_rows_as_csv(sold):
    setup = sold["setup"]
    client = page_client(sold["clerk"])
    as_csv = _csv(client.get(_url(setup.event.pk, "attendees")))
    response = client.get(_url(setup.event.pk, "attendees", "xlsx"))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    as_xlsx = _xlsx(response)
    assert [[("" if value is None else str(value)) for value in row] for row in as_xlsx] == as_csv


def test_every_export_is_audited_with_the_organization(sold):
    setup = sold["setup"]
    page_client(sold["clerk"]).get(_url(setup.event.pk, "orders", "xlsx"))
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT action, actor_id, organization_id, data->>'format' FROM core_auditlog "
            "WHERE object_type = 'event' AND action LIKE 'export.%%'"
        )
        assert cursor.fetchall() == [("export.orders", sold["clerk"].pk, setup.event.organization_id, "xlsx")]


def test_exports_are_not_found_for_staff_of_another_organization_or_without_the_capability(sold):
    setup = sold["setup"]
    elsewhere = page_client(_staff(make_event().event.organization_id, role="OWNER"))
    for kind in ("attendees", "orders", "ledger", "entries"):
        assert elsewhere.get(_url(setup.event.pk, kind)).status_code == 404
    assert elsewhere.get(reverse("admin:events_event_exports", args=[setup.event.pk])).status_code == 404
    gate = page_client(sold["gate"])
    assert gate.get(_url(setup.event.pk, "attendees")).status_code == 404  # GATE may read entry logs only
    assert gate.get(_url(setup.event.pk, "entries")).status_code == 200
    assert page_client(sold["clerk"]).get(_url(setup.event.pk, "nope")).status_code == 404
    assert page_client(sold["clerk"]).get(_url(setup.event.pk, "orders", "pdf")).status_code == 404
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM core_auditlog WHERE action = 'export.attendees'")
        assert cursor.fetchone() == (0,)


def test_the_exports_page_lists_what_the_staff_member_may_download(sold):
    setup = sold["setup"]
    page = page_client(sold["gate"]).get(reverse("admin:events_event_exports", args=[setup.event.pk]))
    content = page.content.decode()
    assert 'data-kind="entries"' in content and 'data-kind="attendees"' not in content


def test_the_api_serves_the_same_export_and_refuses_outsiders(sold):
    setup = sold["setup"]
    url = f"/api/v1/events/{setup.event.pk}/exports/attendees/"
    response = api_client(sold["clerk"]).get(url + "?file=csv")
    assert response.status_code == 200 and len(_csv(response)) == 4
    assert api_client(sold["clerk"]).get(url + "?file=pdf").status_code == 400
    assert api_client(sold["other"]).get(url).json()["code"] == "EXPORT_NOT_ALLOWED"
    outsider = _staff(make_event().event.organization_id)
    assert api_client(outsider).get(url).status_code == 404
    assert api_client(sold["clerk"]).get(f"/api/v1/events/{setup.event.pk}/exports/nope/").status_code == 404


def test_a_checked_in_time_is_in_the_venue_time_zone(sold):
    setup = sold["setup"]
    Venue.objects.using("events").filter(pk=setup.event.venue_id).update(timezone="Asia/Tokyo")
    checked = Seat.objects.get(pk=setup.seat_ids[0]).checked_in_at
    rows = _csv(page_client(sold["clerk"]).get(_url(setup.event.pk, "attendees")))
    assert rows[1][6] == checked.astimezone(zoneinfo.ZoneInfo("Asia/Tokyo")).strftime("%Y-%m-%d %H:%M:%S")
