"""The seat-map preview of a section, drawn as inline SVG on its admin pages."""

from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from events.contract import SectionKind
from events.models import Section

# Presentation attributes, not a <style> element: the site's Content-Security-Policy refuses inline styles.
SEAT_PAINT = mark_safe('fill="#93c5fd" stroke="#1d4ed8"')  # noqa: S308 - constant markup
ACCESSIBLE_SEAT_PAINT = mark_safe('fill="#fde68a" stroke="#b45309" stroke-width="2"')  # noqa: S308 - constant markup


def render_section_svg(section: Section, *, max_width: int = 900) -> str:
    """An SVG preview of a section's seats (accessible seats marked), or a box for general admission."""
    if section.kind == SectionKind.GENERAL:
        return format_html(
            '<svg class="section-map" viewBox="0 0 300 120" width="300" height="120" role="img" '
            'aria-label="{}"><rect x="1" y="1" width="298" height="118" rx="8" '
            'fill="#dbeafe" stroke="#2563eb"/><text x="150" y="66" text-anchor="middle" font-size="16">'
            "{}</text></svg>",
            gettext("General admission, %(count)s places") % {"count": section.capacity},
            gettext("General admission · %(count)s places") % {"count": section.capacity},
        )
    rows = (section.layout or {}).get("rows") or []
    seats = [(row["label"], seat) for row in rows for seat in row.get("seats", [])]
    if not seats:
        return gettext("No seat grid yet: use the generator below.")
    width = max(seat["x"] for _, seat in seats) + 40
    height = max(seat["y"] for _, seat in seats) + 60  # the stage's label above row A
    accessible = " " + gettext("(accessible)")
    circles = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="7" class="{}" {}><title>{}{}{}</title></circle>',
        (
            (
                seat["x"] + 30,
                seat["y"] + 40,
                "acc" if seat.get("accessible") else "seat",
                ACCESSIBLE_SEAT_PAINT if seat.get("accessible") else SEAT_PAINT,
                label,
                seat["number"],
                accessible if seat.get("accessible") else "",
            )
            for label, seat in seats
        ),
    )
    labels = format_html_join(
        "",
        '<text x="4" y="{}" font-size="11">{}</text>',
        ((row["seats"][0]["y"] + 44, row["label"]) for row in rows if row.get("seats")),
    )
    shown_width = min(width, max_width)
    return format_html(
        '<svg class="section-map" viewBox="0 0 {} {}" width="{}" role="img" aria-label="{}">'
        '<text x="{}" y="14" text-anchor="middle" font-size="12" fill="#6b7280">{}</text>{}{}</svg>',
        width,
        height,
        shown_width,
        gettext("Seat map of %(section)s: %(count)s seats") % {"section": section.name, "count": len(seats)},
        width // 2,
        gettext("stage this way"),
        labels,
        circles,
    )
