"""The waiting room following measured throughput: the latency samples holds and checkouts leave, the controller
that admits more while they are fast and backs off when they are slow, never past the in-flight bound, one writer."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from core.databases import ALL_DATABASES
from core.errors import InvalidInput
from core.models import AuditLog
from events.tests.staff_world import add_staff, make_tenant
from orders.contract import WaitingRoomMode
from orders.models import WaitingRoom, WaitingRoomAdmission, WaitingRoomEntry, WaitingRoomLatencySample
from orders.services import waiting_room as rooms
from orders.tests.factories import make_event
from orders.tests.helpers import api_checkout, api_client, api_hold, page_client, race
from orders.tests.waiting_room_helpers import admit_all, configure_room, room_event, start_sale

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


@pytest.fixture(autouse=True)
def _status_files(settings, tmp_path):
    settings.WAITING_ROOM_STATUS_ROOT = tmp_path / "waiting-room"


def _following(count: int, *, ceiling: int, target_ms: int = 500, in_flight: int = 10_000):
    """A started room of ``count`` drawn places that follows throughput up to ``ceiling`` per minute."""
    setup, room = room_event(rate=ceiling, cap=count)
    for _ in range(count):
        rooms.waiting_room_join(event_id=setup.event.pk, user_id=UserFactory().pk, client_address="198.51.100.1")
    WaitingRoom.objects.filter(pk=room.pk).update(
        admission_mode=WaitingRoomMode.THROUGHPUT, latency_target_ms=target_ms, max_in_flight=in_flight
    )
    return setup, start_sale(room)


def _requests_took(room: WaitingRoom, milliseconds: int, *, before: dt.datetime, count: int = 10) -> None:
    WaitingRoomLatencySample.objects.bulk_create(
        WaitingRoomLatencySample(
            event_id=room.event_id,
            operation="hold" if index % 2 else "purchase",
            duration_ms=milliseconds,
            recorded_at=before - dt.timedelta(milliseconds=10 * (index + 1)),
        )
        for index in range(count)
    )


def _step(room: WaitingRoom, at: dt.datetime) -> tuple[int, int]:
    """One admission step at ``at``: (admitted, the controller's rate afterwards)."""
    admitted = rooms.waiting_room_admit(room_id=room.pk, now=at)
    return admitted, WaitingRoom.objects.get(pk=room.pk).current_rate


def test_the_controller_starts_at_a_quarter_and_admits_more_while_requests_are_fast():
    _setup, room = _following(200, ceiling=120)
    starts = room.starts_at
    # No samples yet: a quarter of the staff's rate (30/min), unchanged.
    assert _step(room, starts + dt.timedelta(seconds=10)) == (5, 30)
    admitted, rates = [], []
    for second in (20, 30, 40, 50, 60, 70, 80, 90):
        now = starts + dt.timedelta(seconds=second)
        _requests_took(room, 80, before=now)
        count, rate = _step(room, now)
        admitted.append(count)
        rates.append(rate)
    assert rates == [38, 48, 60, 75, 94, 118, 120, 120]  # x1.25 per fast step, capped at the staff's 120/min
    # Ten seconds' worth at each step's rate (fractions carry over from step to step).
    assert admitted == sorted(admitted) and admitted[0] == 6 and admitted[-2:] == [20, 20]
    assert WaitingRoom.objects.get(pk=room.pk).latency_p95_ms == 80


def test_the_controller_admits_nobody_and_halves_the_rate_when_the_p95_is_over_the_target():
    _setup, room = _following(200, ceiling=600, target_ms=500)
    starts = room.starts_at
    WaitingRoom.objects.filter(pk=room.pk).update(current_rate=400)
    now = starts + dt.timedelta(seconds=10)
    _requests_took(room, 120, before=now, count=18)
    _requests_took(room, 2_000, before=now, count=2)  # 10 % slow: the p95 is slow
    assert _step(room, now) == (0, 200)
    after = WaitingRoom.objects.get(pk=room.pk)
    assert after.latency_p95_ms == 2_000 and after.backed_off_at == now and after.admitted_up_to == 0
    # The slow samples are not judged again: with no new ones the halved rate holds, and the time spent backing
    # off is not made up in a burst.
    later = now + dt.timedelta(seconds=6)
    assert _step(room, later) == (20, 200)
    # Still slow afterwards: halved again.
    again = later + dt.timedelta(seconds=6)
    _requests_took(room, 900, before=again)
    assert _step(room, again) == (0, 100)


def test_few_samples_leave_the_rate_as_it_is():
    _setup, room = _following(50, ceiling=600)
    now = room.starts_at + dt.timedelta(seconds=10)
    _requests_took(room, 5_000, before=now, count=rooms.MIN_LATENCY_SAMPLES - 1)
    assert _step(room, now) == (25, 150)


def test_following_throughput_never_admits_past_the_in_flight_bound_however_fast():
    _setup, room = _following(100, ceiling=6_000, in_flight=3)
    starts = room.starts_at
    for second in range(10, 90, 10):
        now = starts + dt.timedelta(seconds=second)
        _requests_took(room, 10, before=now)
        _step(room, now)
    room = WaitingRoom.objects.get(pk=room.pk)
    assert room.current_rate == 6_000  # fast, so the controller went to the ceiling
    assert room.admitted_up_to == 3  # yet nobody bought: three in flight, none more


@pytest.mark.concurrency
@pytest.mark.django_db(databases=ALL_DATABASES, transaction=True)
def test_two_concurrent_admitters_following_throughput_admit_each_place_once_and_step_the_rate_once(settings, tmp_path):
    settings.WAITING_ROOM_STATUS_ROOT = tmp_path
    _setup, room = _following(120, ceiling=240)
    starts = room.starts_at
    expected_rates = [75, 94, 118, 148]
    for second, rate in zip((10, 20, 30, 40), expected_rates, strict=True):
        now = starts + dt.timedelta(seconds=second)
        _requests_took(room, 50, before=now)
        results = race(*[lambda now=now: rooms.waiting_room_admit(room_id=room.pk, now=now) for _ in range(4)])
        assert all(isinstance(r, int) for r in results), results
        assert WaitingRoom.objects.get(pk=room.pk).current_rate == rate  # four workers, one change
    room = WaitingRoom.objects.get(pk=room.pk)
    positions = sorted(
        WaitingRoomEntry.objects.filter(room=room, admitted_at__isnull=False).values_list("position", flat=True)
    )
    assert positions == list(range(1, room.admitted_up_to + 1))
    ranges = sorted((r.first_position, r.last_position) for r in WaitingRoomAdmission.objects.filter(room=room))
    assert all(previous[1] < following[0] for previous, following in zip(ranges, ranges[1:], strict=False))
    assert sum(last - first + 1 for first, last in ranges) == room.admitted_up_to


def test_following_throughput_needs_a_target_and_an_in_flight_bound():
    setup, room = room_event()
    arguments = {
        "opens_at": room.opens_at,
        "starts_at": room.starts_at,
        "rate": 100,
        "pass_minutes": 10,
        "admission_mode": WaitingRoomMode.THROUGHPUT,
    }
    with pytest.raises(InvalidInput) as excinfo:
        configure_room(setup.event.pk, **arguments)
    assert set(excinfo.value.fields) == {"latency_target_ms", "max_in_flight"}
    room = configure_room(setup.event.pk, **arguments, latency_target_ms=400, max_in_flight=50)
    assert room.admission_mode == WaitingRoomMode.THROUGHPUT and rooms.admission_rate(room) == 25
    status = rooms.waiting_room_read_status(event_id=setup.event.pk)
    assert status["rate_per_minute"] == 25  # waiting pages estimate from the rate actually admitted


def test_old_samples_are_pruned_by_the_step():
    _setup, room = _following(5, ceiling=60)
    now = room.starts_at + dt.timedelta(seconds=10)
    _requests_took(room, 50, before=now - rooms.LATENCY_RETENTION, count=3)
    _requests_took(room, 50, before=now, count=2)
    rooms.waiting_room_admit(room_id=room.pk, now=now)
    assert WaitingRoomLatencySample.objects.filter(event_id=room.event_id).count() == 2


# --- The samples: recorded for holds and checkouts of an event with an active room, nothing else -------------------


def test_a_hold_and_a_checkout_with_a_pass_leave_one_sample_each_and_other_requests_none():
    setup, room = room_event(cap=10)
    buyer = UserFactory(credits="100.00")
    client = api_client(buyer)
    room_path = f"/api/v1/events/{setup.event.pk}/waiting-room/"
    assert client.post(room_path).status_code == 201
    assert api_hold(client, setup, setup.seat_ids[:1]).status_code == 403
    admit_all(room)
    room_pass = client.get(room_path).json()["pass"]
    assert api_hold(client, setup, setup.seat_ids[:1], HTTP_X_WAITING_ROOM_PASS=room_pass).status_code == 201
    checkout = api_checkout(client, setup, "wr-latency-1", HTTP_X_WAITING_ROOM_PASS=room_pass)
    assert checkout.status_code == 201
    samples = WaitingRoomLatencySample.objects.filter(event_id=setup.event.pk).order_by("recorded_at")
    assert [sample.operation for sample in samples] == ["hold", "purchase"]  # the refused hold left none
    assert all(sample.duration_ms >= 0 for sample in samples)


def test_holds_of_an_event_without_a_room_leave_no_sample():
    room_event()  # another event's room is on
    plain = make_event()
    response = api_hold(api_client(UserFactory()), plain, plain.seat_ids[:1])
    assert response.status_code == 201
    assert not WaitingRoomLatencySample.objects.exists()


# --- Staff ---------------------------------------------------------------------------------------------------------


def _admin_url(event_id) -> str:
    return f"/admin/events/event/{event_id}/waiting-room/"


def test_a_manager_picks_follow_throughput_with_a_target_audited_and_shown_on_the_staff_page():
    tenant = make_tenant("A")
    manager = add_staff(tenant, "MANAGER")
    starts = timezone.now() + dt.timedelta(hours=2)
    form = {
        "action": "configure",
        "active": "on",
        "opens_at": (starts - dt.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S"),
        "starts_at": starts.strftime("%Y-%m-%d %H:%M:%S"),
        "rate_per_minute": "600",
        "pass_minutes": "10",
        "per_address_cap": "3",
        "admission_mode": "throughput",
    }
    client = page_client(manager)
    refused = client.post(_admin_url(tenant.event.pk), form)
    assert refused.status_code == 200 and b"needs a latency target" in refused.content
    assert not WaitingRoom.objects.filter(event_id=tenant.event.pk).exists()
    saved = client.post(_admin_url(tenant.event.pk), {**form, "latency_target_ms": "350", "max_in_flight": "40"})
    assert saved.status_code == 302
    room = WaitingRoom.objects.get(event_id=tenant.event.pk)
    assert room.admission_mode == "throughput" and room.latency_target_ms == 350 and room.max_in_flight == 40
    audit = AuditLog.objects.get(action="waiting_room.configure", object_id=str(tenant.event.pk))
    assert audit.data["admission_mode"] == "throughput" and audit.data["latency_target_ms"] == 350
    page = client.get(_admin_url(tenant.event.pk)).content.decode()
    assert "follows throughput: p95 of holds and checkouts under 350 ms, at most 40 buying at once" in page
    assert "150 per minute now (at most 600)" in page
    assert "not enough requests yet" in page
    counts = client.get(_admin_url(tenant.event.pk) + "?format=json").json()["counts"]
    assert counts["admission_mode"] == "throughput" and counts["rate_now"] == 150


def test_the_fixed_rate_is_still_the_default_and_ignores_latency():
    _setup, room = room_event(rate=60, cap=20)
    for _ in range(20):
        rooms.waiting_room_join(event_id=room.event_id, user_id=UserFactory().pk, client_address="198.51.100.2")
    room = start_sale(room)
    now = room.starts_at + dt.timedelta(seconds=10)
    _requests_took(room, 60_000, before=now)
    assert rooms.waiting_room_admit(room_id=room.pk, now=now) == 10
    assert WaitingRoom.objects.get(pk=room.pk).current_rate is None
