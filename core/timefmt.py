"""Times as people at the venue read them: in the venue's own time zone, with its abbreviation (pages, emails)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

UTC = dt.UTC


def venue_zone(name: str) -> zoneinfo.ZoneInfo | dt.timezone:
    """The venue's zone; UTC for a name this machine does not know (the venue form validates new names)."""
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC


def venue_time(value: dt.datetime | None, zone_name: str) -> str:
    """``Saturday 14 March 2027, 19:30 GMT`` in the venue's zone."""
    if value is None:
        return ""
    local = value.astimezone(venue_zone(zone_name))
    return f"{local:%A} {local.day} {local:%B %Y, %H:%M} {local.tzname()}"


def venue_clock(value: dt.datetime | None, zone_name: str) -> str:
    """``19:00 GMT``: a time on the day already named (doors)."""
    if value is None:
        return ""
    local = value.astimezone(venue_zone(zone_name))
    return f"{local:%H:%M} {local.tzname()}"


def venue_clock_seconds(value: dt.datetime | None, zone_name: str) -> str:
    """``19:00:05 GMT``: a moment to the second (a QR code's expiry), 24-hour like every other time shown."""
    if value is None:
        return ""
    local = value.astimezone(venue_zone(zone_name))
    return f"{local:%H:%M:%S} {local.tzname()}"


def venue_datetime(value: dt.datetime | None, zone_name: str) -> str:
    """``Sat 14 Mar 2027, 19:30 GMT``: the short form pages show, in the venue's zone with its abbreviation."""
    if value is None:
        return ""
    local = value.astimezone(venue_zone(zone_name))
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname()}"


def zone_choices() -> list[tuple[str, str]]:
    """Every IANA zone name this machine knows, sorted: the venue form's choices."""
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


def is_zone_name(name: str) -> bool:
    return name in zoneinfo.available_timezones()
