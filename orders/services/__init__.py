"""Business operations of the orders domain, the only one that drives flows across domains.

One package per flow, one module per topic; this module re-exports the API callers use. Result types, enums and
errors are those of ``orders.contract`` (the purchase ones are re-exported here too).

- purchase: holds as a buyer operation, checkout, refunds, purchase recovery;
- transfer: offers between buyers, their completion, disputes and reversals;
- resale: listings and buying them;
- box_office: box-office sales (cash, card terminal) and comps to a guest list, issued by staff;
- event_operations: publishing and cancelling a whole event;
- recovery: every recoverer, for ``python manage.py recover_flows``.
"""

from orders.contract import (
    CancelResult,
    EmailNotVerified,
    EventBusy,
    IdempotencyConflict,
    IdempotencyKeyReused,
    ListingInfo,
    NoHolds,
    OrderFailed,
    OrderInfo,
    OrderInProgress,
    OrderLineInfo,
    OrderNotRefundable,
    PublishResult,
    PurchaseRecoveryReport,
    RefundNotAllowed,
    StepUpRequired,
    TransferInfo,
)
from orders.services import event_operations, recovery, resale, transfer
from orders.services.box_office import box_office_sell, comp_issue, comps_issue_guest_list, guest_list_parse
from orders.services.event_operations import event_cancel, event_publish, tier_reprice
from orders.services.purchase import (
    card_checkout_complete,
    card_checkout_poll,
    hold_seats,
    order_checkout,
    order_checkout_by_card,
    order_get_for_buyer,
    order_refund,
    order_refund_tickets,
    orders_refund_for_event,
    purchase_recover,
    refund_allowed,
    release_holds,
)
from orders.services.resale import listing_buy, listing_create, listing_withdraw, listings_for_event, resale_recover
from orders.services.transfer import (
    transfer_accept,
    transfer_cancel,
    transfer_confirm,
    transfer_decline,
    transfer_dispute,
    transfer_offer,
    transfer_recover,
    transfer_reverse,
    transfer_send_code,
    transfers_expire_due,
)

__all__ = [
    "CancelResult",
    "EmailNotVerified",
    "EventBusy",
    "IdempotencyConflict",
    "IdempotencyKeyReused",
    "ListingInfo",
    "NoHolds",
    "OrderFailed",
    "OrderInProgress",
    "OrderInfo",
    "OrderLineInfo",
    "OrderNotRefundable",
    "PublishResult",
    "PurchaseRecoveryReport",
    "RefundNotAllowed",
    "StepUpRequired",
    "TransferInfo",
    "box_office_sell",
    "comp_issue",
    "comps_issue_guest_list",
    "guest_list_parse",
    "event_cancel",
    "event_operations",
    "event_publish",
    "hold_seats",
    "listing_buy",
    "listing_create",
    "listing_withdraw",
    "listings_for_event",
    "card_checkout_complete",
    "card_checkout_poll",
    "order_checkout",
    "order_checkout_by_card",
    "order_get_for_buyer",
    "order_refund",
    "order_refund_tickets",
    "orders_refund_for_event",
    "purchase_recover",
    "recovery",
    "refund_allowed",
    "release_holds",
    "resale",
    "resale_recover",
    "transfer",
    "tier_reprice",
    "transfer_accept",
    "transfer_cancel",
    "transfer_confirm",
    "transfer_decline",
    "transfer_dispute",
    "transfer_offer",
    "transfer_recover",
    "transfer_reverse",
    "transfer_send_code",
    "transfers_expire_due",
]
