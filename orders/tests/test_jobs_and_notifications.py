"""The job queue and the emails it sends: queued with the change that asks for them, sent once, rendered with real
data in the venue's time zone, delayed (never lost or doubled) by a mail server that refuses, and turned off by
buyers who want only the essential ones."""

from __future__ import annotations

import datetime as dt
import socket
import uuid
from decimal import Decimal

import pytest
from django.core import mail
from django.db import transaction
from django.test import override_settings

from accounts import services as account_services
from accounts.tests.factories import MembershipFactory, UserFactory
from core import jobs
from core.databases import ALL_DATABASES
from core.models import OutboxMessage
from core.outbox import outbox_emit, outbox_relay
from events.models import Event, Venue
from orders import services
from orders.contract import NotificationKind
from orders.models import Notification, Order, StaffOperation
from orders.notifications import SEND_TASK, notify
from orders.notifications.delivery import DeliveryFailed, notification_deliver, render_message
from orders.notifications.facts import fact_handle
from orders.services import staff_operations
from orders.services.purchase.checkout import order_confirm
from orders.tests.factories import make_event, sold_ticket
from orders.tests.helpers import buy, offer
from orders.tests.jobs_helpers import (
    queue_clear,
    queued,
    queued_notifications,
    run_queued_operations,
    send_queued_notifications,
)

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)
Kind = NotificationKind


@pytest.fixture(autouse=True)
def _empty_queue(db):
    queue_clear()


def _london_event(**fields):
    """An event at a London venue, in summer (BST) so the abbreviation is not simply UTC's."""
    setup = make_event(starts_at=dt.datetime(2031, 7, 12, 18, 30, tzinfo=dt.UTC), **fields)
    Venue.objects.using("events").filter(pk=setup.event.venue_id).update(timezone="Europe/London", name="Globe")
    return setup


# --- Queued with the change, or not at all -----------------------------------------------------------------------


def test_a_job_deferred_in_a_transaction_that_rolls_back_is_not_queued():
    with pytest.raises(RuntimeError), transaction.atomic(using=jobs.JOBS_DATABASE):
        notify(kind=Kind.ORDER_CONFIRMED, object_id=uuid.uuid4(), recipient_id=uuid.uuid4())
        assert len(queued(SEND_TASK)) == 1  # visible inside the transaction...
        raise RuntimeError("the change failed")
    assert queued(SEND_TASK) == []  # ...and gone with it


def test_a_checkout_queues_exactly_one_confirmation_with_the_confirmed_order(buyer):
    setup = make_event()
    order = buy(buyer, setup)
    assert order.status == "CONFIRMED"
    assert queued_notifications() == [
        {"kind": "ORDER_CONFIRMED", "object_id": str(order.id), "recipient_id": str(buyer.pk), "data": {}}
    ]


def test_the_statement_that_confirms_and_queues_does_neither_when_the_order_is_no_longer_pending(buyer):
    order = buy(buyer, make_event())
    queue_clear()
    row = Order.objects.using("orders").get(pk=order.id)  # CONFIRMED by the checkout
    assert order_confirm(row, now=dt.datetime.now(dt.UTC)) is False
    assert queued() == []
    Order.objects.using("orders").filter(pk=order.id).update(status="PENDING")
    assert order_confirm(row, now=dt.datetime.now(dt.UTC)) is True
    assert [n["object_id"] for n in queued_notifications()] == [str(order.id)]


def test_a_checkout_that_fails_queues_no_confirmation(buyer):
    setup = make_event()
    services.hold_seats(buyer_id=buyer.pk, event_id=setup.event.pk, seat_ids=setup.seat_ids[:1])
    account_services.credits_debit(user_id=buyer.pk, amount=Decimal("480.00"), kind="PURCHASE", reference="x")
    with pytest.raises(Exception):  # noqa: B017 - INSUFFICIENT_CREDITS, whatever its class
        services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="k")
    assert queued_notifications() == []


def test_a_lower_domains_fact_rolls_back_with_its_change_and_is_relayed_once_committed(buyer):
    with pytest.raises(RuntimeError), transaction.atomic(using="default"):
        outbox_emit(using="default", topic="accounts.topup_settled", payload={"x": 1})
        raise RuntimeError
    assert not OutboxMessage.objects.using("default").exists()

    with transaction.atomic(using="default"):
        payload = {"topup_id": str(uuid.uuid4()), "user_id": str(buyer.pk), "amount": "25.00", "succeeded": True}
        outbox_emit(using="default", topic="accounts.topup_settled", payload=payload)
    assert outbox_relay(using="default", handle=fact_handle) == 1
    assert outbox_relay(using="default", handle=fact_handle) == 0  # relayed facts are not handed over again
    assert [n["kind"] for n in queued_notifications()] == ["PAYMENT_RECEIVED"]


