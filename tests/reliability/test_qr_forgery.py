"""QR forgery: no forged, stale or misdirected code is ever admitted, and each attempt is logged with its reason.

Every case goes through the three ways a code reaches the decision: the service (inventory.services.ticket_scan),
the scan API (POST /api/v1/scan/) and the gate page (POST /gate/<event>/, as the camera script posts it and as a
plain form). Each case asserts the result, that nobody was admitted, that the seat is not CHECKED_IN and that the
EntryLog holds exactly this attempt with this result. A positive control per channel shows that a fresh code of
the current owner *is* admitted through the very same path, so the refusals cannot pass by accident.

The world (tests/reliability/personas.py) is built once per module; each test rolls back what it changes.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import pytest
from django.conf import settings
from django.core import signing
from django.test import Client

from accounts import services as account_services
from core import config
from core.databases import ALL_DATABASES
from inventory import DB_ALIAS as SEATS
from inventory import services as inventory_services
from inventory.models import EntryLog, Seat
from orders.services import order_refund, resale, transfer
from tests.reliability.personas import World, committed_world

pytestmark = [pytest.mark.integration, pytest.mark.django_db(databases=ALL_DATABASES)]

GATE = "North 1"
CHANNELS = ("service", "api", "page")


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    yield from committed_world(django_db_blocker)


# --- How a code reaches the decision ---------------------------------------------------------------------------


def scan(world: World, token: str, channel: str) -> tuple[str, bool]:
    """Scan ``token`` at event A's gate as A's GATE staff member; (result, admitted)."""
    gate_staff = world.users["gate"]
    event = world.event
    if channel == "service":
        outcome = inventory_services.ticket_scan(
            token=token, event_id=event.pk, gate=GATE, staff_id=gate_staff.pk, organization_id=event.organization_id
        )
        return outcome.result, outcome.admitted
    client = Client()
    if channel == "api":
        response = client.post(
            "/api/v1/scan/",
            {"event_id": str(event.pk), "token": token, "gate": GATE},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {world.tokens['gate']}",
        )
    else:
        client.force_login(gate_staff)
        response = client.post(f"/gate/{event.pk}/", {"gate": GATE, "token": token}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content[:300]
    body = response.json()
    return body["result"], body["admitted"]


def fresh_token(seat_id, owner) -> str:
    token, _expires = inventory_services.ticket_qr(seat_id=seat_id, owner_id=owner.pk)
    return token


def seat(seat_id) -> Seat:
    return Seat.objects.using(SEATS).get(pk=seat_id)


def logs(world: World) -> list[EntryLog]:
    return list(EntryLog.objects.using(SEATS).filter(event_id=world.event.pk, gate=GATE).order_by("created_at"))


def assert_refused(world: World, token: str, channel: str, expected: str, *, seat_id) -> None:
    before = seat(seat_id) if seat_id else None
    result, admitted = scan(world, token, channel)
    assert (result, admitted) == (expected, False)
    (entry,) = logs(world)
    assert entry.result == expected
    assert entry.staff_id == world.users["gate"].pk
    assert entry.token_fingerprint  # the attempt is traceable without storing the code itself
    if seat_id:
        after = seat(seat_id)
        assert after.status != "CHECKED_IN"
        assert (after.status, after.owner_id, after.qr_version) == (before.status, before.owner_id, before.qr_version)
        assert not EntryLog.objects.using(SEATS).filter(seat_id=seat_id, result="SUCCESS").exists()


# --- Forged codes ----------------------------------------------------------------------------------------------


def _payload(token: str) -> str:
    return token.rsplit(":", 1)[0]


def tampered_payload(world: World) -> str:
    """The seat id in the payload swapped for another seat of the buyer; the signature left as it was."""
    token = fresh_token(world.ticket_id, world.buyer)
    other_seat = world.tenant_a.seat_ids[1]
    return token.replace(uuid.UUID(str(world.ticket_id)).hex, uuid.UUID(str(other_seat)).hex)


def tampered_signature(world: World) -> str:
    token = fresh_token(world.ticket_id, world.buyer)
    last = token[-1]
    return token[:-1] + ("A" if last != "A" else "B")


def resigned_with_another_key(world: World) -> str:
    payload = _payload(fresh_token(world.ticket_id, world.buyer))
    return signing.Signer(key="an attacker's guess " * 3, salt=inventory_services.QR_SALT, algorithm="sha256").sign(
        payload
    )


def resigned_with_the_site_secret_key(world: World) -> str:
    """The QR key is its own secret: a leak of SECRET_KEY-signed material must not mint tickets."""
    payload = _payload(fresh_token(world.ticket_id, world.buyer))
    return signing.Signer(key=settings.SECRET_KEY, salt=inventory_services.QR_SALT, algorithm="sha256").sign(payload)


def resigned_with_another_salt(world: World) -> str:
    """Another signed value of the site (another salt) does not pass for a ticket code."""
    payload = _payload(fresh_token(world.ticket_id, world.buyer))
    return signing.Signer(key=settings.QR_SIGNING_KEY, salt="another.purpose", algorithm="sha256").sign(payload)


def owner_swapped_and_resigned_with_a_guess(world: World) -> str:
    """The other buyer puts their own id into the buyer's code and signs it with a guessed key."""
    seat_id = uuid.UUID(str(world.ticket_id))
    me = world.users["other_buyer"].pk
    payload = f"{seat_id.hex}.{me.hex}.{seat(seat_id).qr_version}.{int(time.time())}"
    return signing.Signer(key="guess", salt=inventory_services.QR_SALT, algorithm="sha256").sign(payload)


