"""Advisory locks in named key spaces: stable keys, session and transaction scope, and "lock not available"."""

from __future__ import annotations

import threading
import uuid
import zlib

import pytest
from django.db import OperationalError, connections, transaction

from core.locking import (
    FlowBusy,
    LockBusy,
    LockSpace,
    flow_lock,
    is_lock_not_available,
    lock_key,
    session_lock,
    xact_lock,
)

ID = uuid.UUID("01234567-89ab-4def-8edc-ba9876543210")
OTHER = uuid.UUID("00000000-0000-4000-8000-00000000000e")


def test_each_key_space_derives_its_key_as_the_benchmark_and_tests_recompute_it():
    assert lock_key(LockSpace.FLOW, ID) == (int.from_bytes(ID.bytes[:8], "big", signed=True),)
    assert lock_key(LockSpace.SEAT, ID) == (int.from_bytes(ID.bytes[8:], "big", signed=True),)
    assert lock_key(LockSpace.BUYER_HOLDS, ID, OTHER) == (0x5EA7, zlib.crc32(ID.bytes + OTHER.bytes) - 2**31)
    assert lock_key(LockSpace.ROOM_ADDRESS, ID, "192.0.2.1") == (0x3A17, zlib.crc32(ID.bytes + b"192.0.2.1") - 2**31)
    assert lock_key(LockSpace.ROOM_ADDRESS, ID, "192.0.2.1") != lock_key(LockSpace.ROOM_ADDRESS, ID, "192.0.2.2")
    assert lock_key(LockSpace.FLOW, str(ID)) == lock_key(LockSpace.FLOW, ID)
    assert lock_key(LockSpace.FLOW, ID) != lock_key(LockSpace.SEAT, ID)


def _in_another_session(sql: str, params: list):
    """Run one statement on a connection of its own (another thread) and return its single value."""
    answer = []

    def run():
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute(sql, params)
                answer.append(cursor.fetchone()[0])
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    return answer[0]


def _try_elsewhere(space: LockSpace, *ids) -> bool:
    """Whether another session could take (and at once release) this lock."""
    key = lock_key(space, *ids)
    placeholders = ", ".join(["%s"] * len(key))
    return _in_another_session(
        f"SELECT pg_try_advisory_lock({placeholders}) AND pg_advisory_unlock({placeholders})", [*key, *key]
    )


@pytest.mark.django_db(databases=["default"], transaction=True)
def test_a_session_lock_spans_transactions_refuses_a_second_holder_at_once_and_is_released_on_exit():
    with flow_lock(ID, using="default"):
        with transaction.atomic(using="default"):
            pass
        assert _try_elsewhere(LockSpace.FLOW, ID) is False
        assert _try_elsewhere(LockSpace.SEAT, ID) is True, "another key space is another lock"
    assert _try_elsewhere(LockSpace.FLOW, ID) is True

    with session_lock(LockSpace.BUYER_HOLDS, ID, OTHER, using="default"):
        assert _try_elsewhere(LockSpace.BUYER_HOLDS, ID, OTHER) is False


@pytest.mark.django_db(databases=["default"], transaction=True)
def test_a_second_worker_on_a_busy_flow_gets_flow_busy():
    key = lock_key(LockSpace.FLOW, ID)
    held, release, done = threading.Event(), threading.Event(), threading.Event()

    def other_worker():
        try:
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT pg_advisory_lock(%s)", list(key))
                held.set()
                release.wait(timeout=30)
                cursor.execute("SELECT pg_advisory_unlock(%s)", list(key))
        finally:
            connections.close_all()
            done.set()

    threading.Thread(target=other_worker).start()
    assert held.wait(timeout=30)
    try:
        with pytest.raises(FlowBusy) as caught, flow_lock(ID, using="default"):
            pass
        assert isinstance(caught.value, LockBusy) and str(ID) in str(caught.value)
    finally:
        release.set()
        done.wait(timeout=30)


@pytest.mark.django_db(databases=["default"], transaction=True)
def test_a_transaction_lock_is_held_until_the_transaction_ends():
    with transaction.atomic(using="default"):
        xact_lock(LockSpace.SEAT, ID, using="default")
        assert _try_elsewhere(LockSpace.SEAT, ID) is False
    assert _try_elsewhere(LockSpace.SEAT, ID) is True


@pytest.mark.django_db(databases=["default"], transaction=True)
def test_a_lock_timeout_is_recognised_as_lock_not_available():
    def waiter(outcome: list):
        try:
            with transaction.atomic(using="default"), connections["default"].cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '50ms'")
                xact_lock(LockSpace.BUYER_HOLDS, ID, OTHER, using="default")
        except OperationalError as exc:
            outcome.append(exc)
        finally:
            connections.close_all()

    outcome: list = []
    with transaction.atomic(using="default"):
        xact_lock(LockSpace.BUYER_HOLDS, ID, OTHER, using="default")
        thread = threading.Thread(target=waiter, args=(outcome,))
        thread.start()
        thread.join(timeout=30)
    assert len(outcome) == 1 and is_lock_not_available(outcome[0])
    assert not is_lock_not_available(OperationalError("connection refused"))
