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


@register.filter
def venue_datetime(value, zone_name: str = "UTC") -> str:
    return timefmt.venue_datetime(value, zone_name or "UTC")


@register.filter
def venue_clock(value, zone_name: str = "UTC") -> str:
    return timefmt.venue_clock(value, zone_name or "UTC")


@register.filter
def venue_clock_seconds(value, zone_name: str = "UTC") -> str:
    return timefmt.venue_clock_seconds(value, zone_name or "UTC")


@register.filter
def venue_long(value, zone_name: str = "UTC") -> str:
    return timefmt.venue_time(value, zone_name or "UTC")
