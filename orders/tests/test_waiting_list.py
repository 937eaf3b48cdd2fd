"""The waiting list: joining a sold-out line, offers held for the next in line, claimed, lapsed, left; fairness
(first come, first served per line), atomicity on real threads, and a crash between the hold and the offer."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from accounts.tests.factories import MembershipFactory, UserFactory
from core import config, faults
from core.databases import ALL_DATABASES
from core.errors import DomainError
from events.tests.factories import EventSectionFactory, PriceTierFactory
from inventory.tests.factories import SeatFactory
from orders import services
from orders.contract import NotificationKind
from orders.models import WaitingListEntry
from orders.notifications.delivery import render_message
from orders.services import waiting_list
from orders.services.waiting_list_nudge import MATCH_NOW_TASK
from orders.staff_selectors import event_waiting_counts
from orders.tasks import waiting_list_match, waiting_list_match_now
from orders.tests.factories import Seat, make_event
from orders.tests.helpers import assert_invariants, buy, expire_holds, race
from orders.tests.jobs_helpers import queue_clear, queued, queued_notifications

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def _sold_out(rows: int = 1, seats: int = 3, **fields):
    """An on-sale event whose every place was bought by one early buyer; returns (setup, their order)."""
    setup = make_event(rows=rows, seats_per_row=seats, **fields)
    early = UserFactory(credits="1000.00")
    order = buy(early, setup, count=rows * seats)
    return setup, order


def _join(user, setup, quantity=1, **line):
    return waiting_list.waiting_list_join(buyer_id=user.pk, event_id=setup.event.pk, quantity=quantity, **line)


def _entry(info) -> WaitingListEntry:
    return WaitingListEntry.objects.get(pk=info.id)


def _refund_seats(order, seat_ids):
    staff = MembershipFactory(organization_id=order.organization_id, role="BOX_OFFICE").user
    return services.order_refund_tickets(order_id=order.id, seat_ids=seat_ids, actor_id=staff.pk, reason="Returned")


def _first_in_line_offered(*, returned: int):
    """A sold-out event with two buyers in line; place ``returned`` comes back and is offered to the first."""
    setup, order = _sold_out()
    first, second = UserFactory(), UserFactory()
    one, two = _join(first, setup), _join(second, setup)
    _refund_seats(order, [setup.seat_ids[returned]])
    waiting_list.waiting_list_match_due()
    return setup, first, second, one, two


def test_joining_needs_a_sold_out_line_and_numbers_the_line_in_order():
    setup = make_event(rows=1, seats_per_row=2)
    first, second, third = (UserFactory() for _ in range(3))

    with pytest.raises(DomainError) as refused:
        _join(first, setup)
    assert refused.value.code == "WAITING_LIST_NOT_SOLD_OUT"

    buy(UserFactory(credits="500.00"), setup, count=1)
    assert _join(first, setup, quantity=2).position == 1  # one place left, two wanted: the line is open
    assert _join(second, setup, quantity=2).position == 2
    with pytest.raises(DomainError) as twice:
        _join(first, setup, quantity=3)
    assert (twice.value.code, twice.value.status) == ("WAITING_LIST_ALREADY_JOINED", 409)
    assert _join(third, setup, quantity=2).position == 3

    waiting_list.waiting_list_leave(buyer_id=first.pk, entry_id=WaitingListEntry.objects.get(buyer_id=first.pk).pk)
    (mine,) = waiting_list.waiting_list_for_buyer(buyer_id=third.pk)
    assert mine.position == 2
    assert _join(first, setup, quantity=2).position == 3  # leaving and joining again is the back of the line


def test_an_unverified_buyer_cannot_join_and_the_quantity_is_bounded():
    setup, _order = _sold_out()
    with pytest.raises(DomainError) as unverified:
        _join(UserFactory(is_verified=False), setup)
    assert unverified.value.code == "EMAIL_NOT_VERIFIED"
    with pytest.raises(DomainError) as too_many:
        _join(UserFactory(), setup, quantity=config.get("max_tickets_per_order") + 1)
    assert too_many.value.code == "VALIDATION_ERROR"


def test_a_refund_queues_a_match_that_holds_the_places_for_the_next_in_line_and_mails_them():
    setup, order = _sold_out()
    first, second = UserFactory(), UserFactory()
    one, two = _join(first, setup), _join(second, setup)
    queue_clear()

    _refund_seats(order, [setup.seat_ids[0]])

    assert [job["task"] for job in queued(MATCH_NOW_TASK)] == [MATCH_NOW_TASK]
    assert waiting_list_match_now() == 1
    entry = _entry(one)
    assert entry.status == "OFFERED" and entry.offered_seat_ids == [setup.seat_ids[0]]
    seat = Seat.objects.get(pk=setup.seat_ids[0])
    assert (seat.status, seat.held_by_id, seat.hold_expires_at) == ("HELD", first.pk, entry.offer_expires_at)
    assert entry.offer_expires_at - entry.offered_at == dt.timedelta(seconds=config.get("waiting_list_offer_seconds"))
    assert [n["recipient_id"] for n in queued_notifications(NotificationKind.WAITING_LIST_OFFER)] == [str(first.pk)]
    assert waiting_list.waiting_list_entry_get(buyer_id=second.pk, entry_id=two.id).position == 1
    # Nobody else can take the offered place while the offer lasts.
    with pytest.raises(DomainError) as taken:
        services.hold_seats(buyer_id=second.pk, event_id=setup.event.pk, seat_ids=[setup.seat_ids[0]])
    assert taken.value.code == "SEAT_UNAVAILABLE"
    mail = render_message(kind=NotificationKind.WAITING_LIST_OFFER, object_id=entry.pk, recipient_id=first.pk)
    assert f"/waiting-list/{entry.pk}/" in mail.body and "held for you" in mail.subject


def test_the_offer_is_claimed_through_the_normal_checkout():
    setup, order = _sold_out()
    waiter = UserFactory(credits="100.00")
    info = _join(waiter, setup)
    _refund_seats(order, [setup.seat_ids[1]])
    waiting_list.waiting_list_match_due()

    bought = services.order_checkout(buyer_id=waiter.pk, event_id=setup.event.pk, idempotency_key="from-the-list")

    assert bought.status == "CONFIRMED" and [line.seat_id for line in bought.lines] == [setup.seat_ids[1]]
    assert waiting_list.waiting_list_entry_get(buyer_id=waiter.pk, entry_id=info.id).status == "CLAIMED"
    assert_invariants()


def test_an_offer_not_taken_passes_to_the_next_in_line():
    setup, first, second, one, two = _first_in_line_offered(returned=0)

    expire_holds([setup.seat_ids[0]])
    WaitingListEntry.objects.filter(pk=one.id).update(offer_expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert waiting_list_match(timestamp=0) == 1

    assert _entry(one).status == "LAPSED"
    assert _entry(two).status == "OFFERED" and _entry(two).offered_seat_ids == [setup.seat_ids[0]]
    assert Seat.objects.get(pk=setup.seat_ids[0]).held_by_id == second.pk


def test_turning_an_offer_down_releases_the_places_to_the_next():
    setup, first, second, one, two = _first_in_line_offered(returned=2)

    assert waiting_list.waiting_list_leave(buyer_id=first.pk, entry_id=one.id).status == "LEFT"
    assert Seat.objects.get(pk=setup.seat_ids[2]).status == "AVAILABLE"
    waiting_list.waiting_list_match_due()
    assert _entry(two).status == "OFFERED"
    with pytest.raises(DomainError) as again:
        waiting_list.waiting_list_leave(buyer_id=first.pk, entry_id=one.id)
    assert again.value.code == "WAITING_LIST_ENTRY_CLOSED"
    with pytest.raises(DomainError) as foreign:
        waiting_list.waiting_list_leave(buyer_id=first.pk, entry_id=two.id)
    assert foreign.value.status == 404


def test_first_come_first_served_per_line():
    setup, order = _sold_out(rows=1, seats=4)
    stalls = setup.section
    balcony = EventSectionFactory(event=setup.event, tier=PriceTierFactory(event=setup.event)).section
    balcony_seat = SeatFactory(
        event_id=setup.event.pk, section_id=balcony.pk, tier_id=None, row_label="A", number=1, status="BLOCKED"
    )
    people = [UserFactory() for _ in range(4)]
    for person in people[:3]:
        _join(person, setup, section_id=stalls.pk)
    balcony_waiter = _join(people[3], setup, section_id=balcony.pk)

    offered_order = []
    for seat_id in setup.seat_ids[:3]:
        _refund_seats(order, [seat_id])
        waiting_list.waiting_list_match_due()
        offered_order += [
            e.buyer_id for e in WaitingListEntry.objects.filter(status="OFFERED", offered_seat_ids=[seat_id])
        ]
    assert offered_order == [person.pk for person in people[:3]]
    assert _entry(balcony_waiter).status == "WAITING"  # Stalls' places are not Balcony's

    Seat.objects.filter(pk=balcony_seat.pk).update(status="AVAILABLE")
    waiting_list.waiting_list_match_due()
    assert _entry(balcony_waiter).offered_seat_ids == [balcony_seat.pk]


def test_the_head_of_a_line_is_served_first_even_when_a_smaller_request_behind_it_would_fit():
    setup, order = _sold_out(rows=1, seats=3)
    pair, single = _join(UserFactory(), setup, quantity=2), _join(UserFactory(), setup, quantity=1)

    _refund_seats(order, [setup.seat_ids[0]])
    assert waiting_list.waiting_list_match_due() == 0
    assert (_entry(pair).status, _entry(single).status) == ("WAITING", "WAITING")

    _refund_seats(order, [setup.seat_ids[1]])
    assert waiting_list.waiting_list_match_due() == 1
    assert sorted(_entry(pair).offered_seat_ids) == sorted(setup.seat_ids[:2])
    assert _entry(single).status == "WAITING"


def _offer_crashed_after_the_hold():
    """A sold-out event with two people in line, one place returned, and the matching run that held it for the first
    one killed before the offer was written: (setup, the first one, their entry, the second one's entry)."""
    setup, order = _sold_out()
    waiter, next_one = UserFactory(), UserFactory()
    info = _join(waiter, setup)
    second = _join(next_one, setup)
    _refund_seats(order, [setup.seat_ids[0]])
    with faults.arm("waiting_list.after_hold"), pytest.raises(faults.InjectedFault):
        waiting_list.waiting_list_match_due()
    return setup, waiter, info, second


def test_a_crash_between_the_hold_and_the_offer_is_repaired_by_the_next_run():
    setup, waiter, info, second = _offer_crashed_after_the_hold()
    crashed = _entry(info)
    assert crashed.status == "OFFERING" and crashed.offered_seat_ids == []
    assert Seat.objects.get(pk=setup.seat_ids[0]).held_by_id == waiter.pk
    assert not queued_notifications(NotificationKind.WAITING_LIST_OFFER)

    waiting_list.waiting_list_match_due()

    repaired = _entry(info)
    assert repaired.status == "OFFERED" and repaired.offered_seat_ids == [setup.seat_ids[0]]
    assert Seat.objects.filter(held_by_id=waiter.pk).count() == 1  # the same place, not a second one
    assert _entry(second).status == "WAITING"
    assert len(queued_notifications(NotificationKind.WAITING_LIST_OFFER)) == 1
    assert_invariants()


def test_a_crashed_offer_whose_places_went_meanwhile_goes_back_to_its_place_in_line():
    setup, waiter, info, behind = _offer_crashed_after_the_hold()
    # The crashed offer's hold ran out and a buyer took the place before the next run.
    expire_holds([setup.seat_ids[0]])
    WaitingListEntry.objects.filter(pk=info.id).update(offer_expires_at=timezone.now() - dt.timedelta(seconds=1))
    services.hold_seats(buyer_id=UserFactory().pk, event_id=setup.event.pk, seat_ids=[setup.seat_ids[0]])

    assert waiting_list.waiting_list_match_due() == 0

    assert _entry(info).status == "WAITING"
    assert waiting_list.waiting_list_entry_get(buyer_id=waiter.pk, entry_id=info.id).position == 1
    assert waiting_list.waiting_list_entry_get(buyer_id=behind.buyer_id, entry_id=behind.id).position == 2


def test_sales_closing_closes_the_line():
    setup, _order = _sold_out()
    info = _join(UserFactory(), setup)
    type(setup.event).objects.filter(pk=setup.event.pk).update(sales_end=timezone.now() - dt.timedelta(minutes=1))
    waiting_list.waiting_list_match_due()
    assert _entry(info).status == "CLOSED"


def test_staff_counts_per_section():
    setup, _order = _sold_out()
    for quantity in (1, 2, 3):
        _join(UserFactory(), setup, quantity=quantity, section_id=setup.section.pk)
    _join(UserFactory(), setup)
    counts = event_waiting_counts(event_id=setup.event.pk)
    assert counts == {setup.section.pk: (3, 6), None: (1, 1)}


def test_nudge_queues_nothing_when_nobody_waits():
    setup, order = _sold_out()
    queue_clear()
    _refund_seats(order, [setup.seat_ids[0]])
    assert queued(MATCH_NOW_TASK) == []


@pytest.mark.concurrency
@pytest.mark.django_db(databases=ALL_DATABASES, transaction=True)
def test_two_workers_matching_at_once_never_offer_one_place_twice():
    for _attempt in range(3):
        setup, order = _sold_out(rows=1, seats=8)
        waiters = [UserFactory() for _ in range(8)]
        infos = [_join(waiter, setup) for waiter in waiters]
        _refund_seats(order, setup.seat_ids[:5])
        # A buyer holding at the same moment competes for the same places.
        racer = UserFactory()

        results = race(
            waiting_list.waiting_list_match_due,
            waiting_list.waiting_list_match_due,
            lambda racer=racer, event=setup.event: services.hold_seats(
                buyer_id=racer.pk, event_id=event.pk, quantity=1
            ),
        )

        assert not [r for r in results[:2] if isinstance(r, Exception)], results
        entries = [_entry(info) for info in infos]
        offered = [seat for entry in entries for seat in entry.offered_seat_ids]
        assert len(offered) == len(set(offered)), "a place was offered twice"
        racer_got = 0 if isinstance(results[2], Exception) else len(results[2])
        assert len(offered) + racer_got == 5
        for entry in entries:
            for seat_id in entry.offered_seat_ids:
                assert Seat.objects.get(pk=seat_id).held_by_id == entry.buyer_id
        # First come, first served: the offered entries are the first in line.
        statuses = [entry.status for entry in entries]
        assert statuses == ["OFFERED"] * len(offered) + ["WAITING"] * (8 - len(offered))
        assert_invariants()


def test_an_entry_id_that_is_not_the_buyers_is_not_found():
    setup, _order = _sold_out()
    info = _join(UserFactory(), setup)
    with pytest.raises(DomainError) as missing:
        waiting_list.waiting_list_entry_get(buyer_id=UserFactory().pk, entry_id=info.id)
    assert missing.value.status == 404
    with pytest.raises(DomainError):
        waiting_list.waiting_list_entry_get(buyer_id=UserFactory().pk, entry_id=uuid.uuid4())
