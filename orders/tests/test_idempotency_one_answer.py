"""An idempotency key answers one way: its first outcome, a refusal included, is the only outcome."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connections

from accounts.tests.factories import UserFactory
from core.databases import ALL_DATABASES
from core.errors import DomainError
from orders import services
from orders.models import Order
from orders.services.purchase import checkout as checkout_module
from orders.tests.factories import make_event
from orders.tests.helpers import assert_invariants, balance, buy, hold, ledger, race


@pytest.fixture
def _empty_queue_after():
    """A transactional test's jobs outlive it (the queue is no Django model, so the flush leaves it): drop them."""
    yield
    with connections["orders"].cursor() as cursor:
        cursor.execute("DELETE FROM procrastinate_jobs")


def _answer(result) -> str:
    if isinstance(result, DomainError):
        return result.code
    if isinstance(result, Exception):
        raise result
    return f"order:{result.id}"


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_a_refused_key_stays_refused_after_the_balance_grows():
    buyer = UserFactory(credits="100.00")
    earlier = buy(buyer, make_event(), count=1)  # 50.00 spent; 50.00 left
    setup = make_event()
    hold(buyer, setup)  # 100.00 of seats
    with pytest.raises(DomainError) as first:
        services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="one-key")
    assert first.value.code == "INSUFFICIENT_CREDITS"

    services.order_refund(order_id=earlier.id, actor_id=None, reason="Refund of the earlier order")
    assert balance(buyer) == Decimal("100.00")
    with pytest.raises(DomainError) as again:
        services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="one-key")
    assert again.value.code == "INSUFFICIENT_CREDITS"
    assert balance(buyer) == Decimal("100.00")
    # A new key is a new attempt, and it pays now.
    order = services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="another-key")
    assert order.status == "CONFIRMED"


def _twin_round(attempt: int, monkeypatch) -> None:
    real_preconditions = checkout_module._checkout_preconditions
    buyer = UserFactory(credits="100.00")
    earlier = buy(buyer, make_event(), count=1)  # 50.00 spent; 50.00 left
    setup = make_event()
    hold(buyer, setup)  # 100.00 of seats
    key = f"twin-{attempt}"
    first_checked = threading.Event()
    second_checked = threading.Event()
    calls = {"n": 0}
    lock = threading.Lock()

    def preconditions(**kwargs):
        with lock:
            calls["n"] += 1
            mine = calls["n"]
        if mine == 1:
            try:
                return real_preconditions(**kwargs)
            finally:
                first_checked.set()
                # Hold the first twin right after its refusal until the second twin passed its own check: the
                # window in which a refusal that binds nothing to its key lets the twin pay.
                second_checked.wait(timeout=10)
        first_checked.wait(timeout=10)
        services.order_refund(order_id=earlier.id, actor_id=None, reason="Refund between the checks")
        try:
            return real_preconditions(**kwargs)
        finally:
            second_checked.set()

    def pay():
        return services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key=key)

    monkeypatch.setattr(checkout_module, "_checkout_preconditions", preconditions)
    answers = [_answer(result) for result in race(pay, pay)]
    monkeypatch.setattr(checkout_module, "_checkout_preconditions", real_preconditions)
    # A twin may see the other still working on the key (retry in a moment); its retry then gets the answer.
    settled = [_answer(race(pay)[0]) if answer == "IDEMPOTENCY_IN_PROGRESS" else answer for answer in answers]
    retry = _answer(race(pay)[0])
    assert len({*settled, retry}) == 1, (answers, settled, retry)
    order = Order.objects.get(buyer_id=buyer.pk, idempotency_key=key)
    if order.status == "CONFIRMED":
        assert ledger("PURCHASE", order.pk) == [Decimal("-100.00")]
        assert balance(buyer) == Decimal("0.00")
    else:
        assert order.failure_code == "INSUFFICIENT_CREDITS"
        assert ledger("PURCHASE", order.pk) == []
        assert balance(buyer) == Decimal("100.00")


@pytest.mark.concurrency
@pytest.mark.django_db(databases=ALL_DATABASES, transaction=True)
@pytest.mark.usefixtures("_empty_queue_after")
def test_twin_checkouts_with_a_refund_between_their_balance_checks_get_one_answer(monkeypatch):
    """The first twin's balance check fails; a refund commits; the second twin's check passes. Both answer alike,
    and a retry with the key answers the same again. Repeated: which twin inserts first varies."""
    for attempt in range(6):
        _twin_round(attempt, monkeypatch)
    assert_invariants()
