"""Reads for staff pages that combine domains: the sales table of an event (inventory counts, events names) and
its timelines (tickets sold per hour or day, admissions per five minutes and gate)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.db import connections
from django.db.models import Count, Sum

from core.ids import as_uuid
from core.timefmt import venue_zone
from events import selectors as events_selectors
from inventory import selectors as inventory_selectors
from orders import DB_ALIAS
from orders.contract import WaitingListStatus
from orders.models import Order, OrderLine, WaitingListEntry

COUNT_KEYS = ("available", "held", "sold", "listed", "checked_in", "blocked")


def event_sales_table(*, event_id: uuid.UUID, venue_id: uuid.UUID) -> dict[str, Any]:
    """Rows per section and tier, and totals, from one GROUP BY over the event's seats (seats_db)."""
    summary = inventory_selectors.event_sales_summary(event_id=event_id)
    sections, tiers = events_selectors.event_section_and_tier_names(event_id=event_id, venue_id=venue_id)
    rows = []
    for item in summary.get("sections") or []:
        row = {key: int(item.get(key) or 0) for key in COUNT_KEYS}
        row["revenue"] = Decimal(str(item.get("revenue") or 0))
        row["section"] = sections.get(as_uuid(item.get("section_id")), str(item.get("section_id") or "—"))
        row["tier"] = tiers.get(as_uuid(item.get("tier_id")), "—")
        row["total"] = sum(row[key] for key in COUNT_KEYS)
        # Tickets sold, whatever became of them since (at the gate already, or offered for resale): what revenue
        # counts, so what "Sold" shows.
        row["issued"] = row["sold"] + row["listed"] + row["checked_in"]
        rows.append(row)
    rows.sort(key=lambda r: (r["section"], r["tier"]))
    totals = {key: sum(r[key] for r in rows) for key in (*COUNT_KEYS, "total", "issued")}
    totals["revenue"] = sum((r["revenue"] for r in rows), Decimal("0"))
    totals["sold_percent"] = (
        round(100 * (totals["sold"] + totals["checked_in"] + totals["listed"]) / totals["total"], 1)
        if totals["total"]
        else 0
    )
    return {"rows": rows, "totals": totals, "section_names": sections, "tier_names": tiers}


def event_waiting_counts(*, event_id: uuid.UUID) -> dict[uuid.UUID | None, tuple[int, int]]:
    """section_id (None: the whole event or a price tier) -> (people waiting, places they want), in one query."""
    rows = (
        WaitingListEntry.objects.using(DB_ALIAS)
        .filter(event_id=event_id, status=WaitingListStatus.WAITING)
        .values("section_id")
        .annotate(people=Count("id"), places=Sum("quantity"))
    )
    return {row["section_id"]: (row["people"], row["places"]) for row in rows}


def event_waiting_lines(*, event_id: uuid.UUID, section_names: dict) -> list[dict[str, Any]]:
    """Who waits for what ("412 people wait for Stalls"): one orders_db GROUP BY over the event's waiting entries."""
    counts = event_waiting_counts(event_id=event_id)
    lines = [
        {
            "section": section_names.get(section_id, "a section") if section_id else "any place",
            "people": people,
            "places": places,
        }
        for section_id, (people, places) in counts.items()
    ]
    return sorted(lines, key=lambda line: (-line["people"], line["section"]))


# Sales are drawn per hour while the on-sale spans up to this many hours, per day beyond.
HOURLY_SALES_SPAN_HOURS = 96