def unsigned_payload(world: World) -> str:
    return _payload(fresh_token(world.ticket_id, world.buyer))


def garbage(world: World) -> str:
    return "DROP TABLE inventory_seat; --"


def oversized(world: World) -> str:
    """Longer than any real code (QR_MAX_TOKEN_LENGTH) but short enough to reach the check."""
    return fresh_token(world.ticket_id, world.buyer) + "x" * 300


FORGERIES: dict[str, Callable[[World], str]] = {
    "tampered payload": tampered_payload,
    "tampered signature": tampered_signature,
    "re-signed with another key": resigned_with_another_key,
    "re-signed with the site SECRET_KEY": resigned_with_the_site_secret_key,
    "re-signed with another salt": resigned_with_another_salt,
    "owner swapped, signed with a guessed key": owner_swapped_and_resigned_with_a_guess,
    "payload without signature": unsigned_payload,
    "garbage": garbage,
    "oversized": oversized,
}


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_a_forged_code_is_never_admitted_and_is_logged_invalid(world, forgery, channel):
    token = FORGERIES[forgery](world)
    assert_refused(world, token, channel, "INVALID", seat_id=world.ticket_id)


# --- Genuine codes that must no longer work ----------------------------------------------------------------------


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_code_expired_by_age_is_refused_expired(world, channel):
    ticket = seat(world.ticket_id)
    issued = int(time.time()) - config.get("qr_lifetime_seconds") - 5
    token = inventory_services.qr_token_make(
        seat_id=ticket.pk, owner_id=ticket.owner_id, qr_version=ticket.qr_version, issued_at=issued
    )
    assert_refused(world, token, channel, "EXPIRED", seat_id=ticket.pk)


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_code_issued_in_the_future_is_refused_invalid(world, channel):
    """A code dated ahead of the clock could be shown long after it was made; only a small skew is tolerated."""
    ticket = seat(world.ticket_id)
    issued = int(time.time()) + 10 * 60
    token = inventory_services.qr_token_make(
        seat_id=ticket.pk, owner_id=ticket.owner_id, qr_version=ticket.qr_version, issued_at=issued
    )
    assert_refused(world, token, channel, "INVALID", seat_id=ticket.pk)


@pytest.mark.parametrize("channel", CHANNELS)
def test_the_old_owners_code_is_revoked_after_a_transfer(world, channel):
    seat_id = world.transfer_seat_id
    old_code = fresh_token(seat_id, world.buyer)
    recipient = world.recipient
    transfer.transfer_accept(transfer_id=world.transfer_id, user_id=recipient.pk)
    for user, purpose in ((world.buyer, "TRANSFER_SENDER"), (recipient, "TRANSFER_RECIPIENT")):
        code = account_services.otp_issue(user_id=user.pk, purpose=purpose, object_id=world.transfer_id)
        done = transfer.transfer_confirm(transfer_id=world.transfer_id, user_id=user.pk, code=code)
    assert done.status == "COMPLETED" and seat(seat_id).owner_id == recipient.pk

    assert_refused(world, old_code, channel, "REVOKED", seat_id=seat_id)
    # Control: the new owner's fresh code opens the gate through the same channel.
    assert scan(world, fresh_token(seat_id, recipient), channel) == ("SUCCESS", True)


