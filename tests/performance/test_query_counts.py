"""Pinned SQL round trips of every hot endpoint, per database, so that a regression (an N+1, a lost select_related,
one more step in a flow) fails CI instead of showing up in the next on-sale.

The tests are transactional (``transaction=True``) so that, as in production, a service's ``atomic`` block is a real
transaction and not a savepoint inside the test's. Django's query log (what ``django_assert_num_queries`` counts)
includes ``BEGIN`` and ``COMMIT``, so the pins count transactions too: every COMMIT of a write is a WAL flush, the
costliest round trip of all. ``X-Query-Count`` in the benchmark counts statements only (BEGIN/COMMIT not included).
Requests authenticate with an API token like the benchmark's clients. On the hot endpoints the token's principal is
cached per process for a few seconds (accounts/api/authentication.py), so after a warm-up request users_db is not
asked who is calling; the cold lookup is pinned on its own (``test_a_cold_principal_costs_two_users_queries``).

When you remove a query on purpose, lower the pin here and say so in docs/PERFORMANCE.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
import uuid

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client
from django.utils import timezone

from accounts.models import User
from bench.scenarios import dashboard_path
from core.databases import ALL_DATABASES
from orders.models import WaitingRoom
from orders.services import waiting_room as rooms
from orders.tests.waiting_room_helpers import configure_room

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES, transaction=True)


@pytest.fixture
def assert_queries(django_assert_num_queries):
    """``with assert_queries(default=2, seats=4): ...`` pins the count on every database (0 where not named)."""

    @contextlib.contextmanager
    def check(**expected: int):
        with contextlib.ExitStack() as stack:
            for alias in ALL_DATABASES:
                stack.enter_context(django_assert_num_queries(expected.get(alias, 0), connection=connections[alias]))
            yield

    return check


def _client(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {token}")


def _hot_seats(world) -> list[str]:
    from inventory import selectors

    return [
        str(seat["id"]) for seat in selectors.seat_map(event_id=world.stadium_event_id, section_id=world.hot_section_id)
    ]


def _hold_path(world) -> str:
    return f"/api/v1/events/{world.stadium_event_id}/holds/"


def _hold(client: Client, world, seat_ids: list[str]):
    return client.post(_hold_path(world), {"seat_ids": seat_ids}, content_type="application/json")


def _checkout(client: Client, world):
    return client.post(
        "/api/v1/orders/",
        {"event_id": str(world.stadium_event_id)},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )


def test_hold_of_chosen_seats_takes_four_statements_in_one_transaction(world, assert_queries):
    client = _client(world.buyers[0].token)
    seats = _hot_seats(world)
    assert _hold(client, world, seats[:1]).status_code == 201  # warm: first-request caches are not the point
    # users: none (the principal is cached, the buyer is the request's user) | events: the event on sale | orders:
    # the organizer's block of this buyer | seats: BEGIN, buyer-event advisory lock, one statement that locks the
    # seats NOWAIT, counts the buyer's holds and holds them (inventory/services/holds.py _HOLD_CHOSEN), COMMIT
    with assert_queries(events=1, orders=1, seats=4):
        response = _hold(client, world, seats[2:4])
    assert response.status_code == 201


def test_best_available_hold_takes_ten_queries_in_one_transaction(world, assert_queries):
    client = _client(world.buyers[0].token)
    body = {"section_id": str(world.hot_section_id), "quantity": 2}
    path = f"/api/v1/events/{world.stadium_event_id}/holds/"
    assert client.post(path, body, content_type="application/json").status_code == 201  # warm the config cache
    # as above, plus whether the event sells the section (events) and, in seats, the candidate window (with the
    # buyer's holds counted in it) and a savepoint around the SKIP LOCKED take: BEGIN, lock, window, SAVEPOINT, take,
    # RELEASE, COMMIT
    with assert_queries(events=2, orders=1, seats=7):
        response = client.post(path, body, content_type="application/json")
    assert response.status_code == 201


# Checkout, orders_db (a fresh key is not looked up first: a retry meets its order at the insert): the plan: block
# check + flow lock + order + lines in one statement
# (orders/services/purchase/plan.py) | CONFIRMED + its email queued | the flow lock released (after the confirmation
# committed: core.locking.flow_lock_taken says why it is a statement of its own). No step DEBITED: the debit's ledger
# row is its record.
CHECKOUT_ORDERS = 3

# Joining a waiting room, orders_db: BEGIN, the room with this account's place and the address lock in one
# statement, the cap's count and the insert in one statement (an arrival after the start: with the room's counter),
# COMMIT. Before (3 December 2026): 8 early, 9 late (docs/WAITING_ROOM.md, "Joining in two statements").
JOIN_ORDERS = 4
JOIN_AGAIN_ORDERS = 3
LATE_JOIN_ORDERS = 4


@pytest.mark.parametrize("seats_bought", [2, 8])
def test_checkout_takes_eight_statements_and_four_writing_transactions_whatever_the_seats(
    world, assert_queries, seats_bought
):
    client = _client(world.buyers[0].token)
    seats = _hot_seats(world)
    assert _hold(client, world, seats[:seats_bought]).status_code == 201
    # users: the buyer (fresh balance and flag), the debit (lock timeout + guarded UPDATE of the balance + ledger
    # INSERT in one statement, accounts/services/money.py) | events: the event on sale | seats: the buyer's holds,
    # the all-or-nothing sell in one statement (inventory/services/sales.py _SELL). The confirmation's compare-and-set
    # also queues its email, in the same statement (docs/PERFORMANCE.md, "Queueing the email").
    with assert_queries(default=2, orders=CHECKOUT_ORDERS, events=1, seats=2):
        response = _checkout(client, world)
    assert response.status_code == 201
    assert len(response.json()["lines"]) == seats_bought


def _buyer_reads(world, path: str, assert_queries, **expected: int):
    """A buyer's GET of ``path``, counted after one warm-up request (the principal cache is not the point)."""
    client = _client(world.buyers[0].token)
    assert client.get(path).status_code == 200
    with assert_queries(**expected):
        response = client.get(path)
    assert response.status_code == 200
    return response


