"""Data for the benchmarks, written straight into the database DATABASE_URL names.

Run by bench/run.py, one step per call, each printing a JSON line:

    python bench/seed.py users 50        # a client, a developer and 50 admins (all inactive but
                                         #   the first), one shared password
    python bench/seed.py admins N        # exactly N admins active, so an event has N recipients
    python bench/seed.py tickets 10000   # tickets spread over statuses, priorities and clients
    python bench/seed.py logs 10000      # SENT WhatsApp rows with wamids wamid.HOOK<n>
    python bench/seed.py insights 100000,1000000  # the log grown to each size over 30 days,
                                         #   the "Notification insights" page timed in-process
    python bench/seed.py counts 0        # rows the webhook marked delivered, rows sent for real
    python bench/seed.py queries 0       # queries per ticket-list request, page sizes 5, 50, 100
    python bench/seed.py taps 20         # NEW tickets and the signed Open button for each
    python bench/seed.py create_queries 0  # SQL statements of one ticket create
    python bench/seed.py timers 100000   # that many open tickets with running clocks; the timer
                                         #   pass timed idle, and from a breach to its page at Graph
"""
import json
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "Incident.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Role, UserProfile  # noqa: E402
from notifications.models import NotificationLog  # noqa: E402
from tickets import counts as ticket_counts  # noqa: E402
from tickets.models import Priority, Ticket, TicketStatus  # noqa: E402

User = get_user_model()
PASSWORD = "bench-pass"
BATCH = 2000
random.seed(7)  # the same data every run


def users(count: str) -> dict:
    hashed = make_password(PASSWORD)  # hashed once: 50 PBKDF2 rounds would dominate the seed
    plan = [("bench-client", Role.CLIENT, "+201000200000"), ("bench-dev", Role.DEVELOPER,
            "+201000200001")]
    plan += [(f"bench-admin-{i:02d}", Role.ADMIN, f"+2010003{i:05d}") for i in range(int(count))]
    for username, role, number in plan:
        user, _ = User.objects.update_or_create(
            username=username, defaults={"password": hashed, "is_active": True})
        UserProfile.objects.filter(user=user).update(role=role, whatsapp_number=number)
    admins(1)
    return {"users": len(plan)}


def admins(count: str) -> dict:
    """Only the first `count` bench admins are active; inactive users are never notified."""
    wanted = [f"bench-admin-{i:02d}" for i in range(int(count))]
    User.objects.filter(profile__role=Role.ADMIN).update(is_active=False)
    User.objects.filter(username__in=wanted).update(is_active=True)
    return {"active_admins": User.objects.filter(profile__role=Role.ADMIN, is_active=True).count()}


def tickets(count: str) -> dict:
    client = User.objects.get(username="bench-client")
    developer = User.objects.get(username="bench-dev")
    statuses = list(TicketStatus.values)
    made = []
    for i in range(int(count)):
        status = random.choice(statuses)
        assigned = status in (TicketStatus.ASSIGNED, TicketStatus.IN_PROGRESS,
                              TicketStatus.FINISHED, TicketStatus.CLOSED)
        made.append(Ticket(
            title=f"Bench ticket {i}" + (" quokka" if i == int(count) // 2 else ""),
            description="Seeded for the list benchmark. " * 4,
            project_name=random.choice(["Web Portal", "Mobile", "Billing"]),
            priority=random.choice(Priority.values), status=status, client=client,
            assigned_developer=developer if assigned else None))
    Ticket.objects.bulk_create(made, batch_size=BATCH)
    ticket_counts.fold()  # what the recovery pass does every minute
    if connection.vendor == "postgresql":
        # What autovacuum does soon after a bulk load: without statistics the planner guesses,
        # without the visibility map a count reads every row, and a fresh database would be
        # measured as no running one is.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE tickets_ticket")
            # The load's dirty pages written out now, not by a checkpoint during the timings.
            cursor.execute("CHECKPOINT")
    return {"tickets": Ticket.objects.count()}


def logs(count: str) -> dict:
    """SENT WhatsApp rows with wamids wamid.HOOK<n>, for the status webhook to find."""
    ticket = Ticket.objects.order_by("pk").first()
    admin = User.objects.get(username="bench-admin-00")
    now = timezone.now()
    NotificationLog.objects.bulk_create(
        (NotificationLog(ticket=ticket, event="TICKET_CREATED", recipient=admin,
                         to="+201000300000", message="Bench message", status="SENT",
                         provider_message_id=f"wamid.HOOK{i}", sent_at=now)
         for i in range(int(count))), batch_size=BATCH)
    return {"logs": NotificationLog.objects.count()}


def _bulk_log_rows(count: int, spread: timedelta) -> None:
    """`count` rows over the last `spread`, written by PostgreSQL itself (a million in seconds,
    where the ORM takes minutes): 85 % SENT (a third delivered, a third read, half charged),
    10 % FAILED with one of three codes, 5 % SKIPPED; every tenth by email."""
    ticket = Ticket.objects.order_by("pk").first()
    admin = User.objects.get(username="bench-admin-00")
    model = NotificationLog(ticket=ticket, event="TICKET_CREATED", recipient=admin,
                            to="+201000300000", message="Bench message")
    made = {
        "status": "CASE WHEN r < 0.85 THEN 'SENT' WHEN r < 0.95 THEN 'FAILED' ELSE 'SKIPPED' END",
        "channel": "CASE WHEN g %% 10 = 0 THEN 'EMAIL' ELSE 'WHATSAPP' END",
        "delivery_status": "CASE WHEN r < 0.85 THEN (ARRAY['', 'delivered', 'read'])[1 + g %% 3] "
                           "ELSE '' END",
        "error_code": "CASE WHEN r >= 0.85 AND r < 0.95 THEN "
                      "(ARRAY['131030', '131047', '130429'])[1 + g %% 3] ELSE '' END",
        "pricing_type": "CASE WHEN r < 0.85 AND g %% 2 = 0 THEN 'regular' ELSE '' END",
        "pricing_category": "CASE WHEN r < 0.85 AND g %% 2 = 0 THEN 'utility' ELSE '' END",
        "created_at": "now() - r2 * %s::interval",
    }
    columns, values, params = [], [], []
    for field in NotificationLog._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.name in made:
            values.append(made[field.name])
            if field.name == "created_at":
                params.append(spread)
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(getattr(model, field.attname), connection))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {NotificationLog._meta.db_table} ({', '.join(columns)}) "
            f"SELECT {', '.join(values)} FROM (SELECT g, random() AS r, random() AS r2 "
            f"FROM generate_series(1, %s) AS g) AS seeded", [*params, count])
        cursor.execute(f"ANALYZE {NotificationLog._meta.db_table}")


