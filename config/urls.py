from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from config import views

urlpatterns = [
    path("favicon.ico", views.favicon, name="favicon"),
    path("health/", views.health, name="health"),
    path("ready/", views.ready, name="ready"),
    path("metrics", views.metrics, name="prometheus-django-metrics"),
    path("admin/operations/", include("operations.urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", views.same_origin_only(SpectacularSwaggerView.as_view(url_name="schema")), name="docs"),
    path(
        "api/redoc/",
        views.same_origin_only(SpectacularRedocView.as_view(url_name="schema", template_name="redoc.html")),
        name="redoc",
    ),
    path("api/auth/", include("accounts.urls")),
    path("api/api-keys/", include("accounts.api_key_urls")),
    path("api/audio/", include("audio.urls")),
    path("api/wallet/", include("wallet.urls")),
    path("api/", include("payments.urls")),
    path("api/transcriptions/", include("transcriptions.urls")),
    path("api/webhooks/", include("webhooks.urls")),
    re_path(r"^api/", views.api_not_found),  # last: what nothing above matched
    path("try/", include("realtime.try_urls")),  # a page to try the API from a browser
    path("v1/realtime/", include("realtime.urls")),  # before /v1's own answer to unknown URLs
    path("v1/", include("openai_api.urls")),  # the OpenAI-compatible API, with its own answer to unknown URLs
]

handler400 = "config.views.bad_request"
handler404 = "config.views.not_found"
handler500 = "config.views.server_error"
