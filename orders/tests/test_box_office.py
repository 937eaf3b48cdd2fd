"""Box-office sales and comps: all or nothing like an online sale, no credits, printed tickets the gate admits once,
a race against an online buyer on real threads, a crash finished or undone by recovery, and the invariants clean."""

from __future__ import annotations

import functools
import uuid
from decimal import Decimal

import pytest
from django.core import mail
from django.db import IntegrityError, transaction

from accounts import services as accounts_services
from accounts.models import LedgerEntry, User
from accounts.tests.factories import MembershipFactory, UserFactory
from core import faults
from core.audit import AuditLog
from core.databases import ALL_DATABASES
from core.errors import DomainError
from core.testing import race
from inventory import services as inventory_services
from inventory.models import EntryLog
from ops.invariants import check_all
from orders import services
from orders.contract import BoxOfficeForbidden
from orders.models import Order
from orders.tests.factories import Seat, make_event
from orders.tests.helpers import api_client, hold
from orders.tests.jobs_helpers import queue_clear, send_queued_notifications

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def clerk_of(setup, role: str = "BOX_OFFICE"):
    return MembershipFactory(organization_id=setup.event.organization_id, role=role).user


def sell(setup, clerk, **overrides):
    arguments = {
        "actor_id": clerk.pk,
        "event_id": setup.event.pk,
        "payment_method": "CASH",
        "idempotency_key": uuid.uuid4().hex,
        "seat_ids": setup.seat_ids[:2],
        "email": "walkup@example.com",
        "full_name": "Walk Up",
    }
    return services.box_office_sell(**{**arguments, **overrides})


def scan(setup, token):
    gate = MembershipFactory(organization_id=setup.event.organization_id, role="GATE").user
    return inventory_services.ticket_scan(
        token=token, event_id=setup.event.pk, gate="Door", staff_id=gate.pk, organization_id=setup.event.organization_id
    )


def assert_invariants_clean():
    report = check_all()
    assert not report.violations, [v.as_dict() for v in report.violations]


# --- Sales ---------------------------------------------------------------------------------------------------------


def test_a_cash_sale_sells_the_places_to_a_new_account_records_the_payment_and_takes_no_credits():
    setup = make_event()
    clerk = clerk_of(setup)

    sale = sell(setup, clerk, amount_taken="100.00")

    order = Order.objects.get(pk=sale.order.id)
    assert (order.status, order.channel, order.payment_method) == ("CONFIRMED", "BOX_OFFICE", "CASH")
    assert order.total == order.amount_taken == Decimal("100.00")
    assert order.issued_by_id == clerk.pk
    buyer = User.objects.get(email="walkup@example.com")
    assert sale.account_created and not buyer.has_usable_password() and not buyer.is_verified
    assert set(Seat.objects.filter(pk__in=setup.seat_ids[:2]).values_list("status", "owner_id")) == {("SOLD", buyer.pk)}
    assert not LedgerEntry.objects.filter(reference=str(order.pk)).exists()
    assert AuditLog.objects.filter(action="order.box_office_sale", object_id=str(order.pk)).exists()
    assert_invariants_clean()


def test_the_same_key_returns_the_same_sale_and_sells_nothing_twice():
    setup = make_event()
    clerk = clerk_of(setup)
    first = sell(setup, clerk, idempotency_key="counter-1")
    again = sell(setup, clerk, idempotency_key="counter-1")
    assert again.order.id == first.order.id and again.order.is_replay
    assert Order.objects.count() == 1


def test_best_available_in_a_section_sells_that_many_places():
    setup = make_event()
    sale = sell(setup, clerk_of(setup), seat_ids=None, section_id=setup.section.pk, quantity=3)
    assert len(sale.order.lines) == 3
    assert Seat.objects.filter(order_id=sale.order.id, status="SOLD").count() == 3


def test_a_sale_with_one_seat_taken_sells_nothing(buyer):
    setup = make_event()
    hold(buyer, setup, count=1)  # an online buyer holds the first seat
    with pytest.raises(DomainError) as refused:
        sell(setup, clerk_of(setup), seat_ids=setup.seat_ids[:3])
    assert refused.value.code == "SEAT_UNAVAILABLE"
    assert not Order.objects.exists()
    assert Seat.objects.filter(pk__in=setup.seat_ids[1:3], status="AVAILABLE").count() == 2
    assert_invariants_clean()