def insights(sizes: str) -> dict:
    """For each size (comma-separated), grow the log to that many rows over 30 days, fold the
    running counts as the recovery pass does every minute, and time the insights page."""
    from notifications import tally

    staff = User.objects.get(username="bench-admin-00")
    staff.is_staff = staff.is_superuser = True
    staff.save(update_fields=["is_staff", "is_superuser"])
    browser = Client()
    browser.force_login(staff)
    url = "/admin/notifications/notificationinsights/"
    # No collectstatic here: plain static storage, so the page renders without the manifest.
    plain_static = override_settings(STORAGES={
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}})
    found = []
    for size in (int(s) for s in sizes.split(",")):
        _bulk_log_rows(max(size - NotificationLog.objects.count(), 0), timedelta(days=30))
        tally.fold()
        with connection.cursor() as cursor:  # what autovacuum soon does after a fold
            for table in (tally.LOG_COUNTS.total, tally.LOG_COUNTS.change):
                cursor.execute(f"VACUUM ANALYZE {table}")
        timings, queries = [], 0
        with plain_static:
            for _ in range(7):
                started = time.perf_counter()
                with CaptureQueriesContext(connection) as captured:
                    response = browser.get(url, secure=True)
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.status_code
                queries = len(captured.captured_queries)
        found.append({"rows": NotificationLog.objects.count(), "median_ms": statistics.median(timings),
                      "max_ms": max(timings), "queries": queries})
    return {"sizes": found}


def counts(_: str) -> dict:
    """What the runs left behind, so run.py can check the work was really done."""
    rows = NotificationLog.objects
    return {
        "delivered": rows.filter(provider_message_id__startswith="wamid.HOOK",
                                 delivery_status="delivered").count(),
        "sent_through_simulator": rows.filter(provider_message_id__startswith="wamid.BENCH").count(),
        "skipped": rows.filter(status="SKIPPED").count(),
        "unsettled": rows.filter(status__in=("QUEUED", "SENDING")).count(),
        "opened_by_taps": Ticket.objects.filter(title="Bench: tapped",
                                                status=TicketStatus.OPENED).count(),
    }


def taps(count: str) -> dict:
    """`count` NEW tickets and, for each, the payload of the Open button the first bench admin's
    notification would carry (signed with this settings' SECRET_KEY)."""
    from notifications.whatsapp import buttons
    from tickets.transitions import Action

    admin = User.objects.get(username="bench-admin-00")
    client = User.objects.get(username="bench-client")
    made = Ticket.objects.bulk_create([Ticket(client=client, title="Bench: tapped", description="d",
                                              project_name="Bench") for _ in range(int(count))])
    return {"number": admin.profile.whatsapp_number.lstrip("+"),
            "payloads": [buttons.payload(Action.OPEN, t.pk, admin.pk) for t in made]}


def queries(_: str) -> dict:
    """Queries one ticket-list request makes, as an admin over the seeded tickets, per page size."""
    from rest_framework.test import APIClient

    admin = User.objects.get(username="bench-admin-00")
    found = {}
    for size in (5, 50, 100):
        client = APIClient()
        client.force_authenticate(User.objects.get(pk=admin.pk))  # nothing cached on the user
        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"/api/tickets/?page_size={size}", secure=True)
        assert response.status_code == 200 and len(response.json()["results"]) == size
        found[size] = len(captured.captured_queries)
    return found


