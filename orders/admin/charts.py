"""Bar charts of the sales dashboard, drawn on the server as SVG geometry that a template renders.

No charting library and no script: the figures arrive with the dashboard's table fragment, so they refresh with it
and read without JavaScript. Each bar carries a ``<title>`` (its bucket and figures) for hover and screen readers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.dateformat import format as date_format
from django.utils.translation import gettext, ngettext

WIDTH = 480
HEIGHT = 200
LEFT = 56  # room for the y-axis figures
BOTTOM = 34  # room for the x-axis labels
TOP = 10
MAX_SLOT = 60  # a few buckets stay bars, not walls
MAX_BAR = 40
# Distinct on white (>= 3:1) and from each other; a ninth gate and beyond share the last colour.
GATE_COLOURS = ("#1d4ed8", "#b45309", "#047857", "#7c3aed", "#be123c", "#0e7490", "#4d7c0f", "#525252")


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass(frozen=True)
class Tick:
    x: float
    y: float
    text: str


@dataclass
class Chart:
    title: str
    summary: str
    width: int = WIDTH
    height: int = HEIGHT
    bars: list[Bar] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)
    baseline: float = HEIGHT - BOTTOM
    left: int = LEFT

    @property
    def is_empty(self) -> bool:
        return not self.bars


def sales_chart(
    timeline: dict[str, Any], *, split: str = "by_tier", names: dict | None = None, what: str = "price tier"
) -> Chart:
    """Tickets sold per hour or day, one bar a bucket, stacked by ``split`` ("by_tier" or "by_section" of the
    timeline) when the tickets fall in more than one; the smallest beyond the palette are drawn together as
    "other"."""
    points: list[tuple[dt.datetime, int, Decimal]] = timeline["points"]
    unit = timeline["unit"]
    shares = _largest_shares(timeline.get(split, {}), names or {})
    total = sum(count for _, count, _ in points)
    groups = sorted({group for share in shares.values() for group in share}, key=lambda group: (group == OTHER, group))
    colours = {group: GATE_COLOURS[min(index, len(GATE_COLOURS) - 1)] for index, group in enumerate(groups)}
    stacked = len(groups) > 1
    per = gettext("Tickets sold per hour") if unit == "hour" else gettext("Tickets sold per day")
    if unit == "hour":
        over = ngettext("%(total)s tickets over %(count)s hour", "%(total)s tickets over %(count)s hours", len(points))
    else:
        over = ngettext("%(total)s tickets over %(count)s day", "%(total)s tickets over %(count)s days", len(points))
    chart = Chart(
        title=gettext("%(title)s, by %(what)s") % {"title": per, "what": what} if stacked else per,
        summary=over % {"total": total, "count": len(points)} if points else gettext("No ticket sold yet."),
        legend=[(group, colours[group]) for group in groups] if stacked else [],
    )
    label = "d M H:00" if unit == "hour" else "D d M"  # Django date formats: month and day names translated
    if stacked:
        stacks = [
            (
                start,
                [
                    (
                        count,
                        colours[group],
                        gettext("%(when)s · %(group)s · %(count)s tickets")
                        % {"when": date_format(start, label), "group": group, "count": count},
                    )
                    for group, count in sorted(shares.get(start, {}).items(), key=lambda item: groups.index(item[0]))
                ],
            )
            for start, _count, _revenue in points
        ]
    else:
        stacks = [
            (
                start,
                [
                    (
                        count,
                        GATE_COLOURS[0],
                        gettext("%(when)s · %(count)s tickets · %(revenue)s")
                        % {"when": date_format(start, label), "count": count, "revenue": revenue},
                    )
                ],
            )
            for start, count, revenue in points
        ]
    _draw(chart, stacks, tick_format="H:00" if unit == "hour" else "d M")
    return chart


OTHER = "other"


def _largest_shares(split: dict[dt.datetime, dict], names: dict) -> dict[dt.datetime, dict[str, int]]:
    """Each bucket's tickets by name, the names beyond the palette's first seven (by tickets) merged as OTHER."""
    totals: dict[str, int] = {}
    for share in split.values():
        for key, count in share.items():
            totals[names.get(key, "—")] = totals.get(names.get(key, "—"), 0) + count
    kept = set(sorted(totals, key=lambda name: (-totals[name], name))[: len(GATE_COLOURS) - 1])
    if len(totals) <= len(GATE_COLOURS):
        kept = set(totals)
    merged: dict[dt.datetime, dict[str, int]] = {}
    for start, share in split.items():
        into = merged.setdefault(start, {})
        for key, count in share.items():
            name = names.get(key, "—")
            group = name if name in kept else OTHER
            into[group] = into.get(group, 0) + count
    return merged


def entries_chart(timeline: dict[str, Any], *, ticket_holders: int) -> Chart:
    """Admissions per five minutes, stacked by gate, with the share of ticket-holders already in."""
    gates: list[str] = timeline["gates"]
    colours = {gate: GATE_COLOURS[min(index, len(GATE_COLOURS) - 1)] for index, gate in enumerate(gates)}
    admitted = timeline["admitted"]
    share = f"{round(100 * admitted / ticket_holders, 1)} %" if ticket_holders else "—"
    chart = Chart(
        title=gettext("Entries per five minutes, by gate"),
        summary=gettext("%(admitted)s of %(holders)s ticket-holders in (%(share)s)")
        % {"admitted": admitted, "holders": ticket_holders, "share": share}
        if admitted
        else gettext("Nobody admitted yet."),
        legend=[(gate, colours[gate]) for gate in gates],
    )
    stacks = [
        (
            start,
            [
                (
                    count,
                    colours[gate],
                    gettext("%(when)s · %(gate)s · %(count)s admitted")
                    % {"when": f"{start:%H:%M}", "gate": gate, "count": count},
                )
                for gate, count in sorted(per_gate.items())
            ],
        )
        for start, per_gate in timeline["points"]
    ]
    _draw(chart, stacks, tick_format="H:i")
    return chart


def _draw(chart: Chart, stacks: list[tuple[dt.datetime, list[tuple[int, str, str]]]], *, tick_format: str) -> None:
    if not stacks or not any(count for _, parts in stacks for count, _, _ in parts):
        return
    peak = max(sum(count for count, _, _ in parts) for _, parts in stacks)
    top = _nice_ceiling(peak)
    plot_width = chart.width - LEFT - 8
    plot_height = chart.baseline - TOP
    slot = min(plot_width / len(stacks), MAX_SLOT)
    gap = max(min(2.0, slot * 0.2), slot - MAX_BAR)
    for index, (_start, parts) in enumerate(stacks):
        x = LEFT + index * slot
        y = chart.baseline
        for count, colour, title in parts:
            if not count:
                continue
            height = plot_height * count / top
            y -= height
            chart.bars.append(
                Bar(round(x + gap / 2, 1), round(y, 1), round(slot - gap, 1), round(height, 1), colour, title)
            )
    every = max(1, round(len(stacks) / 8))
    for index in range(0, len(stacks), every):
        chart.x_ticks.append(
            Tick(round(LEFT + (index + 0.5) * slot, 1), chart.baseline + 16, date_format(stacks[index][0], tick_format))
        )
    for fraction in (0, 0.5, 1):
        chart.y_ticks.append(
            Tick(LEFT - 6, round(chart.baseline - plot_height * fraction + 4, 1), _figure(top * fraction))
        )


def _figure(value: float) -> str:
    return f"{int(value):,}" if value == int(value) else f"{value:,.1f}"


def _nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten at or above the value: axis figures people read at a glance."""
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude >= value:
                return step * magnitude
        magnitude *= 10
