"""orders.services.purchase.hold_seats / release_holds: success and every refusal."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from core import config
from core.databases import ALL_DATABASES
from core.errors import DomainError
from inventory import selectors as inventory_selectors
from orders import services
from orders.tests.factories import make_event
from orders.tests.helpers import expire_holds

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def _code(excinfo) -> str:
    return excinfo.value.code


def test_buyer_holds_chosen_seats_for_the_configured_time(buyer):
    setup = make_event()
    held = services.hold_seats(buyer_id=buyer.pk, event_id=setup.event.pk, seat_ids=setup.seat_ids[:2])
    assert sorted(seat.id for seat in held) == sorted(setup.seat_ids[:2])
    assert all(seat.status == "HELD" and seat.held_by_id == buyer.pk for seat in held)
    remaining = min(seat.hold_expires_at for seat in held) - timezone.now()
    assert dt.timedelta(seconds=290) < remaining <= dt.timedelta(seconds=300)


def test_hold_time_comes_from_system_configuration(buyer):
    config.set_value("hold_seconds", 60)
    setup = make_event()
    held = services.hold_seats(buyer_id=buyer.pk, event_id=setup.event.pk, seat_ids=setup.seat_ids[:1])
    assert held[0].hold_expires_at - timezone.now() <= dt.timedelta(seconds=60)


def test_two_buyers_cannot_hold_the_same_seat(buyer, other_buyer):
    setup = make_event()
    services.hold_seats(buyer_id=buyer.pk, event_id=setup.event.pk, seat_ids=setup.seat_ids[:1])
    with pytest.raises(DomainError) as excinfo:
        services.hold_seats(buyer_id=other_buyer.pk, event_id=setup.event.pk, seat_ids=setup.seat_ids[:2])
    assert _code(excinfo) == "SEAT_UNAVAILABLE"
    assert excinfo.value.status == 409
    # All or nothing: the free seat of the request was not held either.
    assert inventory_selectors.holds_for_buyer(buyer_id=other_buyer.pk) == []


def test_an_expired_hold_is_taken_by_anyone_at_once(buyer, other_buyer):
    setup = make_event()
    services.hold_seats(buyer_id=buyer.pk, event_id=setup.event.pk, seat_ids=setup.seat_ids[:1])
    expire_holds(setup.seat_ids[:1])
    held = services.hold_seats(buyer_id=other_buyer.pk, event_id=setup.event.pk, seat_ids=setup.seat_ids[:1])
    assert held[0].held_by_id == other_buyer.pk


def test_hold_limit_per_buyer_is_enforced(buyer):
    config.set_value("max_tickets_per_order", 3)
    setup = make_event()
    services.hold_seats(buyer_id=buyer.pk, event_id=setup.event.pk, seat_ids=setup.seat_ids[:2])
    with pytest.raises(DomainError) as excinfo:
        services.hold_seats(buyer_id=buyer.pk, event_id=setup.event.pk, seat_ids=setup.seat_ids[2:4])
    assert _code(excinfo) == "HOLD_LIMIT_EXCEEDED"


def test_more_seats_than_the_limit_in_one_request_is_refused(buyer):
    config.set_value("max_tickets_per_order", 2)
    setup = make_event()
    with pytest.raises(DomainError) as excinfo:
        services.hold_seats(buyer_id=buyer.pk, event_id=setup.event.pk, seat_ids=setup.seat_ids[:3])
    assert _code(excinfo) == "VALIDATION_ERROR"


def test_best_available_holds_a_quantity_in_a_general_admission_section(buyer):
    setup = make_event(general=True, rows=1, seats_per_row=10)
    held = services.hold_seats(buyer_id=buyer.pk, event_id=setup.event.pk, section_id=setup.section.pk, quantity=3)
    assert len(held) == 3
    assert all(seat.held_by_id == buyer.pk for seat in held)


def test_best_available_by_tier_and_anywhere(buyer):
    setup = make_event(selection_mode="BEST_AVAILABLE")
    by_tier = services.hold_seats(buyer_id=buyer.pk, event_id=setup.event.pk, tier_id=setup.tier.pk, quantity=2)
    anywhere = services.hold_seats(buyer_id=buyer.pk, event_id=setup.event.pk, quantity=1)
    assert len(by_tier) == 2 and len(anywhere) == 1


def test_not_enough_places_is_a_conflict(buyer):
    setup = make_event(general=True, rows=1, seats_per_row=2)
    with pytest.raises(DomainError) as excinfo:
        services.hold_seats(buyer_id=buyer.pk, event_id=setup.event.pk, section_id=setup.section.pk, quantity=3)
    assert _code(excinfo) == "NOT_ENOUGH_SEATS"


def test_best_available_event_refuses_chosen_seats(buyer):
    setup = make_event(selection_mode="BEST_AVAILABLE")
    with pytest.raises(DomainError) as excinfo:
        services.hold_seats(buyer_id=buyer.pk, event_id=setup.event.pk, seat_ids=setup.seat_ids[:1])
    assert _code(excinfo) == "VALIDATION_ERROR"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"seat_ids": []},
        {"quantity": 0},
        {"quantity": 99},
        {"quantity": "three"},
        {"quantity": True},
        {},
    ],
)
def test_bad_hold_requests_are_validation_errors(buyer, kwargs):
    setup = make_event()
    with pytest.raises(DomainError) as excinfo:
        services.hold_seats(buyer_id=buyer.pk, event_id=setup.event.pk, **kwargs)
    assert _code(excinfo) == "VALIDATION_ERROR"
    assert excinfo.value.status == 400


def test_seats_and_quantity_together_are_refused(buyer):
    setup = make_event()
    with pytest.raises(DomainError) as excinfo:
        services.hold_seats(buyer_id=buyer.pk, event_id=setup.event.pk, seat_ids=setup.seat_ids[:1], quantity=1)
    assert _code(excinfo) == "VALIDATION_ERROR"


def test_a_seat_of_another_event_is_not_found(buyer):
    setup = make_event()
    other = make_event()
    with pytest.raises(DomainError) as excinfo:
        services.hold_seats(buyer_id=buyer.pk, event_id=setup.event.pk, seat_ids=other.seat_ids[:1])
    assert excinfo.value.status == 404


def test_a_section_the_event_does_not_sell_is_not_found(buyer):
    setup = make_event()
    with pytest.raises(DomainError) as excinfo:
        services.hold_seats(buyer_id=buyer.pk, event_id=setup.event.pk, section_id=uuid.uuid4(), quantity=1)
    assert _code(excinfo) == "NOT_FOUND"


@pytest.mark.parametrize(
    "event_fields",
    [
        {"status": "DRAFT"},
        {"status": "CANCELLED"},
        {"sales_start": None, "sales_end": None, "status": "ENDED"},
    ],
)
def test_holding_outside_sales_is_sales_closed(buyer, event_fields):
    setup = make_event(**event_fields)
    with pytest.raises(DomainError) as excinfo:
        services.hold_seats(buyer_id=buyer.pk, event_id=setup.event.pk, seat_ids=setup.seat_ids[:1])
    assert _code(excinfo) == "SALES_CLOSED"


def test_sales_window_not_open_yet_is_sales_closed(buyer):
    setup = make_event(sales_start=timezone.now() + dt.timedelta(days=1))
    with pytest.raises(DomainError) as excinfo:
        services.hold_seats(buyer_id=buyer.pk, event_id=setup.event.pk, seat_ids=setup.seat_ids[:1])
    assert _code(excinfo) == "SALES_CLOSED"


def test_unknown_event_is_not_found(buyer):
    with pytest.raises(DomainError) as excinfo:
        services.hold_seats(buyer_id=buyer.pk, event_id=uuid.uuid4(), quantity=1)
    assert _code(excinfo) == "NOT_FOUND"


def test_unverified_buyer_cannot_hold(db):
    setup = make_event()
    newcomer = UserFactory(is_verified=False)
    with pytest.raises(DomainError) as excinfo:
        services.hold_seats(buyer_id=newcomer.pk, event_id=setup.event.pk, seat_ids=setup.seat_ids[:1])
    assert _code(excinfo) == "EMAIL_NOT_VERIFIED"


def test_release_frees_only_the_buyers_own_holds(buyer, other_buyer):
    setup = make_event()
    services.hold_seats(buyer_id=buyer.pk, event_id=setup.event.pk, seat_ids=setup.seat_ids[:2])
    services.hold_seats(buyer_id=other_buyer.pk, event_id=setup.event.pk, seat_ids=setup.seat_ids[2:3])
    assert services.release_holds(buyer_id=buyer.pk, seat_ids=setup.seat_ids[:3]) == 2
    assert inventory_selectors.holds_for_buyer(buyer_id=buyer.pk) == []
    assert len(inventory_selectors.holds_for_buyer(buyer_id=other_buyer.pk)) == 1


def test_release_all_holds_of_an_event(buyer):
    setup = make_event()
    services.hold_seats(buyer_id=buyer.pk, event_id=setup.event.pk, seat_ids=setup.seat_ids[:3])
    assert services.release_holds(buyer_id=buyer.pk, event_id=setup.event.pk) == 3
