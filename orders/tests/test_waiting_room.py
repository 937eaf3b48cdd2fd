"""orders.services.waiting_room: places, the draw's fairness, admission at the rate, one writer, crashes, passes."""

from __future__ import annotations

import datetime as dt
import random
import uuid

import pytest
from django.core import signing
from django.utils import timezone

from accounts.tests.factories import UserFactory
from core import faults
from core.databases import ALL_DATABASES
from core.errors import DomainError
from events import selectors as events_selectors
from orders import services
from orders.contract import WaitingRoomPassRequired
from orders.models import WaitingRoom, WaitingRoomAdmission, WaitingRoomEntry
from orders.services import waiting_room as rooms
from orders.services.waiting_room import joining
from orders.tests.factories import Seat, make_event
from orders.tests.helpers import AllQueries, race
from orders.tests.waiting_room_helpers import admit_all, configure_room, room_event, start_sale

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


@pytest.fixture(autouse=True)
def _status_files(settings, tmp_path):
    settings.WAITING_ROOM_STATUS_ROOT = tmp_path / "waiting-room"


def _join(user, setup, address: str = "198.51.100.7"):
    return rooms.waiting_room_join(event_id=setup.event.pk, user_id=user.pk, client_address=address)


def _positions(room) -> dict[uuid.UUID, int]:
    return dict(WaitingRoomEntry.objects.filter(room=room).values_list("user_id", "position"))


# --- Places --------------------------------------------------------------------------------------------------------


def test_an_early_arrival_has_no_position_until_the_draw(buyer):
    setup, _room = room_event()
    place = _join(buyer, setup)
    assert place.position is None and place.ahead is None and not place.is_admitted


def test_one_place_per_account_however_often_it_joins(buyer):
    setup, room = room_event(starts_in=dt.timedelta(0))
    room = start_sale(room)
    first = _join(buyer, setup)
    again = _join(buyer, setup, address="203.0.113.9")
    assert first.position == again.position == 1
    assert WaitingRoomEntry.objects.filter(room=room).count() == 1


@pytest.mark.concurrency
@pytest.mark.django_db(databases=ALL_DATABASES, transaction=True)
def test_parallel_joins_of_one_account_give_one_place(settings, tmp_path):
    settings.WAITING_ROOM_STATUS_ROOT = tmp_path
    user = UserFactory()
    setup, room = room_event()
    results = race(*[lambda: _join(user, setup) for _ in range(8)])
    assert not [r for r in results if isinstance(r, Exception)], results
    assert WaitingRoomEntry.objects.filter(room=room).count() == 1


def test_an_unverified_account_cannot_join():
    setup, _room = room_event()
    unverified = UserFactory(is_verified=False)
    with pytest.raises(DomainError) as excinfo:
        _join(unverified, setup)
    assert excinfo.value.code == "EMAIL_NOT_VERIFIED"


def test_the_per_address_cap_refuses_more_places_from_one_address():
    setup, room = room_event(cap=2)
    first, second, third = (UserFactory() for _ in range(3))
    _join(first, setup)
    _join(second, setup)
    with pytest.raises(DomainError) as excinfo:
        _join(third, setup)
    assert excinfo.value.code == "WAITING_ROOM_ADDRESS_LIMIT" and excinfo.value.status == 429
    _join(third, setup, address="192.0.2.1")  # another address is another count
    assert WaitingRoomEntry.objects.filter(room=room).count() == 3


@pytest.mark.concurrency
@pytest.mark.django_db(databases=ALL_DATABASES, transaction=True)
def test_parallel_joins_from_one_address_stay_within_the_cap(settings, tmp_path):
    settings.WAITING_ROOM_STATUS_ROOT = tmp_path
    users = [UserFactory() for _ in range(6)]
    setup, room = room_event(cap=2)
    results = race(*[lambda user=user: _join(user, setup) for user in users])
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(refused) == 4 and {r.code for r in refused} == {"WAITING_ROOM_ADDRESS_LIMIT"}
    assert WaitingRoomEntry.objects.filter(room=room).count() == 2


