from django.urls import path, re_path

from orders.views import checkout, event_page, holds, tickets, waiting_list, waiting_room

app_name = "orders"

# Ids in paths are plain strings where the view parses them: a malformed id is a 404 like an unknown one.
urlpatterns = [
    path("events/<uuid:event_id>/", event_page.event_detail, name="event"),
    path("events/<uuid:event_id>/sections/<uuid:section_id>/", event_page.section_detail, name="event_section"),
    path(
        "events/<uuid:event_id>/sections/<uuid:section_id>/seats/",
        event_page.section_seat_list,
        name="event_section_seats",
    ),
    path("events/<uuid:event_id>/changes/", event_page.seat_changes, name="event_changes"),
    path("events/<uuid:event_id>/live/", event_page.seat_change_stream, name="event_live"),
    path("events/<uuid:event_id>/hold/", holds.hold_create, name="hold"),
    path("events/<uuid:event_id>/holds/release/", holds.hold_release, name="release"),
    path("events/<uuid:event_id>/waiting-room/", waiting_room.waiting_room, name="waiting_room"),
    re_path(
        r"^waiting-room-status/(?P<name>[0-9a-f-]{36}\.json)$", waiting_room.status_file, name="waiting_room_status"
    ),
    path("events/<uuid:event_id>/waiting-list/join/", waiting_list.waiting_list_join, name="waiting_list_join"),
    path("waiting-list/", waiting_list.waiting_list_mine, name="waiting_list"),
    path("waiting-list/<uuid:entry_id>/", waiting_list.waiting_list_offer, name="waiting_list_offer"),
    path("waiting-list/<uuid:entry_id>/leave/", waiting_list.waiting_list_leave, name="waiting_list_leave"),
    path("checkout/", checkout.checkout, name="checkout"),
    path("orders/", checkout.order_list, name="list"),
    path("orders/<uuid:order_id>/", checkout.order_detail, name="detail"),
    path("tickets/", tickets.ticket_list, name="ticket_list"),
    path("tickets/<str:seat_id>/", tickets.ticket_detail, name="ticket_detail"),
    path("tickets/<str:seat_id>/qr/", tickets.ticket_qr, name="ticket_qr"),
]
