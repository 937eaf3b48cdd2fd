from django.urls import path

from orders.api import views

# Ids are matched as plain strings and checked in the views: a malformed id is a JSON 404, like an unknown one.
urlpatterns = [
    path("events/<str:event_id>/holds/", views.HoldCreateView.as_view(), name="api-hold-create"),
    path("holds/", views.HoldListView.as_view(), name="api-holds"),
    path("holds/release/", views.HoldReleaseView.as_view(), name="api-holds-release"),
    path("orders/", views.OrderListCreateView.as_view(), name="api-orders"),
    path("orders/<str:order_id>/", views.OrderDetailView.as_view(), name="api-order-detail"),
    path("orders/<str:order_id>/refund/", views.OrderRefundView.as_view(), name="api-order-refund"),
]
