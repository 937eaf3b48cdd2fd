"""The seats read replica serves seat maps and availability, and nothing a purchase depends on.

The replica alias is added for one test and points at the seats test database itself (what a caught-up streaming
replica answers) or at a server that does not answer; the query log of each connection shows who read where.
"""

from __future__ import annotations

import contextlib
import copy
import uuid

import pytest
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench import dataset
from core import routers
from core.databases import ALL_DATABASES
from inventory import selectors as inventory_selectors

pytestmark = [
    pytest.mark.django_db(databases=ALL_DATABASES, transaction=True),
    pytest.mark.filterwarnings("ignore:Overriding setting DATABASES"),
]
REPLICA = "seats_replica"


@contextlib.contextmanager
def _replica_alias(settings, **overrides):
    """Configure the replica alias for one test, as SEATS_REPLICA_DATABASE_URL would. Its connection is made here
    and the alias then left out of the connection handler's list, so the test framework treats it as a connection
    the test made itself (the test's database list is fixed before any fixture runs)."""
    config = copy.deepcopy(connections["seats"].settings_dict)
    config.update(overrides)
    settings.DATABASES = {**settings.DATABASES, REPLICA: config}
    connections.settings[REPLICA] = config
    connection = connections[REPLICA]
    del connections.settings[REPLICA]
    routers.forget_replica_state()
    try:
        yield REPLICA
    finally:
        connection.close()
        del connections[REPLICA]
        routers.forget_replica_state()


@pytest.fixture
def replica(settings):
    with _replica_alias(settings) as alias:
        yield alias


@pytest.fixture
def dead_replica(settings):
    # Port 9 (discard) answers nobody on this machine: the replica is down.
    with _replica_alias(settings, PORT="9", OPTIONS={"connect_timeout": 1}) as alias:
        yield alias


@pytest.fixture
def world():
    data = dataset.build_people(dataset.SIZES["tiny"], uuid.uuid4().hex[:6], lambda message: None)
    dataset.build_stadium(data, lambda message: None)
    return data


def _client(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {token}")


def _purchase(world) -> None:
    client = _client(world.buyers[0].token)
    seats = [
        str(seat["id"])
        for seat in inventory_selectors.seat_map(event_id=world.stadium_event_id, section_id=world.hot_section_id)
    ]
    held = client.post(
        f"/api/v1/events/{world.stadium_event_id}/holds/", {"seat_ids": seats[:2]}, content_type="application/json"
    )
    assert held.status_code == 201, held.content
    paid = client.post(
        "/api/v1/orders/",
        {"event_id": str(world.stadium_event_id)},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )
    assert paid.status_code == 201, paid.content
    assert paid.json()["status"] == "CONFIRMED"


def _browse(world) -> None:
    client = _client(world.buyers[1].token)
    event = world.stadium_event_id
    assert client.get(f"/api/v1/events/{event}/sections/").status_code == 200
    assert client.get(f"/api/v1/events/{event}/seats/?section={world.hot_section_id}").status_code == 200
    assert client.get(f"/events/{event}/").status_code == 200


def test_a_purchase_never_reads_from_the_replica(world, replica):
    with (
        CaptureQueriesContext(connections[REPLICA]) as on_replica,
        CaptureQueriesContext(connections["seats"]) as on_primary,
    ):
        _purchase(world)
    assert on_primary.captured_queries, "the purchase ran on the seats primary"
    assert on_replica.captured_queries == []


def test_seat_maps_and_availability_are_read_from_the_replica(world, replica):
    _browse(world)  # warm: the first read asks the replica for its lag
    with (
        CaptureQueriesContext(connections[REPLICA]) as on_replica,
        CaptureQueriesContext(connections["seats"]) as on_primary,
    ):
        _browse(world)
    replica_sql = " ".join(query["sql"] for query in on_replica.captured_queries)
    assert "GROUP BY section_id" in replica_sql  # availability
    assert "ORDER BY row_label, number" in replica_sql  # seat maps
    # The event page still reads the buyer's own holds on the primary, never the seat map.
    assert not any("ORDER BY row_label, number" in query["sql"] for query in on_primary.captured_queries)


def test_a_lagging_replica_sends_reads_back_to_the_primary(world, replica, monkeypatch, settings):
    settings.REPLICA_MAX_LAG_SECONDS = 5
    monkeypatch.setattr(routers, "replica_lag_seconds", lambda alias: 4.0)
    assert routers.read_alias("seats") == REPLICA
    routers.forget_replica_state()
    monkeypatch.setattr(routers, "replica_lag_seconds", lambda alias: 6.0)
    assert routers.read_alias("seats") == "seats"


def test_a_dead_replica_costs_nothing_but_its_reads(world, dead_replica):
    _purchase(world)
    _browse(world)  # answered from the primary
    assert routers.read_alias("seats") == "seats"


def test_without_a_replica_everything_reads_the_primary(world):
    assert REPLICA not in connections.settings
    assert routers.replica_of("seats") is None
    assert routers.read_alias("seats") == "seats"
    with CaptureQueriesContext(connections["seats"]) as on_primary:
        _browse(world)
    assert any("ORDER BY row_label, number" in query["sql"] for query in on_primary.captured_queries)


def test_the_router_never_migrates_a_replica():
    router = routers.DomainRouter()
    assert not router.allow_migrate(REPLICA, "inventory")
    assert router.allow_migrate("seats", "inventory")
