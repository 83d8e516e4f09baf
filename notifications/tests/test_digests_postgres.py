"""Digests on PostgreSQL: five timer passes gathering at once write one digest per person."""
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications import digests
from notifications.models import DIGEST, Channel, NotificationLog, NotificationStatus
from tickets.models import TicketEventType
from tickets.tests.threads import all_at_once, skip_unless_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_passes_gathering_at_once_write_one_digest_per_person(cast, ticket_in):
    skip_unless_postgres()
    ticket = ticket_in()
    now = timezone.now()
    NotificationLog.objects.bulk_create([NotificationLog(
        ticket=ticket, event=TicketEventType.TICKET_CREATED, recipient=cast.admin,
        channel=Channel.WHATSAPP, to=cast.admin.profile.whatsapp_number, message=f"New {n}",
        status=NotificationStatus.QUEUED, digest_at=now - timedelta(seconds=1))
        for n in range(6)])
    made = all_at_once(5, lambda: len(digests.gather(now)))
    assert sum(made) == 1
    digest = NotificationLog.objects.get(event=DIGEST)
    assert NotificationLog.objects.filter(digest=digest).count() == 6
