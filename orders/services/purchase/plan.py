"""The purchase's recorded plan in one round trip: the organizer's block checked, the flow lock taken, the order and
its lines inserted, all by one statement.

Before, that was six round trips in orders_db (the block check, ``pg_try_advisory_lock``, BEGIN, the order's INSERT,
the lines' INSERT, COMMIT). One statement in autocommit is atomic by itself, so the order exists with all its lines
or not at all, exactly as with the transaction. The lock is taken before the order row is visible to anyone (the
row commits with the statement), so a duplicate request or the recovery command that finds the order cannot drive
it while this request does; the block check runs first and a blocked buyer takes no lock and writes nothing.

A session-level advisory lock survives the rollback of the statement that took it, so whoever catches an error of
this statement releases the lock (``flow_unlock``).
"""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connections, models, transaction

from core.locking import flow_lock_sql
from orders import DB_ALIAS
from orders.models import BuyerBlock, Order, OrderLine


@dataclass(frozen=True)
class PlanOutcome:
    blocked: bool  # the organizer blocks this buyer: nothing was written, no lock taken
    recorded: bool  # the order and its lines exist, and this session holds the order's flow lock


def order_plan_build(
    *,
    buyer_id: uuid.UUID,
    event: Any,
    total: Decimal,
    key: str,
    seats: Iterable[Any],
    line_price: Decimal | None = None,
    **fields: Any,
) -> tuple[Order, list[OrderLine]]:
    """A new order of ``event`` (an EventInfo) for ``seats`` and its lines, for order_plan_record: each line at its
    seat's price (or ``line_price``), sorted by seat id; ``fields`` are the order's other columns."""
    order = Order(
        id=uuid.uuid4(),
        buyer_id=buyer_id,
        event_id=event.id,
        organization_id=event.organization_id,
        total=total,
        idempotency_key=key,
        **fields,
    )
    lines = [OrderLine(order=order, seat_id=seat.id, price=_price(seat, line_price)) for seat in seats]
    lines.sort(key=lambda line: line.seat_id)
    return order, lines


def _price(seat: Any, line_price: Decimal | None) -> Decimal:
    return seat.price if line_price is None else line_price


@functools.cache
def _layout(model: type[models.Model], alias: str) -> tuple[tuple[models.Field, ...], str, str]:
    """The model's concrete fields, their quoted column list and one ``(VALUES ...)`` row of casts: the part of the
    insert that never changes, worked out once per process instead of once per checkout."""
    connection = connections[alias]
    fields = tuple(model._meta.concrete_fields)
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    row = "(" + ", ".join(f"%s::{field.cast_db_type(connection)}" for field in fields) + ")"
    return fields, columns, row


def _params(model: type[models.Model], instances: Sequence[models.Model], connection) -> list:
    """The parameters of ``instances``' VALUES rows (``_layout``), each value as Django's save would send it.

    Each value goes through the field's own ``pre_save`` (auto timestamps) and ``get_db_prep_save``, and the row
    casts it to the column's type, so the VALUES rows type-check the same under client-side and server-side binding.
    """
    fields = _layout(model, connection.alias)[0]
    return [
        field.get_db_prep_save(field.pre_save(instance, add=True), connection=connection)
        for instance in instances
        for field in fields
    ]


@functools.cache
def _plan_statement(n_lines: int, lock_call: str) -> str:
    """The plan's statement for an order of ``n_lines`` lines (see order_plan_record), written once per size."""
    order_fields, order_columns, order_row = _layout(Order, DB_ALIAS)
    line_fields, line_columns, line_row = _layout(OrderLine, DB_ALIAS)
    order_alias = ", ".join(f"c{i}" for i in range(len(order_fields)))
    line_alias = ", ".join(f"c{i}" for i in range(len(line_fields)))
    line_values = ", ".join([line_row] * n_lines)
    # Served by buyer_block_once_per_organization (organization_id, user_id).
    return (
        f"WITH blocked AS (SELECT EXISTS (SELECT 1 FROM {BuyerBlock._meta.db_table} "  # noqa: S608 - fixed SQL
        "WHERE organization_id = %s AND user_id = %s) AS yes), "
        f"locked AS (SELECT {lock_call} AS got FROM blocked WHERE NOT yes), "
        f"new_order AS (INSERT INTO {Order._meta.db_table} ({order_columns}) "
        f"SELECT v.* FROM locked, (VALUES {order_row}) AS v ({order_alias}) WHERE locked.got RETURNING 1), "
        f"new_lines AS (INSERT INTO {OrderLine._meta.db_table} ({line_columns}) "
        f"SELECT v.* FROM new_order, (VALUES {line_values}) AS v ({line_alias}) RETURNING 1) "
        "SELECT (SELECT yes FROM blocked), (SELECT count(*) FROM new_order), (SELECT count(*) FROM new_lines)"
    )


def order_plan_record(*, order: Order, lines: Sequence[OrderLine]) -> PlanOutcome:
    """Record the order and its lines under the order's flow lock, unless the organizer blocks the buyer.

    Raises IntegrityError like the ORM inserts would (the idempotency key taken, a seat in another live order); the
    caller then releases the flow lock the statement may have taken.
    """
    connection = connections[DB_ALIAS]
    lock_call, lock_params = flow_lock_sql(order.pk)
    statement = _plan_statement(len(lines), lock_call)
    params = [
        order.organization_id,
        order.buyer_id,
        *lock_params,
        *_params(Order, [order], connection),
        *_params(OrderLine, lines, connection),
    ]
    # Inside a caller's transaction (tests, the admin) a savepoint keeps a refused insert from breaking it; on the
    # hot path (autocommit) the statement is its own transaction and no BEGIN/COMMIT round trip is spent.
    with _statement_scope(connection), connection.cursor() as cursor:
        cursor.execute(statement, params)
        blocked, orders_written, lines_written = cursor.fetchone()
    for instance in (order, *lines):
        instance._state.adding = False
        instance._state.db = DB_ALIAS
    return PlanOutcome(blocked=bool(blocked), recorded=orders_written == 1 and lines_written == len(lines))


def _statement_scope(connection) -> contextlib.AbstractContextManager:
    return transaction.atomic(using=DB_ALIAS) if connection.in_atomic_block else contextlib.nullcontext()
