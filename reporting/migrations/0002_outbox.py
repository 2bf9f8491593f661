"""Report deliveries take their sending state from the outbox.

Each delivery that was sent, failed or left "being sent" gets an outbox row with what was recorded
(one left being sent becomes "may have been sent"); one still waiting gets none, so the schedule or
an operations manager composes and sends it.
"""

import django.db.models.deletion
from django.db import migrations, models

from outbox.legacy import legacy_email

STATES = {"sent": "sent", "failed": "failed", "sending": "unknown"}
KINDS = {"weekly": "weekly report", "monthly": "monthly report"}


def move_to_outbox(apps, schema_editor):
    OutgoingEmail = apps.get_model("outbox", "OutgoingEmail")
    ReportDelivery = apps.get_model("reporting", "ReportDelivery")
    for delivery in ReportDelivery.objects.exclude(status="pending").iterator():
        email = legacy_email(
            OutgoingEmail,
            kind=KINDS[delivery.kind],
            reference=f"report:{delivery.pk}",
            subject=f"{KINDS[delivery.kind].capitalize()}, {delivery.first_day:%Y-%m-%d}–{delivery.last_day:%Y-%m-%d}",
            recipients=[line for line in delivery.recipients.splitlines() if line],
            status=STATES[delivery.status],
            attempts=delivery.attempts,
            created_at=delivery.created_at,
            sent_at=delivery.sent_at,
            error="" if delivery.status == "sent" else delivery.last_error,
            requested_by_id=delivery.sent_by_id,
        )
        if delivery.status == "sending":
            # Left "being sent" by a worker that died: the one window in which it may have arrived.
            OutgoingEmail.objects.filter(pk=email.pk).update(crashed_after_handover_at=delivery.created_at)
        delivery.outgoing = email
        delivery.last_error = ""
        delivery.save(update_fields=["outgoing", "last_error"])


class Migration(migrations.Migration):
    dependencies = [
        ("outbox", "0001_initial"),
        ("reporting", "0001_report_delivery"),
    ]

    operations = [
        migrations.AddField(
            model_name="reportdelivery",
            name="outgoing",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="outbox.outgoingemail",
                verbose_name="outgoing e-mail",
            ),
        ),
        migrations.RunPython(move_to_outbox, migrations.RunPython.noop),
        migrations.RemoveIndex(model_name="reportdelivery", name="reporting_r_status_3754a5_idx"),
        migrations.RemoveField(model_name="reportdelivery", name="attempts"),
        migrations.RemoveField(model_name="reportdelivery", name="recipients"),
        migrations.RemoveField(model_name="reportdelivery", name="sent_at"),
        migrations.RemoveField(model_name="reportdelivery", name="sent_by"),
        migrations.RemoveField(model_name="reportdelivery", name="status"),
        migrations.RemoveField(model_name="reportdelivery", name="times_sent"),
    ]