def test_a_wrong_amount_taken_is_refused_and_the_places_go_back():
    setup = make_event()
    with pytest.raises(DomainError) as refused:
        sell(setup, clerk_of(setup), amount_taken="90.00")
    assert refused.value.code == "VALIDATION_ERROR" and "100.00" in refused.value.detail
    assert not Order.objects.exists()
    assert Seat.objects.filter(pk__in=setup.seat_ids[:2], status="AVAILABLE").count() == 2


@pytest.mark.parametrize("role", ["GATE", None])
def test_gate_staff_and_other_organizations_may_not_sell(role):
    setup = make_event()
    actor = clerk_of(setup, role) if role else MembershipFactory(organization_id=uuid.uuid4(), role="OWNER").user
    with pytest.raises(BoxOfficeForbidden):
        sell(setup, actor)
    assert not Order.objects.exists()


def test_a_sale_needs_an_email_or_printed_tickets_and_a_payment_method():
    setup = make_event()
    clerk = clerk_of(setup)
    with pytest.raises(DomainError, match="email address or print"):
        sell(setup, clerk, email="")
    with pytest.raises(DomainError, match="how the buyer paid"):
        sell(setup, clerk, payment_method="CREDITS")


def test_an_existing_account_gets_the_tickets_and_can_refund_at_the_counter_without_credits(buyer):
    setup = make_event()
    clerk = clerk_of(setup, "OWNER")
    sale = sell(setup, clerk, email=buyer.email.upper(), payment_method="CARD_TERMINAL")
    assert sale.order.buyer_id == buyer.pk and not sale.account_created
    services.order_refund(order_id=sale.order.id, actor_id=clerk.pk, reason="Changed their mind")
    assert Order.objects.get(pk=sale.order.id).status == "REFUNDED"
    assert not LedgerEntry.objects.filter(reference=str(sale.order.id)).exists()  # money back at the counter
    assert_invariants_clean()


def test_a_new_account_is_claimed_with_the_usual_password_reset_code():
    setup = make_event()
    sell(setup, clerk_of(setup))
    claimant = User.objects.get(email="walkup@example.com")
    code = accounts_services.otp_issue(user_id=claimant.pk, purpose="PASSWORD_RESET")  # what "Forgot password" mails
    accounts_services.password_reset_confirm(email="walkup@example.com", code=code, new_password="A-long-pass-2026!")
    claimed = User.objects.get(email="walkup@example.com")
    assert claimed.has_usable_password() and claimed.is_verified


def test_the_confirmation_email_says_where_it_was_paid_and_how_to_claim_the_account():
    queue_clear()
    setup = make_event()
    sell(setup, clerk_of(setup), payment_method="CARD_TERMINAL")
    assert send_queued_notifications() == ["SENT"]
    (message,) = mail.outbox
    assert message.to == ["walkup@example.com"]
    assert "Paid at the box office: 100.00 (card terminal)" in message.body
    assert "/accounts/password-reset/" in message.body


# --- Printed tickets -----------------------------------------------------------------------------------------------


def test_a_walk_in_sale_is_printed_and_each_printed_code_is_admitted_once():
    queue_clear()
    setup = make_event()
    sale = sell(setup, clerk_of(setup), email="", print_tickets=True)
    assert sale.printed and sale.buyer_email == ""
    tickets = inventory_services.tickets_printed(order_id=sale.order.id)
    assert [ticket.print_version for ticket in tickets] == [1, 1]

    first = scan(setup, tickets[0].token)
    assert (first.result, first.detail) == ("SUCCESS", "Admitted (printed ticket).")
    assert scan(setup, tickets[0].token).result == "DUPLICATE"
    assert EntryLog.objects.filter(seat_id=tickets[0].seat.id, result="SUCCESS").count() == 1
    assert send_queued_notifications() == ["SKIPPED"]  # the walk-in account gets no mail
    assert not mail.outbox
    assert_invariants_clean()


def test_reprinting_kills_the_old_printed_code_with_a_clear_reason():
    setup = make_event()
    sale = sell(setup, clerk_of(setup), print_tickets=True)
    old = inventory_services.tickets_printed(order_id=sale.order.id)[0]
    new = next(
        t for t in inventory_services.tickets_print(order_id=sale.order.id, reprint=True) if t.seat.id == old.seat.id
    )
    assert new.print_version == 2 and new.token != old.token

    refused = scan(setup, old.token)
    assert refused.result == "REVOKED"
    assert refused.detail == "This printed ticket was reprinted: only the newest print is valid."
    assert scan(setup, new.token).result == "SUCCESS"


