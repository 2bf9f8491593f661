"""A chat's first agent reply becomes the first agent message after the visitor's first message.

Until now an agent's greeting before the visitor wrote set it, so such a chat had no first response
time and counted as neither answered nor missed. The services now set it only once the visitor has
written; this recomputes the stored moment from the messages for the chats where it came first.
"""

from django.db import migrations
from django.db.models import F, OuterRef, Q, Subquery


def first_reply_after_the_visitor_wrote(apps, schema_editor):
    """Set each greeted chat's first agent reply to its first agent message at or after the visitor's first."""
    Conversation = apps.get_model("conversations", "Conversation")
    Message = apps.get_model("conversations", "Message")
    first_answer = (
        Message._base_manager.filter(
            conversation_id=OuterRef("pk"), sender="agent", created_at__gte=OuterRef("first_visitor_message_at")
        )
        .order_by("created_at", "seq")
        .values("created_at")[:1]
    )
    greeted = Q(first_agent_reply_at__isnull=False) & (
        Q(first_visitor_message_at__isnull=True) | Q(first_agent_reply_at__lt=F("first_visitor_message_at"))
    )
    Conversation._base_manager.filter(greeted).update(first_agent_reply_at=Subquery(first_answer))


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0010_clock_run"),
    ]

    operations = [
        migrations.RunPython(first_reply_after_the_visitor_wrote, migrations.RunPython.noop, elidable=True),
    ]
