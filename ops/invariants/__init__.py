"""The invariant checker: audits users_db, orders_db and seats_db together and names every violation with its ids.

Run it with ``python manage.py check_invariants [--json]`` (exit status 1 if anything is wrong), or call
``check_all()``. Each domain states the facts of its own database in its ``invariants`` module, with its own table
names (``accounts.invariants``: balances and ledger rows by reference; ``orders.invariants``: orders, lines,
transfers, listings and the flows in flight; ``inventory.invariants``: tickets, gate entries, seat counts). This
package compares them:

  facts.py     opens one REPEATABLE READ, READ ONLY snapshot per database and reads every domain's facts in it
  money.py     balances against the ledger, and each flow's ledger rows against its outcome
  tickets.py   tickets against orders, lines, transfers and listings
  seats.py     gate entries, and the availability buyers see against the seat rows
  report.py    the check names, a violation, the report
  runner.py    check_all

The comparisons across databases live here rather than in orders (which drives the flows), so that the auditor
shares no code with the flows it audits and every domain's facts meet in one place.

What it checks (each check's name is the ``check`` of its violations):

money
  BALANCE_NEGATIVE            a user's credit balance is below zero
  BALANCE_LEDGER_MISMATCH     a user's balance differs from the sum of their ledger
  ORDER_WITHOUT_DEBIT         a confirmed order (total > 0) has no PURCHASE debit
  ORDER_CONFIRMED_BUT_REFUNDED  a confirmed order's debit was also refunded (the buyer has the seats for free)
  ORDER_REFUND_MISSING        a refunded order's debit was never credited back
  DEBIT_WITHOUT_ORDER         a PURCHASE debit whose order is missing, failed or pending, and was not refunded
  ORDER_MONEY_MISMATCH        an order's ledger rows net to a different amount than its total less its refunds of
                              some tickets (or touch others)
  ORDER_REFUNDED_AMOUNT_MISMATCH  an order's refunded_amount differs from the sum of its finished ticket refunds
  STAFF_ORDER_MOVED_CREDITS   a box-office sale or a comp has ledger rows (paid at the counter or free: no credits)
  BOX_OFFICE_PAYMENT_MISSING  a box-office sale does not record its payment method and an amount taken equal to
                              its total
  COMP_NOT_FREE               a comp order's total, or one of its lines' prices, is not zero
  TRANSFER_WITHOUT_PAYMENT    a completed paid transfer has no TRANSFER_DEBIT / TRANSFER_CREDIT
  TRANSFER_MONEY_MISMATCH     a transfer's ledger rows net to something else than its outcome demands
  RESALE_WITHOUT_PAYMENT      a sold listing has no RESALE_DEBIT / RESALE_CREDIT for its sale attempt
  RESALE_MONEY_MISMATCH       a resale attempt's ledger rows net to something else than its outcome demands
  ORPHAN_LEDGER_MONEY         flow ledger rows (not TOPUP/ADJUSTMENT) that belong to no flow and do not net to zero
  CREDITS_WITHOUT_PAYMENT     a TOPUP credit no succeeded payment of that user and amount backs (credits come only
                              from payments, flows and audited staff adjustments)
  PAYMENT_NOT_CREDITED        a succeeded payment whose credits were never added
  CARD_REFUND_EXCEEDS_PAYMENT refunds to card of one payment exceed it, or disagree with its refunded_amount
  CARD_REFUND_LEDGER_MISMATCH a refund to card without its CARD_REFUND debit, or with a reversal it should not have
seats and orders
  TICKET_ORDER_NOT_CONFIRMED  a SOLD/CHECKED_IN/LISTED seat's order is missing or not confirmed
  TICKET_WITHOUT_ACTIVE_LINE  a ticket has no active order line of its order
  TICKET_OWNER_MISMATCH       a ticket's owner is not its buyer (or the last completed transfer/resale recipient)
  CONFIRMED_LINE_WITHOUT_TICKET  a confirmed order's active line names a seat that is not its ticket
  ORDER_TOTAL_MISMATCH        a confirmed order's total less its refunded amount differs from its active lines
  SEAT_IN_TWO_ACTIVE_ORDERS   one seat has active lines in more than one order
  ACTIVE_LINE_OF_FINISHED_ORDER  a failed or refunded order still has an active line (it blocks the seat)
  REFUND_OF_PASSED_TICKET     a refunded order's ticket had been passed on (transfer/resale) before the refund: the
                              refund took the new holder's ticket (rule: such a refund is refused, TICKET_TRANSFERRED)
  LISTED_WITHOUT_LISTING      a LISTED seat has no active listing by its owner
  LISTING_WITHOUT_LISTED_TICKET  an ACTIVE listing's seat is not LISTED and owned by the seller
  UNFINISHED_FLOW             a pending order, completing transfer, selling listing or refund of some tickets older
                              than the grace period
  AVAILABILITY_MISMATCH       section_availability differs from the raw counts (an expired hold counted as held)
gate
  ENTRY_DOUBLE_SUCCESS        more than one SUCCESS entry log for one seat
"""

from ops.invariants.report import CHECKS, Report, Violation
from ops.invariants.runner import check_all

__all__ = ["CHECKS", "Report", "Violation", "check_all"]
