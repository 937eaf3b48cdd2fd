from django.urls import path

from inventory.api import views

# Ids are plain strings parsed by the selectors: a malformed id is a JSON 404 NOT_FOUND, like an unknown one.
urlpatterns = [
    path("tickets/", views.TicketListView.as_view(), name="api-tickets"),
    path("tickets/<str:seat_id>/", views.TicketDetailView.as_view(), name="api-ticket-detail"),
    path("tickets/<str:seat_id>/qr/", views.TicketQrView.as_view(), name="api-ticket-qr"),
    path("scan/", views.ScanView.as_view(), name="api-scan"),
]