def test_seat_map_of_a_section_takes_two_queries(world, assert_queries):
    path = f"/api/v1/events/{world.big_event_id}/seats/?section={world.big_section_ids[0]}"
    # the published event | the seats as JSON (the section list is read only for an empty answer)
    _buyer_reads(world, path, assert_queries, events=1, seats=1)


def test_availability_of_every_section_takes_two_queries(world, assert_queries):
    path = f"/api/v1/events/{world.big_event_id}/sections/"
    # events: the sections, if the event is published (one query for both) | seats: the counts
    response = _buyer_reads(world, path, assert_queries, events=1, seats=1)
    assert len(response.json()) == len(world.big_section_ids) or response.json()


def test_a_live_map_poll_takes_one_query_and_no_session(world, assert_queries):
    """What every open seat map asks each second: the seats changed since its version, nothing else (no session, no
    user, no event: the answer is the same for every viewer and the proxy shares it, docs/PERFORMANCE.md)."""
    client = Client()
    client.force_login(User.objects.get(pk=world.buyers[0].id))  # signed in: the session cookie comes along
    path = f"/events/{world.big_event_id}/changes/?since={int(time.time()) * 1000}&section={world.big_section_ids[0]}"
    with assert_queries(seats=1):
        response = client.get(path)
    assert response.status_code == 200


def _scan(world, token: str):
    client = _client(world.gate_staff[0].token)
    body = {"event_id": str(world.big_event_id), "gate": "North", "token": token}
    return client.post("/api/v1/scan/", body, content_type="application/json")


def test_first_scan_and_rescan_take_a_handful_of_queries(world, assert_queries):
    from inventory import services as inventory_services

    (seat_id, owner_id), (other_seat, other_owner) = world.big_tickets[:2]
    assert _scan(world, inventory_services.ticket_qr(seat_id=other_seat, owner_id=other_owner)[0]).status_code == 200
    token = inventory_services.ticket_qr(seat_id=seat_id, owner_id=owner_id)[0]
    # users: the holder's name for the answer (the gate staff's roles come with the cached principal). seats: the
    # admission and its log row are one statement in autocommit; a refusal then reads the seat under its lock and
    # logs in one transaction (BEGIN, SELECT ... FOR UPDATE, INSERT, COMMIT).
    with assert_queries(default=1, seats=1):
        first = _scan(world, token)
    assert first.json()["result"] == "SUCCESS"
    with assert_queries(default=1, seats=5):
        again = _scan(world, token)
    assert again.json()["result"] == "DUPLICATE"


