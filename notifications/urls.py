from django.urls import path

from notifications.views import NotificationLogListView

urlpatterns = [
    path("notifications/logs/", NotificationLogListView.as_view(), name="notification-log-list"),
]
