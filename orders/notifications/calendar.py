"""An iCalendar (RFC 5545) file for an order's event, attached to the confirmation.

Written by hand: one VEVENT with the UTC start and end, the venue and a stable UID per order, so a second import
updates the same calendar entry instead of adding one.
"""

from __future__ import annotations

import datetime as dt
import uuid

ICS_CONTENT_TYPE = "text/calendar"
DEFAULT_LENGTH = dt.timedelta(hours=3)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _stamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (RFC 5545 3.1)."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    parts, start = [], 0
    while start < len(encoded):
        end = min(start + (75 if not parts else 74), len(encoded))
        while end < len(encoded) and (encoded[end] & 0xC0) == 0x80:  # never split a UTF-8 character
            end -= 1
        parts.append(encoded[start:end].decode())
        start = end
    return "\r\n ".join(parts)


def event_ics(
    *,
    uid: uuid.UUID,
    title: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime | None,
    venue: str,
    description: str,
    url: str,
    now: dt.datetime,
) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//TicketRemaster//Tickets//EN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{uid}@ticketremaster",
        f"DTSTAMP:{_stamp(now)}",
        f"DTSTART:{_stamp(starts_at)}",
        f"DTEND:{_stamp(ends_at or starts_at + DEFAULT_LENGTH)}",
        f"SUMMARY:{_escape(title)}",
        f"LOCATION:{_escape(venue)}",
        f"DESCRIPTION:{_escape(description)}",
        f"URL:{url}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
