"""The notification ledger: one row per (event, recipient, channel) with its attempts.

Existing rows were one per attempt, retries and resends chained by `retry_of`. Each chain becomes
one notification (its first row, now holding the latest attempt's outcome) with one
DeliveryAttempt per former row; the later rows of a chain are then removed.
"""
import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

STATUSES = [("QUEUED", "Queued"), ("SENDING", "Sending"), ("SENT", "Sent"), ("FAILED", "Failed"),
            ("SKIPPED", "Skipped"), ("UNKNOWN", "Unknown")]
OUTCOME_FIELDS = ("status", "provider_message_id", "http_status", "error_code", "error_message",
                  "may_have_been_sent", "sent_at", "callback_id")


def chains_to_attempts(apps, schema_editor):
    Log = apps.get_model("notifications", "NotificationLog")
    Attempt = apps.get_model("notifications", "DeliveryAttempt")
    rows = {row.pk: row for row in Log.objects.order_by("pk")}
    later: dict[int, list] = {}
    root_of = {}
    for row in rows.values():  # ascending pk: a retry always comes after what it repeats
        root = root_of.get(row.retry_of_id, row.retry_of_id) if row.retry_of_id else row.pk
        root_of[row.pk] = root
        if row.retry_of_id:
            later.setdefault(root, []).append(row)
    attempts, repeats = [], []
    for pk, row in rows.items():
        if root_of[pk] != pk:
            continue
        chain = [row, *later.get(pk, [])]
        for number, step in enumerate(chain, 1):
            attempts.append(Attempt(
                notification_id=pk, number=number, status=step.status,
                started_at=step.created_at, finished_at=step.created_at, provider_message_id=step.provider_message_id,
                http_status=step.http_status, error_code=step.error_code,
                error_message=step.error_message, may_have_gone_out=step.may_have_been_sent))
        last = chain[-1]
        for field in OUTCOME_FIELDS:
            setattr(row, field, getattr(last, field))
        # A chain's delivery reports may sit on any of its rows: keep the furthest one.
        reported = [step for step in chain if step.delivery_status]
        if reported and not row.delivery_status:
            for field in ("delivery_status", "wa_sent_at", "delivered_at", "read_at", "failed_at"):
                setattr(row, field, getattr(reported[-1], field))
        row.attempt_count = len(chain)
        row.save()
        repeats.extend(step.pk for step in chain[1:])
    Attempt.objects.bulk_create(attempts, batch_size=1000)
    for start in range(0, len(repeats), 1000):
        Log.objects.filter(pk__in=repeats[start:start + 1000]).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("notifications", "0003_notificationinsights"),
        ("tickets", "0002_idempotency_key"),
    ]

    operations = [
        migrations.CreateModel(
            name="DeliveryAttempt",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("number", models.PositiveSmallIntegerField()),
                ("status", models.CharField(choices=STATUSES, default="SENDING", max_length=16)),
                ("started_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                ("provider_message_id", models.CharField(blank=True, max_length=255, verbose_name="message id")),
                ("http_status", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("error_code", models.CharField(blank=True, max_length=32)),
                ("error_message", models.TextField(blank=True)),
                ("may_have_gone_out", models.BooleanField(default=False)),
                ("notification", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="attempts", to="notifications.notificationlog")),
            ],
            options={"ordering": ("notification_id", "number")},
        ),
        migrations.AddConstraint(
            model_name="deliveryattempt",
            constraint=models.UniqueConstraint(fields=("notification", "number"), name="one_attempt_number"),
        ),
        migrations.AddField(
            model_name="notificationlog",
            name="attempt_count",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="attempts"),
        ),
        migrations.AddField(
            model_name="notificationlog",
            name="claim",
            field=models.CharField(blank=True, editable=False, max_length=32),
        ),
        migrations.AddField(
            model_name="notificationlog",
            name="claimed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="notificationlog",
            name="next_attempt_at",
            field=models.DateTimeField(blank=True, help_text="When a QUEUED notification is due to be sent.", null=True),
        ),
        migrations.AlterField(
            model_name="notificationlog",
            name="callback_id",
            field=models.CharField(blank=True, db_index=True, help_text="Sent as biz_opaque_callback_data with every attempt; status webhooks echo it back.", max_length=64),
        ),
        migrations.AlterField(
            model_name="notificationlog",
            name="provider_message_id",
            field=models.CharField(blank=True, db_index=True, help_text="WhatsApp's wamid.", max_length=255, verbose_name="message id"),
        ),
        migrations.AlterField(
            model_name="notificationlog",
            name="to",
            field=models.CharField(blank=True, help_text="The number (or email address) used.", max_length=254, verbose_name="number"),
        ),
        migrations.AlterField(
            model_name="notificationlog",
            name="status",
            field=models.CharField(choices=STATUSES, default="QUEUED", max_length=16),
        ),
        # The old constraint goes first: deleting a chain's later rows nulls their retry_of on
        # the way, which would make them "first attempts" too for a moment.
        migrations.RemoveConstraint(
            model_name="notificationlog",
            name="one_first_attempt_per_event_recipient_channel",
        ),
        migrations.RunPython(chains_to_attempts, migrations.RunPython.noop),
        migrations.RemoveField(model_name="notificationlog", name="retry_of"),
        migrations.AddIndex(
            model_name="notificationlog",
            index=models.Index(fields=["status", "next_attempt_at"], name="notificatio_status_764f04_idx"),
        ),
        migrations.AddConstraint(
            model_name="notificationlog",
            constraint=models.UniqueConstraint(condition=models.Q(("ticket_event__isnull", False)), fields=("ticket_event", "recipient", "channel"), name="one_notification_per_event_recipient_channel"),
        ),
    ]