def event_sales_timeline(*, event_id: uuid.UUID, timezone_name: str) -> dict[str, Any]:
    """Tickets still valid, by when they were bought: ``{"unit": "hour"|"day", "points": [(start, tickets,
    revenue)], "by_tier": {start: {tier_id: tickets}}, "by_section": {start: {section_id: tickets}}}`` with local
    (venue time) bucket starts, oldest first.

    One pass over the event's confirmed orders and their active lines (order_event_status_idx), and one over its
    places for their sections and price tiers (seats_db); a refunded ticket leaves the hour it was bought in, so the
    bars add up to the dashboard's "Sold". The dashboard caches it (DASHBOARD_CHARTS_SECONDS).
    """
    zone = venue_zone(timezone_name)
    with connections[DB_ALIAS].cursor() as cursor:
        cursor.execute(
            "SELECT date_trunc('hour', o.confirmed_at AT TIME ZONE %s), l.seat_id::text, l.price "  # noqa: S608 - fixed SQL, values are parameters
            f"FROM {Order._meta.db_table} o JOIN {OrderLine._meta.db_table} l ON l.order_id = o.id "
            "WHERE o.event_id = %s AND o.status = 'CONFIRMED' AND l.is_active",
            [getattr(zone, "key", "UTC"), event_id],
        )
        sold = cursor.fetchall()
    place_of = inventory_selectors.event_seat_sections_and_tiers(event_id=event_id) if sold else {}
    hours = _sales_buckets((start, place_of.get(seat_id, (None, None)), price) for start, seat_id, price in sold)
    if not hours or max(hours) - min(hours) <= dt.timedelta(hours=HOURLY_SALES_SPAN_HOURS):
        return _sales_timeline("hour", hours, dt.timedelta(hours=1))
    days: dict[dt.datetime, list] = {}
    for start, (count, revenue, *splits) in hours.items():
        day = days.setdefault(start.replace(hour=0), [0, Decimal("0"), {}, {}])
        day[0] += count
        day[1] += revenue
        for split, into in zip(splits, day[2:], strict=True):
            for key, tickets in split.items():
                into[key] = into.get(key, 0) + tickets
    return _sales_timeline("day", days, dt.timedelta(days=1))


def _sales_buckets(sales) -> dict[dt.datetime, list]:
    """(bucket start, (section, tier), price) of each ticket -> {start: [tickets, revenue, {tier: tickets},
    {section: tickets}]}."""
    buckets: dict[dt.datetime, list] = {}
    for start, (section, tier), price in sales:
        bucket = buckets.setdefault(start, [0, Decimal("0"), {}, {}])
        bucket[0] += 1
        bucket[1] += price
        bucket[2][tier] = bucket[2].get(tier, 0) + 1
        bucket[3][section] = bucket[3].get(section, 0) + 1
    return buckets


def _sales_timeline(unit: str, buckets: dict[dt.datetime, list], step: dt.timedelta) -> dict[str, Any]:
    points = _filled([(start, count, revenue) for start, (count, revenue, *_) in sorted(buckets.items())], step)
    return {
        "unit": unit,
        "points": points,
        "by_tier": {start: bucket[2] for start, bucket in buckets.items()},
        "by_section": {start: bucket[3] for start, bucket in buckets.items()},
    }


# Admissions are drawn for at most this many five-minute buckets (the latest eight hours).
ENTRY_BUCKETS_SHOWN = 96


def event_entries_timeline(*, event_id: uuid.UUID, timezone_name: str) -> dict[str, Any]:
    """Admissions per five minutes and gate, in venue time: ``{"gates": [...], "points": [(start, {gate: n})],
    "admitted": total}`` for the latest ENTRY_BUCKETS_SHOWN buckets, empty buckets included."""
    zone = venue_zone(timezone_name)
    rows = inventory_selectors.event_entries_timeline(event_id=event_id)
    gates = sorted({gate for _, gate, _ in rows})
    by_bucket: dict[dt.datetime, dict[str, int]] = {}
    for bucket, gate, count in rows:
        by_bucket.setdefault(bucket, {})[gate] = int(count)
    points: list[tuple[dt.datetime, dict[str, int]]] = []
    if by_bucket:
        step = dt.timedelta(minutes=inventory_selectors.ENTRY_BUCKET_MINUTES)
        last = max(by_bucket)
        start = max(min(by_bucket), last - step * (ENTRY_BUCKETS_SHOWN - 1))
        while start <= last:
            points.append((start.astimezone(zone), by_bucket.get(start, {})))
            start += step
    return {"gates": gates, "points": points, "admitted": sum(int(count) for _, _, count in rows)}


def _filled(
    points: list[tuple[dt.datetime, int, Decimal]], step: dt.timedelta
) -> list[tuple[dt.datetime, int, Decimal]]:
    """The points with the empty buckets between them (local wall-clock steps; a quiet night shows as zeros)."""
    if not points:
        return []
    known = {start: (count, revenue) for start, count, revenue in points}
    filled = []
    start, last = points[0][0], points[-1][0]
    while start <= last:
        count, revenue = known.get(start, (0, Decimal("0")))
        filled.append((start, count, revenue))
        start += step
    return filled
