"""Ticket transfers between buyers. One module per topic; this package re-exports the API.

State machine (``Transfer.status``)::

    OFFERED --accept--> ACCEPTED --both codes confirmed--> COMPLETING --> COMPLETED
       |                   |                                   |              |
       |                   |                                   |              +--dispute (staff)--> DISPUTED
       |                   |                                   |                                       |
       |                   |                                   +--> FAILED     REVERSED <--reverse----+
       +-- decline (recipient) --> DECLINED     (from OFFERED or ACCEPTED)
       +-- cancel (owner) -------> CANCELLED    (from OFFERED or ACCEPTED)
       +-- expiry ---------------> EXPIRED      (config transfer_expiry_hours; lazily on read and by the recoverer)

- offers: reads, the offer, accept / decline / cancel, codes, expiry;
- completion: confirmation with the codes and the completion across three databases;
- staff: disputes and reversals;
- recovery: transfers a crash left half done.
"""

from orders.services.transfer.completion import transfer_confirm
from orders.services.transfer.offers import (
    transfer_accept,
    transfer_active_for_seat,
    transfer_cancel,
    transfer_decline,
    transfer_get,
    transfer_offer,
    transfer_send_code,
    transfers_expire_due,
    transfers_for_user,
)
from orders.services.transfer.recovery import transfer_recover
from orders.services.transfer.staff import transfer_dispute, transfer_reverse

__all__ = [
    "transfer_accept",
    "transfer_active_for_seat",
    "transfer_cancel",
    "transfer_confirm",
    "transfer_decline",
    "transfer_dispute",
    "transfer_get",
    "transfer_offer",
    "transfer_recover",
    "transfer_reverse",
    "transfer_send_code",
    "transfers_expire_due",
    "transfers_for_user",
]