def test_a_webhook_that_credits_a_top_up_ends_in_a_payment_receipt(buyer):
    start = account_services.topup_start(user_id=buyer.pk, amount="25.00")
    account_services.topup_complete(provider_reference=start.topup.provider_reference, amount="25.00", succeeded=True)
    outbox_relay(using="default", handle=fact_handle)
    assert send_queued_notifications() == ["SENT"]
    (message,) = mail.outbox
    assert message.subject == "Payment received: 25.00 credits added"
    assert "525.00" not in message.body or "25.00 credits are in your wallet" in message.body


# --- Sent once ---------------------------------------------------------------------------------------------------


def test_a_notification_delivered_twice_is_sent_once(buyer):
    order = buy(buyer, make_event())
    args = {"kind": Kind.ORDER_CONFIRMED, "object_id": order.id, "recipient_id": buyer.pk}
    assert notification_deliver(**args) == "SENT"
    assert notification_deliver(**args) == "SENT"
    assert len(mail.outbox) == 1
    row = Notification.objects.using("orders").get()
    assert (row.status, row.attempts, row.email) == ("SENT", 1, buyer.email)
    assert row.organization_id == order.organization_id


def test_buyers_who_want_only_essential_emails_still_get_confirmations_but_not_transfer_news(buyer, owner, friend):
    account_services.user_update_profile(user_id=buyer.pk, preferences={"essential_emails_only": True})
    order = buy(buyer, make_event())
    assert notification_deliver(kind=Kind.ORDER_CONFIRMED, object_id=order.id, recipient_id=buyer.pk) == "SENT"
    account_services.user_update_profile(user_id=friend.pk, preferences={"essential_emails_only": True})
    transfer = offer(sold_ticket(owner), owner, friend)
    assert notification_deliver(kind=Kind.TRANSFER_OFFERED, object_id=transfer.id, recipient_id=friend.pk) == "SKIPPED"
    assert [m.to for m in mail.outbox] == [[buyer.email]]


# --- What each one says ------------------------------------------------------------------------------------------


def test_the_confirmation_names_every_seat_with_its_section_in_the_venue_time_zone_and_carries_an_ics(buyer):
    setup = _london_event()
    order = buy(buyer, setup, count=2)
    message = render_message(kind=Kind.ORDER_CONFIRMED, object_id=order.id, recipient_id=buyer.pk)
    section = setup.section.name
    assert message.subject == f"Your tickets for {setup.event.title} (order {str(order.id)[:8].upper()})"
    for text in (message.body, message.alternatives[0][0]):
        assert "Saturday 12 July 2031, 19:30 BST" in text  # 18:30 UTC in London, summer time
        assert "Globe" in text
        assert "100.00" in text
        assert "/tickets/" in text
    assert f"{section}: row A, seat 1 (accessible)" in message.body
    assert f"{section}: row A, seat 2" in message.body
    (filename, content, mimetype), *_ = message.attachments
    assert (filename, mimetype) == ("event.ics", "text/calendar")
    assert "DTSTART:20310712T183000Z" in content and f"UID:{order.id}@ticketremaster" in content
    assert "LOCATION:Globe" in content


def test_a_refund_and_a_cancellation_say_what_came_back(buyer):
    setup = _london_event()
    order = buy(buyer, setup)
    services.order_refund(order_id=order.id, actor_id=None, reason="Double booking")
    assert [n["kind"] for n in queued_notifications()] == ["ORDER_CONFIRMED", "ORDER_REFUNDED"]
    refund = render_message(kind=Kind.ORDER_REFUNDED, object_id=order.id, recipient_id=buyer.pk)
    assert "100.00 credits are back in your wallet" in refund.body and "Double booking" in refund.body
    cancelled = render_message(kind=Kind.EVENT_CANCELLED, object_id=order.id, recipient_id=buyer.pk)
    assert cancelled.subject.startswith(f"{setup.event.title} is cancelled")
    assert "refunded in full" in cancelled.body


def test_transfer_resale_payment_and_change_notices_render_with_real_data(owner, friend):
    ticket = sold_ticket(owner)
    transfer = offer(ticket, owner, friend, price="20")
    offered = render_message(kind=Kind.TRANSFER_OFFERED, object_id=transfer.id, recipient_id=friend.pk)
    assert "Olga Owner offers you a ticket" in offered.subject and "20.00 credits" in offered.body
    for kind in (Kind.TRANSFER_ACCEPTED, Kind.TRANSFER_DECLINED, Kind.TRANSFER_EXPIRED, Kind.TRANSFER_COMPLETED):
        message = render_message(kind=kind, object_id=transfer.id, recipient_id=owner.pk)
        assert ticket.setup.event.title in message.subject + message.body
        assert "row A, seat 1" in message.body

    received = render_message(
        kind=Kind.PAYMENT_FAILED,
        object_id=uuid.uuid4(),
        recipient_id=owner.pk,
        data={"amount": "30.00", "issue": "Card declined: insufficient funds", "reference": "pay_1"},
    )
    assert "Card declined: insufficient funds" in received.body and "30.00" in received.body

    event = Event.objects.using("events").get(pk=ticket.setup.event.pk)
    changed = render_message(
        kind=Kind.EVENT_CHANGED,
        object_id=uuid.uuid4(),
        recipient_id=owner.pk,
        data={"event_id": str(event.pk), "before": {"starts_at": "2031-01-01T20:00:00+00:00"}},
    )
    assert "It was planned for Wednesday 1 January 2031, 20:00 UTC" in changed.body


