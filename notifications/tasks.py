"""Celery tasks of NOTIFICATION_DELIVERY=celery: the transport, never the truth.

A task carries only notification ids; the ledger says what is still to send. Celery may deliver a
task twice (acks_late, a worker killed, a Redis redelivery): the second run claims nothing the first
claimed, so nothing goes out twice, and a row whose sender died stays SENDING until the recovery pass
marks it UNKNOWN.
"""
import logging

from celery import shared_task
from django.conf import settings
from kombu.utils.url import maybe_sanitize_url

from notifications import delivery, services

logger = logging.getLogger("notifications.services")


@shared_task(name="notifications.tasks.deliver_notifications")
def deliver_notifications(ids: list[int]) -> None:
    delivery.deliver(ids)


@shared_task(name="notifications.tasks.recover_notifications")
def recover_notifications() -> None:
    """The recovery pass of deliver_pending_notifications; Celery beat runs it every minute."""
    services.recover()


def enqueue(ids: list[int], *, countdown: float | None = None) -> bool:
    """Hand notifications to the workers, in tasks of at most WHATSAPP_MAX_WORKERS rows: every
    worker takes a share of a large event, and each task ends well within its time bound (one
    task of 400 rows would wait for the number's pace longer than that). `countdown`: not before
    that many seconds. A broker that does not answer never fails the ticket change that wrote
    them: they stay QUEUED, and the recovery pass sends them."""
    size = settings.WHATSAPP_MAX_WORKERS
    for start in range(0, len(ids), size):
        try:
            deliver_notifications.apply_async((list(ids[start:start + size]),), retry=False,
                                              countdown=countdown)
        except Exception as exc:  # kombu's OperationalError, redis' errors, a bad URL
            logger.warning(
                "Could not hand %d notification(s) to the Celery broker at %s (%s: %s); they stay "
                "QUEUED and the recovery pass (Celery beat, or deliver_pending_notifications) "
                "sends them.", len(ids) - start,
                maybe_sanitize_url(deliver_notifications.app.conf.broker_url),
                type(exc).__name__, exc)
            return False
    return True
