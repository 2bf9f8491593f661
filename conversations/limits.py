"""Abuse limits for the public widget, counted in the database so every daphne process agrees."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from conversations.models import Conversation, Message, Visitor

ERROR_TOO_MANY_MESSAGES = _("You are sending messages too fast. Please wait a moment.")
ERROR_TOO_MANY_CONVERSATIONS = _("Too many new chats from your network. Please try again later.")


def check_message_rate(*, visitor: Visitor, now: dt.datetime) -> None:
    """Refuse a visitor's message beyond the per-minute limit."""
    recent = Message.objects.filter(
        conversation__visitor=visitor, sender=Message.Sender.VISITOR, created_at__gt=now - dt.timedelta(minutes=1)
    ).count()
    if recent >= settings.CHAT_MESSAGES_PER_VISITOR_PER_MINUTE:
        raise ValidationError(ERROR_TOO_MANY_MESSAGES, code="rate_limited")


def check_conversation_rate(*, ip_address: str | None, now: dt.datetime) -> None:
    """Refuse a new conversation from an IP address beyond the hourly limit."""
    if not ip_address:
        return
    recent = Conversation.objects.filter(ip_address=ip_address, started_at__gt=now - dt.timedelta(hours=1)).count()
    if recent >= settings.CHAT_CONVERSATIONS_PER_IP_PER_HOUR:
        raise ValidationError(ERROR_TOO_MANY_CONVERSATIONS, code="rate_limited")
