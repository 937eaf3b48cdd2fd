"""Resale listings: an owner lists a ticket under the price cap; a buyer buys it in one step.

Listing states: ACTIVE --buy claims--> SELLING --> SOLD, or ACTIVE --withdraw--> WITHDRAWN, or SELLING -->
ACTIVE (the payment was refused, nothing moved) / CANCELLED (the ticket could not move; the buyer was refunded).

- listings: the cap and the fee, reads, listing and withdrawing a ticket;
- sales: buying a listing across three databases;
- repair: listing and ticket made to agree again after a crash or a refund;
- recovery: sale attempts and withdrawals a crash left half done.
"""

from orders.services.resale.listings import (
    fee_for,
    listing_create,
    listing_get,
    listing_withdraw,
    listings_bought_by,
    listings_for_event,
    listings_for_seller,
)
from orders.services.resale.recovery import resale_recover
from orders.services.resale.repair import listed_tickets_repair
from orders.services.resale.sales import listing_buy
from orders.services.ticket_flows import price_cap

__all__ = [
    "fee_for",
    "listed_tickets_repair",
    "listing_buy",
    "listing_create",
    "listing_get",
    "listing_withdraw",
    "listings_bought_by",
    "listings_for_event",
    "listings_for_seller",
    "price_cap",
    "resale_recover",
]
