from django.urls import path

from events import views

app_name = "events"

urlpatterns = [
    path("", views.event_list, name="list"),
    path("events/<uuid:event_id>/", views.event_detail, name="detail"),
    path("events/<uuid:event_id>/sections/<uuid:section_id>/", views.section_detail, name="section"),
    path("events/<uuid:event_id>/hold/", views.hold_create, name="hold"),
    path("events/<uuid:event_id>/holds/release/", views.hold_release, name="release"),
]
