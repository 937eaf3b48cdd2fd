"""The sales dashboard's charts: tickets sold per hour or day in venue time, admissions per five minutes and gate."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from core.databases import ALL_DATABASES
from events.tests.staff_world import buy
from inventory.models import EntryLog, Seat
from inventory.tests.factories import EntryLogFactory
from orders.admin.charts import _nice_ceiling, entries_chart, sales_chart
from orders.models import Order, OrderLine
from orders.services import order_refund_tickets
from orders.staff_selectors import event_entries_timeline, event_sales_timeline

BERLIN = "Europe/Berlin"
NOON_UTC = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)  # 12:00 in Berlin (summer time)


def _confirmed_at(order_id, when: dt.datetime) -> None:
    Order.objects.using("orders").filter(pk=order_id).update(confirmed_at=when)


def _admitted(tenant, *, gate: str, at: dt.datetime, result=EntryLog.Result.SUCCESS, seat_id=None) -> None:
    log = EntryLogFactory(
        event_id=tenant.event.pk, organization_id=tenant.organization.pk, gate=gate, result=result, seat_id=seat_id
    )
    EntryLog.objects.using("seats").filter(pk=log.pk).update(created_at=at)


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_sales_per_venue_hour_count_tickets_still_valid_with_the_quiet_hours_between(world):
    ours, theirs = world
    _confirmed_at(ours.order_id, NOON_UTC + dt.timedelta(minutes=20))  # 2 tickets at 12:20 Berlin
    later = buy(buyer=ours.buyer, event_id=ours.event.pk, seat_ids=ours.seat_ids[5:8])
    _confirmed_at(later, NOON_UTC + dt.timedelta(hours=3, minutes=5))  # 3 tickets at 15:05 Berlin
    order_refund_tickets(order_id=later, seat_ids=ours.seat_ids[5:6], actor_id=ours.owner.pk, reason="Double booked")

    timeline = event_sales_timeline(event_id=ours.event.pk, timezone_name=BERLIN)

    assert timeline["unit"] == "hour"
    assert [(start.hour, count) for start, count, _ in timeline["points"]] == [(12, 2), (13, 0), (14, 0), (15, 2)]
    assert [str(revenue) for *_, revenue in timeline["points"]] == ["50.00", "0", "0", "50.00"]
    assert event_sales_timeline(event_id=theirs.event.pk, timezone_name=BERLIN)["points"][0][1] == 2


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_an_on_sale_of_more_than_four_days_is_drawn_per_day(world):
    ours, _ = world
    _confirmed_at(ours.order_id, NOON_UTC)
    later = buy(buyer=ours.buyer, event_id=ours.event.pk, seat_ids=ours.seat_ids[5:6])
    _confirmed_at(later, NOON_UTC + dt.timedelta(days=6))

    timeline = event_sales_timeline(event_id=ours.event.pk, timezone_name="nowhere/unknown")

    assert timeline["unit"] == "day"
    assert [count for _, count, _ in timeline["points"]] == [2, 0, 0, 0, 0, 0, 1]
    assert timeline["points"][0][0] == dt.datetime(2026, 6, 1)  # an unknown zone is read as UTC


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_entries_per_five_minutes_and_gate_leave_out_refusals_and_other_events(world):
    ours, theirs = world
    EntryLog.objects.using("seats").filter(event_id=ours.event.pk).delete()
    _admitted(ours, gate="North", at=NOON_UTC + dt.timedelta(minutes=1), seat_id=ours.seat_ids[0])
    _admitted(ours, gate="South", at=NOON_UTC + dt.timedelta(minutes=4), seat_id=ours.seat_ids[1])
    _admitted(ours, gate="North", at=NOON_UTC + dt.timedelta(minutes=16), seat_id=ours.seat_ids[2])
    _admitted(ours, gate="North", at=NOON_UTC + dt.timedelta(minutes=17), result=EntryLog.Result.DUPLICATE)
    _admitted(theirs, gate="North", at=NOON_UTC + dt.timedelta(minutes=2), seat_id=theirs.seat_ids[0])

    timeline = event_entries_timeline(event_id=ours.event.pk, timezone_name=BERLIN)

    assert timeline["gates"] == ["North", "South"] and timeline["admitted"] == 3
    assert [(start.strftime("%H:%M"), per_gate) for start, per_gate in timeline["points"]] == [
        ("12:00", {"North": 1, "South": 1}),
        ("12:05", {}),
        ("12:10", {}),
        ("12:15", {"North": 1}),
    ]
    chart = entries_chart(timeline, ticket_holders=4)
    assert chart.summary == "3 of 4 ticket-holders in (75.0 %)"
    assert [bar.title for bar in chart.bars] == [
        "12:00 · North · 1 admitted",
        "12:00 · South · 1 admitted",
        "12:15 · North · 1 admitted",
    ]
    first, second = chart.bars[:2]
    assert second.y + second.height == pytest.approx(first.y, abs=0.2)  # South stacked on North, not over it


def test_bars_are_scaled_to_a_round_axis_and_stack_without_overlap():
    points = [(dt.datetime(2026, 6, 1, hour), count, 0) for hour, count in ((9, 3), (10, 7), (11, 0))]
    chart = sales_chart({"unit": "hour", "points": points})
    assert [tick.text for tick in chart.y_ticks] == ["0", "5", "10"]  # 7 tickets at most: the axis reads 0-10
    tall, short = sorted(chart.bars, key=lambda bar: -bar.height)
    assert tall.height == pytest.approx(short.height * 7 / 3, rel=0.01)
    assert all(bar.y + bar.height == pytest.approx(chart.baseline, abs=0.2) for bar in chart.bars)
    assert len(chart.bars) == 2  # an empty hour keeps its slot but draws nothing
    assert [_nice_ceiling(v) for v in (1, 3, 7, 12, 180, 50_001)] == [1, 5, 10, 20, 200, 100_000]
    assert sales_chart({"unit": "hour", "points": []}).is_empty


def test_the_days_and_months_under_the_bars_are_in_the_page_language():
    points = [(dt.datetime(2026, 3, day), 2, 0) for day in (2, 3)]  # Monday and Tuesday, 2 and 3 March
    with translation.override("en"):
        english = sales_chart({"unit": "day", "points": points})
    with translation.override("de"):
        german = sales_chart({"unit": "day", "points": points})
    assert [tick.text for tick in english.x_ticks] == ["02 Mar", "03 Mar"]
    assert [tick.text for tick in german.x_ticks] == ["02 Mär", "03 Mär"]
    assert english.bars[0].title.startswith("Mon 02 Mar")
    assert german.bars[0].title.startswith("Mo 02 Mär")


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_dashboard_and_its_refresh_draw_both_charts(client, world):
    ours, _ = world
    _confirmed_at(ours.order_id, NOON_UTC)
    EntryLog.objects.using("seats").filter(event_id=ours.event.pk).update(result=EntryLog.Result.SUCCESS)
    client.force_login(ours.staff["BOX_OFFICE"])
    url = reverse("admin:events_event_dashboard", args=[ours.event.pk])
    for response in (client.get(url), client.get(url + "?fragment=1")):
        page = response.content.decode()
        assert response.status_code == 200
        assert page.count("<svg viewBox") == 2
        assert "Tickets sold per hour" in page and "Entries per five minutes" in page
        assert re.search(r"<title>01 Jun 10:00 · 2 tickets · 50\.00</title>", page)
        assert "1 of 2 ticket-holders in (50.0 %)" in page and f"Gate {ours.label}" in page


@pytest.mark.django_db(databases=ALL_DATABASES)
def test_the_tickets_of_each_hour_are_split_by_the_price_tier_of_their_places(world):
    ours, _ = world
    _confirmed_at(ours.order_id, NOON_UTC)
    tier_of = dict(Seat.objects.filter(event_id=ours.event.pk).values_list("id", "tier_id"))

    timeline = event_sales_timeline(event_id=ours.event.pk, timezone_name=BERLIN)

    (start, count, _), *_ = timeline["points"]
    sold = OrderLine.objects.using("orders").filter(order_id=ours.order_id, is_active=True)
    expected: dict = {}
    for line in sold:
        expected[tier_of[line.seat_id]] = expected.get(tier_of[line.seat_id], 0) + 1
    assert timeline["by_tier"][start] == expected and sum(expected.values()) == count


def test_an_event_of_several_tiers_stacks_each_hour_by_tier_with_a_legend():
    stalls, circle = uuid.uuid4(), uuid.uuid4()
    nine, ten = dt.datetime(2026, 6, 1, 9), dt.datetime(2026, 6, 1, 10)
    timeline = {
        "unit": "hour",
        "points": [(nine, 3, Decimal("90.00")), (ten, 1, Decimal("20.00"))],
        "by_tier": {nine: {stalls: 2, circle: 1}, ten: {circle: 1}},
    }
    chart = sales_chart(timeline, names={stalls: "Stalls", circle: "Circle"})
    assert chart.title == "Tickets sold per hour, by price tier"
    assert [name for name, _ in chart.legend] == ["Circle", "Stalls"]
    assert [bar.title for bar in chart.bars] == [
        "01 Jun 09:00 · Circle · 1 tickets",
        "01 Jun 09:00 · Stalls · 2 tickets",
        "01 Jun 10:00 · Circle · 1 tickets",
    ]
    circle_nine, stalls_nine = chart.bars[:2]
    assert stalls_nine.y + stalls_nine.height == pytest.approx(circle_nine.y, abs=0.2)  # stacked, not overlapping
    single = sales_chart({**timeline, "by_tier": {nine: {stalls: 3}, ten: {stalls: 1}}}, names={})
    assert single.legend == [] and len(single.bars) == 2  # one tier: plain bars, as before


def test_sections_beyond_the_palette_are_drawn_together_as_other():
    nine = dt.datetime(2026, 6, 1, 9)
    sections = {uuid.uuid4(): f"Block {index:02}" for index in range(10)}
    split = {nine: {section: index + 1 for index, section in enumerate(sections)}}  # Block 09 sold the most
    chart = sales_chart(
        {"unit": "hour", "points": [(nine, 55, Decimal("0"))], "by_section": split},
        split="by_section",
        names=sections,
        what="section",
    )
    assert chart.title == "Tickets sold per hour, by section"
    assert [name for name, _ in chart.legend] == [f"Block {index:02}" for index in range(9, 2, -1)][::-1] + ["other"]
    assert chart.bars[-1].title == "01 Jun 09:00 · other · 6 tickets"  # Blocks 00-02: 1 + 2 + 3
    assert sum(int(bar.title.split(" · ")[-1].split()[0]) for bar in chart.bars) == 55
