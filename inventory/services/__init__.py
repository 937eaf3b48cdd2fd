"""Business operations of the inventory domain, the contract other apps call: ``from inventory import services``.

Every seat status change is either a compare-and-set UPDATE filtered on the expected state (and its row count
checked) or happens under ``SELECT ... FOR UPDATE`` taken in sorted id order. A busy seat is a conflict, never a
wait. An expired hold (status HELD with hold_expires_at <= now) is available to anyone at once, in every statement.
Ids are ``uuid.UUID`` (parsed where they enter); anything else is refused as InvalidInput.

Modules by topic: ``holds`` (hold, best available, release), ``sales`` (sell, unsell), ``tickets`` (new owner,
listing), ``production`` (places staff keep off sale), ``qr`` (signed codes), ``scan`` (gate admission), ``bulk``
(an event's inventory). The result types and errors live in ``inventory.contract``; the reads in
``inventory.selectors`` are re-exported here for callers that use one module for both.
"""

from inventory.contract import (
    INVENTORY_ERRORS,
    HoldExpired,
    HoldLimitExceeded,
    NotEnoughSeats,
    PrintedPayload,
    PrintedTicket,
    QrPayload,
    QrUnavailable,
    ScanBusy,
    ScanResult,
    SeatInfo,
    SeatUnavailable,
    SectionInventorySpec,
    TicketCheckedIn,
    TicketNotTransferable,
    TicketTransferred,
)
from inventory.selectors import (
    event_sales_summary,
    free_places_by_line,
    holds_for_buyer,
    inventory_count_for_event,
    seat_map,
    seats_of_order,
    section_availability,
    ticket_get,
    ticket_get_for_owner,
    tickets_for_owner,
    tickets_listed_before,
)
from inventory.services.bulk import inventory_create_for_event
from inventory.services.holds import seats_hold, seats_hold_best_available, seats_hold_for_offer, seats_release
from inventory.services.pricing import RepriceResult, seats_reprice
from inventory.services.production import KeepResult, seats_keep_off_sale, seats_return_to_sale
from inventory.services.qr import (
    QR_MAX_TOKEN_LENGTH,
    QR_SALT,
    printed_token_make,
    printed_token_read,
    qr_token_make,
    qr_token_read,
    ticket_qr,
    ticket_qr_svg,
)
from inventory.services.sales import seats_sell, seats_unsell
from inventory.services.scan import ticket_scan
from inventory.services.tickets import ticket_change_owner, ticket_set_listed, tickets_print, tickets_printed

__all__ = [
    "INVENTORY_ERRORS",
    "QR_MAX_TOKEN_LENGTH",
    "QR_SALT",
    "HoldExpired",
    "HoldLimitExceeded",
    "KeepResult",
    "NotEnoughSeats",
    "PrintedPayload",
    "PrintedTicket",
    "QrPayload",
    "QrUnavailable",
    "RepriceResult",
    "ScanBusy",
    "ScanResult",
    "SeatInfo",
    "SeatUnavailable",
    "SectionInventorySpec",
    "TicketCheckedIn",
    "TicketNotTransferable",
    "TicketTransferred",
    "event_sales_summary",
    "free_places_by_line",
    "holds_for_buyer",
    "inventory_count_for_event",
    "inventory_create_for_event",
    "printed_token_make",
    "printed_token_read",
    "qr_token_make",
    "qr_token_read",
    "seat_map",
    "seats_hold",
    "seats_hold_best_available",
    "seats_hold_for_offer",
    "seats_keep_off_sale",
    "seats_of_order",
    "seats_release",
    "seats_reprice",
    "seats_return_to_sale",
    "seats_sell",
    "seats_unsell",
    "section_availability",
    "ticket_change_owner",
    "ticket_get",
    "ticket_get_for_owner",
    "ticket_qr",
    "ticket_qr_svg",
    "ticket_scan",
    "ticket_set_listed",
    "tickets_for_owner",
    "tickets_listed_before",
    "tickets_print",
    "tickets_printed",
]
