"""Buying tickets: holds as a buyer operation, checkout across three databases, refunds, and the
recovery of purchases and refunds a crash interrupted. One module per topic; this package re-exports the API.
"""

from orders.services.purchase.card import card_checkout_complete, card_checkout_poll, order_checkout_by_card
from orders.services.purchase.checkout import order_checkout, order_get_for_buyer
from orders.services.purchase.holds import hold_seats, release_holds
from orders.services.purchase.recovery import purchase_recover
from orders.services.purchase.refunds import (
    order_refund,
    order_refund_tickets,
    orders_refund_for_event,
    refund_allowed,
    tickets_refund_finish,
)

__all__ = [
    "card_checkout_complete",
    "card_checkout_poll",
    "order_checkout_by_card",
    "hold_seats",
    "order_checkout",
    "order_get_for_buyer",
    "order_refund",
    "order_refund_tickets",
    "orders_refund_for_event",
    "purchase_recover",
    "refund_allowed",
    "tickets_refund_finish",
    "release_holds",
]