@pytest.mark.parametrize("channel", CHANNELS)
def test_the_sellers_code_is_revoked_after_a_resale(world, channel):
    seat_id = world.listed_seat_id
    listed = seat(seat_id)
    # A code the seller showed before listing the ticket (a listed ticket shows none).
    old_code = inventory_services.qr_token_make(
        seat_id=listed.pk, owner_id=listed.owner_id, qr_version=listed.qr_version, issued_at=int(time.time())
    )
    new_owner = world.users["other_buyer"]
    sold = resale.listing_buy(listing_id=world.listing_id, buyer_id=new_owner.pk)
    assert sold.status == "SOLD" and seat(seat_id).owner_id == new_owner.pk

    assert_refused(world, old_code, channel, "REVOKED", seat_id=seat_id)
    assert scan(world, fresh_token(seat_id, new_owner), channel) == ("SUCCESS", True)


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_code_of_a_ticket_listed_for_resale_is_not_admitted(world, channel):
    """Listed means for sale: the seller must not walk in on it while someone may be buying it."""
    listed = seat(world.listed_seat_id)
    code = inventory_services.qr_token_make(
        seat_id=listed.pk, owner_id=listed.owner_id, qr_version=listed.qr_version, issued_at=int(time.time())
    )
    assert_refused(world, code, channel, "NOT_PAID", seat_id=listed.pk)


@pytest.mark.parametrize("channel", CHANNELS)
def test_the_buyers_code_is_revoked_after_a_refund(world, channel):
    seat_id = world.ticket_id
    old_code = fresh_token(seat_id, world.buyer)
    refunded = order_refund(order_id=world.order_id, actor_id=world.users["superuser"].pk, reason="Asked nicely")
    assert refunded.status == "REFUNDED"
    assert seat(seat_id).owner_id is None

    assert_refused(world, old_code, channel, "REVOKED", seat_id=seat_id)


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_ticket_of_another_event_is_refused_wrong_event_and_stays_unused(world, channel):
    """B's ticket at A's gate: refused, and it still works at its own event afterwards."""
    b = world.tenant_b
    seat_id = b.seat_ids[0]
    code = fresh_token(seat_id, b.buyer)
    assert_refused(world, code, channel, "WRONG_EVENT", seat_id=seat_id)
    assert seat(seat_id).status == "SOLD"


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_validly_signed_code_for_no_seat_is_refused_not_found(world, channel):
    token = inventory_services.qr_token_make(
        seat_id=uuid.uuid4(), owner_id=world.buyer.pk, qr_version=1, issued_at=int(time.time())
    )
    assert_refused(world, token, channel, "NOT_FOUND", seat_id=None)


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_code_scanned_twice_is_admitted_once_then_duplicate(world, channel):
    code = fresh_token(world.ticket_id, world.buyer)
    assert scan(world, code, channel) == ("SUCCESS", True)
    assert scan(world, code, channel) == ("DUPLICATE", False)
    assert [entry.result for entry in logs(world)] == ["SUCCESS", "DUPLICATE"]
    assert seat(world.ticket_id).status == "CHECKED_IN"


@pytest.mark.parametrize("channel", CHANNELS)
def test_control_a_fresh_code_of_the_owner_is_admitted_through_the_same_channel(world, channel):
    code = fresh_token(world.ticket_id, world.buyer)
    assert scan(world, code, channel) == ("SUCCESS", True)
    (entry,) = logs(world)
    assert (entry.result, entry.seat_id, entry.holder_id) == ("SUCCESS", world.ticket_id, world.buyer.pk)


def test_the_gate_page_without_javascript_shows_a_forged_code_refused(world):
    client = Client()
    client.force_login(world.users["gate"])
    response = client.post(f"/gate/{world.event.pk}/", {"gate": GATE, "token": tampered_signature(world)})
    assert response.status_code == 200
    assert "REFUSE" in response.content.decode()
    assert [entry.result for entry in logs(world)] == ["INVALID"]


def test_a_huge_code_is_refused_by_the_scan_api_before_anything_is_read(world):
    response = Client().post(
        "/api/v1/scan/",
        {
            "event_id": str(world.event.pk),
            "token": fresh_token(world.ticket_id, world.buyer) + "x" * 5000,
            "gate": GATE,
        },
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {world.tokens['gate']}",
    )
    assert (response.status_code, response.json()["code"]) == (400, "VALIDATION_ERROR")
    assert seat(world.ticket_id).status == "SOLD"


def test_gate_staff_of_another_organization_cannot_scan_this_events_tickets(world):
    """The scan API refuses the staff of another organization before reading the code: nothing is logged."""
    code = fresh_token(world.ticket_id, world.buyer)
    response = Client().post(
        "/api/v1/scan/",
        {"event_id": str(world.event.pk), "token": code, "gate": GATE},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {world.tokens['box_office_other']}",
    )
    assert (response.status_code, response.json()["code"]) == (403, "SCAN_FORBIDDEN")
    assert logs(world) == []
    assert seat(world.ticket_id).status == "SOLD"
