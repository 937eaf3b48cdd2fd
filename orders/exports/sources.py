"""The rows of each export, read in keyset batches from the databases they span (one batch in memory at a time).

Each source is a generator of lists matching its header. Names of people, sections and events are looked up once
per batch (one users_db query per batch), never per row.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections.abc import Callable, Iterator
from typing import Any

from django.db.models import Q

from accounts import selectors as accounts_selectors
from accounts.contract import LedgerKind
from events import selectors as events_selectors
from events.contract import EventOperationsInfo
from inventory import selectors as inventory_selectors
from inventory.contract import EntryLogResult, SeatStatus
from orders import DB_ALIAS
from orders.models import Order, OrderLine, OrderRefund, ResaleListing, Transfer

BATCH = 2000
ORDER_BATCH = 500

ATTENDEE_HEADER = ["name", "email", "section", "row", "seat", "ticket status", "checked in at"]
ORDER_HEADER = [
    "order",
    "created at",
    "order status",
    "buyer name",
    "buyer email",
    "section",
    "seat",
    "price",
    "line",
    "order total",
    "refunded",
    "channel",
    "paid by",
    "amount taken",
]
LEDGER_HEADER = ["at", "name", "email", "kind", "amount", "flow", "reference", "memo"]
ENTRY_HEADER = ["at", "gate", "result", "section", "seat", "holder", "staff", "detail"]


def _keyset_pages(fetch: Callable[[Any], list], key: Callable[[Any], Any]) -> Iterator[list]:
    """The pages ``fetch(after)`` answers, ``after`` being None first, then the ``key`` of the previous page's last
    row; until a page is empty. Keyset, not offset: a batch costs the same at the end of a long export."""
    after = None
    while page := fetch(after):
        yield page
        after = key(page[-1])


class _Clock:
    """Times in the venue's zone, as staff read them on the event's day."""

    def __init__(self, event: EventOperationsInfo):
        name = events_selectors.venue_timezones(venue_ids=[event.venue_id]).get(event.venue_id) or "UTC"
        try:
            self.zone = zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            self.zone = dt.UTC

    def __call__(self, moment: dt.datetime | None) -> dt.datetime | None:
        return None if moment is None else moment.astimezone(self.zone).replace(tzinfo=None)


def people_names(ids) -> dict[uuid.UUID, tuple[str, str]]:
    users = accounts_selectors.user_get_many(user_ids=[pk for pk in ids if pk])
    return {pk: (user.full_name, user.email) for pk, user in users.items()}


def _sections(event: EventOperationsInfo) -> dict[uuid.UUID, str]:
    sections, _tiers = events_selectors.event_section_and_tier_names(event_id=event.id, venue_id=event.venue_id)
    return sections


def seat_cells(seat, sections: dict[uuid.UUID, str]) -> tuple[str, str, Any]:
    if seat is None:
        return "", "", ""
    if seat.is_general_admission:
        return sections.get(seat.section_id, ""), "", f"GA #{seat.number}"
    return sections.get(seat.section_id, ""), seat.row_label, seat.number


def attendee_rows(event: EventOperationsInfo) -> Iterator[list[Any]]:
    """The door list: every ticket of the event with its holder, by section, row and seat."""
    clock, sections = _Clock(event), _sections(event)
    statuses = dict(SeatStatus.choices)
    pages = _keyset_pages(
        lambda after: inventory_selectors.tickets_of_event_page(event_id=event.id, after=after, limit=BATCH),
        lambda seat: (seat.section_id, seat.row_label, seat.number),
    )
    for seats in pages:
        people = people_names({seat.owner_id for seat in seats})
        for seat in seats:
            name, email = people.get(seat.owner_id, ("", ""))
            section, row, number = seat_cells(seat, sections)
            status = statuses.get(seat.status, seat.status)
            yield [name, email, section, row, number, status, clock(seat.checked_in_at)]


def order_status_label(order: Order) -> str:
    if order.status == Order.Status.CONFIRMED and order.refunded_amount > 0:
        return "Partly refunded"
    return order.get_status_display()


def _line_state(order: Order, line: OrderLine) -> str:
    return "active" if line.is_active else ("refunded" if line.refund_id or order.refunded_at else "void")


def order_batches(orders) -> Iterator[tuple[list[Order], dict[uuid.UUID, list[OrderLine]], dict, dict]]:
    """Orders of a queryset, oldest first, in keyset batches: (orders, their lines by order, the lines' seats,
    the buyers' (name, email)); one query per database per batch."""
    orders = orders.order_by("created_at", "id")

    def fetch(after) -> list[Order]:
        page = (
            orders
            if after is None
            else orders.filter(Q(created_at__gt=after[0]) | Q(created_at=after[0], pk__gt=after[1]))
        )
        return list(page[:ORDER_BATCH])

    for batch in _keyset_pages(fetch, lambda order: (order.created_at, order.pk)):
        lines: dict[uuid.UUID, list[OrderLine]] = {}
        for line in OrderLine.objects.using(DB_ALIAS).filter(order_id__in=[o.pk for o in batch]).order_by("seat_id"):
            lines.setdefault(line.order_id, []).append(line)
        seats = inventory_selectors.seats_get_many(seat_ids=[line.seat_id for rows in lines.values() for line in rows])
        yield batch, lines, seats, people_names({order.buyer_id for order in batch})


def order_line_cells(order: Order, line: OrderLine, seat, sections: dict[uuid.UUID, str]) -> list[Any]:
    """section, seat, price, line state: the columns one order line adds to its order's."""
    section, row, number = seat_cells(seat, sections)
    return [section, f"{row}{number}" if row else number, line.price, _line_state(order, line)]


def order_money_cells(order: Order) -> list[Any]:
    """order total, refunded, channel, paid by, amount taken: box-office money is reconciled with the till from the
    last three."""
    paid_by = order.get_payment_method_display() if order.payment_method else ""
    return [order.total, order.refunded_amount, order.get_channel_display(), paid_by, order.amount_taken]


def order_rows(event: EventOperationsInfo) -> Iterator[list[Any]]:
    """Every order of the event, one row per line (seat), oldest first."""
    clock, sections = _Clock(event), _sections(event)
    orders = Order.objects.using(DB_ALIAS).filter(event_id=event.id)
    for batch, lines, seats, people in order_batches(orders):
        for order in batch:
            name, email = people.get(order.buyer_id, ("", ""))
            head = [str(order.pk), clock(order.created_at), order_status_label(order), name, email]
            tail = order_money_cells(order)
            for line in lines.get(order.pk, []):
                yield [*head, *order_line_cells(order, line, seats.get(line.seat_id), sections), *tail]


def _pages(rows, value) -> Iterator[list]:
    """``value(row)`` of each row of a queryset ordered by pk, a keyset batch at a time."""
    rows = rows.order_by("pk")
    pages = _keyset_pages(
        lambda last: list((rows if last is None else rows.filter(pk__gt=last))[:BATCH]), lambda row: row.pk
    )
    for page in pages:
        yield [value(row) for row in page]


def money_flows(**where: Any) -> Iterator[tuple[str, list[tuple[str, uuid.UUID]]]]:
    """(flow name, [(ledger reference, event id)]) of the money flows matching ``where`` (a filter on the flows'
    own event_id / organization_id / created_at columns): orders, ticket refunds, transfers, resales; by batch."""
    using = Order.objects.using(DB_ALIAS)
    yield from (("order", refs) for refs in _pages(using.filter(**where), lambda o: (str(o.pk), o.event_id)))
    refunds = OrderRefund.objects.using(DB_ALIAS).filter(**{f"order__{key}": value for key, value in where.items()})
    yield from (
        ("order", refs)
        for refs in _pages(refunds.select_related("order"), lambda r: (r.ledger_reference(), r.order.event_id))
    )
    transfers = Transfer.objects.using(DB_ALIAS).filter(**where)
    yield from (("transfer", refs) for refs in _pages(transfers, lambda t: (str(t.pk), t.event_id)))
    listings = ResaleListing.objects.using(DB_ALIAS).filter(**where, sale_attempt_id__isnull=False)
    yield from (("resale", refs) for refs in _pages(listings, lambda li: (str(li.sale_attempt_id), li.event_id)))


def ledger_rows(event: EventOperationsInfo) -> Iterator[list[Any]]:
    """The ledger movements of the event's orders, refunds, transfers and resales (the organization's money)."""
    clock = _Clock(event)
    kinds = dict(LedgerKind.choices)
    for flow, references in money_flows(event_id=event.id):
        entries = accounts_selectors.ledger_for_references(references=[reference for reference, _event in references])
        people = people_names({entry["user_id"] for entry in entries})
        for entry in entries:
            name, email = people.get(entry["user_id"], ("", ""))
            kind = kinds.get(entry["kind"], entry["kind"])
            yield [
                clock(entry["created_at"]),
                name,
                email,
                kind,
                entry["amount"],
                flow,
                entry["reference"],
                entry["memo"],
            ]


def entry_rows(event: EventOperationsInfo) -> Iterator[list[Any]]:
    """Every gate scan of the event, oldest first, with the seat and the people by name."""
    clock, sections = _Clock(event), _sections(event)
    results = dict(EntryLogResult.choices)
    pages = _keyset_pages(
        lambda after: inventory_selectors.entry_logs_page(event_id=event.id, after=after, limit=BATCH),
        lambda log: (log["created_at"], log["id"]),
    )
    for logs in pages:
        seats = inventory_selectors.seats_get_many(seat_ids=[log["seat_id"] for log in logs if log["seat_id"]])
        people = people_names({log["holder_id"] for log in logs} | {log["staff_id"] for log in logs})
        for log in logs:
            section, row, number = seat_cells(seats.get(log["seat_id"]), sections)
            seat = f"{row}{number}" if row else number
            holder = people.get(log["holder_id"], ("", ""))
            staff = people.get(log["staff_id"], ("", ""))
            yield [
                clock(log["created_at"]),
                log["gate"],
                results.get(log["result"], log["result"]),
                section,
                seat,
                holder[0] or holder[1],
                staff[0] or staff[1],
                log["detail"],
            ]
