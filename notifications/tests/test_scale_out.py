"""NOTIFICATION_DELIVERY=celery without a broker (tasks run eagerly or are recorded), the order of
one person's messages, pacing, and the rate-limit errors. The real workers: test_workers.py."""
import logging
from datetime import timedelta

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.utils import timezone

from accounts.tests.factories import make_admin
from Incident.celery import app as celery_app
from notifications import delivery, services, tasks
from notifications.whatsapp import channel, pacing
from notifications.sending import Failure, SendResult
from notifications.models import NotificationLog
from notifications.models import NotificationStatus as S
from notifications.outcomes import MAX_ATTEMPTS
from notifications.tests.conftest import send_event
from tickets import services as ticket_services
from tickets.models import TicketStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def celery_mode(settings):
    settings.NOTIFICATION_DELIVERY = "celery"


@pytest.fixture
def handed(monkeypatch) -> list[list[int]]:
    """What was handed to the broker, instead of a broker."""
    sent: list[list[int]] = []

    def send_task(name, args=(), kwargs=None, **options):
        assert name == tasks.deliver_notifications.name
        assert "countdown" not in options and "eta" not in options  # time is the row's due time
        sent.append(list(args[0]))

    monkeypatch.setattr(celery_app, "send_task", send_task)
    return sent


@pytest.fixture
def worker(monkeypatch):
    """The broker hands each task to a worker at once, in this process."""
    monkeypatch.setattr(celery_app, "send_task", lambda name, args=(), kwargs=None, **options:
                        celery_app.tasks[name](*args, **(kwargs or {})))


class FakePacer:
    """Answers from `answers` ((seconds, reserved) each), then "go now"."""

    def __init__(self):
        self.answers, self.paused, self.within = [], [], []

    def reserve(self, within: float | None = None) -> tuple[float, bool]:
        self.within.append(within)
        return self.answers.pop(0) if self.answers else (0.0, True)

    def pause(self, seconds: float = pacing.PAUSE) -> None:
        self.paused.append(seconds)


@pytest.fixture
def pacer(monkeypatch) -> FakePacer:
    fake = FakePacer()
    monkeypatch.setattr(pacing, "pacer", lambda: fake)
    return fake


def forget_connections() -> None:
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def create(api, cast) -> int:
    response = api(cast.client).post("/api/tickets/", {
        "title": "Printer on fire", "description": "Smoke", "project_name": "Office",
        "priority": "HIGH", "category": "BUG"})
    assert response.status_code == 201, response.content
    return response.json()["id"]


# --- Celery mode -----------------------------------------------------------------------------------


