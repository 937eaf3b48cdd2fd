"""Staff admin of the orders layer: orders, transfers and listings (orders_db), and the event operations that span
databases (publish, cancel and refund, the sales dashboard), which it adds to the event's admin pages."""

from orders.admin import (  # noqa: F401 - registers the ModelAdmins and views
    blocks,
    box_office,
    event_operations,
    exports,
    notifications,
    sales,
    waiting_list,
    waiting_room,
)

event_operations.register(sales.admin.site)
exports.register(sales.admin.site)
box_office.register(sales.admin.site)
waiting_room.register(sales.admin.site)
