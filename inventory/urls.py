from django.urls import path

from inventory import views

app_name = "inventory"

# Ids are plain strings checked by the selectors: a malformed id is a 404 like an unknown one.
urlpatterns = [
    path("tickets/", views.ticket_list, name="ticket_list"),
    path("tickets/<str:seat_id>/", views.ticket_detail, name="ticket_detail"),
    path("tickets/<str:seat_id>/qr/", views.ticket_qr, name="ticket_qr"),
]
