from django.urls import path
from rest_framework.routers import DefaultRouter

from tickets.escalation.api import AcknowledgeView, ChainViewSet, OnCallView, RotationViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("escalations/chains", ChainViewSet, basename="escalation-chain")
router.register("oncall/rotations", RotationViewSet, basename="oncall-rotation")

urlpatterns = [
    path("oncall/", OnCallView.as_view(), name="oncall"),
    path("tickets/<int:pk>/acknowledge/", AcknowledgeView.as_view(), name="ticket-acknowledge"),
    *router.urls,
]
