from django.urls import path

from events.api import views

urlpatterns = [
    path("events/", views.EventListView.as_view(), name="api-event-list"),
    path("events/<str:event_id>/", views.EventDetailView.as_view(), name="api-event-detail"),
]
