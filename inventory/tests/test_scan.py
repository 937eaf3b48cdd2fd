"""Gate scans: every check a code goes through, each attempt logged, one admission per ticket."""

import datetime as dt
import functools
import hashlib
import uuid
from unittest import mock

import pytest
from django.core import signing
from django.utils import timezone

from core.errors import InvalidInput
from core.testing import race
from inventory import DB_ALIAS, services
from inventory.models import EntryLog
from inventory.tests.factories import BUYER, OTHER, STAFF, Venue, seat_row, sell

db = pytest.mark.django_db(databases=["default", "seats"])


def scan(venue, token, *, event_id=None, gate="North"):
    return services.ticket_scan(token=token, event_id=event_id or venue.event_id, gate=gate, staff_id=STAFF)


def sold_ticket_code(venue) -> str:
    """The first seat sold to BUYER, and its current QR code."""
    sell(venue=venue, buyer_id=BUYER)
    token, _expires = services.ticket_qr(seat_id=venue.ids(0)[0], owner_id=BUYER)
    return token


def logs():
    return list(EntryLog.objects.using(DB_ALIAS).order_by("created_at").values_list("result", flat=True))


@db
def test_a_valid_code_admits_once_and_logs_success(venue):
    token = sold_ticket_code(venue)

    outcome = scan(venue, token)

    assert (outcome.result, outcome.admitted, outcome.holder_id) == ("SUCCESS", True, BUYER)
    assert outcome.seat.status == "CHECKED_IN"
    seat = seat_row(venue.ids(0)[0])
    assert seat.status == "CHECKED_IN" and seat.checked_in_at is not None
    entry = EntryLog.objects.using(DB_ALIAS).get()
    assert (entry.result, entry.seat_id, entry.staff_id, entry.gate, entry.holder_id) == (
        "SUCCESS",
        seat.id,
        STAFF,
        "North",
        BUYER,
    )
    assert entry.token_fingerprint == hashlib.sha256(token.encode()).hexdigest()[:32]


@db
def test_a_second_scan_is_a_duplicate(venue):
    token = sold_ticket_code(venue)
    scan(venue, token)

    outcome = scan(venue, token, gate="South")

    assert (outcome.result, outcome.admitted) == ("DUPLICATE", False)
    assert "Already checked in" in outcome.detail
    assert logs() == ["SUCCESS", "DUPLICATE"]


@db
def test_a_ticket_for_another_event_is_refused(venue):
    token = sold_ticket_code(venue)

    outcome = scan(venue, token, event_id=uuid.uuid4())

    assert outcome.result == "WRONG_EVENT"
    assert seat_row(venue.ids(0)[0]).status == "SOLD"


@db
def test_an_expired_code_is_refused(venue):
    token = sold_ticket_code(venue)

    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + dt.timedelta(seconds=61)):
        outcome = scan(venue, token)

    assert outcome.result == "EXPIRED"
    assert EntryLog.objects.using(DB_ALIAS).get().seat_id == venue.ids(0)[0]


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "",
        "x" * 5000,
        None,
        signing.Signer(key="someone-elses-key", salt=services.QR_SALT, algorithm="sha256").sign(
            f"{uuid.uuid4().hex}.{uuid.uuid4().hex}.1.{int(timezone.now().timestamp())}"
        ),
    ],
    ids=["garbage", "empty", "huge", "none", "forged-signature"],
)
@db
def test_forged_or_garbage_codes_are_invalid_and_logged(venue, token):
    outcome = scan(venue, token)

    assert (outcome.result, outcome.seat) == ("INVALID", None)
    entry = EntryLog.objects.using(DB_ALIAS).get()
    assert entry.result == "INVALID" and entry.seat_id is None and len(entry.token_fingerprint) == 32


@db
def test_a_tampered_payload_is_invalid(venue):
    token = sold_ticket_code(venue)
    value, signature = token.rsplit(":", 1)
    tampered = value.replace(".1.", ".2.") + ":" + signature

    assert scan(venue, tampered).result == "INVALID"


@db
def test_an_old_code_after_a_transfer_is_revoked(venue):
    old_token = sold_ticket_code(venue)
    services.ticket_change_owner(seat_id=venue.ids(0)[0], from_owner_id=BUYER, to_owner_id=OTHER)

    assert scan(venue, old_token).result == "REVOKED"
    new_token, _ = services.ticket_qr(seat_id=venue.ids(0)[0], owner_id=OTHER)
    assert scan(venue, new_token).result == "SUCCESS"


@db
def test_a_refunded_ticket_is_revoked(venue):
    order_id = sell(venue=venue, buyer_id=BUYER)
    token, _ = services.ticket_qr(seat_id=venue.ids(0)[0], owner_id=BUYER)
    services.seats_unsell(order_id=order_id)

    outcome = scan(venue, token)

    assert outcome.result == "REVOKED"
    assert seat_row(venue.ids(0)[0]).status == "AVAILABLE"


@db
def test_an_unknown_seat_is_not_found_and_logged(venue):
    token = services.qr_token_make(
        seat_id=uuid.uuid4(), owner_id=BUYER, qr_version=1, issued_at=int(timezone.now().timestamp())
    )

    outcome = scan(venue, token)

    assert outcome.result == "NOT_FOUND"
    assert logs() == ["NOT_FOUND"]


@db
def test_a_listed_ticket_is_not_admitted(venue):
    token = sold_ticket_code(venue)
    services.ticket_set_listed(seat_id=venue.ids(0)[0], owner_id=BUYER, listed=True)

    assert scan(venue, token).result == "NOT_PAID"


@db
def test_a_code_from_the_future_is_invalid(venue):
    token = services.qr_token_make(
        seat_id=venue.ids(0)[0], owner_id=BUYER, qr_version=1, issued_at=int(timezone.now().timestamp()) + 3600
    )

    assert scan(venue, token).result == "INVALID"


@db
def test_a_scan_without_a_gate_is_invalid_input(venue):
    with pytest.raises(InvalidInput):
        scan(venue, "whatever", gate="  ")


@pytest.mark.concurrency
@pytest.mark.django_db(databases=["default", "seats"], transaction=True)
def test_two_gates_scanning_the_same_ticket_at_once_admit_it_exactly_once():
    venue = Venue(rows=1, per_row=2)
    token = sold_ticket_code(venue)
    results = race(
        *(
            functools.partial(services.ticket_scan, token=token, event_id=venue.event_id, gate=gate, staff_id=STAFF)
            for gate in ("North", "South")
        )
    )

    assert sorted(result.result for result in results) == ["DUPLICATE", "SUCCESS"]
    assert sorted(logs()) == ["DUPLICATE", "SUCCESS"]