def test_a_printed_code_dies_with_a_refund_and_is_wrong_at_another_event(buyer):
    setup = make_event()
    clerk = clerk_of(setup, "OWNER")
    sale = sell(setup, clerk, print_tickets=True)
    tickets = inventory_services.tickets_printed(order_id=sale.order.id)
    assert scan(make_event(), tickets[0].token).result in {"WRONG_EVENT"}
    services.order_refund(order_id=sale.order.id, actor_id=clerk.pk, reason="Refund")
    assert scan(setup, tickets[1].token).result in {"REVOKED", "NOT_PAID"}
    assert scan(setup, "not-a-code").result == "INVALID"


def test_a_printed_code_is_not_a_phone_code():
    setup = make_event()
    sale = sell(setup, clerk_of(setup), print_tickets=True)
    ticket = inventory_services.tickets_printed(order_id=sale.order.id)[0]
    with pytest.raises(Exception, match="Signature"):
        inventory_services.qr_token_read(ticket.token)


# --- Comps ---------------------------------------------------------------------------------------------------------


def test_a_guest_list_gets_one_free_order_each_emailed_after_commit_and_audited():
    queue_clear()
    setup = make_event()
    clerk = clerk_of(setup, "MANAGER")
    guests = services.guest_list_parse("Ada Lovelace, ada@example.com\nAlan Turing <alan@example.com>\n\n")
    assert guests == [("Ada Lovelace", "ada@example.com"), ("Alan Turing", "alan@example.com")]

    issue = functools.partial(
        services.comps_issue_guest_list,
        actor_id=clerk.pk,
        event_id=setup.event.pk,
        guests=guests,
        section_id=setup.section.pk,
        places_per_guest=2,
        batch_key="list-1",
    )
    result = issue(note="Press night")

    assert len(result.issued) == 2 and not result.refused
    comps = Order.objects.filter(channel="COMP")
    assert {(o.status, o.total) for o in comps} == {("CONFIRMED", Decimal("0.00"))}
    assert {line.price for o in comps for line in o.lines.all()} == {Decimal("0.00")}
    assert Seat.objects.filter(order_id__in=[o.pk for o in comps], status="SOLD").count() == 4
    assert AuditLog.objects.filter(action="order.comp", reason="Press night").count() == 2
    assert send_queued_notifications() == ["SENT", "SENT"]
    assert sorted(m.to[0] for m in mail.outbox) == ["ada@example.com", "alan@example.com"]
    assert all(m.subject.startswith("Your complimentary tickets") for m in mail.outbox)
    assert_invariants_clean()

    again = issue()
    assert all(comp.order.is_replay for comp in again.issued) and comps.count() == 2


def test_a_guest_who_does_not_fit_is_reported_and_the_others_get_theirs():
    setup = make_event(rows=1, seats_per_row=3)
    result = services.comps_issue_guest_list(
        actor_id=clerk_of(setup).pk,
        event_id=setup.event.pk,
        guests=[("A", "a@example.com"), ("B", "b@example.com")],
        section_id=setup.section.pk,
        places_per_guest=2,
        batch_key="list-2",
    )
    assert [comp.buyer_email for comp in result.issued] == ["a@example.com"]
    assert [email for email, _why in result.refused] == ["b@example.com"]
    assert Seat.objects.filter(status="AVAILABLE").count() == 1
    assert_invariants_clean()


def test_a_guest_list_with_a_wrong_line_names_it():
    with pytest.raises(DomainError, match="Line 2"):
        services.guest_list_parse("Ada, ada@example.com\nno address here")


# --- Crash and recovery --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("point", "outcome"), [("purchase.after_debit", "FAILED"), ("purchase.after_seats", "CONFIRMED")]
)
def test_a_sale_interrupted_by_a_crash_is_finished_or_undone_by_recovery(point, outcome):
    setup = make_event()
    clerk = clerk_of(setup)
    with faults.arm(point), pytest.raises(faults.InjectedFault):
        sell(setup, clerk, idempotency_key="crash")
    order = Order.objects.get()
    assert order.status == "PENDING"

    report = services.purchase_recover(older_than_seconds=0)

    order.refresh_from_db()
    assert order.status == outcome and report.confirmed + report.undone == 1
    sold = Seat.objects.filter(pk__in=setup.seat_ids[:2], status="SOLD").count()
    assert sold == (2 if outcome == "CONFIRMED" else 0)
    assert not LedgerEntry.objects.filter(reference=str(order.pk)).exists()
    assert_invariants_clean()


