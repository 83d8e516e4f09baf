from rest_framework.routers import DefaultRouter

from tickets.sla.api import CalendarViewSet, PolicyViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("sla/calendars", CalendarViewSet, basename="sla-calendar")
router.register("sla/policies", PolicyViewSet, basename="sla-policy")

urlpatterns = router.urls
