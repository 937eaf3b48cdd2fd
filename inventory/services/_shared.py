"""What the inventory services share: argument checks, the seats_db cursor, the "free seat" condition."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import connections
from django.utils.translation import gettext

from core.errors import InvalidInput
from inventory import DB_ALIAS
from inventory.contract import SeatInfo
from inventory.selectors import seat_info_from_row

# "Free" = AVAILABLE, or a hold that has run out (anyone's). Used in every statement that takes a seat; its one
# parameter is now.
FREE = "(status = 'AVAILABLE' OR (status = 'HELD' AND hold_expires_at <= %s))"
# A place that becomes free again (released, refunded) takes the price a reprice left for it (Seat.next_price).
TAKE_NEXT_PRICE = "price = COALESCE(next_price, price), next_price = NULL"


def seats_cursor():
    return connections[DB_ALIAS].cursor()


def require_id(value: Any, *, name: str) -> uuid.UUID:
    """``value`` if it is a UUID. Ids are parsed where they enter (views, serializers, commands); anything else
    reaching a service is refused as InvalidInput rather than sent to the database."""
    if not isinstance(value, uuid.UUID):
        raise InvalidInput(
            gettext("%(name)s is not a valid id.") % {"name": name}, fields={name: [gettext("Not a valid id.")]}
        )
    return value


def optional_id(value: Any, *, name: str) -> uuid.UUID | None:
    return None if value is None else require_id(value, name=name)


def require_ids(values: Iterable[Any] | None, *, name: str, empty: str | None = None) -> list[uuid.UUID]:
    """The distinct ids in sorted order: the order every multi-row lock is taken in.

    ``empty``: the message that refuses a list without ids (by default an empty list is an answer of its own).
    """
    if values is None or isinstance(values, str | bytes):
        raise InvalidInput(
            gettext("%(name)s must be a list of ids.") % {"name": name}, fields={name: [gettext("Expected a list.")]}
        )
    ids = sorted({require_id(value, name=name) for value in values})
    if not ids and empty is not None:
        raise InvalidInput(empty, fields={name: [empty]})
    return ids


def positive_int(value: Any, *, name: str, maximum: int = 10_000) -> int:
    if isinstance(value, bool):
        raise InvalidInput(
            gettext("%(name)s must be a whole number.") % {"name": name},
            fields={name: [gettext("A whole number is required.")]},
        )
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(
            gettext("%(name)s must be a whole number.") % {"name": name},
            fields={name: [gettext("A whole number is required.")]},
        ) from None
    if not 1 <= number <= maximum:
        raise InvalidInput(
            gettext("%(name)s must be between 1 and %(maximum)s.") % {"name": name, "maximum": maximum},
            fields={name: [f"1 to {maximum}."]},
        )
    return number


def sorted_infos(rows: list[tuple], *, now: dt.datetime | None = None) -> list[SeatInfo]:
    """SeatInfos of rows in SEAT_COLUMNS order, by section, then front to back, then row and number."""
    infos = [seat_info_from_row(row, now=now) for row in rows]
    infos.sort(key=lambda seat: (seat.section_id, seat.y, seat.row_label, seat.number))
    return infos
