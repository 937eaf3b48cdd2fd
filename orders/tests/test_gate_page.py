"""The gate scan page (/gate/): who may use it, and the answer it shows for every kind of code."""

from __future__ import annotations

import functools
import time
import uuid

import pytest
from django.test import Client
from django.urls import reverse

from core.testing import race
from events.models import Event, Section
from events.tests.factories import EventFactory, EventSectionFactory
from events.tests.staff_world import ALL_DBS, make_world
from inventory.models import EntryLog, Seat
from inventory.services import qr_token_make, ticket_change_owner, ticket_qr
from orders.services import event_publish, order_refund


@pytest.fixture
def world(db):
    return make_world()


def _scan_url(event_id) -> str:
    return reverse("gate:scan", args=[event_id])


def _token_for(tenant, index=0):
    seat = Seat.objects.get(pk=tenant.seat_ids[index])
    token, _ = ticket_qr(seat_id=seat.pk, owner_id=seat.owner_id)
    return seat, token


def _scan(client, tenant, token, gate="North", json=False):
    headers = {"HTTP_ACCEPT": "application/json"} if json else {}
    return client.post(_scan_url(tenant.event.pk), {"gate": gate, "token": token}, **headers)


@pytest.mark.django_db(databases=ALL_DBS)
def test_anonymous_visitors_are_sent_to_log_in(client, world):
    response = client.get(reverse("gate:home"))
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.django_db(databases=ALL_DBS)
def test_buyers_are_refused(client, world):
    ours, _ = world
    client.force_login(ours.buyer)
    assert client.get(reverse("gate:home")).status_code == 403
    assert client.get(_scan_url(ours.event.pk) + "?gate=N").status_code == 403


@pytest.mark.django_db(databases=ALL_DBS)
def test_gate_staff_choose_among_their_organizations_published_events_only(client, world):
    ours, theirs = world
    client.force_login(ours.staff["GATE"])
    body = client.get(reverse("gate:home")).content.decode()
    assert ours.event.title in body and theirs.event.title not in body
    response = client.get(reverse("gate:home"), {"event": str(ours.event.pk), "gate": "North 1"})
    assert response.status_code == 302 and response["Location"].startswith(_scan_url(ours.event.pk))
    response = client.get(reverse("gate:home"), {"event": str(ours.event.pk), "gate": "  "})
    assert response.status_code == 400 and "Name the gate" in response.content.decode()
    response = client.get(reverse("gate:home"), {"event": str(theirs.event.pk), "gate": "North"})
    assert response.status_code == 400


@pytest.mark.django_db(databases=ALL_DBS)
def test_another_organizations_event_is_not_found(client, world):
    ours, theirs = world
    client.force_login(ours.staff["GATE"])
    assert client.get(_scan_url(theirs.event.pk) + "?gate=N").status_code == 404
    _seat, token = _token_for(theirs)
    assert _scan(client, theirs, token).status_code == 404
    assert not EntryLog.objects.filter(event_id=theirs.event.pk, gate="North").exists()


@pytest.mark.django_db(databases=ALL_DBS)
def test_valid_ticket_is_admitted_with_seat_and_holder_then_duplicate_is_refused(client, world):
    ours, _ = world
    client.force_login(ours.staff["GATE"])
    seat, token = _token_for(ours)
    response = _scan(client, ours, token)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-result="SUCCESS"' in body and "ADMIT" in body
    assert seat.label in body and "Buyer A" in body
    seat.refresh_from_db()
    assert seat.status == Seat.Status.CHECKED_IN

    response = _scan(client, ours, token)
    assert 'data-result="DUPLICATE"' in response.content.decode()
    results = list(EntryLog.objects.filter(seat_id=seat.pk).values_list("result", "gate", "staff_id"))
    assert sorted(r[0] for r in results) == ["DUPLICATE", "SUCCESS"]
    assert all(gate == "North" and staff == ours.staff["GATE"].pk for _r, gate, staff in results)


@pytest.mark.django_db(databases=ALL_DBS)
def test_json_answer_for_the_camera_script(client, world):
    ours, _ = world
    client.force_login(ours.staff["GATE"])
    seat, token = _token_for(ours)
    data = _scan(client, ours, token, json=True).json()
    assert data["result"] == "SUCCESS" and data["admitted"] is True and data["css"] == "admit"
    section = Section.objects.get(pk=seat.section_id)
    assert data["holder"] == "Buyer A" and data["seat"] == f"{section.name} · {seat.label}"