@pytest.mark.concurrency
@pytest.mark.django_db(databases=ALL_DATABASES, transaction=True)
def test_parallel_late_joins_get_consecutive_places_and_stay_within_the_cap(settings, tmp_path):
    """After the start each join takes the room's next position in the same statement as its insert: parallel
    joins from one address get distinct consecutive places, and no more than the cap."""
    settings.WAITING_ROOM_STATUS_ROOT = tmp_path
    early = UserFactory()
    users = [UserFactory() for _ in range(6)]
    setup, room = room_event(cap=3)
    _join(early, setup, address="192.0.2.50")
    start_sale(room)
    results = race(*[lambda user=user: _join(user, setup) for user in users])
    refused = [r for r in results if isinstance(r, DomainError)]
    assert len(refused) == 3 and {r.code for r in refused} == {"WAITING_ROOM_ADDRESS_LIMIT"}
    placed = sorted(r.position for r in results if not isinstance(r, DomainError))
    assert placed == [2, 3, 4]  # behind the one early arrival, drawn by the first late join
    assert WaitingRoom.objects.get(pk=room.pk).last_position == 4


def test_the_room_refuses_joins_before_it_opens(buyer):
    setup = make_event()
    configure_room(setup.event.pk, starts_at=timezone.now() + dt.timedelta(hours=2), rate=10, pass_minutes=10)
    with pytest.raises(DomainError) as excinfo:
        _join(buyer, setup)
    assert excinfo.value.code == "WAITING_ROOM_NOT_OPEN"


def test_an_event_without_a_room_has_no_place_to_join(buyer):
    setup = make_event()
    with pytest.raises(DomainError) as excinfo:
        _join(buyer, setup)
    assert excinfo.value.code == "WAITING_ROOM_CLOSED"


def test_late_arrivals_queue_behind_everyone_drawn_in_arrival_order():
    early = [UserFactory() for _ in range(5)]
    late = [UserFactory() for _ in range(3)]
    setup, room = room_event(cap=100)
    for user in early:
        _join(user, setup)
    room = start_sale(room)
    places = [_join(user, setup) for user in late]  # the first late join draws the early ones first
    assert [place.position for place in places] == [6, 7, 8]
    positions = _positions(room)
    assert sorted(positions[user.pk] for user in early) == [1, 2, 3, 4, 5]
    assert WaitingRoom.objects.get(pk=room.pk).last_position == 8


