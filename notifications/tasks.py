"""Celery tasks of NOTIFICATION_DELIVERY=celery: the transport, never the truth.

A task only says "there is work" (it carries the ids that prompted it, for the log); the worker
runs the delivery loop (notifications.delivery.drain), which claims whatever is due from the
ledger. Celery may deliver a task twice (acks_late, a worker killed, a Redis redelivery): the second
run claims nothing the first claimed, so nothing goes out twice, and a row whose sender died stays
SENDING until the recovery pass marks it UNKNOWN.
"""
from celery import shared_task

from notifications import delivery, services


@shared_task(name=delivery.DRAIN_TASK)
def deliver_notifications(ids: list[int]) -> None:
    delivery.drain_once_here()


@shared_task(name="notifications.tasks.recover_notifications")
def recover_notifications() -> None:
    """The recovery pass of deliver_pending_notifications; Celery beat runs it every minute."""
    services.recover()


@shared_task(name="notifications.tasks.tick_timers")
def tick_timers() -> None:
    """Deadlines, warnings and escalation steps due now; Celery beat runs it every
    TIMER_TICK_SECONDS. Pages it writes are sent by the workers once its steps commit."""
    services.tick()