def test_celery_mode_hands_the_event_to_the_workers_on_commit_and_sends_nothing_itself(
        api, cast, sender, celery_mode, handed, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ticket_id = create(api, cast)
    rows = list(NotificationLog.objects.filter(ticket_id=ticket_id))
    assert handed == [[row.pk for row in rows]] and rows
    assert all(row.status == S.QUEUED for row in rows) and sender.calls == []


def test_a_large_event_goes_to_the_workers_in_tasks_of_at_most_max_workers_rows(
        api, cast, sender, celery_mode, handed, settings, django_capture_on_commit_callbacks):
    for n in range(4):
        make_admin(username=f"admin{n}")  # five admins with the cast's own
    settings.WHATSAPP_MAX_WORKERS = 2
    with django_capture_on_commit_callbacks(execute=True):
        ticket_id = create(api, cast)
    ids = list(NotificationLog.objects.filter(ticket_id=ticket_id).order_by("pk")
               .values_list("pk", flat=True))
    assert [len(chunk) for chunk in handed] == [2, 2, 1]
    assert sum(handed, []) == ids and sender.calls == []


def test_on_workers_a_row_put_back_for_the_pace_waits_as_a_row_and_the_drain_sends_it(
        cast, ticket_in, sender, pacer, celery_mode, handed):
    pacer.answers = [(60.0, True)]  # no room in the time bound: put back for the pause
    pk = NotificationLog.objects.get(ticket=ticket_in(TicketStatus.NEW)).pk

    def time_passes(seconds: float) -> None:  # instead of sleeping: the row comes due
        NotificationLog.objects.filter(pk=pk).update(next_attempt_at=timezone.now())

    [row] = delivery.drain(sleep=time_passes)
    assert row.status == S.SENT and len(sender.calls) == 1 and row.attempt_count == 2
    assert handed == []  # waited for as a row with a due time, never handed back with a countdown


def test_on_workers_a_long_wait_is_left_to_the_recovery_pass(
        cast, ticket_in, sender, celery_mode, handed):
    sender.results[cast.admin.profile.whatsapp_number] = SendResult(
        status=S.FAILED, http_status=503, error_code="131016", temporary=True,
        failure=Failure.PROVIDER_ERROR, error_message="Service unavailable")
    pk = NotificationLog.objects.get(ticket=ticket_in(TicketStatus.NEW)).pk
    NotificationLog.objects.filter(pk=pk).update(attempt_count=1)  # its second try: 2 min away
    [row] = delivery.deliver([pk], sleep=lambda seconds: None)
    assert row.status == S.QUEUED and row.next_attempt_at > timezone.now() + timedelta(seconds=60)
    assert handed == []


def test_a_task_runs_the_same_delivery_and_a_second_run_sends_nothing_more(
        api, cast, sender, celery_mode, worker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ticket_id = create(api, cast)
    [row] = NotificationLog.objects.filter(ticket_id=ticket_id)
    assert row.status == S.SENT and len(sender.calls) == 1
    tasks.deliver_notifications.delay([row.pk])  # Celery delivers at least once
    assert len(sender.calls) == 1 and NotificationLog.objects.get(pk=row.pk).attempt_count == 1


def test_a_task_delivered_again_after_its_worker_died_mid_send_sends_nothing(
        cast, ticket_in, sender):
    ticket = ticket_in(TicketStatus.NEW)
    [row] = NotificationLog.objects.filter(ticket=ticket)
    delivery._claim([row.pk])  # the first worker claimed it, its request left, then it died
    tasks.deliver_notifications([row.pk])  # the broker hands the task to another worker
    assert sender.calls == []
    done = services.recover(lease=timedelta(0))
    row.refresh_from_db()
    assert done.abandoned == 1 and row.status == S.UNKNOWN and sender.calls == []


def test_a_broker_that_does_not_answer_keeps_the_change_and_leaves_the_rows_queued(
        api, cast, sender, celery_mode, django_capture_on_commit_callbacks, caplog):
    celery_app.conf.broker_url, kept = "redis://:s3cret@127.0.0.1:1/0", celery_app.conf.broker_url
    forget_connections()  # made from the URL once
    try:
        with django_capture_on_commit_callbacks(execute=True), caplog.at_level(logging.WARNING):
            ticket_id = create(api, cast)
    finally:
        celery_app.conf.broker_url = kept
        forget_connections()
    rows = list(NotificationLog.objects.filter(ticket_id=ticket_id))
    assert rows and all(row.status == S.QUEUED for row in rows)
    [line] = [r.getMessage() for r in caplog.records if "Celery broker" in r.getMessage()]
    assert "stay QUEUED" in line and "Connection refused" in line and "s3cret" not in line
    # The recovery pass sends them once a process can: here the cron line of inline mode.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.conf.settings.NOTIFICATION_DELIVERY", "inline")
        call_command("deliver_pending_notifications", stdout=open("/dev/null", "w"))
    assert {row.status for row in NotificationLog.objects.filter(ticket_id=ticket_id)} == {S.SENT}


def test_the_recovery_pass_in_celery_mode_hands_due_rows_over_in_event_sized_tasks(
        cast, ticket_in, sender, celery_mode, handed, settings, capsys):
    settings.WHATSAPP_MAX_WORKERS = 2
    for _ in range(3):
        ticket_in(TicketStatus.NEW)  # one admin each: three QUEUED rows
    call_command("deliver_pending_notifications")
    assert "3 due notification(s) handed to the Celery workers" in capsys.readouterr().out
    assert [len(ids) for ids in handed] == [2, 1] and sender.calls == []


# --- One person's messages, in order ---------------------------------------------------------------


def test_a_request_sends_its_own_rows_and_never_waits_behind_anothers(cast, ticket_in, sender):
    ticket = ticket_in(TicketStatus.NEW)
    first = NotificationLog.objects.get(ticket=ticket)  # to the admin, another request's, QUEUED
    second_ticket = ticket_services.ticket_create(
        client=cast.client, title="Second", description="d", project_name="p",
        priority="LOW", category="BUG")
    second = NotificationLog.objects.get(ticket=second_ticket)
    assert (first.to, first.pk) == (second.to, second.pk - 1)

    send_event(second.ticket_event_id)  # the later request sends its own, at once
    assert [call.callback_data for call in sender.calls] == [second.callback_id]
    assert NotificationLog.objects.get(pk=first.pk).status == S.QUEUED  # not its work


def test_the_drain_sends_one_persons_messages_in_the_order_they_were_written(
        cast, ticket_in, sender):
    rows = [NotificationLog.objects.get(ticket=ticket_in(TicketStatus.NEW)) for _ in range(3)]
    done = delivery.drain(sleep=lambda seconds: None)
    assert [row.pk for row in done] == [row.pk for row in rows]
    assert [call.callback_data for call in sender.calls] == [row.callback_id for row in rows]
    assert {row.status for row in done} == {S.SENT}


def test_a_worker_task_drains_whatever_is_due(cast, ticket_in, sender, celery_mode):
    first = NotificationLog.objects.get(ticket=ticket_in(TicketStatus.NEW))
    second = NotificationLog.objects.get(ticket=ticket_in(TicketStatus.NEW))
    tasks.deliver_notifications([first.pk])  # a task only says there is work
    assert [call.callback_data for call in sender.calls] == [first.callback_id, second.callback_id]


def test_a_worker_that_made_progress_passes_on_what_is_left_and_one_that_did_not_stays_quiet(
        cast, ticket_in, sender, celery_mode, handed):
    first = NotificationLog.objects.get(ticket=ticket_in(TicketStatus.NEW))
    second = NotificationLog.objects.get(ticket=ticket_in(TicketStatus.NEW))
    delivery.drain(limit=1)  # its share ends after one row
    assert [call.callback_data for call in sender.calls] == [first.callback_id]
    assert handed == [[second.pk]]  # "there is work", for another worker's drain
    handed.clear()
    delivery._claim([second.pk])  # someone else is sending it: nothing here can move
    third = NotificationLog.objects.get(ticket=ticket_in(TicketStatus.NEW))
    assert delivery.drain() == [] and handed == []  # no progress, so no task: no empty chain
    assert NotificationLog.objects.get(pk=third.pk).status == S.QUEUED


def test_the_recovery_pass_sends_600_rows_for_one_number_and_counts_each(
        cast, ticket_in, sender, capsys):
    ticket = ticket_in(TicketStatus.NEW)
    [row] = NotificationLog.objects.filter(ticket=ticket)
    base = {f.attname: getattr(row, f.attname) for f in NotificationLog._meta.concrete_fields
            if f.attname not in ("id", "callback_id", "ticket_event_id")}
    NotificationLog.objects.bulk_create(
        [NotificationLog(**base, callback_id=f"cb{n}") for n in range(599)])
    call_command("deliver_pending_notifications", "--batch", "250")
    assert "0 abandoned send(s) marked UNKNOWN; 250 due notification(s) sent: 250 SENT." in (
        capsys.readouterr().out)
    call_command("deliver_pending_notifications", "--batch", "500")
    assert "350 due notification(s) sent: 350 SENT." in capsys.readouterr().out
    assert NotificationLog.objects.filter(status=S.SENT).count() == 600 == len(sender.calls)


def test_a_message_waiting_out_a_retry_holds_nothing_back(cast, ticket_in, sender):
    first = NotificationLog.objects.get(ticket=ticket_in(TicketStatus.NEW))
    NotificationLog.objects.filter(pk=first.pk).update(
        next_attempt_at=timezone.now() + timedelta(minutes=5))
    second = NotificationLog.objects.get(ticket=ticket_in(TicketStatus.NEW))
    delivery.deliver([second.pk])
    assert [call.callback_data for call in sender.calls] == [second.callback_id]


# --- Pacing and Meta's rate limits ------------------------------------------------------------------


def test_a_send_waits_for_its_moment_in_the_business_numbers_pace(
        cast, ticket_in, sender, pacer, sleeps, celery_mode):
    pacer.answers = [(2.0, False), (0.3, True)]  # paused for 2 s, then a slot 0.3 s ahead
    [row] = delivery.deliver([NotificationLog.objects.get(ticket=ticket_in(TicketStatus.NEW)).pk],
                             sleep=sleeps.append)
    assert sleeps == [2.0, 0.3] and row.status == S.SENT and len(sender.calls) == 1


def test_a_pace_that_leaves_no_room_in_the_time_bound_sends_nothing_and_says_so(
        cast, ticket_in, sender, pacer, sleeps, celery_mode):
    pacer.answers = [(60.0, False)]  # the next free moment is a minute off: nothing reserved
    [row] = delivery.deliver([NotificationLog.objects.get(ticket=ticket_in(TicketStatus.NEW)).pk],
                             sleep=sleeps.append)
    # It asked only for a moment it could keep: within the time bound, less one send's time.
    assert 0 < pacer.within[0] <= delivery.time_bound() - delivery.one_send()
    assert sender.calls == [] and row.status == S.QUEUED and not row.may_have_been_sent
    assert row.error_message.startswith(channel.PACED) and sleeps == []
    assert timezone.now() < row.next_attempt_at <= timezone.now() + timedelta(seconds=pacing.PAUSE)


def test_a_moment_just_out_of_reach_makes_the_row_due_at_that_moment_not_after_a_pause(
        cast, ticket_in, sender, pacer, sleeps, celery_mode):
    """A drain near its end cannot wait 2 s for the pace: the row is due again in 2 s (it holds
    its person's later messages meanwhile), not after the 5 s pause."""
    ticket_in(TicketStatus.NEW)
    pacer.answers = [(2.0, False)]
    before = timezone.now()
    [row] = delivery.drain(sleep=sleeps.append, bound=delivery.one_send() + 0.5)
    assert sender.calls == [] and row.status == S.QUEUED and row.error_message.startswith(channel.PACED)
    assert timedelta(seconds=1.5) <= row.next_attempt_at - before <= timedelta(seconds=3)


def test_130429_pauses_the_number_for_everyone_and_retries_after_the_pause(
        cast, ticket_in, sender, pacer):
    sender.results[cast.admin.profile.whatsapp_number] = SendResult(
        status=S.FAILED, http_status=429, error_code="130429", temporary=True,
        failure=Failure.PROVIDER_ERROR, error_message="Throughput reached")
    before = timezone.now()
    [row] = delivery.deliver([NotificationLog.objects.get(ticket=ticket_in(TicketStatus.NEW)).pk])
    assert pacer.paused == [pacing.PAUSE] and len(sender.calls) == 1
    assert row.status == S.QUEUED and row.error_code == "130429"
    assert timedelta(seconds=pacing.PAUSE - 1) <= row.next_attempt_at - before <= timedelta(
        seconds=pacing.PAUSE + 2)


def test_the_pair_rate_limit_is_retried_later_however_many_tries_it_took(cast, ticket_in, sender):
    sender.results[cast.admin.profile.whatsapp_number] = SendResult(
        status=S.FAILED, http_status=400, error_code="131056", temporary=True,
        failure=Failure.PROVIDER_ERROR, error_message="Pair rate limit")
    row = NotificationLog.objects.get(ticket=ticket_in(TicketStatus.NEW))
    NotificationLog.objects.filter(pk=row.pk).update(attempt_count=MAX_ATTEMPTS + 3)
    [row] = delivery.deliver([row.pk])
    assert row.status == S.QUEUED and row.next_attempt_at > timezone.now() + timedelta(minutes=10)
    assert "Next try after" in row.error_message


# --- Pacer on a real Redis ---------------------------------------------------------------------------


def test_the_pacer_spaces_sends_evenly_across_processes_and_honours_a_pause(
        redis_url, unique, settings, celery_mode):
    import redis

    settings.REDIS_URL, settings.WHATSAPP_PHONE_NUMBER_ID = redis_url, unique
    settings.WHATSAPP_MAX_MESSAGES_PER_SECOND = 4
    here = pacing.pacer()
    there = pacing.Pacer(redis.Redis.from_url(redis_url), unique, 4)  # another process's
    spacing = pacing.WINDOW / 4
    slots = [here.reserve(), there.reserve(), here.reserve(), there.reserve(), here.reserve()]
    assert all(reserved for _, reserved in slots) and slots[0][0] == 0
    # Each a spacing after the one before, whoever asked (less the time the asking took).
    for n, (seconds, _) in enumerate(slots[1:], 1):
        assert n * spacing - 0.05 < seconds <= n * spacing
    # Five moments in 4 × spacing: never more than the limit in any window of WINDOW seconds.
    assert slots[4][0] - slots[0][0] >= pacing.WINDOW - 0.05
    # A caller that cannot wait for the next free moment reserves nothing: the moment stays free.
    seconds, reserved = there.reserve(within=spacing / 2)
    assert not reserved and spacing * 4 < seconds <= spacing * 5
    assert here.reserve()[0] <= seconds
    there.pause(30)
    seconds, reserved = here.reserve()
    assert 29 < seconds <= 30 and not reserved


def test_without_redis_answering_the_pacer_lets_sends_go_and_says_so(settings, caplog, celery_mode):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    with caplog.at_level(logging.WARNING):
        assert pacing.pacer().reserve() == (0.0, True)
    assert "sending unpaced" in caplog.text


@pytest.mark.parametrize("delivery_mode, redis", [("inline", "redis://127.0.0.1:6379/0"),
                                                  ("celery", "")])
def test_inline_delivery_or_no_redis_url_is_not_paced(settings, delivery_mode, redis):
    settings.NOTIFICATION_DELIVERY, settings.REDIS_URL = delivery_mode, redis
    assert isinstance(pacing.pacer(), pacing.Unpaced) and pacing.pacer().reserve() == (0.0, True)


# --- Settings --------------------------------------------------------------------------------------


@pytest.mark.parametrize("changes, problem", [
    ({"NOTIFICATION_DELIVERY": "threads"}, "notifications.E009"),
    ({"NOTIFICATION_DELIVERY": "celery", "REDIS_URL": ""}, "notifications.W004"),
    ({"WHATSAPP_MAX_MESSAGES_PER_SECOND": 0}, "notifications.E010"),
])
def test_checks_name_the_scale_out_settings_that_cannot_work(settings, changes, problem):
    for name, value in changes.items():
        setattr(settings, name, value)
    assert problem in {message.id for message in run_checks()}


def test_celery_mode_with_redis_is_a_clean_configuration(settings):
    settings.NOTIFICATION_DELIVERY, settings.REDIS_URL = "celery", "redis://127.0.0.1:6379/0"
    assert not {m.id for m in run_checks()} & {"notifications.E009", "notifications.W004"}


def test_the_worker_app_knows_its_tasks_and_beat_runs_recovery_every_minute_and_timers_often():
    celery_app.loader.import_default_modules()
    assert {"notifications.tasks.deliver_notifications", "notifications.tasks.recover_notifications",
            "notifications.tasks.tick_timers"} <= set(celery_app.tasks)
    recovery, timers = celery_app.conf.beat_schedule.values()
    assert recovery == {"task": "notifications.tasks.recover_notifications", "schedule": 60.0}
    assert timers == {"task": "notifications.tasks.tick_timers", "schedule": 5.0}
    assert celery_app.conf.task_acks_late and celery_app.conf.task_reject_on_worker_lost


def test_on_the_drain_a_message_put_back_for_the_pace_still_goes_before_the_next(
        cast, ticket_in, sender, pacer, celery_mode, handed):
    first = NotificationLog.objects.get(ticket=ticket_in(TicketStatus.NEW))
    second = NotificationLog.objects.get(ticket=ticket_in(TicketStatus.NEW))
    pacer.answers = [(60.0, True)]  # the first finds no room in the bound: back in 5 s
    delivery.drain(sleep=lambda seconds: None)  # time does not pass: nothing comes due
    assert sender.calls == []  # the second did not overtake it
    assert NotificationLog.objects.get(pk=second.pk).status == S.QUEUED
    NotificationLog.objects.filter(pk=first.pk).update(next_attempt_at=timezone.now())
    delivery.drain(sleep=lambda seconds: None)
    assert [call.callback_data for call in sender.calls] == [first.callback_id, second.callback_id]
