"""Pages and emails in the buyer's language: German when the browser or the switcher asks for it, English by
default; times in the venue's zone with its abbreviation, amounts with the language's separators."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.models import User
from core import moneyfmt, timefmt
from core.databases import ALL_DATABASES
from events.models import Venue
from events.tests.staff_world import make_tenant
from orders import services
from orders.contract import NotificationKind
from orders.notifications.delivery import render_message

pytestmark = pytest.mark.django_db(databases=ALL_DATABASES)

# 18:30 UTC on a March Sunday: 19:30 CET in Berlin (winter time).
STARTS = dt.datetime(2027, 3, 14, 18, 30, tzinfo=dt.UTC)
GERMAN = {"HTTP_ACCEPT_LANGUAGE": "de-DE,de;q=0.9"}


@pytest.fixture
def tenant():
    tenant = make_tenant("L")
    Venue.objects.using("events").filter(pk=tenant.venue.pk).update(timezone="Europe/Berlin")
    type(tenant.event).objects.using("events").filter(pk=tenant.event.pk).update(
        starts_at=STARTS, doors_at=STARTS - dt.timedelta(minutes=30), ends_at=None
    )
    return tenant


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_pages_are_english_by_default(tenant):
    page = _text(Client().get(reverse("orders:event", args=[tenant.event.pk])))
    assert '<html lang="en">' in page
    assert "Sections and prices" in page and "Sun 14 Mar 2027, 19:30 CET" in page
    assert "Bereiche" not in page and "Veranstaltungen" not in page


def test_the_browser_language_turns_the_buyer_pages_german(tenant):
    buyer = _signed_in(tenant.buyer)
    event_list = _text(Client().get(reverse("events:list"), **GERMAN))
    assert '<html lang="de">' in event_list
    assert "<h1>Veranstaltungen</h1>" in event_list and "1 Veranstaltung" in event_list
    assert "So, 14. Mär 2027, 19:30 CET" in event_list

    event_page = _text(Client().get(reverse("orders:event", args=[tenant.event.pk]), **GERMAN))
    assert "Bereiche und Preise" in event_page and "Einlass 19:00 CET" in event_page
    assert "25,00" in event_page  # the tier's price with a decimal comma

    services.hold_seats(buyer_id=tenant.buyer.pk, event_id=tenant.event.pk, seat_ids=tenant.seat_ids[2:3])
    checkout = _text(buyer.get(reverse("orders:checkout"), {"event": tenant.event.pk}, **GERMAN))
    assert "<h1>Kasse</h1>" in checkout and "25,00 Credits bezahlen" in checkout

    ticket = _text(buyer.get(reverse("orders:ticket_detail", args=[tenant.seat_ids[0]]), **GERMAN))
    assert "Zeigen Sie diesen Code am Einlass" in ticket and "So, 14. Mär 2027, 19:30 CET" in ticket
    # The expiry of the code, to the second, in the venue's zone with its abbreviation.
    assert re.search(r'id="qr-expiry"[^>]*>\d\d:\d\d:\d\d CE[S]?T<', ticket)

    orders = _text(buyer.get(reverse("orders:list"), **GERMAN))
    assert "Ihre Bestellungen" in orders and "50,00" in orders


def test_the_gate_page_is_german_with_the_time_of_a_scan_in_the_venue_zone(tenant):
    staff = _signed_in(tenant.owner)
    choose = _text(staff.get(reverse("gate:home"), **GERMAN))
    assert "Einlasskontrolle" in choose and "So, 14. Mär 2027, 19:30 CET" in choose
    scan = _text(staff.get(reverse("gate:scan", args=[tenant.event.pk]), {"gate": "Nord 1"}, **GERMAN))
    assert "Ticket prüfen" in scan and "Scannen Sie ein Ticket oder fügen Sie seinen Code ein." in scan
    answer = staff.post(
        reverse("gate:scan", args=[tenant.event.pk]),
        {"gate": "Nord 1", "token": ""},
        HTTP_ACCEPT="application/json",
        **GERMAN,
    ).json()
    assert answer["headline"] == "Kein Code"
    assert re.fullmatch(r"\d\d:\d\d:\d\d CE[S]?T", answer["at"])


def test_the_staff_admin_pages_are_german_too(tenant):
    staff = _signed_in(tenant.owner)
    dashboard = _text(staff.get(reverse("admin:events_event_dashboard", args=[tenant.event.pk]), **GERMAN))
    assert '<html lang="de"' in dashboard
    assert "Exporte (Einlassliste, Bestellungen, Buchungen, Einlässe)" in dashboard
    assert "davon eingelassen" in dashboard and "Abendkasse" in dashboard and "Umsatz" in dashboard
    assert "Sales dashboard" not in dashboard and "of which checked in" not in dashboard

    box_office = _text(staff.get(reverse("admin:events_event_box_office", args=[tenant.event.pk]), **GERMAN))
    assert "Zahlung und Tickets" in box_office and 'value="Zahlung annehmen und verkaufen"' in box_office
    assert "Take payment and sell" not in box_office

    english = _text(staff.get(reverse("admin:events_event_box_office", args=[tenant.event.pk])))
    assert 'value="Take payment and sell"' in english and "Zahlung" not in english


def test_the_admin_names_models_fields_and_roles_in_german(tenant):
    """Names the admin derives from the models (titles, column headings, filters, choices) follow the language."""
    staff = _signed_in(tenant.owner)
    events = _text(staff.get(reverse("admin:events_event_changelist"), **GERMAN))
    assert "Veranstaltung zur Änderung auswählen" in events and "Nach Auswahlverfahren" in events
    assert ">Titel<" in events and ">Spielstätte<" in events and ">Organisation<" in events
    assert "Select event to change" not in events and "By selection mode" not in events and ">Venue<" not in events
    english = _text(staff.get(reverse("admin:events_event_changelist")))
    assert "Select event to change" in english and "By selection mode" in english and ">Venue<" in english

    members = _text(staff.get(reverse("admin:accounts_organizationmembership_changelist"), **GERMAN))
    assert ">Rolle<" in members and "Inhaber" in members and "Einlasskontrolle" in members


def test_service_errors_speak_the_request_language_and_keep_their_code(tenant):
    buyer = _signed_in(tenant.buyer)
    url = f"/api/v1/events/{tenant.event.pk}/holds/"
    body = {"seat_ids": [str(tenant.seat_ids[0])]}  # sold already
    german = buyer.post(url, body, content_type="application/json", **GERMAN)
    english = buyer.post(url, body, content_type="application/json")
    assert german.status_code == english.status_code == 409
    assert german.json()["code"] == english.json()["code"] == "SEAT_UNAVAILABLE"
    assert english.json()["detail"] == "One or more of these seats are no longer available."
    assert german.json()["detail"] == "Einer oder mehrere dieser Plätze sind nicht mehr verfügbar."


def test_the_switcher_sets_the_language_and_remembers_it_on_the_account(tenant):
    visitor = Client()
    # The switcher's form names no page to go back to: the Referer, query and all, is where the visitor was.
    response = visitor.post(reverse("set_language"), {"language": "de"}, HTTP_REFERER="http://testserver/?q=Show")
    assert response.status_code == 302 and response["Location"] == "http://testserver/?q=Show"
    assert "<h1>Veranstaltungen</h1>" in _text(visitor.get(reverse("events:list")))

    buyer = _signed_in(tenant.buyer)
    buyer.post(reverse("set_language"), {"language": "de", "next": "/"})
    assert User.objects.using("default").get(pk=tenant.buyer.pk).preferred_language == "de"
    # Another browser, signed in as the same person, with no cookie yet: German from the account.
    assert "Meine Tickets" in _text(_signed_in(tenant.buyer).get(reverse("orders:ticket_list")))
    # The switcher back to English wins over the account on this browser, and is remembered.
    buyer.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "My tickets" in _text(buyer.get(reverse("orders:ticket_list")))
    assert User.objects.using("default").get(pk=tenant.buyer.pk).preferred_language == "en"


def test_the_switcher_refuses_a_language_the_site_does_not_offer(tenant):
    buyer = _signed_in(tenant.buyer)
    buyer.post(reverse("set_language"), {"language": "xx", "next": "/"})
    assert User.objects.using("default").get(pk=tenant.buyer.pk).preferred_language == ""
    assert "<h1>Events</h1>" in _text(buyer.get(reverse("events:list")))


def test_every_buyer_page_offers_the_switcher(tenant):
    buyer = _signed_in(tenant.buyer)
    for url in (reverse("events:list"), reverse("orders:event", args=[tenant.event.pk]), reverse("orders:list")):
        page = _text(buyer.get(url))
        assert 'data-testid="language-switcher"' in page and 'action="/i18n/setlang/"' in page
        assert '<option value="de" lang="de">Deutsch</option>' in page


def test_emails_are_written_in_the_recipients_language(tenant):
    english = render_message(
        kind=NotificationKind.ORDER_CONFIRMED, object_id=tenant.order_id, recipient_id=tenant.buyer.pk
    )
    assert english.subject.startswith("Your tickets for Show L")
    assert "Sunday 14 March 2027, 19:30 CET" in english.body and "Total: 50.00 credits" in english.body

    User.objects.using("default").filter(pk=tenant.buyer.pk).update(preferred_language="de")
    german = render_message(
        kind=NotificationKind.ORDER_CONFIRMED, object_id=tenant.order_id, recipient_id=tenant.buyer.pk
    )
    assert german.subject.startswith("Ihre Tickets für Show L")
    assert "Sonntag, 14. März 2027, 19:30 CET" in german.body and "Gesamt: 50,00 Credits" in german.body
    html = german.alternatives[0][0]
    assert '<html lang="de">' in html and "Reihe A, Platz 1" in html
    # Rendering a German mail leaves the language of the code around it alone.
    assert translation.get_language() == settings.LANGUAGE_CODE


def test_amounts_and_times_follow_the_active_language():
    assert moneyfmt.money("195", "eur") == "€195.00" and moneyfmt.credits("1") == "1.00 credit"
    assert timefmt.venue_datetime(STARTS, "America/New_York") == "Sun 14 Mar 2027, 14:30 EDT"
    with translation.override("de"):
        assert moneyfmt.money("195", "eur") == "195,00 €"
        assert moneyfmt.credits("195.5") == "195,50 Credits"
        assert timefmt.venue_datetime(STARTS, "America/New_York") == "So, 14. Mär 2027, 14:30 EDT"
        assert timefmt.venue_clock(STARTS, "Europe/Berlin") == "19:30 CET"
