"""The venue-map preview on a venue's admin pages: inline SVG drawn by events/geometry.py, as buyers see it."""

from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext

from events import geometry
from events.models import Section, Venue

# Presentation attributes, not a <style> element: the site's Content-Security-Policy refuses inline styles.
STAGE_FILL = {"PITCH": "#bbf7d0", "STAGE": "#e5e7eb", "THRUST": "#e5e7eb"}
SEATED_FILL, GENERAL_FILL = "#bfdbfe", "#fed7aa"


def render_venue_svg(venue: Venue, *, max_width: int = 900) -> str:
    """The venue's stage and every live section's footprint, labelled with its name."""
    sections = list(venue.sections.filter(deleted_at__isnull=True).defer("layout").order_by("sort_order", "name"))
    if not sections and venue.stage_shape == "NONE":
        return gettext("No sections yet: add some, or use a layout generator to create them.")
    drawing = geometry.venue_drawing(
        stage=geometry.Stage.of(venue),
        sections=[(section.name, geometry.Placement.of(section)) for section in sections],
    )
    font = max(12, drawing.view_box[2] // 60)
    general = {section.name for section in sections if section.kind == Section.Kind.GENERAL}
    shapes = format_html_join(
        "",
        '<path d="{}" fill="{}" stroke="#1e3a8a" stroke-width="{}"><title>{}</title></path>'
        '<text x="{}" y="{}" text-anchor="middle" font-size="{}">{}</text>',
        (
            (
                shape.path,
                GENERAL_FILL if shape.key in general else SEATED_FILL,
                max(1, font // 8),
                shape.key,
                shape.label_x,
                shape.label_y,
                font,
                shape.key,
            )
            for shape in drawing.sections
        ),
    )
    stage = (
        format_html(
            '<path d="{}" fill="{}" stroke="#374151"/>'
            '<text x="{}" y="{}" text-anchor="middle" font-size="{}">{}</text>',
            drawing.stage.path,
            STAGE_FILL.get(drawing.stage_shape, "#e5e7eb"),
            drawing.stage.label_x,
            drawing.stage.label_y,
            font,
            venue.stage_label,
        )
        if drawing.stage
        else ""
    )
    return format_html(
        '<svg class="venue-map-preview" viewBox="{}" width="{}" role="img" aria-label="{}">{}{}</svg>',
        drawing.view_box_attr,
        max_width,
        gettext("Map of %(venue)s: %(count)s sections") % {"venue": venue.name, "count": len(sections)},
        stage,
        shapes,
    )
