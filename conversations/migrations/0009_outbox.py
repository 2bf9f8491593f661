"""Handoff reports and transcript requests take their sending state from the outbox.

Each report and request that was sent or failed gets an outbox row with what was recorded; one still
waiting gets a failed row that says to send it again (its old task no longer exists).
"""

import django.db.models.deletion
from django.db import migrations, models

from outbox.legacy import WAITING_AT_UPGRADE, legacy_email


def _state(status: str, error: str) -> tuple[str, str]:
    if status == "sent":
        return "sent", ""
    if status == "failed":
        return "failed", error
    return "failed", f"{WAITING_AT_UPGRADE} {error}".strip()


def move_to_outbox(apps, schema_editor):
    OutgoingEmail = apps.get_model("outbox", "OutgoingEmail")
    Handoff = apps.get_model("conversations", "Handoff")
    TranscriptRequest = apps.get_model("conversations", "TranscriptRequest")
    for handoff in Handoff.objects.exclude(status="norecip").iterator():
        status, error = _state(handoff.status, handoff.last_error)
        handoff.outgoing = legacy_email(
            OutgoingEmail,
            kind="handoff report",
            reference=f"conversation:{handoff.conversation_id}",
            subject=f"Handoff report, chat #{handoff.conversation_id}",
            recipients=[address.strip() for address in handoff.recipients.split(",") if address.strip()],
            status=status,
            attempts=handoff.attempts,
            created_at=handoff.created_at,
            sent_at=handoff.sent_at,
            error=error,
        )
        handoff.save(update_fields=["outgoing"])
    for request in TranscriptRequest.objects.iterator():
        status, error = _state(request.status, request.last_error)
        request.outgoing = legacy_email(
            OutgoingEmail,
            kind="transcript",
            reference=f"conversation:{request.conversation_id}",
            subject=f"Transcript of chat #{request.conversation_id}",
            recipients=[request.email],
            status=status,
            attempts=request.attempts,
            created_at=request.requested_at,
            sent_at=request.sent_at,
            error=error,
        )
        request.save(update_fields=["outgoing"])


class Migration(migrations.Migration):
    dependencies = [
        ("chatops", "0004_agent_last_seen"),
        ("conversations", "0008_visitor_presence"),
        ("outbox", "0001_initial"),
        ("tenants", "0004_visitor_tallies"),
    ]

    operations = [
        migrations.AddField(
            model_name="handoff",
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
        migrations.AddField(
            model_name="transcriptrequest",
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
        migrations.RemoveIndex(model_name="handoff", name="conversatio_status_67043e_idx"),
        migrations.RemoveField(model_name="handoff", name="attempts"),
        migrations.RemoveField(model_name="handoff", name="last_error"),
        migrations.RemoveField(model_name="handoff", name="recipients"),
        migrations.RemoveField(model_name="handoff", name="sent_at"),
        migrations.RemoveField(model_name="handoff", name="status"),
        migrations.RemoveField(model_name="transcriptrequest", name="attempts"),
        migrations.RemoveField(model_name="transcriptrequest", name="last_error"),
        migrations.RemoveField(model_name="transcriptrequest", name="sent_at"),
        migrations.RemoveField(model_name="transcriptrequest", name="status"),
        migrations.AddIndex(
            model_name="handoff",
            index=models.Index(fields=["created_at"], name="conversatio_handoff_created"),
        ),
    ]
