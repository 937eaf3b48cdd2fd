from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from ticketremaster.views import healthz

api_v1 = [
    path("", include("accounts.api.urls")),
    path("", include("events.api.urls")),
    path("", include("inventory.api.urls")),
    path("", include("orders.api.urls")),
    path("", include("orders.api.transfer_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api-auth/", include("rest_framework.urls")),
    path("accounts/", include("accounts.urls")),
    path("gate/", include("inventory.gate_urls")),
    path("", include("orders.urls")),
    path("", include("orders.transfer_urls")),
    path("", include("inventory.urls")),
    path("", include("events.urls")),
]

# An unrouted /api/ URL (a malformed id with slashes, a typo) answers JSON in the one error shape.
handler404 = "ticketremaster.api.not_found"
