"""Admin operations end to end through the admin pages: seat grid, event set-up, publish, dashboard, cancel,
refunds. Each goes through the services and leaves an audit row."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from core.databases import ALL_DATABASES
from core.models import AuditLog
from events import selectors as events_selectors
from events.forms import EventSectionInlineForm
from events.models import Event, EventSection, PriceTier
from events.tests.factories import SectionFactory, VenueFactory
from inventory.models import Seat
from orders.models import Order, StaffOperation
from orders.tests.jobs_helpers import run_queued_operations


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_manager_generates_a_seat_grid_and_sees_its_svg_preview(client, world):
    ours, _ = world
    section = SectionFactory(venue=ours.venue, name="Balcony", layout={}, capacity=0)
    client.force_login(ours.staff["MANAGER"])
    url = reverse("admin:events_section_grid", args=[section.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "kind": "SEATED",
            "rows": "3",
            "seats_per_row": "8",
            "row_labels": "letters",
            "direction": "RTL",
            "aisles_after": "4",
            "accessible": "A1 A2",
        },
    )
    assert response.status_code == 302
    section.refresh_from_db()
    assert section.capacity == 24 and section.layout["generator"]["direction"] == "RTL"
    page = client.get(reverse("admin:events_section_change", args=[section.pk])).content.decode()
    assert page.count('class="acc"') == 2 and page.count('class="seat"') == 22 and "<svg" in page
    assert AuditLog.objects.filter(action="section.generate_grid", actor=ours.staff["MANAGER"]).exists()


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_grid_form_shows_readable_errors_and_changes_nothing(client, world):
    ours, _ = world
    client.force_login(ours.staff["MANAGER"])
    url = reverse("admin:events_section_grid", args=[ours.section.pk])
    response = client.post(url, {"kind": "SEATED", "rows": "", "seats_per_row": "5", "row_labels": "letters"})
    assert response.status_code == 200 and "Required for a seated grid" in response.content.decode()
    # The section is sold by a published event: regenerating is refused with the reason.
    response = client.post(
        url, {"kind": "SEATED", "rows": "2", "seats_per_row": "2", "row_labels": "letters", "direction": "LTR"}
    )
    assert "published event" in response.content.decode()
    ours.section.refresh_from_db()
    assert ours.section.capacity == 15


def _event_form(ours, venue, *, title: str, slug: str, tiers: list[dict] = (), **fields) -> dict:
    """The admin's add-event form of ``ours``'s organization at ``venue``, starting 2031-05-01 20:00, with ``tiers``
    in its price-tier inline."""
    data = {
        "organization": str(ours.organization.pk),
        "venue": str(venue.pk),
        "title": title,
        "slug": slug,
        **fields,
        "selection_mode": "SEATMAP",
        "starts_at_0": "2031-05-01",
        "starts_at_1": "20:00:00",
        "tiers-TOTAL_FORMS": str(len(tiers)),
        "tiers-INITIAL_FORMS": "0",
    }
    for index, tier in enumerate(tiers):
        data.update({f"tiers-{index}-{name}": value for name, value in tier.items()})
    return data


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_manager_sets_up_and_publishes_an_event_from_the_admin(client, world):
    ours, _ = world
    client.force_login(ours.staff["MANAGER"])
    standard = {"name": "Standard", "price": "19.50", "colour": "#3b82f6", "sort_order": "0"}
    add = client.post(
        reverse("admin:events_event_add"),
        _event_form(ours, ours.venue, title="Late Show", slug="late-show", tiers=[standard], description=""),
    )
    assert add.status_code == 302, add.content.decode()[:2000]
    event = Event.objects.get(slug="late-show")
    tier = PriceTier.objects.get(event=event)
    EventSection.objects.create(event=event, section=ours.section, tier=tier)
    page = client.get(reverse("admin:events_event_publish", args=[event.pk]))
    assert page.status_code == 200 and "15" in page.content.decode()
    response = client.post(reverse("admin:events_event_publish", args=[event.pk]), follow=True)
    assert "publish started; it runs in the background" in response.content.decode()
    assert "/operations/" in response.redirect_chain[-1][0]  # the live progress page
    assert run_queued_operations() == ["SUCCEEDED"]  # what a worker does
    event.refresh_from_db()
    assert event.status == Event.Status.PUBLISHED and (event.inventory_created, event.inventory_total) == (15, 15)
    assert Seat.objects.filter(event_id=event.pk, price=Decimal("19.50")).count() == 15
    # Publishing again (the action on the changelist this time, confirmed on its page) creates nothing new.
    confirm = client.post(
        reverse("admin:events_event_changelist"),
        {"action": "publish_selected", ACTION_CHECKBOX_NAME: [str(event.pk)]},
    )
    assert confirm.status_code == 200 and "Publish 1 event" in confirm.content.decode()
    done = client.post(reverse("admin:events_event_publish_many"), {"event_ids": [str(event.pk)]}, follow=True)
    assert "publish started" in done.content.decode()
    assert run_queued_operations() == ["SUCCEEDED"]
    assert StaffOperation.objects.order_by("-created_at").first().result == {"created": 0, "total": 15}
    assert Seat.objects.filter(event_id=event.pk).count() == 15


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_the_publish_preview_counts_places_in_the_database_as_the_model_does(world):
    ours, _ = world
    tier = PriceTier.objects.create(event=ours.event, name="Floor", price=Decimal("9.00"))
    standing = SectionFactory(venue=ours.venue, name="Pit", kind="GENERAL", layout={}, capacity=300)
    empty = SectionFactory(venue=ours.venue, name="Unplanned", layout={}, capacity=0)
    EventSection.objects.create(event=ours.event, section=standing, tier=tier, capacity_override=250)
    EventSection.objects.create(event=ours.event, section=empty, tier=tier)
    links = EventSection.objects.filter(event=ours.event, is_active=True).select_related("section")
    expected = {link.section.name: link.places for link in links}
    previewed = {row.name: row.places for row in events_selectors.event_sections_for_sale(event_id=ours.event.pk)}
    assert previewed == expected and expected["Pit"] == 250 and expected["Unplanned"] == 0
    assert expected[ours.section.name] > 0


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_event_form_refuses_a_venue_of_another_organization(client, world):
    ours, theirs = world
    client.force_login(ours.staff["OWNER"])
    form = _event_form(ours, theirs.venue, title="Sneaky", slug="sneaky")
    response = client.post(reverse("admin:events_event_add"), form)
    assert response.status_code == 200
    assert not Event.objects.filter(slug="sneaky").exists()


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_event_section_inline_offers_only_this_venues_sections(client, world):
    ours, theirs = world
    client.force_login(ours.staff["MANAGER"])
    page = client.get(reverse("admin:events_event_change", args=[ours.event.pk])).content.decode()
    assert ours.section.name in page and theirs.section.name not in page


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_an_attached_section_row_offers_only_its_own_section_and_a_new_row_every_section(client, world):
    """A stadium has dozens of sections: every section on every row made its event page seconds to render."""
    ours, _ = world
    tier = PriceTier.objects.filter(event=ours.event).first() or PriceTier.objects.create(
        event=ours.event, name="Extra", price=Decimal("5.00")
    )
    for index in range(3):
        section = SectionFactory(venue=ours.venue, name=f"Block {index}")
        EventSection.objects.create(event=ours.event, section=section, tier=tier)
    attached = EventSection.objects.filter(event=ours.event).count()
    venue_sections = ours.venue.sections.count()
    client.force_login(ours.staff["MANAGER"])
    page = client.get(reverse("admin:events_event_change", args=[ours.event.pk])).content.decode()
    selects = dict(re.findall(r'<select name="([\w-]+-(?:\d+|__prefix__)-section)"[^>]*>(.*?)</select>', page, re.S))
    options = {name.split("-")[-2]: body.count("<option") for name, body in selects.items()}
    existing = [options.pop(str(index)) for index in range(attached)]
    assert existing == [1] * attached, existing
    # The empty row and the template for more rows: every section of the venue, and "-----".
    assert options and set(options.values()) == {venue_sections + 1}, options


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_an_attached_section_stays_the_same_whatever_the_form_posts(world):
    ours, _ = world
    link = EventSection.objects.filter(event=ours.event).first()
    other = SectionFactory(venue=ours.venue, name="Other block")
    data = {"section": str(other.pk), "tier": str(link.tier_id), "is_active": "on"}
    form = EventSectionInlineForm(data=data, instance=link)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["section"] == link.section
    new = EventSectionInlineForm(data=data, instance=EventSection(event=ours.event))
    assert new.is_valid(), new.errors
    assert new.cleaned_data["section"] == other


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_a_section_on_sale_keeps_its_tier_whatever_the_form_posts(world):
    ours, _ = world
    link = EventSection.objects.filter(event=ours.event).select_related("event").first()
    dearer = PriceTier.objects.create(event=ours.event, name="Dearer", price=link.tier.price + 10)
    data = {"section": str(link.section_id), "tier": str(dearer.pk), "is_active": "on"}
    Event.objects.filter(pk=ours.event.pk).update(status="DRAFT")
    link.event.refresh_from_db()
    draft = EventSectionInlineForm(data=data, instance=link)
    assert draft.is_valid() and draft.cleaned_data["tier"] == dearer  # before publishing, tiers are set up freely
    Event.objects.filter(pk=ours.event.pk).update(status="PUBLISHED")
    link.event.refresh_from_db()
    published = EventSectionInlineForm(data=data, instance=link)
    assert published.is_valid(), published.errors
    assert published.cleaned_data["tier"] == link.tier  # its places carry their price: reprice changes it


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_dashboard_shows_sold_held_available_and_revenue(client, world):
    ours, _ = world
    client.force_login(ours.staff["BOX_OFFICE"])
    response = client.get(reverse("admin:events_event_dashboard", args=[ours.event.pk]))
    assert response.status_code == 200
    table = response.context["table"]
    assert table["totals"]["sold"] == 2 and table["totals"]["available"] == 13
    assert table["totals"]["revenue"] == Decimal("50.00")
    assert table["rows"][0]["section"] == ours.section.name and table["rows"][0]["tier"] == "Standard"
    fragment = client.get(reverse("admin:events_event_dashboard", args=[ours.event.pk]) + "?fragment=1")
    assert fragment.status_code == 200 and b"<html" not in fragment.content and b"sales-table" in fragment.content


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_gate_staff_cannot_open_the_dashboard_or_publish(client, world):
    ours, _ = world
    client.force_login(ours.staff["GATE"])
    assert client.get(reverse("admin:events_event_dashboard", args=[ours.event.pk])).status_code == 404
    client.force_login(ours.staff["BOX_OFFICE"])
    assert client.get(reverse("admin:events_event_publish", args=[ours.event.pk])).status_code == 404
    assert client.post(reverse("admin:events_event_cancel", args=[ours.event.pk]), {"reason": "x"}).status_code == 404


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_cancel_needs_reason_and_confirmation_then_refunds_everything(client, world):
    ours, _ = world
    client.force_login(ours.staff["MANAGER"])
    url = reverse("admin:events_event_cancel", args=[ours.event.pk])
    response = client.post(url, {"reason": "", "confirm": "on"})
    assert response.status_code == 200 and Event.objects.get(pk=ours.event.pk).status == "PUBLISHED"
    response = client.post(url, {"reason": "Rain"})
    assert response.status_code == 200 and Event.objects.get(pk=ours.event.pk).status == "PUBLISHED"
    response = client.post(url, {"reason": "Rain", "confirm": "on"}, follow=True)
    assert "cancel and refund started" in response.content.decode()
    assert Event.objects.get(pk=ours.event.pk).status == "CANCELLED"  # sales stop with the request itself
    assert run_queued_operations() == ["SUCCEEDED"]
    event = Event.objects.get(pk=ours.event.pk)
    assert event.status == "CANCELLED" and (event.refunds_done, event.refunds_total) == (1, 1)
    assert Order.objects.get(pk=ours.order_id).status == "REFUNDED"


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_box_office_refunds_an_order_with_a_reason(client, world):
    ours, _ = world
    client.force_login(ours.staff["BOX_OFFICE"])
    changelist = reverse("admin:orders_order_changelist")
    data = {"action": "refund_orders", ACTION_CHECKBOX_NAME: [str(ours.order_id)]}
    page = client.post(changelist, data)
    assert page.status_code == 200 and "Refund 1 order(s)" in page.content.decode()
    page = client.post(changelist, {**data, "apply": "1", "reason": "  "})
    assert page.status_code == 200 and Order.objects.get(pk=ours.order_id).status == "CONFIRMED"
    response = client.post(changelist, {**data, "apply": "1", "reason": "Double booking"}, follow=True)
    assert "Refunded 1 order(s)" in response.content.decode()
    order = Order.objects.get(pk=ours.order_id)
    assert order.status == "REFUNDED" and order.refund_reason == "Double booking"
    ours.buyer.refresh_from_db()
    assert ours.buyer.credit_balance == Decimal("200.00")


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_order_search_finds_by_buyer_email_and_order_id(client, world):
    ours, _ = world
    client.force_login(ours.staff["BOX_OFFICE"])
    changelist = reverse("admin:orders_order_changelist")
    for term in ("buyer-a@example.com", "BUYER-A@example.com", str(ours.order_id)):
        response = client.get(changelist, {"q": term})
        assert [o.pk for o in response.context["cl"].result_list] == [ours.order_id], term
    assert list(client.get(changelist, {"q": "nobody@example.com"}).context["cl"].result_list) == []


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_soft_deleting_a_venue_keeps_it_for_staff(client, world):
    ours, _ = world
    client.force_login(ours.staff["MANAGER"])
    venue = VenueFactory(organization=ours.organization, name="Old barn")
    response = client.post(reverse("admin:events_venue_delete", args=[venue.pk]), {"post": "yes"})
    assert response.status_code == 302
    venue.refresh_from_db()
    assert venue.deleted_at is not None
    deleted = client.get(reverse("admin:events_venue_changelist"), {"deleted": "yes"})
    assert venue.pk in [v.pk for v in deleted.context["cl"].result_list]
    live = client.get(reverse("admin:events_venue_changelist"))
    assert venue.pk not in [v.pk for v in live.context["cl"].result_list]


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_a_venue_with_events_is_protected_from_deletion(client, world):
    ours, _ = world
    client.force_login(ours.staff["MANAGER"])
    response = client.post(reverse("admin:events_venue_delete", args=[ours.venue.pk]), {"post": "yes"})
    assert response.status_code == 200 and "protected" in response.content.decode().lower()
    ours.venue.refresh_from_db()
    assert ours.venue.deleted_at is None


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_event_page_offers_operations_only_to_roles_that_may_use_them(client, world):
    ours, _ = world
    url = reverse("admin:events_event_change", args=[ours.event.pk])
    client.force_login(ours.staff["MANAGER"])
    page = client.get(url).content.decode()
    assert "Re-sync inventory…" in page and "Cancel event…" in page and "Sales dashboard" in page
    client.force_login(ours.staff["BOX_OFFICE"])
    page = client.get(url).content.decode()
    assert "Re-sync inventory…" not in page and "Cancel event…" not in page
    assert reverse("admin:events_event_dashboard", args=[ours.event.pk]) in page


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_plain_admin_edits_are_written_to_the_audit_log_with_the_organization(client, world):
    ours, _ = world
    client.force_login(ours.staff["MANAGER"])
    response = client.post(
        reverse("admin:events_venue_change", args=[ours.venue.pk]),
        {
            "organization": str(ours.organization.pk),
            "name": "Hall A (renovated)",
            "address": "1 Quay",
            "city": "Springfield",
            "timezone": "UTC",
        },
    )
    assert response.status_code == 302
    entry = AuditLog.objects.get(action="venue.change", object_id=str(ours.venue.pk))
    assert entry.actor == ours.staff["MANAGER"] and entry.organization_id == ours.organization.pk
    assert "Name" in entry.data["change"] or "name" in entry.data["change"]
