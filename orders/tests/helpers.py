"""What the orders tests do and check again and again: buy, pass a ticket on, race, read money and seats back, and
assert the cross-database invariants.

Money and seats are read with raw SQL, so these checks depend on no other app's models.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import services as account_services
from core.databases import ALL_DATABASES
from core.testing import race  # noqa: F401 - the orders tests' racing helper
from ops import invariants
from orders import services
from orders.contract import OrderInfo, TransferInfo
from orders.services import transfer
from orders.tests.factories import EventSetup, Seat

# --- Clients -----------------------------------------------------------------------------------------------------


def api_client(user=None) -> APIClient:
    """An API client, authenticated as ``user`` when given."""
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def page_client(user) -> Client:
    """A browser-like client logged in as ``user``."""
    client = Client()
    client.force_login(user)
    return client


def api_hold(client, setup: EventSetup, seat_ids, **extra):
    """POST the event's holds endpoint for ``seat_ids``; ``extra``: headers, e.g. the waiting room's pass.

    The body is sent as JSON text, so an APIClient and a browser's session Client post the same request."""
    body = {"seat_ids": [str(pk) for pk in seat_ids]}
    path = f"/api/v1/events/{setup.event.pk}/holds/"
    return client.post(path, json.dumps(body), content_type="application/json", **extra)


def api_checkout(client, setup: EventSetup, key: str | None = None, **extra):
    """POST /api/v1/orders/ for the event's holds, with the idempotency key ``key`` in its header when given."""
    if key is not None:
        extra["HTTP_IDEMPOTENCY_KEY"] = key
    body = {"event_id": str(setup.event.pk)}
    return client.post("/api/v1/orders/", json.dumps(body), content_type="application/json", **extra)


def seat_map_data(html: str, section_id) -> dict:
    """The seats a page's map draws (the JSON seatmap.js reads; orders.views.event_page._seat_data) for a section."""
    start = html.index(f'<script id="seats-{section_id}" type="application/json">')
    body = html[html.index(">", start) + 1 : html.index("</script>", start)]
    return json.loads(body)


def messages_of(response) -> list[str]:
    """The messages a page shows (after ``follow=True``)."""
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- Buying ------------------------------------------------------------------------------------------------------


def hold(user, setup: EventSetup, count: int = 2) -> list:
    """Hold the first ``count`` seats of the event."""
    return services.hold_seats(buyer_id=user.pk, event_id=setup.event.pk, seat_ids=setup.seat_ids[:count])


def buy(user, setup: EventSetup, count: int = 2, key: str | None = None) -> OrderInfo:
    """Hold the first ``count`` seats and pay for them."""
    hold(user, setup, count)
    return services.order_checkout(buyer_id=user.pk, event_id=setup.event.pk, idempotency_key=key or uuid.uuid4().hex)


def expire_holds(seat_ids) -> None:
    """Make holds run out now (a hold is at least 30 s long; tests do not wait)."""
    Seat.objects.using("seats").filter(pk__in=list(seat_ids), status="HELD").update(
        hold_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )


# --- Passing a ticket on -----------------------------------------------------------------------------------------


def code_for(user, *, purpose: str, transfer_id) -> str:
    """A fresh code for this party and transfer, as the 'email me a new code' button would send it."""
    return account_services.otp_issue(user_id=user.pk, purpose=purpose, object_id=transfer_id)


def offer(ticket, owner, friend, price="0") -> TransferInfo:
    """The owner's offer of the ticket to the friend."""
    return transfer.transfer_offer(seat_id=ticket.pk, from_user_id=owner.pk, to_email=friend.email, price=price)


def accepted(ticket, owner, friend, price="0") -> TransferInfo:
    """An offer the friend accepted (both are emailed their codes)."""
    info = offer(ticket, owner, friend, price)
    return transfer.transfer_accept(transfer_id=info.id, user_id=friend.pk)


def sender_confirms(info: TransferInfo, owner) -> TransferInfo:
    code = code_for(owner, purpose="TRANSFER_SENDER", transfer_id=info.id)
    return transfer.transfer_confirm(transfer_id=info.id, user_id=owner.pk, code=code)


def recipient_confirms(info: TransferInfo, friend) -> TransferInfo:
    code = code_for(friend, purpose="TRANSFER_RECIPIENT", transfer_id=info.id)
    return transfer.transfer_confirm(transfer_id=info.id, user_id=friend.pk, code=code)


def confirm_both(info: TransferInfo, owner, friend) -> TransferInfo:
    """Both parties confirm, the sender first; returns the answer to the second confirmation."""
    sender_confirms(info, owner)
    return recipient_confirms(info, friend)


# --- Races -------------------------------------------------------------------------------------------------------


# --- Reading money and seats back --------------------------------------------------------------------------------


def _rows(alias: str, sql: str, params=None) -> list[tuple]:
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def balance(user) -> Decimal:
    return _rows("default", "SELECT credit_balance FROM accounts_user WHERE id = %s", [user.pk])[0][0]