def test_sales_dashboard_does_not_grow_with_the_number_of_sections(world, assert_queries):
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = world.manager_session
    path = dashboard_path(world.big_event_id)
    assert path, "the staff dashboard URL moved: update bench.scenarios.DASHBOARD_URL_NAMES"
    # seats: the sales GROUP BY, the places kept off sale, the admissions per five minutes and the places' price
    # tiers (the hourly sales split by tier); orders: tickets sold per hour and who waits on the waiting list per
    # section (one GROUP BY, on the live table too)
    with assert_queries(default=5, events=3, orders=2, seats=4):
        response = client.get(path)
    assert response.status_code == 200
    # the refresh a watching manager makes every few seconds: the table live, the charts' timelines from the cache,
    # no admin chrome (users: the session, the user, their memberships; not the permissions the admin's app list
    # asks for)
    with assert_queries(default=3, events=3, orders=1, seats=2):
        assert client.get(path + "?fragment=1").status_code == 200


def test_a_cold_principal_costs_two_users_queries(world, assert_queries):
    from accounts.api.authentication import principal_cache

    client = _client(world.gate_staff[0].token)
    path = f"/api/v1/events/{world.big_event_id}/seats/?section={world.big_section_ids[0]}"
    principal_cache.clear()
    # users: token+user, the person's organization roles (kept with the principal for the gate's permission check)
    with assert_queries(default=2, events=1, seats=1):
        response = client.get(path)
    assert response.status_code == 200


def _room_on_the_stadium(world, *, starts_in: dt.timedelta):
    configure_room(world.stadium_event_id, starts_at=timezone.now() + starts_in, cap=1000)
    return f"/api/v1/events/{world.stadium_event_id}/waiting-room/"


@pytest.fixture
def _status_files(settings, tmp_path):
    settings.WAITING_ROOM_STATUS_ROOT = tmp_path / "waiting-room"


@pytest.mark.usefixtures("_status_files")
def test_joining_a_waiting_room_takes_one_orders_transaction_of_two_statements(world, assert_queries):
    path = _room_on_the_stadium(world, starts_in=dt.timedelta(minutes=30))
    assert _client(world.buyers[1].token).post(path).status_code == 201  # warm
    client = _client(world.buyers[0].token)
    # users: the token and its user (this endpoint is not among the principal-cached hot ones), the account
    # (verified?) | events: the event | orders: JOIN_ORDERS
    with assert_queries(default=2, events=1, orders=JOIN_ORDERS):
        response = client.post(path)
    assert response.status_code == 201
    # joining again answers the same place: the first statement finds it
    with assert_queries(default=2, events=1, orders=JOIN_AGAIN_ORDERS):
        again = client.post(path)
    assert again.json()["position_token"] == response.json()["position_token"]


@pytest.mark.usefixtures("_status_files")
def test_joining_after_the_start_takes_one_orders_transaction_of_two_statements(world, assert_queries):
    path = _room_on_the_stadium(world, starts_in=dt.timedelta(minutes=30))
    # an early arrival, drawn by the first late join
    assert _client(world.buyers[1].token).post(path).status_code == 201
    starts = timezone.now() - dt.timedelta(seconds=5)
    WaitingRoom.objects.using("orders").filter(event_id=world.stadium_event_id).update(
        starts_at=starts, opens_at=starts - dt.timedelta(hours=1)
    )
    assert _client(world.buyers[2].token).post(path).json()["position"] == 2  # draws, then joins at the back
    with assert_queries(default=2, events=1, orders=LATE_JOIN_ORDERS):
        response = _client(world.buyers[0].token).post(path)
    assert response.json()["position"] == 3


@pytest.mark.usefixtures("_status_files")
def test_a_hold_behind_a_waiting_room_adds_one_insert_for_the_throughput_controller(world, assert_queries):
    _room_on_the_stadium(world, starts_in=dt.timedelta(minutes=-1))
    buyer = world.buyers[0]
    client = _client(buyer.token)
    seats = _hot_seats(world)
    room_pass = rooms.waiting_room_pass_issue(
        event_id=world.stadium_event_id, user_id=buyer.id, expires_at=timezone.now() + dt.timedelta(minutes=5)
    )
    headers = {"HTTP_X_WAITING_ROOM_PASS": room_pass}
    assert (
        client.post(_hold_path(world), {"seat_ids": seats[:1]}, content_type="application/json", **headers).status_code
        == 201
    )
    # as test_hold_of_chosen_seats_takes_four_statements_in_one_transaction (the pass is a signature check), plus
    # in orders the latency sample (orders/middleware.py), in autocommit after the hold committed
    with assert_queries(events=1, orders=2, seats=4):
        response = client.post(_hold_path(world), {"seat_ids": seats[2:4]}, content_type="application/json", **headers)
    assert response.status_code == 201
