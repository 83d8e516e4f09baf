"""URL map: the front page, the admin, and the REST API under /api/."""
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from Incident.errors import API_NOT_FOUND, api_not_found
from Incident.front import front_page
from Incident.health import healthz

# The admin is the product's back office, not "Django administration".
admin.site.site_header = "Incident administration"
admin.site.site_title = "Incident admin"
admin.site.index_title = "Tickets, users and notifications"

urlpatterns = [
    path("", front_page, name="front-page"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/", include("accounts.urls")),
    path("api/", include("tickets.urls")),
    path("api/", include("tickets.sla.urls")),
    path("api/", include("tickets.escalation.urls")),
    path("api/", include("notifications.urls")),
    path("api/", include("notifications.whatsapp.urls")),
    path("simulator/", include("notifications.whatsapp.simulator")),
    # Last: whatever no endpoint above matched is a JSON 404, even with DEBUG on.
    re_path(r"^api/(?P<path>.*)$", api_not_found, name=API_NOT_FOUND),
]

handler404 = "Incident.errors.not_found"
handler500 = "Incident.errors.server_error"
