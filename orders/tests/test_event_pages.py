"""The event and section pages (seat map, availability, holds) and the hold / release form posts."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from core import config
from core.databases import ALL_DATABASES
from events.contract import VenueLayoutShape
from events.models import Section
from events.services import venue_generate_layout
from events.tests.factories import EventFactory
from inventory import selectors as inventory_selectors
from orders import services
from orders.tests.factories import make_event
from orders.tests.helpers import hold, messages_of, seat_map_data
from orders.views import event_page

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)


def test_event_page_draws_every_seat_with_status_tier_and_accessible_marks(client, buyer, other_buyer):
    setup = make_event()
    services.hold_seats(buyer_id=other_buyer.pk, event_id=setup.event.pk, seat_ids=setup.seat_ids[1:2])
    services.hold_seats(buyer_id=buyer.pk, event_id=setup.event.pk, seat_ids=setup.seat_ids[2:3])
    client.force_login(buyer)
    response = client.get(setup.event.get_absolute_url())
    assert response.status_code == 200
    html = response.text
    seats = seat_map_data(html, setup.section.pk)
    assert seats["id"] == [str(seat_id) for seat_id in setup.seat_ids]  # in map order: rows, then numbers
    assert seats["state"] == "ahmaaaaaaa"  # available, held by someone, held by you
    assert len(seats["accessible"]) == 1
    assert seats["prices"] == [str(setup.seats[0].price)] and set(seats["price"]) == {0}
    assert f'<g class="seats" fill="{setup.tier.colour}">' in html
    assert "Hold selected seats" in html and "Your holds" in html and "data-expires-at" in html
    assert "seatmap.js" in html
    # Without JavaScript: a link to the section's seats as a plain list (the page itself carries no list).
    seat_list = reverse("orders:event_section_seats", args=[setup.event.pk, setup.section.pk])
    assert f'<noscript><p class="seat-list-fallback"><a href="{seat_list}">' in html
    form = html[html.index('id="hold-form"') : html.index("</form>", html.index('id="hold-form"'))]
    assert "<option" not in form and "<select" not in form


def test_event_page_of_a_draft_or_unknown_event_is_404(client):
    draft = EventFactory(status="DRAFT")
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert client.get(f"/events/{uuid.uuid4()}/").status_code == 404


def test_general_admission_shows_a_quantity_picker(client):
    setup = make_event(general=True)
    html = client.get(setup.event.get_absolute_url()).text
    assert 'name="quantity"' in html and "data-seats=" not in html


def test_best_available_event_shows_quantity_pickers_not_seats(client):
    setup = make_event(selection_mode="BEST_AVAILABLE")
    html = client.get(setup.event.get_absolute_url()).text
    assert "Hold best available" in html and "data-seats=" not in html


def test_a_big_event_shows_an_overview_and_one_section_at_a_time(client, monkeypatch):
    monkeypatch.setattr(event_page, "INLINE_SEAT_LIMIT", 5)
    setup = make_event()
    html = client.get(setup.event.get_absolute_url()).text
    assert "Venue map" in html and "data-seats=" not in html
    section_url = reverse("orders:event_section", kwargs={"event_id": setup.event.pk, "section_id": setup.section.pk})
    assert section_url in html
    section_html = client.get(section_url).text
    assert len(seat_map_data(section_html, setup.section.pk)["id"]) == len(setup.seats)


def test_section_page_of_a_section_the_event_does_not_sell_is_404(client):
    setup = make_event()
    other = make_event()
    url = reverse("orders:event_section", kwargs={"event_id": setup.event.pk, "section_id": other.section.pk})
    assert client.get(url).status_code == 404


def test_holding_needs_a_login(client):
    setup = make_event()
    response = client.post(
        reverse("orders:hold", kwargs={"event_id": setup.event.pk}), {"seat_ids": setup.seat_ids[:1]}
    )
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_hold_form_holds_the_chosen_seats_and_comes_back(client, buyer):
    setup = make_event()
    client.force_login(buyer)
    response = client.post(
        reverse("orders:hold", kwargs={"event_id": setup.event.pk}), {"seat_ids": setup.seat_ids[:2]}, follow=True
    )
    assert response.redirect_chain[-1][0] == setup.event.get_absolute_url()
    assert any("Holding 2 places" in m for m in messages_of(response))
    assert len(inventory_selectors.holds_for_buyer(buyer_id=buyer.pk)) == 2


def test_hold_form_explains_a_taken_seat(client, buyer, other_buyer):
    setup = make_event()
    hold(other_buyer, setup, 1)
    client.force_login(buyer)
    response = client.post(
        reverse("orders:hold", kwargs={"event_id": setup.event.pk}), {"seat_ids": setup.seat_ids[:1]}, follow=True
    )
    assert response.status_code == 200
    assert any("someone else just took" in m for m in messages_of(response))


@pytest.mark.parametrize("data", [{}, {"seat_ids": ["garbage"]}, {"quantity": "-3"}, {"quantity": "lots"}])
def test_hold_form_with_bad_input_shows_a_message(client, buyer, data):
    setup = make_event()
    client.force_login(buyer)
    response = client.post(reverse("orders:hold", kwargs={"event_id": setup.event.pk}), data, follow=True)
    assert response.status_code == 200 and messages_of(response)
    assert inventory_selectors.holds_for_buyer(buyer_id=buyer.pk) == []


def test_hold_form_quantity_for_general_admission(client, buyer):
    setup = make_event(general=True)
    client.force_login(buyer)
    client.post(
        reverse("orders:hold", kwargs={"event_id": setup.event.pk}),
        {"quantity": "3", "section_id": str(setup.section.pk)},
    )
    assert len(inventory_selectors.holds_for_buyer(buyer_id=buyer.pk)) == 3


def test_hold_form_ignores_an_offsite_next_url(client, buyer):
    setup = make_event()
    client.force_login(buyer)
    response = client.post(
        reverse("orders:hold", kwargs={"event_id": setup.event.pk}),
        {"seat_ids": setup.seat_ids[:1], "next": "https://evil.example/"},
    )
    assert response["Location"] == setup.event.get_absolute_url()


def test_release_form_releases_one_or_all_holds(client, buyer):
    config.set_value("max_tickets_per_order", 8)
    setup = make_event()
    hold(buyer, setup, 3)
    client.force_login(buyer)
    url = reverse("orders:release", kwargs={"event_id": setup.event.pk})
    client.post(url, {"seat_ids": [str(setup.seat_ids[0])]})
    assert len(inventory_selectors.holds_for_buyer(buyer_id=buyer.pk)) == 2
    response = client.post(url, follow=True)
    assert inventory_selectors.holds_for_buyer(buyer_id=buyer.pk) == []
    assert any("Released 2 places" in m for m in messages_of(response))


def test_a_get_of_the_hold_url_after_logging_in_goes_back_to_the_event(client, buyer):
    setup = make_event()
    client.force_login(buyer)
    response = client.get(reverse("orders:hold", kwargs={"event_id": setup.event.pk}))
    assert response.status_code == 302 and response["Location"] == setup.event.get_absolute_url()
    assert client.get(reverse("orders:release", kwargs={"event_id": setup.event.pk})).status_code == 405


def test_event_page_before_the_sales_window_says_so_and_disables_holding(client):
    setup = make_event(sales_start=timezone.now() + dt.timedelta(days=1))
    html = client.get(setup.event.get_absolute_url()).text
    assert "not on sale right now" in html
    assert re.search(r'<button type="submit" disabled>Hold selected seats', html)


def test_the_event_page_draws_the_venue_with_its_stage_and_each_section_shaded_and_counted(client, buyer):
    setup = make_event()
    venue_generate_layout(venue_id=setup.event.venue_id, shape=VenueLayoutShape.THEATRE)
    services.hold_seats(buyer_id=buyer.pk, event_id=setup.event.pk, seat_ids=setup.seat_ids[:5])
    html = client.get(setup.event.get_absolute_url()).text
    venue_map = html[html.index('<svg class="venue-map"') : html.index("</svg>", html.index('<svg class="venue-map"'))]
    assert 'class="venue-stage stage-stage"' in venue_map and ">Stage<" in venue_map
    section_url = reverse("orders:event_section", kwargs={"event_id": setup.event.pk, "section_id": setup.section.pk})
    assert f'href="{section_url}"' in venue_map
    # Half sold out: the tier's colour, half-way pale; the count in words for screen readers and on the map.
    assert f'fill="{setup.tier.colour}" fill-opacity="0.68"' in venue_map
    assert f"{setup.section.name} 5 free: 5 of 10 available" in venue_map and ">5 free<" in venue_map


def test_a_curved_section_is_drawn_with_curved_rows_and_the_stage_in_front_of_row_a(client):
    setup = make_event(rows=2, seats_per_row=5)
    Section.objects.filter(pk=setup.section.pk).update(map_shape="ARC", map_arc_radius=100)
    section_url = reverse("orders:event_section", kwargs={"event_id": setup.event.pk, "section_id": setup.section.pk})
    html = client.get(section_url).text
    assert 'class="stage-edge"' in html and ">Stage</text>" in html
    seats = seat_map_data(html, setup.section.pk)
    row_a = [y for y, row in zip(seats["y"], seats["row"], strict=True) if seats["rows"][row] == "A"]
    assert len(row_a) == 5
    # The middle seat of row A is furthest from the stage; the ends curve forward around it.
    assert row_a[2] == max(row_a) and row_a[0] == pytest.approx(row_a[4]) and row_a[0] < row_a[2]


def test_the_plain_seat_list_names_rows_and_seats_in_the_page_language(client, buyer):
    setup = make_event()
    client.force_login(buyer)
    url = reverse("orders:event_section_seats", args=[setup.event.pk, setup.section.pk])
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="de").text
    assert re.findall(r'<optgroup label="Reihe (\w)">', html) == ["A", "B"]
    options = re.findall(r'<option value="[0-9a-f-]{36}">([^<]*) · ', html)
    assert options[:2] == ["Reihe A, Platz 1, barrierefrei", "Reihe A, Platz 2"]  # the factory's seat 1 is accessible


def test_without_javascript_a_section_s_seats_are_a_plain_list_that_holds_them(client, buyer, other_buyer):
    setup = make_event()
    services.hold_seats(buyer_id=other_buyer.pk, event_id=setup.event.pk, seat_ids=setup.seat_ids[:1])
    client.force_login(buyer)
    url = reverse("orders:event_section_seats", args=[setup.event.pk, setup.section.pk])
    html = client.get(url).text
    start = html.rindex("<form", 0, html.index("seat-list-form"))
    form = html[start : html.index("</form>", start)]
    assert f'action="{reverse("orders:hold", args=[setup.event.pk])}"' in form
    assert f'name="next" value="{url}"' in form
    assert re.findall(r'<optgroup label="Row (\w)">', form) == ["A", "B"]
    assert len(re.findall(r'<option value="[0-9a-f-]{36}"', form)) == 9  # the held seat is not offered
    assert f'<option value="{setup.seat_ids[0]}"' not in form

    response = client.post(
        reverse("orders:hold", args=[setup.event.pk]),
        {"seat_ids": [str(setup.seat_ids[3]), str(setup.seat_ids[4])], "next": url},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == url
    held = inventory_selectors.holds_for_buyer(buyer_id=buyer.pk, event_id=setup.event.pk)
    assert {seat.id for seat in held} == set(setup.seat_ids[3:5])
    html = response.text
    assert f'<option value="{setup.seat_ids[3]}"' not in html
    assert "Your holds" in html and html.count(f"<li>{setup.section.name} · Row A, seat") == 2


def test_the_plain_seat_list_is_only_for_seated_sections_of_seat_map_events(client):
    standing = make_event(general=True)
    best = make_event(selection_mode="BEST_AVAILABLE")
    seated = make_event()
    for event, section in (
        (standing.event, standing.section),
        (best.event, best.section),
        (seated.event, standing.section),
    ):
        assert client.get(reverse("orders:event_section_seats", args=[event.pk, section.pk])).status_code == 404
