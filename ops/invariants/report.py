"""The checker's vocabulary and its answer: every check's name with one line of meaning, a violation, the report."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

CHECKS: dict[str, str] = {
    "BALANCE_NEGATIVE": "a user's credit balance is below zero",
    "BALANCE_LEDGER_MISMATCH": "a user's balance differs from the sum of their ledger",
    "ORDER_WITHOUT_DEBIT": "a confirmed order has no PURCHASE debit",
    "ORDER_CONFIRMED_BUT_REFUNDED": "a confirmed order's debit was also refunded",
    "ORDER_REFUND_MISSING": "a refunded order's debit was never credited back",
    "DEBIT_WITHOUT_ORDER": "a PURCHASE debit without a confirmed or refunded order and without its refund",
    "ORDER_MONEY_MISMATCH": "an order's ledger rows do not net to its outcome",
    "ORDER_REFUNDED_AMOUNT_MISMATCH": "an order's refunded amount differs from its finished ticket refunds",
    "STAFF_ORDER_MOVED_CREDITS": "a box-office sale or a comp has ledger rows (they take no credits)",
    "BOX_OFFICE_PAYMENT_MISSING": "a box-office sale does not record its method and the amount taken (its total)",
    "COMP_NOT_FREE": "a comp order, or one of its lines, has a price",
    "TRANSFER_WITHOUT_PAYMENT": "a completed paid transfer has no ledger rows",
    "TRANSFER_MONEY_MISMATCH": "a transfer's ledger rows do not net to its outcome",
    "RESALE_WITHOUT_PAYMENT": "a sold listing has no ledger rows for its sale attempt",
    "RESALE_MONEY_MISMATCH": "a resale attempt's ledger rows do not net to its outcome",
    "ORPHAN_LEDGER_MONEY": "flow ledger rows that belong to no flow and do not net to zero",
    "CREDITS_WITHOUT_PAYMENT": "a TOPUP credit that no succeeded payment of that user and amount backs",
    "PAYMENT_NOT_CREDITED": "a succeeded payment whose credits were never added",
    "CARD_REFUND_EXCEEDS_PAYMENT": "refunds to card exceed (or disagree with) what their payment brought in",
    "CARD_REFUND_LEDGER_MISMATCH": "a refund to card and its ledger rows disagree",
    "TICKET_ORDER_NOT_CONFIRMED": "a ticket's order is missing or not confirmed",
    "TICKET_WITHOUT_ACTIVE_LINE": "a ticket has no active order line of its order",
    "TICKET_OWNER_MISMATCH": "a ticket's owner is not its buyer or last completed transfer/resale recipient",
    "CONFIRMED_LINE_WITHOUT_TICKET": "a confirmed order's active line names a seat that is not its ticket",
    "ORDER_TOTAL_MISMATCH": "a confirmed order's total differs from the sum of its active lines",
    "SEAT_IN_TWO_ACTIVE_ORDERS": "one seat has active lines in more than one order",
    "ACTIVE_LINE_OF_FINISHED_ORDER": "a failed or refunded order still has an active line",
    "REFUND_OF_PASSED_TICKET": "a refunded order's ticket belonged to someone else when it was refunded",
    "LISTED_WITHOUT_LISTING": "a LISTED seat has no active listing by its owner",
    "LISTING_WITHOUT_LISTED_TICKET": "an active listing's seat is not LISTED and owned by the seller",
    "UNFINISHED_FLOW": "a flow left unfinished past the grace period (run recover_flows)",
    "AVAILABILITY_MISMATCH": "an availability figure differs from the raw seat counts",
    "ENTRY_DOUBLE_SUCCESS": "more than one SUCCESS entry for one seat",
}


@dataclass(frozen=True)
class Violation:
    check: str
    detail: str
    ids: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"check": self.check, "detail": self.detail, "ids": self.ids}


@dataclass
class Report:
    violations: list[Violation] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    examined: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    elapsed_s: float = 0.0
    limit_per_check: int = 1000

    @property
    def ok(self) -> bool:
        return not self.counts

    def add(self, check: str, detail: str, **ids: Any) -> None:
        assert check in CHECKS, check
        self.counts[check] += 1
        # Every violation is counted; only the first few per check are kept with their details.
        if self.counts[check] <= self.limit_per_check:
            self.violations.append(Violation(check, detail, {key: str(value) for key, value in ids.items()}))

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "violation_count": sum(self.counts.values()),
            "counts": dict(self.counts),
            "violations": [violation.as_dict() for violation in self.violations],
            "examined": self.examined,
            "skipped": self.skipped,
            "elapsed_s": round(self.elapsed_s, 3),
        }
