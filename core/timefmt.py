"""Times as people at the venue read them: in the venue's own time zone, with its abbreviation (pages, emails)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.utils import dateformat
from django.utils.translation import pgettext

UTC = dt.UTC


def venue_zone(name: str) -> zoneinfo.ZoneInfo | dt.timezone:
    """The venue's zone; UTC for a name this machine does not know (the venue form validates new names)."""
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC


def _in_zone(value: dt.datetime, zone_name: str, layout: str) -> str:
    """``value`` in the venue's zone, laid out in the active language (Django's date format letters: day and month
    names translated), then the zone's abbreviation, which is the venue's and the same in every language."""
    local = value.astimezone(venue_zone(zone_name))
    return f"{dateformat.format(local, layout)} {local.tzname()}"


def venue_time(value: dt.datetime | None, zone_name: str) -> str:
    """``Saturday 14 March 2027, 19:30 GMT`` in the venue's zone (German: ``Samstag, 14. März 2027, 19:30 GMT``)."""
    if value is None:
        return ""
    return _in_zone(value, zone_name, pgettext("long date and time", "l j F Y, H:i"))


def venue_clock(value: dt.datetime | None, zone_name: str) -> str:
    """``19:00 GMT``: a time on the day already named (doors)."""
    if value is None:
        return ""
    return _in_zone(value, zone_name, "H:i")


def venue_clock_seconds(value: dt.datetime | None, zone_name: str) -> str:
    """``19:00:05 GMT``: a moment to the second (a QR code's expiry), 24-hour like every other time shown."""
    if value is None:
        return ""
    return _in_zone(value, zone_name, "H:i:s")


def venue_datetime(value: dt.datetime | None, zone_name: str) -> str:
    """``Sat 14 Mar 2027, 19:30 GMT``: the short form pages show, in the venue's zone with its abbreviation."""
    if value is None:
        return ""
    return _in_zone(value, zone_name, pgettext("short date and time", "D j M Y, H:i"))


def zone_choices() -> list[tuple[str, str]]:
    """Every IANA zone name this machine knows, sorted: the venue form's choices."""
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


def is_zone_name(name: str) -> bool:
    return name in zoneinfo.available_timezones()
