"""The ticket cast, and a HIGH policy whose breach pages through a chain."""
from datetime import date, time

import pytest
from django.utils import timezone

from tickets.escalation.models import Chain, Rotation, RotationMember, Step, Target
from tickets.models import Priority
from tickets.sla.models import Policy
from tickets.tests.conftest import cast, staff, ticket_in  # noqa: F401  (shared fixtures)


@pytest.fixture
def rotation(request):
    """dev this week, other_dev the next (weekly hand-offs, Monday 09:00 UTC)."""
    people = request.getfixturevalue("cast")
    rotation = Rotation.objects.create(name="Developers", starts_on=date(2026, 11, 30),
                                       handoff_time=time(9))
    RotationMember.objects.create(rotation=rotation, user=people.developer, position=0)
    RotationMember.objects.create(rotation=rotation, user=people.other_developer, position=1)
    return rotation


@pytest.fixture
def chain(rotation):
    """Page whoever is on call at once, the admins 10 minutes later."""
    chain = Chain.objects.create(name="Night")
    Step.objects.create(chain=chain, position=0, wait_minutes=0, target=Target.ON_CALL,
                        rotation=rotation)
    Step.objects.create(chain=chain, position=1, wait_minutes=10, target=Target.ROLE,
                        role="ADMIN")
    return chain


@pytest.fixture
def policy(chain):
    """HIGH tickets: 15 minutes to a first response, 4 hours to resolve, 24/7."""
    return Policy.objects.create(name="HIGH", priority=Priority.HIGH, first_response_minutes=15,
                                 resolution_minutes=240, chain=chain)


@pytest.fixture
def travel(monkeypatch):
    """Move "now" (django.utils.timezone.now, which every timestamp and timer reads) to a moment."""
    def to(moment):
        monkeypatch.setattr(timezone, "now", lambda: moment)
        return moment
    return to