def test_the_draw_is_uniform_over_arrival_order_chi_square_with_a_fixed_seed(monkeypatch):
    """1,000 arrivals before the start, in five arrival quintiles; after the draw, their positions' quintiles must
    be independent of when they arrived. Chi-square on the 5 x 5 table (df 16): 39.25 is the 0.1 % critical value.
    A draw that kept arrival order (or any strong bias) scores in the thousands."""
    monkeypatch.setattr(joining.secrets, "randbits", random.Random(18).getrandbits)
    arrivals = 1000
    users = [UserFactory() for _ in range(arrivals)]
    setup, room = room_event(cap=arrivals)
    for user in users:
        _join(user, setup)
    room = start_sale(room)
    rooms.waiting_room_admit(room_id=room.pk)  # the first step of the job draws
    positions = _positions(room)
    assert sorted(positions.values()) == list(range(1, arrivals + 1))

    table = [[0] * 5 for _ in range(5)]
    for arrived, user in enumerate(users):
        table[arrived * 5 // arrivals][(positions[user.pk] - 1) * 5 // arrivals] += 1
    expected = arrivals / 25
    chi_square = sum((cell - expected) ** 2 / expected for row in table for cell in row)
    assert chi_square < 39.25, table

    kept_order = sum(((i == j) * 200 - expected) ** 2 / expected for i in range(5) for j in range(5))
    assert kept_order > 39.25  # the test can fail: a draw that kept arrival order would


def test_draw_keys_come_from_secrets_and_are_never_shown(buyer, monkeypatch):
    calls = []
    real = joining.secrets.randbits
    monkeypatch.setattr(joining.secrets, "randbits", lambda bits: calls.append(bits) or real(bits))
    setup, room = room_event()
    place = _join(buyer, setup)
    assert calls == [rooms.DRAW_KEY_BITS]
    entry = WaitingRoomEntry.objects.get(room=room, user_id=buyer.pk)
    assert 0 <= entry.draw_key < 2**62
    assert "draw_key" not in place.__dataclass_fields__


# --- Admission -----------------------------------------------------------------------------------------------------


def _room_with(count: int, *, rate: int = 60, credits: str | None = None):
    users = [UserFactory(credits=credits) if credits else UserFactory() for _ in range(count)]
    setup, room = room_event(rate=rate, cap=count)
    for user in users:
        _join(user, setup)
    return setup, room, users


def test_admission_follows_the_rate_in_position_order():
    _setup, room, _users = _room_with(40, rate=60)
    room = start_sale(room)
    starts = room.starts_at
    assert rooms.waiting_room_admit(room_id=room.pk, now=starts + dt.timedelta(seconds=10)) == 10
    assert rooms.waiting_room_admit(room_id=room.pk, now=starts + dt.timedelta(seconds=10)) == 0
    assert rooms.waiting_room_admit(room_id=room.pk, now=starts + dt.timedelta(seconds=25)) == 15
    admitted = WaitingRoomEntry.objects.filter(room=room, admitted_at__isnull=False)
    assert sorted(admitted.values_list("position", flat=True)) == list(range(1, 26))
    log = list(WaitingRoomAdmission.objects.filter(room=room).order_by("first_position"))
    assert [(row.first_position, row.last_position) for row in log] == [(1, 10), (11, 25)]
    assert WaitingRoom.objects.get(pk=room.pk).admitted_up_to == 25


def test_a_pause_admits_nobody_and_is_not_made_up_afterwards():
    _setup, room, _users = _room_with(30, rate=60)
    room = start_sale(room, ago=dt.timedelta(seconds=5))
    assert rooms.waiting_room_admit(room_id=room.pk) == 5
    rooms.waiting_room_set_pace(room_id=room.pk, paused=True, actor_id=None)
    later = timezone.now() + dt.timedelta(seconds=20)
    assert rooms.waiting_room_admit(room_id=room.pk, now=later) == 0
    rooms.waiting_room_set_pace(room_id=room.pk, paused=False, actor_id=None)
    assert rooms.waiting_room_admit(room_id=room.pk, now=later + dt.timedelta(seconds=3)) == 3


def test_a_long_gap_in_the_job_admits_at_most_one_minute_at_once():
    _setup, room, _users = _room_with(200, rate=60)
    room = start_sale(room, ago=dt.timedelta(minutes=10))
    assert rooms.waiting_room_admit(room_id=room.pk) == 60


@pytest.mark.concurrency
@pytest.mark.django_db(databases=ALL_DATABASES, transaction=True)
def test_two_concurrent_admitters_never_admit_a_place_twice(settings, tmp_path):
    settings.WAITING_ROOM_STATUS_ROOT = tmp_path
    _setup, room, _users = _room_with(120, rate=60)
    room = start_sale(room)
    base = room.starts_at
    for second in (10, 20, 30, 45):
        now = base + dt.timedelta(seconds=second)
        results = race(*[lambda now=now: rooms.waiting_room_admit(room_id=room.pk, now=now) for _ in range(4)])
        assert all(isinstance(r, int) for r in results), results
    room = WaitingRoom.objects.get(pk=room.pk)
    assert room.admitted_up_to == 45
    admitted = list(WaitingRoomEntry.objects.filter(room=room, admitted_at__isnull=False).values_list("position"))
    assert sorted(p for (p,) in admitted) == list(range(1, 46))
    ranges = sorted((r.first_position, r.last_position) for r in WaitingRoomAdmission.objects.filter(room=room))
    assert ranges == [(1, 10), (11, 20), (21, 30), (31, 45)]


@pytest.mark.django_db(databases=ALL_DATABASES, transaction=True)
def test_a_crash_mid_admission_loses_and_reorders_nothing(settings, tmp_path):
    settings.FAULT_INJECTION_ENABLED = True
    settings.WAITING_ROOM_STATUS_ROOT = tmp_path
    _setup, room, _users = _room_with(30, rate=60)
    room = start_sale(room)
    rooms.waiting_room_admit(room_id=room.pk, now=room.starts_at)  # the draw, nobody owed yet
    before = _positions(room)
    now = room.starts_at + dt.timedelta(seconds=10)
    with faults.arm("waiting_room.after_admit"), pytest.raises(faults.InjectedFault):
        rooms.waiting_room_admit(room_id=room.pk, now=now)
    assert not WaitingRoomEntry.objects.filter(room=room, admitted_at__isnull=False).exists()
    assert WaitingRoom.objects.get(pk=room.pk).admitted_up_to == 0
    assert not WaitingRoomAdmission.objects.filter(room=room).exists()
    # The restarted job admits the same batch, in the same order.
    assert rooms.waiting_room_admit(room_id=room.pk, now=now) == 10
    assert _positions(room) == before
    admitted = WaitingRoomEntry.objects.filter(room=room, admitted_at__isnull=False).values_list("position", flat=True)
    assert sorted(admitted) == list(range(1, 11))


def test_the_job_marks_a_sold_out_room_and_admits_nobody_more():
    setup, room, _users = _room_with(5, rate=60)
    Seat.objects.using("seats").filter(event_id=setup.event.pk).update(status="BLOCKED")  # nothing left to sell
    room = start_sale(room, ago=dt.timedelta(seconds=30))
    assert rooms.waiting_room_admit(room_id=room.pk) == 0
    assert WaitingRoom.objects.get(pk=room.pk).sold_out_at is not None
    assert rooms.waiting_room_read_status(event_id=setup.event.pk)["sold_out"] is True


def test_each_step_writes_the_status_file_the_pages_poll():
    setup, room, _users = _room_with(10, rate=60)
    room = start_sale(room, ago=dt.timedelta(seconds=4))
    rooms.waiting_room_admit(room_id=room.pk)
    status = rooms.waiting_room_read_status(event_id=setup.event.pk)
    assert status["admitted_up_to"] == 4 and status["drawn"] and status["rate_per_minute"] == 60


# --- Passes --------------------------------------------------------------------------------------------------------


def _pass_for(user, setup, minutes: int = 10) -> str:
    expires = timezone.now() + dt.timedelta(minutes=minutes)
    return rooms.waiting_room_pass_issue(event_id=setup.event.pk, user_id=user.pk, expires_at=expires)


def _hold(user, setup, token=None):
    return services.hold_seats(
        buyer_id=user.pk, event_id=setup.event.pk, seat_ids=setup.seat_ids[:1], waiting_room_pass=token
    )


def test_a_hold_without_a_pass_is_refused_with_the_way_to_the_room(buyer):
    setup, _room = room_event()
    with pytest.raises(WaitingRoomPassRequired) as excinfo:
        _hold(buyer, setup)
    assert excinfo.value.status == 403
    assert excinfo.value.as_dict()["waiting_room_url"] == f"/events/{setup.event.pk}/waiting-room/"


def test_a_valid_pass_lets_its_own_buyer_hold_and_buy(buyer):
    setup, _room = room_event()
    token = _pass_for(buyer, setup)
    assert len(_hold(buyer, setup, token)) == 1
    order = services.order_checkout(
        buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="wr-1", waiting_room_pass=token
    )
    assert order.status == "CONFIRMED"


def test_checkout_without_a_pass_is_refused_and_the_key_stays_usable(buyer):
    setup, _room = room_event()
    token = _pass_for(buyer, setup)
    _hold(buyer, setup, token)
    with pytest.raises(WaitingRoomPassRequired):
        services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="wr-2")
    order = services.order_checkout(
        buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="wr-2", waiting_room_pass=token
    )
    assert order.status == "CONFIRMED"


