from django.urls import path

from orders.views import gate as gate_views

app_name = "gate"

urlpatterns = [
    path("", gate_views.gate_home, name="home"),
    path("<uuid:event_id>/", gate_views.gate_scan, name="scan"),
]