@pytest.mark.django_db(databases=ALL_DBS)
def test_ticket_of_another_event_is_wrong_event_and_shows_no_holder(client, world):
    ours, _ = world
    other = EventFactory(venue=ours.venue, organization=ours.organization, status=Event.Status.DRAFT, title="Matinee")
    EventSectionFactory(event=other, section=ours.section)
    event_publish(event_id=other.pk, actor_id=ours.owner.pk)
    client.force_login(ours.staff["GATE"])
    _seat, token = _token_for(ours)
    response = client.post(_scan_url(other.pk), {"gate": "North", "token": token}, HTTP_ACCEPT="application/json")
    data = response.json()
    assert data["result"] == "WRONG_EVENT" and data["css"] == "refuse"
    assert data["holder"] == "" and data["seat"] == ""


@pytest.mark.django_db(databases=ALL_DBS)
@pytest.mark.parametrize("kind", ["forged", "expired", "unknown_seat", "garbage"])
def test_bad_codes_are_refused_and_logged(client, world, kind):
    ours, _ = world
    client.force_login(ours.staff["GATE"])
    seat, token = _token_for(ours)
    if kind == "forged":
        token = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
        expected = "INVALID"
    elif kind == "expired":
        token = qr_token_make(
            seat_id=seat.pk, owner_id=seat.owner_id, qr_version=seat.qr_version, issued_at=int(time.time()) - 3600
        )
        expected = "EXPIRED"
    elif kind == "unknown_seat":
        token = qr_token_make(seat_id=uuid.uuid4(), owner_id=seat.owner_id, qr_version=1, issued_at=int(time.time()))
        expected = "NOT_FOUND"
    else:
        token = "not a ticket at all"
        expected = "INVALID"
    data = _scan(client, ours, token, json=True).json()
    assert data["result"] == expected and data["admitted"] is False
    assert EntryLog.objects.filter(event_id=ours.event.pk, gate="North", result=expected).count() == 1
    seat.refresh_from_db()
    assert seat.status == Seat.Status.SOLD


@pytest.mark.django_db(databases=ALL_DBS)
def test_old_code_after_a_transfer_is_revoked(client, world, other_buyer):
    ours, _ = world
    client.force_login(ours.staff["GATE"])
    seat, old_token = _token_for(ours)
    ticket_change_owner(seat_id=seat.pk, from_owner_id=seat.owner_id, to_owner_id=other_buyer.pk)
    assert _scan(client, ours, old_token, json=True).json()["result"] == "REVOKED"
    new_token, _ = ticket_qr(seat_id=seat.pk, owner_id=other_buyer.pk)
    data = _scan(client, ours, new_token, json=True).json()
    assert data["result"] == "SUCCESS" and data["holder"] == "Otto Other"


@pytest.mark.django_db(databases=ALL_DBS)
def test_refunded_ticket_is_refused(client, world):
    ours, _ = world
    client.force_login(ours.staff["GATE"])
    _seat, token = _token_for(ours)
    order_refund(order_id=ours.order_id, actor_id=ours.owner.pk, reason="Customer request")
    data = _scan(client, ours, token, json=True).json()
    assert data["result"] in ("REVOKED", "NOT_PAID") and data["admitted"] is False


@pytest.mark.django_db(databases=ALL_DBS)
def test_empty_code_is_a_readable_400(client, world):
    ours, _ = world
    client.force_login(ours.staff["GATE"])
    response = _scan(client, ours, "   ")
    assert response.status_code == 400 and "Scan or paste a code" in response.content.decode()
    assert not EntryLog.objects.filter(gate="North").exists()


@pytest.mark.django_db(databases=ALL_DBS)
def test_scan_page_without_gate_name_goes_back_to_the_chooser(client, world):
    ours, _ = world
    client.force_login(ours.staff["GATE"])
    response = client.get(_scan_url(ours.event.pk))
    assert response.status_code == 302 and response["Location"].startswith(reverse("gate:home"))
    page = client.get(_scan_url(ours.event.pk) + "?gate=North").content.decode()
    assert "vendor/jsqr/jsQR.js" in page and 'name="token"' in page


@pytest.mark.concurrency
@pytest.mark.django_db(databases=ALL_DBS, transaction=True)
def test_two_gates_scanning_the_same_ticket_at_once_admit_it_exactly_once():
    ours, _ = make_world()
    seat, token = _token_for(ours)
    gate_user = ours.staff["GATE"]

    def scan_at(gate: str) -> str:
        client = Client()
        client.force_login(gate_user)
        answer = client.post(_scan_url(ours.event.pk), {"gate": gate, "token": token}, HTTP_ACCEPT="application/json")
        return answer.json()["result"]

    results = race(functools.partial(scan_at, "North"), functools.partial(scan_at, "South"))
    assert sorted(results) == ["DUPLICATE", "SUCCESS"]
    logged = sorted(EntryLog.objects.filter(seat_id=seat.pk).values_list("result", flat=True))
    assert logged == ["DUPLICATE", "SUCCESS"]
