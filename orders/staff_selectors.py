"""Reads for staff pages that combine domains: the sales table of an event (inventory counts, events names)."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from core.ids import as_uuid
from events import selectors as events_selectors
from inventory import selectors as inventory_selectors

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
    return {"rows": rows, "totals": totals}