def test_the_checker_names_credits_taken_for_a_box_office_sale(buyer):
    setup = make_event()
    sale = sell(setup, clerk_of(setup), email=buyer.email)
    accounts_services.credits_debit(
        user_id=buyer.pk, amount=Decimal("100.00"), kind="PURCHASE", reference=str(sale.order.id), memo="wrong"
    )
    checks = {violation.check for violation in check_all().violations}
    assert "STAFF_ORDER_MOVED_CREDITS" in checks


def test_the_database_refuses_a_comp_with_a_price_and_a_box_office_sale_without_its_payment():
    setup = make_event()
    sale = sell(setup, clerk_of(setup))
    with pytest.raises(IntegrityError), transaction.atomic(using="orders"):
        Order.objects.filter(pk=sale.order.id).update(channel="COMP")
    with pytest.raises(IntegrityError), transaction.atomic(using="orders"):
        Order.objects.filter(pk=sale.order.id).update(amount_taken=Decimal("1.00"))


# --- Race ----------------------------------------------------------------------------------------------------------


@pytest.mark.concurrency
@pytest.mark.django_db(databases=ALL_DATABASES, transaction=True)
def test_the_box_office_and_an_online_buyer_racing_for_one_seat_never_both_get_it():
    for attempt in range(8):
        setup = make_event(rows=1, seats_per_row=2)
        clerk = clerk_of(setup)
        online = UserFactory(credits="500.00")
        seat = setup.seat_ids[0]

        def buy_online(online=online, setup=setup, seat=seat):
            services.hold_seats(buyer_id=online.pk, event_id=setup.event.pk, seat_ids=[seat])
            return services.order_checkout(buyer_id=online.pk, event_id=setup.event.pk, idempotency_key="web")

        def sell_at_counter(setup=setup, clerk=clerk, seat=seat, attempt=attempt):
            return sell(setup, clerk, seat_ids=[seat], email=f"counter{attempt}@example.com")

        results = race(buy_online, sell_at_counter)

        winners = [r for r in results if not isinstance(r, Exception)]
        assert len(winners) == 1, results
        assert all(isinstance(r, DomainError) and r.code == "SEAT_UNAVAILABLE" for r in results if r not in winners)
        sold = Seat.objects.get(pk=seat)
        assert sold.status == "SOLD"
        assert Order.objects.filter(status="CONFIRMED", lines__seat_id=seat).count() == 1
    assert_invariants_clean()


def test_the_scan_api_admits_a_printed_ticket_and_then_refuses_it():
    setup = make_event()
    sale = sell(setup, clerk_of(setup), email="", print_tickets=True)
    token = inventory_services.tickets_printed(order_id=sale.order.id)[0].token
    gate = MembershipFactory(organization_id=setup.event.organization_id, role="GATE").user
    body = {"event_id": str(setup.event.pk), "gate": "Door", "token": token}
    first = api_client(gate).post("/api/v1/scan/", body, format="json")
    assert first.status_code == 200 and first.json()["result"] == "SUCCESS"
    assert api_client(gate).post("/api/v1/scan/", body, format="json").json()["result"] == "DUPLICATE"


def test_a_comp_counts_no_revenue_and_its_places_return_to_sale_at_their_price_when_refunded():
    setup = make_event()
    clerk = clerk_of(setup, "OWNER")
    comp = services.comp_issue(
        actor_id=clerk.pk, event_id=setup.event.pk, email="vip@example.com", idempotency_key="vip", quantity=2
    )
    seats = Seat.objects.filter(order_id=comp.order.id)
    assert {(seat.price, seat.next_price) for seat in seats} == {(Decimal("0.00"), Decimal("50.00"))}
    assert inventory_services.event_sales_summary(event_id=setup.event.pk)["totals"]["revenue"] == Decimal("0")
    seat_ids = [seat.pk for seat in seats]
    services.order_refund(order_id=comp.order.id, actor_id=clerk.pk, reason="Guest cannot come")
    back = Seat.objects.filter(pk__in=seat_ids)
    assert {(seat.status, seat.price, seat.next_price) for seat in back} == {("AVAILABLE", Decimal("50.00"), None)}
    assert_invariants_clean()


def test_the_refund_email_of_a_box_office_sale_says_the_money_is_paid_back_at_the_counter():
    setup = make_event()
    clerk = clerk_of(setup, "OWNER")
    sale = sell(setup, clerk)
    queue_clear()
    services.order_refund(order_id=sale.order.id, actor_id=clerk.pk, reason="Changed their mind")
    assert send_queued_notifications() == ["SENT"]
    (message,) = mail.outbox
    assert "100.00 is paid back at the box office" in message.body and "credits" not in message.body.split("\n")[0]
