from django.urls import path

from orders.api import event_views, exports, ticket_views, views, waiting_list, waiting_room

# Ids are matched as plain strings and checked in the views: a malformed id is a JSON 404, like an unknown one.
urlpatterns = [
    path("events/<str:event_id>/sections/", event_views.EventSectionsView.as_view(), name="api-event-sections"),
    path("events/<str:event_id>/seats/", event_views.EventSeatsView.as_view(), name="api-event-seats"),
    path("events/<str:event_id>/exports/<str:kind>/", exports.EventExportView.as_view(), name="api-event-export"),
    path(
        "organizations/<str:organization_id>/exports/<str:kind>/",
        exports.OrganizationExportView.as_view(),
        name="api-organization-export",
    ),
    path("events/<str:event_id>/holds/", views.HoldCreateView.as_view(), name="api-hold-create"),
    path("events/<str:event_id>/waiting-room/", waiting_room.WaitingRoomView.as_view(), name="api-waiting-room"),
    path("holds/", views.HoldListView.as_view(), name="api-holds"),
    path("waiting-list/", waiting_list.WaitingListView.as_view(), name="api-waiting-list"),
    path("waiting-list/<str:entry_id>/", waiting_list.WaitingListEntryView.as_view(), name="api-waiting-list-entry"),
    path(
        "waiting-list/<str:entry_id>/leave/", waiting_list.WaitingListLeaveView.as_view(), name="api-waiting-list-leave"
    ),
    path("holds/release/", views.HoldReleaseView.as_view(), name="api-holds-release"),
    path("orders/", views.OrderListCreateView.as_view(), name="api-orders"),
    path("orders/<str:order_id>/", views.OrderDetailView.as_view(), name="api-order-detail"),
    path("orders/<str:order_id>/refund/", views.OrderRefundView.as_view(), name="api-order-refund"),
    path("tickets/", ticket_views.TicketListView.as_view(), name="api-tickets"),
    path("tickets/<str:seat_id>/", ticket_views.TicketDetailView.as_view(), name="api-ticket-detail"),
    path("tickets/<str:seat_id>/qr/", ticket_views.TicketQrView.as_view(), name="api-ticket-qr"),
    path("scan/", ticket_views.ScanView.as_view(), name="api-scan"),
]
