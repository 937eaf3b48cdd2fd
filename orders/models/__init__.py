"""orders_db: orders and their lines, transfers between buyers, resale listings, and the waiting room and list.

Each of these drives a flow that spans databases. Its ``step`` column is the recorded plan: it is written before
the next database is touched, so the recovery command can finish or undo a flow a crash interrupted. Every model is
imported here, so Django finds them all and ``from orders.models import X`` works for each. By topic:

- sales: ``Order``, ``OrderLine``, ``OrderRefund``, ``Transfer`` and ``ResaleListing`` (on the abstract
  ``TicketFlow``), ``Notification``, ``StaffOperation``, ``BuyerBlock``;
- waiting: ``WaitingRoom``, ``WaitingRoomEntry``, ``WaitingRoomLatencySample``, ``WaitingRoomAdmission`` and
  ``WaitingListEntry``.
"""

from orders.models.sales import (
    BuyerBlock,
    Notification,
    Order,
    OrderLine,
    OrderRefund,
    ResaleListing,
    StaffOperation,
    TicketFlow,
    Transfer,
)
from orders.models.waiting import (
    WaitingListEntry,
    WaitingRoom,
    WaitingRoomAdmission,
    WaitingRoomEntry,
    WaitingRoomLatencySample,
)

__all__ = [
    "BuyerBlock",
    "Notification",
    "Order",
    "OrderLine",
    "OrderRefund",
    "ResaleListing",
    "StaffOperation",
    "TicketFlow",
    "Transfer",
    "WaitingListEntry",
    "WaitingRoom",
    "WaitingRoomAdmission",
    "WaitingRoomEntry",
    "WaitingRoomLatencySample",
]
