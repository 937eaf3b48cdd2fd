"""Template filters that show a time as people at the venue read it: in the venue's zone, with its abbreviation.

{% load venue_time %}
{{ event.starts_at|venue_datetime:event.venue_timezone }}   ->  Sat 14 Mar 2027, 19:30 GMT
{{ event.doors_at|venue_clock:event.venue_timezone }}       ->  19:00 GMT
{{ qr_expires_at|venue_clock_seconds:event.venue_timezone }} ->  19:00:05 GMT
{{ event.starts_at|venue_long:event.venue_timezone }}       ->  Saturday 14 March 2027, 19:30 GMT
"""

from __future__ import annotations

from django import template

from core import timefmt

register = template.Library()


def _in_zone(format_time):
    """A filter taking the venue's zone as its argument (an empty zone is UTC)."""

    def apply(value, zone_name: str = "UTC") -> str:
        return format_time(value, zone_name or "UTC")

    return apply


for name, format_time in {
    "venue_datetime": timefmt.venue_datetime,
    "venue_clock": timefmt.venue_clock,
    "venue_clock_seconds": timefmt.venue_clock_seconds,
    "venue_long": timefmt.venue_time,
}.items():
    register.filter(name, _in_zone(format_time))
