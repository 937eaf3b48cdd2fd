from django.contrib import admin
from django.urls import include, path
from django.views.decorators.cache import cache_page
from django.views.i18n import JavaScriptCatalog

from accounts.views import set_language
from core.api import ApiRootView, RedocView, SchemaView, SwaggerView
from core.metrics import metrics_view
from core.views import healthz, livez

api_v1 = [
    path("", ApiRootView.as_view(), name="api-root"),
    path("", include("accounts.api.urls")),
    path("", include("events.api.urls")),
    path("", include("orders.api.urls")),
    path("", include("orders.api.transfer_urls")),
    path("schema/", SchemaView.as_view(), name="schema"),
    path("docs/", SwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("redoc/", RedocView.as_view(url_name="schema"), name="redoc"),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("livez", livez, name="livez"),
    path("metrics", metrics_view, name="metrics"),
    path("i18n/setlang/", set_language, name="set_language"),
    # The pages' JavaScript strings in the page's language (djangojs catalogs); the same for everyone, so cached.
    path("jsi18n/", cache_page(86400)(JavaScriptCatalog.as_view()), name="javascript-catalog"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api-auth/", include("rest_framework.urls")),
    path("accounts/", include("accounts.urls")),
    path("gate/", include("orders.gate_urls")),
    path("", include("orders.urls")),
    path("", include("orders.transfer_urls")),
    path("", include("events.urls")),
]

# An unrouted /api/ URL (a malformed id with slashes, a typo) answers JSON in the one error shape.
handler404 = "core.api.not_found"