def create_queries(_: str) -> dict:
    """SQL statements one ticket create makes, token check and its notification (console mode,
    the after-commit send included) counted."""
    from rest_framework.test import APIClient
    from rest_framework_simplejwt.tokens import AccessToken

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(User.objects.get(username='bench-client'))}")
    with override_settings(WHATSAPP_ACCESS_TOKEN=""), CaptureQueriesContext(connection) as captured:
        response = client.post("/api/tickets/", {"title": "Bench: counted", "description": "d",
                                                  "project_name": "Bench"}, format="json",
                               secure=True)
    assert response.status_code == 201, response.content
    return {"queries": len(captured.captured_queries)}


def deep(count: str) -> dict:
    """A ticket near the end of the newest-first list (`count` from the end), and its position as
    a cursor carries it: for timing a deep page in cursor mode, and a detail with history."""
    row = Ticket.objects.order_by("created_at", "id")[int(count)]
    return {"id": row.pk, "position": str(row.created_at)}


def timers(count: str) -> dict:
    """`count` NEW tickets, each with its two clocks running (deadlines spread over 30 days) under
    a policy whose chain pages bench-dev at once. Then the timer pass (what the recovery pass or
    Celery beat runs each tick) is timed with nothing due, and from a clock's breach to its page
    answered by Graph (DATABASE_URL's database; WHATSAPP_API_BASE_URL's Graph, inline sends)."""
    from notifications import services
    from notifications.models import NotificationStatus
    from tickets.escalation.models import Chain, Step, Target
    from tickets.models import TicketEventType
    from tickets.sla.models import Clock, ClockState, Metric, Policy

    client = User.objects.get(username="bench-client")
    developer = User.objects.get(username="bench-dev")
    chain = Chain.objects.create(name="Bench pages")
    step = Step.objects.create(chain=chain, position=0, wait_minutes=0, target=Target.USERS)
    step.users.set([developer])
    policy = Policy.objects.create(name="Bench", first_response_minutes=15, resolution_minutes=240,
                                   chain=chain)
    now = timezone.now()
    for start in range(0, int(count), BATCH):
        made = Ticket.objects.bulk_create([
            Ticket(title=f"Timer ticket {i}", description="Seeded for the timer benchmark.",
                   project_name="Web Portal", priority=Priority.MEDIUM, status=TicketStatus.NEW,
                   client=client) for i in range(start, min(start + BATCH, int(count)))])
        clocks = []
        for ticket in made:
            due = now + timedelta(minutes=random.randint(60, 30 * 24 * 60))
            for metric in Metric:
                clocks.append(Clock(ticket=ticket, metric=metric, policy=policy,
                                    target_seconds=900, started_at=now, run_started_at=now,
                                    due_at=due, warn_at=due - timedelta(minutes=4)))
        Clock.objects.bulk_create(clocks)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE sla_clock")
            cursor.execute("VACUUM ANALYZE tickets_ticket")
            cursor.execute("CHECKPOINT")
    running = Clock.objects.filter(state=ClockState.RUNNING).count()

    def tick_ms() -> float:
        started = time.perf_counter()
        services.tick()
        return (time.perf_counter() - started) * 1000

    for _ in range(3):
        tick_ms()  # warm-up: connections, query plans
    idle = [tick_ms() for _ in range(30)]
    # One breach at a time: the clock is due, the tick breaches it, starts the chain, pages
    # bench-dev, and the page is sent after the breach commits, to Graph and back.
    breaches = []
    pending = list(Clock.objects.filter(metric=Metric.FIRST_RESPONSE).order_by("?")
                   .values_list("pk", flat=True)[:20])
    for pk in pending:
        Clock.objects.filter(pk=pk).update(due_at=timezone.now())
        breaches.append(tick_ms())
    paged = NotificationLog.objects.filter(event=TicketEventType.TICKET_PAGED,
                                           status=NotificationStatus.SENT).count()
    if paged != len(pending):
        raise RuntimeError(f"{paged} pages reached Graph, not {len(pending)}")
    # A storm: 100 deadlines at once, in one tick.
    storm = list(Clock.objects.filter(metric=Metric.FIRST_RESPONSE, state=ClockState.RUNNING)
                 .values_list("pk", flat=True)[:100])
    Clock.objects.filter(pk__in=storm).update(due_at=timezone.now())
    storm_ms = tick_ms()
    return {"clocks": running, "idle_ms": statistics.median(idle), "idle_max_ms": max(idle),
            "breach_to_graph_ms": statistics.median(breaches),
            "breach_to_graph_max_ms": max(breaches), "breaches": len(breaches),
            "storm": len(storm), "storm_ms": storm_ms,
            "storm_pages": NotificationLog.objects.filter(
                event=TicketEventType.TICKET_PAGED, status=NotificationStatus.SENT).count() - paged}


STEPS = {"timers": timers, "create_queries": create_queries, "taps": taps, "deep": deep, "counts": counts, "queries": queries, "users": users, "admins": admins, "tickets": tickets, "logs": logs, "insights": insights}

if __name__ == "__main__":
    step, argument = sys.argv[1], sys.argv[2]
    print(json.dumps(STEPS[step](argument)))
