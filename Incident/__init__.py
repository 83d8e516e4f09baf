# Loaded with Django, so the tasks bind to this app in web processes as well as in workers.
from Incident.celery import app as celery_app

__all__ = ["celery_app"]
