"""Staff operations of the events domain: seat-grid generation, venue layouts, and the events_db steps of
publishing and cancelling.

Publishing and cancelling span databases (seats_db for the inventory, orders_db and users_db for refunds), so
``orders.services.event_publish`` / ``event_cancel`` drive them. The steps here are the event's own: each is a
short events_db transaction (state first, progress on the event row), so a second run continues where the first
stopped. By topic:

- grids: a section's seat grid (or general admission), ``section_generate_grid``;
- venue_layouts: the stage and every section placed on the venue map, ``venue_generate_layout``;
- lifecycle: publishing, repricing, cancelling, announcing a changed time, the waiting room's switch.
"""

from events.services.grids import (
    AISLE_WIDTH,
    MAX_GENERAL_CAPACITY,
    MAX_ROWS,
    MAX_SEATS_PER_ROW,
    MAX_SECTION_SEATS,
    ROW_PITCH,
    SEAT_PITCH,
    build_grid_layout,
    layout_extent,
    parse_seat_refs,
    row_labels,
    section_generate_grid,
)
from events.services.lifecycle import (
    event_cancel_begin,
    event_change_announce,
    event_publish_begin,
    event_publish_finish,
    event_publish_progress,
    event_refunds_progress,
    event_set_waiting_room,
    tier_set_price,
)
from events.services.venue_layouts import (
    LAYOUT_GAP,
    PLANNERS,
    STADIUM_SIDES,
    STANDARD_SECTIONS,
    THEATRE_ROLES,
    plan_arena,
    plan_stadium,
    plan_theatre,
    venue_generate_layout,
)

__all__ = [
    "AISLE_WIDTH",
    "LAYOUT_GAP",
    "MAX_GENERAL_CAPACITY",
    "MAX_ROWS",
    "MAX_SEATS_PER_ROW",
    "MAX_SECTION_SEATS",
    "PLANNERS",
    "ROW_PITCH",
    "SEAT_PITCH",
    "STADIUM_SIDES",
    "STANDARD_SECTIONS",
    "THEATRE_ROLES",
    "build_grid_layout",
    "event_cancel_begin",
    "event_change_announce",
    "event_publish_begin",
    "event_publish_finish",
    "event_publish_progress",
    "event_refunds_progress",
    "event_set_waiting_room",
    "layout_extent",
    "parse_seat_refs",
    "plan_arena",
    "plan_stadium",
    "plan_theatre",
    "row_labels",
    "section_generate_grid",
    "tier_set_price",
    "venue_generate_layout",
]
