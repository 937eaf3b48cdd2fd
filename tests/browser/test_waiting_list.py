"""The waiting list in a real browser, at desktop and phone sizes: a buyer joins a sold-out event, a refund frees a
seat, the matching job holds it for them, and they follow the offer email's link to a confirmed order. Staff then
see who waits on the event's dashboard.

Screenshots: waitinglist-*.png (docs/BUYER.md and docs/STAFF.md use copies).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from tests.browser.pages import (
    SCREENSHOTS,
    box_office_clerk,
    click_to,
    desk_and_phone,
    logged_in_page,
    size_name,
    staff_page,
    walk,
)

pytestmark = walk


def _shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"waitinglist-{name}.png"), full_page=True)


@pytest.fixture
def sold_out(db):
    from accounts.tests.factories import UserFactory
    from orders.tests.factories import make_event
    from orders.tests.helpers import buy

    setup = make_event(rows=1, seats_per_row=3, price="40.00", title="Harbour Lights")
    early = UserFactory(email="early@example.com", full_name="Early Bird", credits="500.00")
    order = buy(early, setup, count=3)
    waiter = UserFactory(email="wanda@example.com", full_name="Wanda Waits", credits="100.00")
    later = UserFactory(email="luke@example.com", full_name="Luke Later", credits="100.00")
    clerk = box_office_clerk(setup.event.organization_id)
    return {"setup": setup, "order": order, "waiter": waiter, "later": later, "clerk": clerk}


@desk_and_phone
def test_a_buyer_joins_a_sold_out_event_gets_the_offer_and_buys_it(live_server, browser, sold_out, viewport):
    from django.core import mail

    from ops.invariants import check_all
    from orders import services
    from orders.models import Order, WaitingListEntry
    from orders.services import waiting_list
    from orders.tests.jobs_helpers import send_queued_notifications

    size = size_name(viewport)
    setup = sold_out["setup"]
    base = live_server.url
    page = logged_in_page(browser, base, sold_out["waiter"].email, **viewport)

    page.goto(f"{base}/events/{setup.event.pk}/")
    join = page.locator("form.waiting-list-join").first
    assert "Join the waiting list" in join.inner_text()
    _shot(page, f"1-sold-out-{size}")
    join.locator("input[name=quantity]").fill("1")
    join.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"/waiting-list/$"))
    assert "You're #1 in line" in page.inner_text("main")
    _shot(page, f"2-in-line-{size}")
    if size == "phone":
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    waiting_list.waiting_list_join(buyer_id=sold_out["later"].pk, event_id=setup.event.pk, quantity=1)

    # A ticket comes back; the matching job (run here as the worker would) holds it for the first in line.
    order = sold_out["order"]
    services.order_refund_tickets(
        order_id=order.id, seat_ids=[setup.seat_ids[1]], actor_id=sold_out["clerk"].pk, reason="Cannot come"
    )
    assert waiting_list.waiting_list_match_due() == 1
    send_queued_notifications()
    (offer_mail,) = [m for m in mail.outbox if m.to == [sold_out["waiter"].email]]
    link = re.search(r"https?://\S+/waiting-list/[0-9a-f-]{36}/", offer_mail.body).group(0)

    page.goto(base + urlsplit(link).path)
    assert "1 place held for you" in page.inner_text("main")
    page.wait_for_function("document.querySelector('.countdown').textContent.includes(':')")
    _shot(page, f"3-offer-{size}")
    click_to(page, "text=Buy them at checkout", r"/checkout/")
    click_to(page, "#pay-button", r"/orders/[0-9a-f-]{36}/")
    _shot(page, f"4-bought-{size}")

    bought = Order.objects.get(buyer_id=sold_out["waiter"].pk)
    assert bought.status == "CONFIRMED" and list(bought.lines.values_list("seat_id", flat=True)) == [setup.seat_ids[1]]
    page.goto(f"{base}/waiting-list/")
    assert "Bought" in page.inner_text("main")
    assert WaitingListEntry.objects.get(buyer_id=sold_out["later"].pk).status == "WAITING"
    assert check_all().ok


def test_staff_see_who_waits_on_the_dashboard_and_the_list(live_server, browser, sold_out):
    from orders.services import waiting_list

    setup = sold_out["setup"]
    for person in (sold_out["waiter"], sold_out["later"]):
        waiting_list.waiting_list_join(
            buyer_id=person.pk, event_id=setup.event.pk, quantity=2, section_id=setup.section.pk
        )
    page = staff_page(browser, live_server.url, sold_out["clerk"].email)
    page.goto(f"{live_server.url}/admin/events/event/{setup.event.pk}/dashboard/")
    assert f"2 people wait for {setup.section.name}" in page.inner_text(".waiting-list")
    _shot(page, "5-dashboard")
    click_to(page, ".waiting-list a", r"/admin/orders/waitinglistentry/")
    assert "Wanda Waits" in page.inner_text("#result_list") and "Luke Later" in page.inner_text("#result_list")
    _shot(page, "6-staff-list")
