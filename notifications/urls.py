from django.urls import path

from notifications.views import NotificationLogListView, WhatsAppWebhookView

urlpatterns = [
    path("notifications/whatsapp/webhook/", WhatsAppWebhookView.as_view(), name="whatsapp-webhook"),
    path("notifications/logs/", NotificationLogListView.as_view(), name="notification-log-list"),
]
