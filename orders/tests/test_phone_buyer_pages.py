"""Issue 14 on the buyer pages: the sticky bar, the section named with every seat, resale on the event page, best
available on seat maps, the lost race that names the seats, and a checkout short of credits that finishes."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import UserFactory
from core.databases import ALL_DATABASES
from inventory import selectors as inventory_selectors
from inventory.models import Seat
from orders import services
from orders.services import resale
from orders.tests.factories import make_event, sold_ticket
from orders.tests.helpers import hold, messages_of, seat_map_data

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def _place(setup, seat) -> str:
    return f"{setup.section.name} · Row {seat.row_label}, seat {seat.number}"


def test_the_sticky_bar_offers_hold_and_after_holding_the_countdown_and_checkout(client, buyer):
    setup = make_event()
    client.force_login(buyer)
    html = client.get(setup.event.get_absolute_url()).text
    assert 'id="buy-bar"' in html and 'form="hold-form"' in html and "Checkout</a>" not in html

    hold(buyer, setup, 3)
    html = client.get(setup.event.get_absolute_url()).text
    bar = html[html.index('id="buy-bar"') :]
    assert "3 held · 150.00" in bar and 'class="countdown"' in bar
    assert f"{reverse('orders:checkout')}?event={setup.event.pk}" in bar


def test_a_page_without_a_map_or_holds_has_no_bar(client, buyer):
    setup = make_event(general=True)
    client.force_login(buyer)
    assert 'id="buy-bar"' not in client.get(setup.event.get_absolute_url()).text


def test_holds_panel_checkout_and_order_name_the_section_of_each_seat(client, buyer):
    setup = make_event()
    held = hold(buyer, setup, 2)
    client.force_login(buyer)
    seats = [Seat.objects.get(pk=seat.id) for seat in held]
    event_html = client.get(setup.event.get_absolute_url()).text
    checkout_html = client.get(reverse("orders:checkout"), {"event": str(setup.event.pk)}).text
    for seat in seats:
        assert _place(setup, seat) in event_html
        assert _place(setup, seat) in checkout_html

    order = services.order_checkout(buyer_id=buyer.pk, event_id=setup.event.pk, idempotency_key="phone-1")
    order_html = client.get(reverse("orders:detail", args=[order.id])).text
    assert all(_place(setup, seat) in order_html for seat in seats)


def test_the_hold_message_links_to_checkout(client, buyer):
    setup = make_event()
    client.force_login(buyer)
    response = client.post(
        reverse("orders:hold", args=[setup.event.pk]), {"seat_ids": [str(setup.seat_ids[0])]}, follow=True
    )
    (message,) = messages_of(response)
    assert f'<a href="{reverse("orders:checkout")}?event={setup.event.pk}">Go to checkout</a>' in message
    assert f'<a href="{reverse("orders:checkout")}?event={setup.event.pk}">Go to checkout</a>' in response.text


def test_a_lost_race_names_the_seats_someone_else_took_and_keeps_the_others_chosen(client, buyer, other_buyer):
    setup = make_event()
    taken = Seat.objects.get(pk=setup.seat_ids[1])
    services.hold_seats(buyer_id=other_buyer.pk, event_id=setup.event.pk, seat_ids=[taken.pk])
    client.force_login(buyer)
    response = client.post(
        reverse("orders:hold", args=[setup.event.pk]),
        {"seat_ids": [str(setup.seat_ids[0]), str(taken.pk), str(setup.seat_ids[2])]},
    )
    assert response.status_code == 302
    location = urlparse(response["Location"])
    assert location.path == setup.event.get_absolute_url()
    assert parse_qs(location.query) == {"pick": [f"{setup.seat_ids[0]},{setup.seat_ids[2]}"]}
    (message,) = messages_of(client.get(response["Location"]))
    assert f"someone else just took {_place(setup, taken)}." in message
    assert "your other 2 seats are still chosen on the map" in message
    assert inventory_selectors.holds_for_buyer(buyer_id=buyer.pk, event_id=setup.event.pk) == []

    seats = seat_map_data(client.get(response["Location"]).text, setup.section.pk)
    assert [seats["id"][i] for i in seats["picked"]] == [str(setup.seat_ids[0]), str(setup.seat_ids[2])]
    assert seats["state"][1] == "h"
    # Without JavaScript the same ?pick= chooses them in the plain list.
    seat_list = reverse("orders:event_section_seats", args=[setup.event.pk, setup.section.pk])
    html = client.get(f"{seat_list}?{location.query}").text
    for seat_id in (setup.seat_ids[0], setup.seat_ids[2]):
        assert f'<option value="{seat_id}" selected>' in html
    assert f'<option value="{taken.pk}"' not in html


def test_a_lost_race_with_nothing_left_asks_to_choose_again(client, buyer, other_buyer):
    setup = make_event()
    taken = Seat.objects.get(pk=setup.seat_ids[1])
    services.hold_seats(buyer_id=other_buyer.pk, event_id=setup.event.pk, seat_ids=[taken.pk])
    client.force_login(buyer)
    response = client.post(reverse("orders:hold", args=[setup.event.pk]), {"seat_ids": [str(taken.pk)]}, follow=True)
    (message,) = messages_of(response)
    assert message == (
        f"Sorry, someone else just took {_place(setup, taken)}. Nothing was held; the map now shows what is still "
        "free, so please choose again."
    )
    assert "pick=" not in response.redirect_chain[-1][0]


def test_a_malformed_pick_is_ignored(client, buyer):
    setup = make_event()
    client.force_login(buyer)
    html = client.get(setup.event.get_absolute_url(), {"pick": "junk,,1"}).text
    assert " selected>" not in html and "seat available selected" not in html


def test_best_available_on_a_seat_map_holds_seats_together_in_the_chosen_section(client, buyer, other_buyer):
    setup = make_event(rows=2, seats_per_row=6)
    # Row A is broken up (seats 2 and 5 taken), so three together can only be found in row B.
    services.hold_seats(
        buyer_id=other_buyer.pk, event_id=setup.event.pk, seat_ids=[setup.seat_ids[1], setup.seat_ids[4]]
    )
    client.force_login(buyer)
    section_url = reverse("orders:event_section", args=[setup.event.pk, setup.section.pk])
    html = client.get(section_url).text
    assert "Best available" in html and f'name="section_id" value="{setup.section.pk}"' in html
    assert "Best available" in client.get(setup.event.get_absolute_url()).text

    response = client.post(
        reverse("orders:hold", args=[setup.event.pk]),
        {"quantity": "3", "section_id": str(setup.section.pk), "next": section_url},
    )
    assert response.status_code == 302 and response["Location"] == section_url
    held = sorted(inventory_selectors.holds_for_buyer(buyer_id=buyer.pk, event_id=setup.event.pk), key=str)
    assert len(held) == 3
    assert {seat.row_label for seat in held} == {"B"}
    numbers = sorted(seat.number for seat in held)
    assert numbers == list(range(numbers[0], numbers[0] + 3))
    assert seat_map_data(client.get(section_url).text, setup.section.pk)["state"].count("m") == 3


def test_the_event_page_lists_resale_tickets_with_section_row_seat_price_and_buy(client, buyer, other_buyer):
    seat = sold_ticket(other_buyer, price="40.00")
    listing = resale.listing_create(seat_id=seat.pk, seller_id=other_buyer.pk, price=Decimal("35.00"))
    event_url = seat.setup.event.get_absolute_url()

    anonymous = client.get(event_url).text
    assert 'id="resale"' in anonymous and "Log in to buy" in anonymous

    client.force_login(buyer)
    html = client.get(event_url).text
    table = html[html.index('id="resale"') : html.index("</table>", html.index('id="resale"'))]
    cells = re.findall(r"<td>(.*?)</td>", table, flags=re.S)
    assert [cell.strip() for cell in cells[:4]] == [seat.setup.section.name, "A", "1", "35.00"]
    assert reverse("transfers:buy", args=[listing.id]) in table
    assert "1 resale ticket from 35.00 credits" in html

    response = client.post(reverse("transfers:buy", args=[listing.id]))
    assert response.status_code == 302
    assert Seat.objects.get(pk=seat.pk).owner_id == buyer.pk
    assert 'id="resale"' not in client.get(event_url).text


def test_the_seller_sees_their_own_listing_without_a_buy_button(client, other_buyer):
    seat = sold_ticket(other_buyer, price="40.00")
    listing = resale.listing_create(seat_id=seat.pk, seller_id=other_buyer.pk, price=Decimal("35.00"))
    client.force_login(other_buyer)
    html = client.get(seat.setup.event.get_absolute_url()).text
    assert "yours" in html and reverse("transfers:buy", args=[listing.id]) not in html


def test_checkout_short_of_credits_tops_up_the_exact_shortfall_and_comes_back_with_the_holds(client):
    poor = UserFactory(credits="30.00")
    setup = make_event(price="50.00")
    held = hold(poor, setup, 2)
    client.force_login(poor)
    checkout_url = f"{reverse('orders:checkout')}?event={setup.event.pk}"
    html = client.get(checkout_url).text
    assert 'id="pay-button" disabled' in html
    link = re.search(r'id="topup-shortfall" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    query = parse_qs(urlparse(link).query)
    assert query == {"amount": ["70.00"], "next": [checkout_url]}

    topup_page = client.get(link).text
    assert 'value="70.00"' in topup_page and f'name="next" value="{checkout_url}"' in topup_page.replace("&amp;", "&")
    started = client.post(reverse("accounts:topup"), {"amount": "70.00", "next": checkout_url})
    assert started.status_code == 302
    paid = client.post(started["Location"], {"action": "pay"})
    assert paid.status_code == 302 and paid["Location"] == checkout_url

    back = client.get(checkout_url).text
    assert 'id="pay-button" disabled' not in back and 'id="pay-button"' in back
    assert "data-expires-at" in back and 'class="countdown"' in back
    assert {seat.id for seat in inventory_selectors.holds_for_buyer(buyer_id=poor.pk)} == {s.id for s in held}


def test_a_top_up_refuses_to_return_to_another_site(client):
    poor = UserFactory(credits="0.00")
    client.force_login(poor)
    html = client.get(reverse("accounts:topup"), {"amount": "5", "next": "https://evil.example/checkout/"}).text
    assert "evil.example" not in html
    started = client.post(reverse("accounts:topup"), {"amount": "5.00", "next": "https://evil.example/"})
    paid = client.post(started["Location"], {"action": "pay"})
    assert paid["Location"] == reverse("accounts:wallet")


def test_transfer_and_listing_answers_carry_the_place_with_its_section(buyer, other_buyer):
    from orders.tests.helpers import api_client

    seat = sold_ticket(other_buyer, price="40.00")
    resale.listing_create(seat_id=seat.pk, seller_id=other_buyer.pk, price=Decimal("35.00"))
    body = api_client(other_buyer).get("/api/v1/listings/", {"mine": "1"}).json()
    rows = body["results"] if isinstance(body, dict) and "results" in body else body
    assert rows[0]["section_name"] == seat.setup.section.name
    assert rows[0]["ticket_place"] == _place(seat.setup, seat)
    assert rows[0]["ticket_label"] == "Row A, seat 1"


def test_ticket_answers_carry_the_place_with_its_section(other_buyer):
    from orders.tests.helpers import api_client

    seat = sold_ticket(other_buyer, price="40.00")
    body = api_client(other_buyer).get("/api/v1/tickets/").json()
    rows = body["results"] if isinstance(body, dict) and "results" in body else body
    assert rows[0]["place"] == _place(seat.setup, seat)
    assert rows[0]["label"] == "Row A, seat 1" and rows[0]["section_name"] == seat.setup.section.name


# --- Live availability: the map's changes endpoint ------------------------------------------------------------------


def _changes(client, setup, since):
    return client.get(
        reverse("orders:event_changes", args=[setup.event.pk]), {"since": since, "section": str(setup.section.pk)}
    )


def _quiet_map(setup):
    """A section whose seats were last written a minute ago, and a version taken now."""
    Seat.objects.filter(event_id=setup.event.pk).update(updated_at=timezone.now() - dt.timedelta(minutes=1))
    return int(timezone.now().timestamp() * 1000)


def test_changes_name_seats_held_sold_or_freed_since_the_version_and_nothing_else(client, buyer, other_buyer):
    setup = make_event()
    version = _quiet_map(setup)
    client.force_login(buyer)
    assert _changes(client, setup, version).json()["seats"] == []

    services.hold_seats(buyer_id=other_buyer.pk, event_id=setup.event.pk, seat_ids=setup.seat_ids[0:1])
    services.hold_seats(buyer_id=buyer.pk, event_id=setup.event.pk, seat_ids=setup.seat_ids[1:2])
    # A hold that runs out changes no row, and still reaches the map.
    Seat.objects.filter(pk=setup.seat_ids[2]).update(
        status="HELD",
        held_by_id=other_buyer.pk,
        hold_expires_at=timezone.now() - dt.timedelta(seconds=1),
        updated_at=timezone.now() - dt.timedelta(minutes=1),
    )
    body = _changes(client, setup, version).json()
    assert {seat["id"]: seat["status"] for seat in body["seats"]} == {
        str(setup.seat_ids[0]): "HELD",
        str(setup.seat_ids[1]): "HELD",  # the buyer's own hold too: the page that made it draws it as theirs
        str(setup.seat_ids[2]): "AVAILABLE",
    }
    assert body["version"] >= version - 1000 and body["version"] % 1000 == 0 and body["poll_seconds"] == 1

    later = _quiet_map(setup)
    # Only the hold that ran out a second ago is repeated: it lies inside the overlap a poll looks back.
    assert _changes(client, setup, later).json()["seats"] == [{"id": str(setup.seat_ids[2]), "status": "AVAILABLE"}]


def test_every_viewer_gets_the_same_public_cacheable_answer_without_a_cookie(client, buyer, other_buyer):
    setup = make_event()
    version = _quiet_map(setup)
    services.hold_seats(buyer_id=buyer.pk, event_id=setup.event.pk, seat_ids=setup.seat_ids[0:1])
    anonymous = _changes(client, setup, version)
    holder, stranger = Client(), Client()
    holder.force_login(buyer)
    stranger.force_login(other_buyer)
    answers = [anonymous, _changes(holder, setup, version), _changes(stranger, setup, version)]

    # Identical but for the version and the moment of reading, which are when each was made.
    def same(answer: dict) -> dict:
        return {**answer, "version": 0, "read_at": 0}

    assert all(same(response.json()) == same(anonymous.json()) for response in answers)
    assert anonymous.json()["seats"] == [{"id": str(setup.seat_ids[0]), "status": "HELD"}]
    for response in answers:
        # What lets the proxy share it: public, short-lived, no cookie set, not varying by cookie.
        assert set(response["Cache-Control"].split(", ")) == {"public", "max-age=0", "s-maxage=1"}
        assert not response.cookies and "Cookie" not in response.get("Vary", "")


def test_the_changes_version_is_a_whole_second_so_maps_converge_on_one_url(client):
    setup = make_event()
    version = _quiet_map(setup)
    first = _changes(client, setup, version + 123).json()["version"]
    assert first % 1000 == 0 and first <= int(timezone.now().timestamp() * 1000)
    html = client.get(setup.event.get_absolute_url()).text
    assert int(re.search(r'data-version="(\d+)"', html).group(1)) % 1000 == 0


def test_changes_refuse_a_missing_version_or_section_with_the_error_shape(client):
    setup = make_event()
    url = reverse("orders:event_changes", args=[setup.event.pk])
    for query in ({"section": str(setup.section.pk)}, {"since": "soon", "section": str(setup.section.pk)}):
        response = client.get(url, query)
        assert response.status_code == 400 and response.json()["code"] == "VALIDATION_ERROR"
        assert "since" in response.json()["fields"]
    for query in ({"since": "1"}, {"since": "1", "section": "junk"}):
        response = client.get(url, query)
        assert response.status_code == 400 and "section" in response.json()["fields"]


def test_a_poll_is_one_query_on_the_seats_database_and_none_elsewhere(client, buyer, settings):
    setup = make_event()
    version = _quiet_map(setup)
    settings.STAFF_TWO_FACTOR_REQUIRED = True  # the middleware that reads the user on every other page
    client.force_login(buyer)
    client.get(setup.event.get_absolute_url())
    with CaptureQueriesContext(connections["seats"]) as seats_db, CaptureQueriesContext(connections["events"]) as ev:
        with CaptureQueriesContext(connections["orders"]) as orders_db:
            with CaptureQueriesContext(connections["default"]) as users_db:
                assert _changes(client, setup, version).status_code == 200
    assert len(seats_db.captured_queries) == 1
    assert len(ev.captured_queries) == 0 and len(orders_db.captured_queries) == 0
    assert users_db.captured_queries == [], "no session and no user are read for a poll"


def test_the_map_carries_its_version_and_where_to_poll(client):
    setup = make_event()
    html = client.get(setup.event.get_absolute_url()).text
    assert f'data-changes-url="{reverse("orders:event_changes", args=[setup.event.pk])}"' in html
    assert f'data-section="{setup.section.pk}"' in html
    version = int(re.search(r'data-version="(\d+)"', html).group(1))
    assert version <= int(timezone.now().timestamp() * 1000)