def ledger(kind: str, reference) -> list[Decimal]:
    """The amounts of the ledger rows of one kind for one flow."""
    rows = _rows(
        "default", "SELECT amount FROM accounts_ledgerentry WHERE kind = %s AND reference = %s", [kind, str(reference)]
    )
    return [amount for (amount,) in rows]


def ledger_kinds(reference) -> dict[str, Decimal]:
    """Every ledger row of one flow, by kind."""
    rows = _rows("default", "SELECT kind, amount FROM accounts_ledgerentry WHERE reference = %s", [str(reference)])
    return dict(rows)


def fee_paid(flow: str, price: str, fee: str) -> dict[str, Decimal]:
    """What ``ledger_kinds`` reads for a paid resale or transfer (``flow``: RESALE or TRANSFER) that kept the
    platform fee: the buyer's debit, the seller's credit of the price, the fee taken from the seller."""
    return {f"{flow}_DEBIT": -Decimal(price), f"{flow}_CREDIT": Decimal(price), f"{flow}_FEE": -Decimal(fee)}


def seat_row(seat_id) -> dict:
    status, owner_id, qr_version = _rows(
        "seats", "SELECT status, owner_id, qr_version FROM inventory_seat WHERE id = %s", [seat_id]
    )[0]
    return {"status": status, "owner_id": owner_id, "qr_version": qr_version}


class AllQueries:
    """Capture the queries of every database alias (pytest-django's fixtures count only one)."""

    def __init__(self):
        self._contexts = {alias: CaptureQueriesContext(connections[alias]) for alias in ALL_DATABASES}

    def __enter__(self):
        for context in self._contexts.values():
            context.__enter__()
        return self

    def __exit__(self, *exc):
        for context in self._contexts.values():
            context.__exit__(*exc)

    @property
    def by_alias(self) -> dict[str, int]:
        return {alias: len(context.captured_queries) for alias, context in self._contexts.items()}

    @property
    def total(self) -> int:
        return sum(self.by_alias.values())


# --- Invariants --------------------------------------------------------------------------------------------------


def assert_invariants() -> None:
    """Balances equal ledger sums, every flow's money matches its outcome, every ticket has its rightful owner."""
    report = invariants.check_all()
    assert report.ok, [violation.as_dict() for violation in report.violations]


def assert_purchase_invariants() -> None:
    """The all-or-nothing guarantee: balances equal ledger sums; every ticket belongs to exactly one confirmed order
    of its owner; no confirmed order without its debit; no net debit without a confirmed order."""
    mismatched = _rows(
        "default",
        "SELECT u.id, u.credit_balance, COALESCE(SUM(l.amount), 0) FROM accounts_user u "
        "LEFT JOIN accounts_ledgerentry l ON l.user_id = u.id GROUP BY u.id HAVING u.credit_balance <> "
        "COALESCE(SUM(l.amount), 0)",
    )
    assert not mismatched, f"balance differs from ledger: {mismatched}"

    orders = {
        str(pk): (status, buyer, total)
        for pk, status, buyer, total in _rows("orders", "SELECT id, status, buyer_id, total FROM orders_order")
    }
    active_lines: dict[str, list[str]] = {}
    for order_id, seat_id in _rows("orders", "SELECT order_id, seat_id FROM orders_orderline WHERE is_active"):
        active_lines.setdefault(str(seat_id), []).append(str(order_id))
    tickets = _rows(
        "seats",
        "SELECT id, owner_id, order_id FROM inventory_seat WHERE status IN ('SOLD', 'CHECKED_IN', 'LISTED')",
    )
    for seat_id, owner_id, order_id in tickets:
        status, buyer, _total = orders.get(str(order_id), (None, None, None))
        assert status == "CONFIRMED", f"ticket {seat_id} belongs to order {order_id} in state {status}"
        assert buyer == owner_id, f"ticket {seat_id} is owned by {owner_id}, not its buyer {buyer}"
        assert active_lines.get(str(seat_id)) == [str(order_id)], (
            f"ticket {seat_id} lines {active_lines.get(str(seat_id))}"
        )

    money: dict[str, dict[str, Decimal]] = {}
    for kind, reference, amount in _rows(
        "default",
        "SELECT kind, reference, amount FROM accounts_ledgerentry WHERE kind IN ('PURCHASE', 'PURCHASE_REFUND')",
    ):
        money.setdefault(reference, {})[kind] = amount
    for order_id, (status, _buyer, total) in orders.items():
        rows = money.get(order_id, {})
        net = rows.get("PURCHASE", Decimal("0")) + rows.get("PURCHASE_REFUND", Decimal("0"))
        if status == "CONFIRMED":
            assert total == 0 or rows.get("PURCHASE") == -total, f"confirmed order {order_id} has no debit: {rows}"
            assert net == -total, f"confirmed order {order_id} nets {net}, not -{total}"
        else:
            assert net == 0, f"order {order_id} ({status}) keeps a net debit of {net}"
    for reference in money:
        assert reference in orders, f"purchase ledger rows for no order: {reference}"
