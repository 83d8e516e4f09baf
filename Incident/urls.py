"""URL map: the admin, and the REST API under /api/."""
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from Incident.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/", include("accounts.urls")),
    path("api/", include("tickets.urls")),
    path("api/", include("notifications.urls")),
]

handler404 = "Incident.errors.not_found"
handler500 = "Incident.errors.server_error"