def test_another_accounts_pass_is_refused(buyer, other_buyer):
    setup, _room = room_event()
    with pytest.raises(WaitingRoomPassRequired):
        _hold(other_buyer, setup, _pass_for(buyer, setup))


def test_a_pass_for_another_event_is_refused(buyer):
    setup, _room = room_event()
    other, _other_room = room_event()
    with pytest.raises(WaitingRoomPassRequired):
        _hold(buyer, setup, _pass_for(buyer, other))


def test_an_expired_pass_is_refused(buyer):
    setup, _room = room_event()
    expired = rooms.waiting_room_pass_issue(
        event_id=setup.event.pk, user_id=buyer.pk, expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    with pytest.raises(WaitingRoomPassRequired):
        _hold(buyer, setup, expired)


def test_a_forged_pass_is_refused(buyer):
    setup, _room = room_event()
    claims = {"e": str(setup.event.pk), "u": str(buyer.pk), "x": int(timezone.now().timestamp()) + 600}
    forgeries = [
        signing.dumps(claims, salt="another.salt"),
        signing.dumps(claims, salt=rooms.PASS_SALT, key="not-the-secret-key"),
        _pass_for(buyer, setup)[:-2] + "xx",
        "garbage",
    ]
    for token in forgeries:
        with pytest.raises(WaitingRoomPassRequired):
            _hold(buyer, setup, token)


def test_switching_the_room_off_lets_everyone_hold_again(buyer):
    setup, room = room_event()
    configure_room(setup.event.pk, active=False, opens_at=room.opens_at, starts_at=room.starts_at)
    assert len(_hold(buyer, setup)) == 1


def test_the_pass_check_reads_no_database_with_or_without_a_room(buyer):
    plain = events_selectors.event_get(event_id=make_event().event.pk)
    setup, _room = room_event()
    roomed = events_selectors.event_get(event_id=setup.event.pk)
    token = _pass_for(buyer, setup)
    with AllQueries() as queries:
        rooms.waiting_room_pass_check(event=plain, user_id=buyer.pk, token=None)
        rooms.waiting_room_pass_check(event=roomed, user_id=buyer.pk, token=token)
    assert queries.total == 0


def test_a_hold_of_an_event_without_a_room_costs_what_it_did(buyer):
    """The switch rides on the event row the hold reads anyway: the same statements, alias by alias, as a hold of
    an event whose room is switched on and whose buyer shows a pass."""
    plain = make_event()
    setup, _room = room_event()
    token = _pass_for(buyer, setup)
    services.hold_seats(buyer_id=buyer.pk, event_id=plain.event.pk, seat_ids=plain.seat_ids[:1])  # warm caches
    with AllQueries() as without_room:
        services.hold_seats(buyer_id=buyer.pk, event_id=plain.event.pk, seat_ids=plain.seat_ids[1:2])
    with AllQueries() as with_room:
        _hold(buyer, setup, token)
    assert without_room.by_alias == with_room.by_alias


def test_admitted_buyers_get_a_pass_that_runs_out_with_the_configured_time(buyer):
    setup, room = room_event(pass_minutes=7)
    _join(buyer, setup)
    assert admit_all(room) == 1
    place = rooms.waiting_room_place(event_id=setup.event.pk, user_id=buyer.pk)
    assert place.is_admitted and place.position == 1
    remaining = place.pass_expires_at - timezone.now()
    assert dt.timedelta(minutes=6) < remaining <= dt.timedelta(minutes=7)


def test_the_periodic_job_steps_every_started_room_and_skips_the_others():
    from orders import tasks

    _started_setup, started, _users = _room_with(10, rate=60)
    _later_setup, later, _others = _room_with(5, rate=60)
    started = start_sale(started, ago=dt.timedelta(seconds=6))
    assert tasks.waiting_room_admit(timestamp=int(timezone.now().timestamp())) == 6
    assert WaitingRoom.objects.get(pk=started.pk).admitted_up_to == 6
    assert WaitingRoom.objects.get(pk=later.pk).drawn_at is None  # its sale has not started: not even drawn
    assert tasks.app.periodic_registry.periodic_tasks  # registered with the worker's periodic deferrer
    assert any(p.periodic_id == "waiting-room-admit" for p in tasks.app.periodic_registry.periodic_tasks.values())


def test_following_throughput_admits_only_while_few_enough_are_buying():
    setup, room, _users = _room_with(20, rate=600, credits="100.00")
    WaitingRoom.objects.filter(pk=room.pk).update(max_in_flight=3)
    room = start_sale(room)
    starts = room.starts_at
    assert rooms.waiting_room_admit(room_id=room.pk, now=starts + dt.timedelta(seconds=10)) == 3  # the rate owes 100
    assert rooms.waiting_room_admit(room_id=room.pk, now=starts + dt.timedelta(seconds=20)) == 0  # 3 still buying
    first = WaitingRoomEntry.objects.get(room=room, position=1)
    token = rooms.waiting_room_pass_issue(
        event_id=setup.event.pk, user_id=first.user_id, expires_at=timezone.now() + dt.timedelta(minutes=5)
    )
    services.hold_seats(
        buyer_id=first.user_id, event_id=setup.event.pk, seat_ids=setup.seat_ids[:1], waiting_room_pass=token
    )
    services.order_checkout(
        buyer_id=first.user_id, event_id=setup.event.pk, idempotency_key="tp-1", waiting_room_pass=token
    )
    # One of the three bought: room for exactly one more, however much the rate owes.
    assert rooms.waiting_room_admit(room_id=room.pk, now=starts + dt.timedelta(seconds=30)) == 1
    assert WaitingRoom.objects.get(pk=room.pk).admitted_up_to == 4
