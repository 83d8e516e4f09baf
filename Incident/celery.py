"""The Celery app of NOTIFICATION_DELIVERY=celery: `celery -A Incident worker --beat` (make worker).

Configured from Django's settings (the CELERY_* names); tasks live in each app's tasks.py.
"""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "Incident.settings")

app = Celery("Incident")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
