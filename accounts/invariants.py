"""The facts of users_db that the invariant checker (``ops.invariants``) compares: read-only, over accounts' tables.

Every query reads ``connections[DB_ALIAS]`` as it stands: the checker opens one REPEATABLE READ, READ ONLY
transaction on it before the first read, so all the facts come from one snapshot. The checks that need nothing but
this database (a balance equals its ledger, no balance is negative) are answered here in SQL; anything that needs
orders or seats is compared by ``ops.invariants``, which is the only caller.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connections

from accounts import DB_ALIAS
from accounts.contract import LedgerKind
from accounts.models import CardRefund, LedgerEntry, TopUp, User

USER_TABLE = User._meta.db_table
LEDGER_TABLE = LedgerEntry._meta.db_table
TOPUP_TABLE = TopUp._meta.db_table
CARD_REFUND_TABLE = CardRefund._meta.db_table

# Money enters or leaves the platform with these kinds; every other ledger row belongs to a flow (an order, a
# transfer or a resale attempt) named by its reference. Top-ups and refunds to card are checked against their
# payments here (card_facts), adjustments are staff decisions with an audit entry.
STANDALONE_KINDS: tuple[str, ...] = (
    LedgerKind.TOPUP.value,
    LedgerKind.ADJUSTMENT.value,
    LedgerKind.CARD_REFUND.value,
    LedgerKind.CARD_REFUND_REVERSAL.value,
)

# (kind, user_id, amount) of one ledger row of a flow; ids are text, as the references that name flows are.
FlowRow = tuple[str, str, Decimal]


@dataclass
class LedgerFacts:
    user_count: int
    # reference -> the rows of every flow kind (not TOPUP / ADJUSTMENT), in the order the table returned them
    flow_rows: dict[str, list[FlowRow]]
    flow_row_count: int
    # (user_id, balance) of every balance below zero
    negative_balances: list[tuple[str, Decimal]]
    # (user_id, balance, ledger sum) of every balance that is not the sum of its user's ledger
    balances_off_ledger: list[tuple[str, Decimal, Decimal]]
    # (reference, user_id, amount) of TOPUP credits that no succeeded payment of that user and amount backs
    credits_without_payment: list[tuple[str, str, Decimal]] = field(default_factory=list)
    # (top-up id, amount) of succeeded payments whose credits were never added
    payments_not_credited: list[tuple[str, Decimal]] = field(default_factory=list)
    # (top-up id, amount, refunded_amount, live refunds) where refunds exceed the payment or disagree with it
    card_refunds_off_payment: list[tuple[str, Decimal, Decimal, Decimal]] = field(default_factory=list)
    # (refund id or ledger reference, detail) where a refund to card and its ledger rows disagree
    card_refunds_off_ledger: list[tuple[str, str]] = field(default_factory=list)


def _rows(sql: str, params: list | None = None) -> list[tuple]:
    with connections[DB_ALIAS].cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def ledger_facts() -> LedgerFacts:
    """Users, flow ledger rows by reference, and the balances that break a rule of users_db alone."""
    flow_rows: dict[str, list[FlowRow]] = defaultdict(list)
    count = 0
    for kind, reference, user_id, amount in _rows(
        f"SELECT kind, reference, user_id::text, amount FROM {LEDGER_TABLE} WHERE kind <> ALL(%s)",  # noqa: S608
        [list(STANDALONE_KINDS)],
    ):
        flow_rows[reference].append((kind, user_id, amount))
        count += 1
    ((user_count,),) = _rows(f"SELECT count(*) FROM {USER_TABLE}")  # noqa: S608 - table name from the model
    return LedgerFacts(
        user_count=user_count,
        flow_rows=dict(flow_rows),
        flow_row_count=count,
        negative_balances=_rows(
            f"SELECT id::text, credit_balance FROM {USER_TABLE} WHERE credit_balance < 0"  # noqa: S608
        ),
        balances_off_ledger=_rows(
            f"SELECT u.id::text, u.credit_balance, COALESCE(l.total, 0) FROM {USER_TABLE} u "  # noqa: S608
            f"LEFT JOIN (SELECT user_id, sum(amount) AS total FROM {LEDGER_TABLE} GROUP BY user_id) l "
            "ON l.user_id = u.id WHERE u.credit_balance <> COALESCE(l.total, 0)"
        ),
        **card_facts(),
    )


def card_facts() -> dict[str, list]:
    """Money that came in by card and went back to it: every TOPUP credit is a succeeded payment of that user and
    amount (credits never appear from nothing: the other sources are flows and audited staff adjustments), every
    succeeded payment was credited, refunds to card never exceed what their payment brought in, and every refund's
    ledger rows match it (its CARD_REFUND debit; a reversal exactly when it failed)."""
    topup, card, ledger = TOPUP_TABLE, CARD_REFUND_TABLE, LEDGER_TABLE
    live = "COALESCE(sum(r.amount) FILTER (WHERE r.status <> 'FAILED'), 0)"
    return {
        "credits_without_payment": _rows(
            f"SELECT l.reference, l.user_id::text, l.amount FROM {ledger} l "  # noqa: S608 - model table names
            f"LEFT JOIN {topup} t ON t.provider_reference = l.reference AND t.user_id = l.user_id "
            "AND t.amount = l.amount AND t.status = 'SUCCEEDED' WHERE l.kind = 'TOPUP' AND t.id IS NULL"
        ),
        "payments_not_credited": _rows(
            f"SELECT t.id::text, t.amount FROM {topup} t LEFT JOIN {ledger} l "  # noqa: S608
            "ON l.kind = 'TOPUP' AND l.reference = t.provider_reference WHERE t.status = 'SUCCEEDED' AND l.id IS NULL"
        ),
        "card_refunds_off_payment": _rows(
            f"SELECT t.id::text, t.amount, t.refunded_amount, {live} FROM {topup} t "  # noqa: S608
            f"LEFT JOIN {card} r ON r.topup_id = t.id GROUP BY t.id "
            f"HAVING {live} > t.amount OR {live} <> t.refunded_amount "
            f"OR ({live} > 0 AND t.status <> 'SUCCEEDED')"
        ),
        "card_refunds_off_ledger": _rows(
            f"SELECT r.id::text, 'status ' || r.status || ', amount ' || r.amount || ', debit ' || "  # noqa: S608
            "COALESCE(d.amount::text, 'none') || ', reversal ' || COALESCE(v.amount::text, 'none') "
            f"FROM {card} r "
            f"LEFT JOIN {ledger} d ON d.kind = 'CARD_REFUND' AND d.reference = r.id::text "
            f"LEFT JOIN {ledger} v ON v.kind = 'CARD_REFUND_REVERSAL' AND v.reference = r.id::text "
            "WHERE d.amount IS DISTINCT FROM -r.amount OR d.user_id <> r.user_id "
            "OR (r.status = 'FAILED') <> (v.id IS NOT NULL) OR v.amount <> r.amount "
            f"UNION ALL SELECT l.reference, 'ledger row ' || l.kind || ' of no refund to card' FROM {ledger} l "
            f"LEFT JOIN {card} r ON r.id::text = l.reference "
            "WHERE l.kind IN ('CARD_REFUND', 'CARD_REFUND_REVERSAL') AND r.id IS NULL"
        ),
    }
