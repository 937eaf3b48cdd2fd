"""order_refund and orders_refund_for_event: credits back, seats released or blocked, QR dead, audited."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.db import connections
from django.utils import timezone

from accounts import services as accounts_services
from accounts.tests.factories import MembershipFactory, StaffFactory, UserFactory
from core.databases import ALL_DATABASES
from core.errors import DomainError
from inventory import selectors as inventory_selectors
from orders import services
from orders.models import Order, OrderLine
from orders.tests.factories import OrderFactory, Seat, make_event
from orders.tests.helpers import api_client, assert_purchase_invariants, balance, buy, ledger

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


@pytest.fixture
def box_office(db):
    def make(organization_id, role="BOX_OFFICE"):
        return MembershipFactory(organization_id=organization_id, role=role).user

    return make


def _audit_rows(order_id) -> list[tuple]:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT action, actor_id, reason FROM core_auditlog WHERE object_type = 'order' AND object_id = %s",
            [str(order_id)],
        )
        return cursor.fetchall()


def test_refund_returns_credits_frees_seats_kills_qr_and_is_audited(buyer, box_office):
    setup = make_event()
    order = buy(buyer, setup)
    staff = box_office(setup.event.organization_id)
    versions = dict(Seat.objects.filter(pk__in=setup.seat_ids[:2]).values_list("pk", "qr_version"))

    refunded = services.order_refund(order_id=order.id, actor_id=staff.pk, reason="Customer request")

    assert (refunded.status, refunded.step, refunded.refund_reason) == ("REFUNDED", "REFUNDED", "Customer request")
    assert refunded.refunded_at is not None
    assert balance(buyer) == Decimal("500.00")
    assert ledger("PURCHASE_REFUND", order.id) == [Decimal("100.00")]
    for seat in Seat.objects.filter(pk__in=setup.seat_ids[:2]):
        assert (seat.status, seat.owner_id, seat.order_id) == ("AVAILABLE", None, None)
        assert seat.qr_version == versions[seat.pk] + 1
    assert not OrderLine.objects.filter(order_id=order.id, is_active=True).exists()
    assert _audit_rows(order.id) == [("order.refund", staff.pk, "Customer request")]
    assert_purchase_invariants()


def test_refund_twice_changes_nothing_the_second_time(buyer, box_office):
    setup = make_event()
    order = buy(buyer, setup)
    staff = box_office(setup.event.organization_id)
    services.order_refund(order_id=order.id, actor_id=staff.pk, reason="x")
    again = services.order_refund(order_id=order.id, actor_id=staff.pk, reason="x")
    assert again.status == "REFUNDED" and again.is_replay
    assert ledger("PURCHASE_REFUND", order.id) == [Decimal("100.00")]
    assert balance(buyer) == Decimal("500.00")
    assert len(_audit_rows(order.id)) == 1


def test_refund_can_block_the_seats(buyer, box_office):
    setup = make_event()
    order = buy(buyer, setup)
    services.order_refund(
        order_id=order.id, actor_id=box_office(setup.event.organization_id).pk, reason="Broken seat", block_seats=True
    )
    assert set(Seat.objects.filter(pk__in=setup.seat_ids[:2]).values_list("status", flat=True)) == {"BLOCKED"}


@pytest.mark.parametrize("role", ["OWNER", "MANAGER", "BOX_OFFICE"])
def test_refund_roles_of_the_events_organization_may_refund(buyer, box_office, role):
    setup = make_event()
    order = buy(buyer, setup)
    assert services.order_refund(
        order_id=order.id, actor_id=box_office(setup.event.organization_id, role).pk, reason="ok"
    ).status == ("REFUNDED")


def test_superuser_may_refund_any_order(buyer):
    setup = make_event()
    order = buy(buyer, setup)
    admin = StaffFactory(is_superuser=True)
    assert services.order_refund(order_id=order.id, actor_id=admin.pk, reason="ok").status == "REFUNDED"


@pytest.mark.parametrize("persona", ["buyer", "gate", "other_org_manager", "staff_without_role", "member_not_staff"])
def test_others_may_not_refund(buyer, box_office, persona):
    setup = make_event()
    order = buy(buyer, setup)
    actor = {
        "buyer": lambda: buyer,
        "gate": lambda: box_office(setup.event.organization_id, "GATE"),
        "other_org_manager": lambda: box_office(uuid.uuid4(), "MANAGER"),
        "staff_without_role": lambda: StaffFactory(),
        "member_not_staff": lambda: MembershipFactory(organization_id=uuid.uuid4(), user__is_staff=False).user,
    }[persona]()
    with pytest.raises(DomainError) as excinfo:
        services.order_refund(order_id=order.id, actor_id=actor.pk, reason="nope")
    assert (excinfo.value.code, excinfo.value.status) == ("REFUND_NOT_ALLOWED", 403)
    assert Order.objects.get(pk=order.id).status == "CONFIRMED"


def test_refund_needs_a_reason(buyer, box_office):
    setup = make_event()
    order = buy(buyer, setup)
    with pytest.raises(DomainError) as excinfo:
        services.order_refund(order_id=order.id, actor_id=box_office(setup.event.organization_id).pk, reason="  ")
    assert excinfo.value.code == "VALIDATION_ERROR"


def test_only_a_confirmed_order_can_be_refunded(box_office):
    order = OrderFactory(status="FAILED", step="COMPENSATED")
    admin = StaffFactory(is_superuser=True)
    with pytest.raises(DomainError) as excinfo:
        services.order_refund(order_id=order.pk, actor_id=admin.pk, reason="x")
    assert excinfo.value.code == "ORDER_NOT_REFUNDABLE"


def test_refund_of_an_unknown_order_is_refused(db):
    admin = StaffFactory(is_superuser=True)
    with pytest.raises(DomainError) as excinfo:
        services.order_refund(order_id=uuid.uuid4(), actor_id=admin.pk, reason="x")
    assert excinfo.value.status in (400, 404)


def test_refund_of_a_malformed_order_id_is_refused(db):
    client = api_client(StaffFactory(is_superuser=True))
    response = client.post("/api/v1/orders/not-a-uuid/refund/", {"reason": "x"}, format="json")
    assert response.status_code in (400, 404)


def test_a_checked_in_ticket_cannot_be_refunded_and_nothing_changes(buyer):
    setup = make_event()
    order = buy(buyer, setup)
    Seat.objects.filter(pk=setup.seat_ids[0]).update(status="CHECKED_IN", checked_in_at=timezone.now())
    admin = StaffFactory(is_superuser=True)
    with pytest.raises(DomainError) as excinfo:
        services.order_refund(order_id=order.id, actor_id=admin.pk, reason="x")
    assert excinfo.value.code == "TICKET_CHECKED_IN"
    stored = Order.objects.get(pk=order.id)
    assert (stored.status, stored.step) == ("CONFIRMED", "DONE")
    assert balance(buyer) == Decimal("400.00")


def test_refund_interrupted_after_the_seats_is_finished_by_recovery(buyer, monkeypatch):
    setup = make_event()
    order = buy(buyer, setup)
    admin = StaffFactory(is_superuser=True)

    def crash(**kwargs):
        raise ConnectionError("users_db went away")

    monkeypatch.setattr(accounts_services, "credits_credit", crash)
    with pytest.raises(ConnectionError):
        services.order_refund(order_id=order.id, actor_id=admin.pk, reason="Cancelled")
    monkeypatch.undo()
    assert Order.objects.get(pk=order.id).step == "REFUNDING"

    report = services.purchase_recover(older_than_seconds=0)
    assert report.refunds_finished == 1
    assert Order.objects.get(pk=order.id).status == "REFUNDED"
    assert balance(buyer) == Decimal("500.00")
    assert_purchase_invariants()


def test_refund_for_event_refunds_every_paid_order_and_resumes(buyer, other_buyer):
    setup = make_event()
    a = buy(buyer, setup, count=1)
    services.hold_seats(buyer_id=other_buyer.pk, event_id=setup.event.pk, seat_ids=setup.seat_ids[3:5])
    b = services.order_checkout(buyer_id=other_buyer.pk, event_id=setup.event.pk, idempotency_key="b")
    admin = StaffFactory(is_superuser=True)
    seen = []

    services.order_refund(order_id=a.id, actor_id=admin.pk, reason="first one by hand")
    done, total = services.orders_refund_for_event(
        event_id=setup.event.pk, actor_id=admin.pk, reason="Event cancelled", progress=lambda d, t: seen.append((d, t))
    )
    assert (done, total) == (2, 2)
    assert seen[0] == (1, 2) and seen[-1] == (2, 2)
    assert Order.objects.get(pk=b.id).status == "REFUNDED"
    assert balance(other_buyer) == Decimal("500.00")
    # Running it again finds nothing to do.
    assert services.orders_refund_for_event(event_id=setup.event.pk, actor_id=admin.pk, reason="again") == (2, 2)
    assert_purchase_invariants()


def test_refund_for_event_needs_a_refund_role(buyer):
    setup = make_event()
    buy(buyer, setup)
    with pytest.raises(DomainError) as excinfo:
        services.orders_refund_for_event(event_id=setup.event.pk, actor_id=UserFactory().pk, reason="x")
    assert excinfo.value.code == "REFUND_NOT_ALLOWED"


def test_an_owner_who_is_not_flagged_staff_may_still_refund(buyer):
    """The role in the organization is what counts, not the is_staff flag."""
    setup = make_event()
    order = buy(buyer, setup)
    owner = MembershipFactory(organization_id=setup.event.organization_id, role="OWNER", user__is_staff=False).user
    assert services.order_refund(order_id=order.id, actor_id=owner.pk, reason="ok").status == "REFUNDED"


def test_a_ticket_checked_in_while_the_refund_starts_leaves_the_order_confirmed(buyer, monkeypatch):
    setup = make_event()
    order = buy(buyer, setup)
    Seat.objects.filter(pk=setup.seat_ids[0]).update(status="CHECKED_IN", checked_in_at=timezone.now())
    # The gate scan lands between the pre-check (which still saw the ticket unused) and the release of the seats.
    monkeypatch.setattr(inventory_selectors, "seats_of_order", lambda **kwargs: [])
    with pytest.raises(DomainError) as excinfo:
        services.order_refund(order_id=order.id, actor_id=StaffFactory(is_superuser=True).pk, reason="x")
    assert excinfo.value.code == "TICKET_CHECKED_IN"
    stored = Order.objects.get(pk=order.id)
    assert (stored.status, stored.step) == ("CONFIRMED", "DONE")
    assert services.purchase_recover(older_than_seconds=0).examined == 0
    assert balance(buyer) == Decimal("400.00")
