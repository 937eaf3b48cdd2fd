"""Staff admin of the events domain, one module per topic.

* ``venues``: organizations, venues and sections, with the seat-grid generator page;
* ``events``: events with their price tiers and sections, and links to the event's operations;
* ``section_svg``: the seat-map preview drawn on a section's pages;
* ``common``: the soft-delete filter and mixins they share.

An event's operations (publish, cancel and refund, the live sales dashboard) span databases, so orders provides
them (orders/admin/event_operations.py) under the event admin's URLs; this package only links to them by URL name.
Everything is scoped to the staff member's organizations (core.admin_tenancy).
"""

from events.admin import events, venues  # noqa: F401 - importing them registers their ModelAdmins
