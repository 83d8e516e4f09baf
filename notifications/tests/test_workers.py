"""Real Celery workers over a real Redis, against Graph's stand-in (bench/simulator.py), on
PostgreSQL: nothing lost, nothing sent twice, the business number's pace kept, when a worker is
killed with SIGKILL in the middle of a run. .ci/run runs this; it needs both servers."""
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict

import pytest

from accounts.tests.factories import make_admin, make_client
from Incident.tests.processes import Watched, app_env, wait_for
from notifications.models import NotificationLog
from notifications.models import NotificationStatus as S
from tickets.tests.threads import skip_unless_postgres

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

EVENTS, RECIPIENTS, PER_SECOND, LEASE = 300, 3, 80, 15


def worker(env: dict, name: str) -> Watched:
    return Watched([sys.executable, "-m", "celery", "-A", "Incident", "worker", "--pool", "threads",
                    "--concurrency", "16",
                    "-n", f"{name}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
                    "--loglevel", "INFO"], env, "ready.")


PRODUCE = f"""
from django.contrib.auth import get_user_model
from tickets.services import ticket_create
client = get_user_model().objects.get(username="client")
for n in range({EVENTS}):
    ticket_create(client=client, title=f"Ticket {{n}}", description="d", project_name="p",
                  priority="LOW", category="BUG")
"""


def test_300_events_through_two_workers_one_killed_mid_run(redis_url, unique, free_port):
    skip_unless_postgres()
    admins = [make_admin(username=f"admin{n}") for n in range(RECIPIENTS)]
    make_client(username="client")
    graph = Watched([sys.executable, "bench/simulator.py", "--port", str(free_port), "--latency-ms",
                     "10", "--log", "-"], os.environ.copy(), "Graph simulator on",
                    stderr=subprocess.DEVNULL)  # a killed worker's reset connections
    env = app_env(redis_url, unique, NOTIFICATION_DELIVERY="celery", CELERY_QUEUE=f"test-{unique}",
                  WHATSAPP_ACCESS_TOKEN="workers-test-token",
                  WHATSAPP_API_BASE_URL=f"http://127.0.0.1:{free_port}",
                  WHATSAPP_PHONE_NUMBER_ID=str(int(unique, 16)), WHATSAPP_TIMEOUT="2",
                  WHATSAPP_MAX_MESSAGES_PER_SECOND=str(PER_SECOND))
    workers = [worker(env, f"a-{unique}"), worker(env, f"b-{unique}")]
    try:
        producer = Watched([sys.executable, "manage.py", "shell", "-c", PRODUCE], env)
        received = lambda: len(graph.lines) - 1  # noqa: E731  (the first line says it started)
        wait_for(lambda: received() >= EVENTS, 120, "the first messages", graph, *workers)
        workers[0].kill()
        workers[0] = worker(env, f"c-{unique}")
        assert producer.process.wait(timeout=120) == 0, "\n".join(producer.lines[-20:])

        total = EVENTS * RECIPIENTS
        settled = lambda: NotificationLog.objects.filter(  # noqa: E731
            status__in=(S.SENT, S.UNKNOWN, S.FAILED)).count() == total
        # What the dead worker held: SENDING rows turn UNKNOWN once past the lease (at least the
        # time bound: 2 + 2 s of timeouts, 1 s for the pool, 10 s for the pace); tasks it took are
        # not redelivered soon by Redis, so their QUEUED rows go out on the recovery pass (beat
        # runs it every minute; here, whenever nothing moves for 3 s).
        deadline = time.monotonic() + 180
        while not settled():
            assert time.monotonic() < deadline, Counter(NotificationLog.objects.values_list("status", flat=True))
            seen = len(graph.lines)
            if not wait_for(lambda: settled() or len(graph.lines) > seen, 3, "", must=False):
                recovery = subprocess.run(
                    [sys.executable, "manage.py", "deliver_pending_notifications", "--older-than",
                     str(LEASE)], cwd=Watched.root, env=env, capture_output=True, text=True)
                assert recovery.returncode == 0, recovery.stderr
    finally:
        for process in [*workers, graph]:
            process.kill()

    rows = {row.callback_id: row for row in NotificationLog.objects.all()}
    assert len(rows) == total and {row.recipient_id for row in rows.values()} == {a.pk for a in admins}
    statuses = Counter(row.status for row in rows.values())
    assert set(statuses) <= {S.SENT, S.UNKNOWN}, statuses
    arrivals = [line.split() for line in graph.lines[1:]]
    times, per_row = [float(a[0]) for a in arrivals], Counter(a[2] for a in arrivals)
    # Nothing lost, nothing twice: every SENT row reached Graph once; an UNKNOWN one at most once.
    assert all(per_row[cid] == 1 for cid, row in rows.items() if row.status == S.SENT)
    assert set(per_row) <= set(rows) and max(per_row.values()) == 1
    # The business number's pace, from the stand-in's own log: no one-second window over the cap.
    busiest, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 1.0:
            start += 1
        busiest = max(busiest, end - start + 1)
    assert busiest <= PER_SECOND
    # One person's messages arrived in the order they were written.
    by_person = defaultdict(list)
    for _, to, cid in arrivals:
        by_person[to].append(rows[cid].pk)
    assert all(pks == sorted(pks) for pks in by_person.values())
    print(f"\n{total} notifications: {dict(statuses)}; {len(arrivals)} reached Graph; "
          f"busiest second {busiest} (cap {PER_SECOND}); {len(arrivals) / (times[-1] - times[0]):.0f}/s")