def test_a_resale_sale_tells_the_seller_the_amount_after_the_fee(owner, friend):
    ticket = sold_ticket(owner)
    listing = services.listing_create(seat_id=ticket.pk, seller_id=owner.pk, price="40.00")
    services.listing_buy(listing_id=listing.id, buyer_id=friend.pk)
    (sold,) = queued_notifications(Kind.RESALE_SOLD)
    assert sold["recipient_id"] == str(owner.pk)
    message = render_message(kind=Kind.RESALE_SOLD, object_id=listing.id, recipient_id=owner.pk)
    after_fee = Decimal("40.00") - listing.fee
    assert f"{after_fee} credits were added to your wallet" in message.body.replace("\n", " ")


# --- A mail server that refuses, then accepts -------------------------------------------------------------------


@pytest.fixture
def smtp_server():
    """A local SMTP server (aiosmtpd) that refuses while ``refusing`` is set, then accepts and keeps the mail."""
    controller_module = pytest.importorskip("aiosmtpd.controller")

    class Handler:
        refusing = True
        received: list = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
            if Handler.refusing:
                return "451 4.3.0 Try again later"
            Handler.received.append(envelope)
            return "250 OK"

    Handler.received = []
    with socket.socket() as probe:  # a free port (the controller checks its own port once started)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = controller_module.Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield controller, Handler
    finally:
        controller.stop()


def test_a_mail_server_that_refuses_then_accepts_delivers_each_mail_once(buyer, smtp_server):
    controller, handler = smtp_server
    order = buy(buyer, make_event())
    args = {"kind": Kind.ORDER_CONFIRMED, "object_id": order.id, "recipient_id": buyer.pk}
    smtp = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": controller.port,
        "EMAIL_TIMEOUT": 5,
    }
    with override_settings(**smtp):
        with pytest.raises(DeliveryFailed):
            notification_deliver(**args)  # the queue retries the job later, with backoff
        row = Notification.objects.using("orders").get()
        assert (row.status, row.attempts) == ("RETRYING", 1) and "451" in row.last_error
        handler.refusing = False
        assert notification_deliver(**args) == "SENT"
        assert notification_deliver(**args) == "SENT"  # a duplicated job: nothing more
    assert len(handler.received) == 1
    assert handler.received[0].rcpt_tos == [buyer.email]


# --- Staff operations ----------------------------------------------------------------------------------------------


@pytest.fixture
def manager(db):
    return UserFactory(email="manager@example.com", is_staff=True)


def test_two_presses_of_cancel_start_one_operation_and_sales_stop_at_once(buyer, manager):
    setup = make_event()
    MembershipFactory(user=manager, organization_id=setup.event.organization_id, role="MANAGER")
    order = buy(buyer, setup)
    first, started = staff_operations.staff_operation_start(
        kind="CANCEL", event_id=setup.event.pk, actor_id=manager.pk, reason="Storm"
    )
    second, started_again = staff_operations.staff_operation_start(
        kind="CANCEL", event_id=setup.event.pk, actor_id=manager.pk, reason="Storm"
    )
    assert started and not started_again and first.id == second.id
    assert Event.objects.using("events").get(pk=setup.event.pk).status == "CANCELLED"  # before any worker ran
    assert len(queued(staff_operations.RUN_TASK)) == 1

    assert run_queued_operations() == ["SUCCEEDED"]
    operation = StaffOperation.objects.using("orders").get()
    assert (operation.done, operation.total, operation.errors) == (1, 1, 0)
    assert Order.objects.using("orders").get(pk=order.id).status == "REFUNDED"
    kinds = sorted(n["kind"] for n in queued_notifications())
    assert kinds == ["EVENT_CANCELLED", "ORDER_CONFIRMED", "STAFF_SUMMARY"]
    assert run_queued_operations() == []  # nothing left; running the job again would change nothing
    assert staff_operations.staff_operation_execute(operation_id=operation.pk) == "SUCCEEDED"


def test_a_publish_operation_creates_the_inventory_and_reports_its_progress(manager):
    setup = make_event(status="DRAFT")
    MembershipFactory(user=manager, organization_id=setup.event.organization_id, role="MANAGER")
    operation, _ = staff_operations.staff_operation_start(kind="PUBLISH", event_id=setup.event.pk, actor_id=manager.pk)
    assert operation.status == "QUEUED" and operation.percent == 0
    assert run_queued_operations() == ["SUCCEEDED"]
    done = staff_operations.staff_operation_get(operation_id=operation.id, event_id=setup.event.pk)
    assert (done.status, done.done, done.total, done.percent) == ("SUCCEEDED", 10, 10, 100)
    assert done.result == {"created": 0, "total": 10}  # the factory made the places already: nothing doubled
    assert Event.objects.using("events").get(pk=setup.event.pk).status == "PUBLISHED"
