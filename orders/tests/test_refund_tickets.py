"""order_refund_tickets: some tickets of an order refunded, the order partly refunded and still consistent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from accounts.tests.factories import MembershipFactory
from core import faults
from core.databases import ALL_DATABASES
from core.errors import DomainError
from inventory import services as inventory_services
from ops.invariants import check_all
from orders import services
from orders.admin.sales import seat_labels
from orders.models import Order, OrderLine, OrderRefund
from orders.tests.factories import Seat, make_event
from orders.tests.helpers import api_client, assert_invariants, balance, buy, ledger, page_client

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def _staff(organization_id, role="BOX_OFFICE"):
    return MembershipFactory(organization_id=organization_id, role=role).user


def _first_ticket_refunded(buyer, *, bought: int):
    """``bought`` tickets of an on-sale event, the first of them refunded by box-office staff: (setup, order, staff)."""
    setup = make_event()
    order = buy(buyer, setup, count=bought)
    staff = _staff(setup.event.organization_id)
    services.order_refund_tickets(order_id=order.id, seat_ids=[setup.seat_ids[0]], actor_id=staff.pk, reason="a")
    return setup, order, staff


def _reference(order_id, refund_id) -> str:
    return f"{order_id}:refund:{refund_id}"


def test_refunding_one_ticket_leaves_the_order_confirmed_and_partly_refunded(buyer):
    setup = make_event()
    order = buy(buyer, setup, count=3)
    staff = _staff(setup.event.organization_id)
    kept, refunded_seat = setup.seat_ids[:2], setup.seat_ids[2]
    version = Seat.objects.get(pk=refunded_seat).qr_version

    info = services.order_refund_tickets(
        order_id=order.id, seat_ids=[refunded_seat], actor_id=staff.pk, reason="Could not come"
    )

    assert (info.status, info.total, info.refunded_amount) == ("CONFIRMED", Decimal("150.00"), Decimal("50.00"))
    refund = OrderRefund.objects.get(order_id=order.id)
    assert (refund.step, refund.amount, refund.reason) == ("DONE", Decimal("50.00"), "Could not come")
    assert balance(buyer) == Decimal("400.00")
    assert ledger("PURCHASE_REFUND", _reference(order.id, refund.pk)) == [Decimal("50.00")]
    seat = Seat.objects.get(pk=refunded_seat)
    assert (seat.status, seat.owner_id, seat.order_id, seat.qr_version) == ("AVAILABLE", None, None, version + 1)
    assert set(Seat.objects.filter(pk__in=kept).values_list("status", flat=True)) == {"SOLD"}
    assert set(OrderLine.objects.filter(order_id=order.id, is_active=True).values_list("seat_id", flat=True)) == set(
        kept
    )
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT action, reason FROM core_auditlog WHERE object_type = 'order' AND object_id = %s", [str(order.id)]
        )
        assert cursor.fetchall() == [("order.refund_tickets", "Could not come")]
    assert_invariants()


def test_the_refunded_tickets_qr_code_no_longer_opens_the_gate(buyer):
    setup = make_event()
    order = buy(buyer, setup, count=2)
    staff = _staff(setup.event.organization_id)
    old_token, _ = inventory_services.ticket_qr(seat_id=setup.seat_ids[0], owner_id=buyer.pk)
    kept_token, _ = inventory_services.ticket_qr(seat_id=setup.seat_ids[1], owner_id=buyer.pk)
    services.order_refund_tickets(order_id=order.id, seat_ids=[setup.seat_ids[0]], actor_id=staff.pk, reason="x")
    gate = _staff(setup.event.organization_id, role="GATE")

    dead = inventory_services.ticket_scan(token=old_token, event_id=setup.event.pk, staff_id=gate.pk, gate="A")
    alive = inventory_services.ticket_scan(token=kept_token, event_id=setup.event.pk, staff_id=gate.pk, gate="A")

    assert dead.result != "SUCCESS"
    assert alive.result == "SUCCESS"
    assert_invariants()


def test_refunding_the_rest_after_a_partial_refund_refunds_the_order_once(buyer):
    setup, order, staff = _first_ticket_refunded(buyer, bought=3)

    whole = services.order_refund_tickets(
        order_id=order.id, seat_ids=setup.seat_ids[1:3], actor_id=staff.pk, reason="rest"
    )

    assert whole.status == "REFUNDED"
    assert balance(buyer) == Decimal("500.00")
    assert ledger("PURCHASE_REFUND", order.id) == [Decimal("100.00")]
    assert_invariants()


def test_a_whole_refund_after_a_partial_refund_pays_back_only_the_rest(buyer):
    setup, order, staff = _first_ticket_refunded(buyer, bought=2)

    services.order_refund(order_id=order.id, actor_id=staff.pk, reason="event moved")

    assert Order.objects.get(pk=order.id).status == "REFUNDED"
    assert balance(buyer) == Decimal("500.00")
    assert_invariants()


def test_a_seat_that_is_not_a_live_ticket_of_the_order_is_refused(buyer):
    setup = make_event()
    order = buy(buyer, setup, count=2)
    staff = _staff(setup.event.organization_id)
    with pytest.raises(DomainError) as excinfo:
        services.order_refund_tickets(order_id=order.id, seat_ids=[setup.seat_ids[5]], actor_id=staff.pk, reason="x")
    assert excinfo.value.code == "VALIDATION_ERROR"
    with pytest.raises(DomainError) as excinfo:
        services.order_refund_tickets(order_id=order.id, seat_ids=[], actor_id=staff.pk, reason="x")
    assert excinfo.value.code == "VALIDATION_ERROR"
    assert balance(buyer) == Decimal("400.00")
    assert not OrderRefund.objects.exists()


def test_a_checked_in_ticket_cannot_be_refunded_and_nothing_changes(buyer):
    setup = make_event()
    order = buy(buyer, setup, count=2)
    Seat.objects.filter(pk=setup.seat_ids[0]).update(status="CHECKED_IN", checked_in_at=timezone.now())
    with pytest.raises(DomainError) as excinfo:
        services.order_refund_tickets(
            order_id=order.id, seat_ids=[setup.seat_ids[0]], actor_id=_staff(setup.event.organization_id).pk, reason="x"
        )
    assert excinfo.value.code == "TICKET_CHECKED_IN"
    assert balance(buyer) == Decimal("400.00")
    assert Order.objects.get(pk=order.id).refunded_amount == 0
    assert not OrderRefund.objects.exists()


def test_staff_without_the_refund_capability_or_of_another_organization_cannot_refund_tickets(buyer):
    setup = make_event()
    order = buy(buyer, setup, count=2)
    for actor in (_staff(setup.event.organization_id, role="GATE"), _staff(make_event().event.organization_id)):
        with pytest.raises(DomainError) as excinfo:
            services.order_refund_tickets(
                order_id=order.id, seat_ids=[setup.seat_ids[0]], actor_id=actor.pk, reason="x"
            )
        assert excinfo.value.code == "REFUND_NOT_ALLOWED"
    assert balance(buyer) == Decimal("400.00")


@pytest.mark.parametrize("point", ["tickets_refund.after_seats", "tickets_refund.after_credit"])
def test_a_crash_mid_way_is_finished_by_recovery_and_the_checker_sees_it_until_then(buyer, point):
    setup = make_event()
    order = buy(buyer, setup, count=2)
    staff = _staff(setup.event.organization_id)
    with faults.arm(point), pytest.raises(faults.InjectedFault):
        services.order_refund_tickets(order_id=order.id, seat_ids=[setup.seat_ids[0]], actor_id=staff.pk, reason="x")
    assert OrderRefund.objects.get().step == "REFUNDING"
    assert "UNFINISHED_FLOW" in {violation.check for violation in check_all().violations}

    report = services.purchase_recover(older_than_seconds=0)
    again = services.purchase_recover(older_than_seconds=0)

    assert report.refunds_finished == 1 and again.changed == 0
    assert OrderRefund.objects.get().step == "DONE"
    assert Order.objects.get(pk=order.id).refunded_amount == Decimal("50.00")
    assert balance(buyer) == Decimal("450.00")
    assert_invariants()


def test_the_checker_names_an_order_whose_refunded_amount_disagrees_with_its_refunds(buyer):
    setup = make_event()
    order = buy(buyer, setup, count=2)
    services.order_refund_tickets(
        order_id=order.id, seat_ids=[setup.seat_ids[0]], actor_id=_staff(setup.event.organization_id).pk, reason="x"
    )
    Order.objects.filter(pk=order.id).update(refunded_amount=Decimal("0"))
    checks = {violation.check for violation in check_all().violations}
    assert {"ORDER_REFUNDED_AMOUNT_MISMATCH", "ORDER_TOTAL_MISMATCH", "ORDER_MONEY_MISMATCH"} <= checks


def test_the_api_refunds_only_the_named_tickets(buyer):
    setup = make_event()
    order = buy(buyer, setup, count=2)
    client = api_client(_staff(setup.event.organization_id))
    response = client.post(
        f"/api/v1/orders/{order.id}/refund/", {"reason": "seat broken", "seat_ids": [str(setup.seat_ids[1])]}, "json"
    )
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["refunded_amount"]) == ("CONFIRMED", "50.00")
    assert_invariants()


def test_the_order_page_button_refunds_the_chosen_tickets_with_a_reason(buyer):
    setup = make_event()
    order = buy(buyer, setup, count=2)
    staff = _staff(setup.event.organization_id)
    client = page_client(staff)
    change = client.get(reverse("admin:orders_order_change", args=[order.id]))
    url = reverse("admin:orders_order_refund_tickets", args=[order.id])
    assert url in change.content.decode()

    missing_reason = client.post(url, {"seat_ids": [str(setup.seat_ids[0])], "reason": " "})
    assert missing_reason.status_code == 200 and balance(buyer) == Decimal("400.00")
    done = client.post(url, {"seat_ids": [str(setup.seat_ids[0])], "reason": "Lost a friend"})

    assert done.status_code == 302
    assert Order.objects.get(pk=order.id).refunded_amount == Decimal("50.00")
    assert_invariants()


def test_the_order_page_names_every_lines_seat_with_one_lookup_however_many_lines(buyer):
    setup = make_event()
    small = buy(buyer, setup, count=1)
    services.hold_seats(buyer_id=buyer.pk, event_id=setup.event.pk, seat_ids=setup.seat_ids[1:5])
    large = services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="four seats")
    client = page_client(_staff(setup.event.organization_id))
    seats_queries = {}
    for order in (small, large):
        with CaptureQueriesContext(connections["seats"]) as seats:
            page = client.get(reverse("admin:orders_order_change", args=[order.id])).content.decode()
        seats_queries[len(order.lines)] = len(seats.captured_queries)
        for label in seat_labels(line.seat_id for line in order.lines).values():
            assert escape(label) in page
    assert seats_queries[4] == seats_queries[1]


def test_the_refund_page_is_not_found_outside_the_organization_and_forbidden_without_the_capability(buyer):
    setup = make_event()
    order = buy(buyer, setup, count=2)
    url = reverse("admin:orders_order_refund_tickets", args=[order.id])
    outsider = _staff(make_event().event.organization_id)
    manager_elsewhere = page_client(outsider)
    assert manager_elsewhere.get(url).status_code == 404
    assert manager_elsewhere.post(url, {"seat_ids": [str(setup.seat_ids[0])], "reason": "x"}).status_code == 404
    assert balance(buyer) == Decimal("400.00")
