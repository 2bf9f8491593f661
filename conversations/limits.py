"""Abuse limits for the public widget, counted where every daphne process sees the same count.

Messages are counted in Django's cache (Redis when REDIS_URL is set, so every process agrees; the
process's memory on the embedded default): a counter per visitor that starts with their first message
and expires a minute later, so a message costs no query. New conversations, far rarer, are counted in
the database.
"""

from __future__ import annotations

import contextlib
import datetime as dt

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from conversations.models import Conversation

ERROR_TOO_MANY_MESSAGES = _("You are sending messages too fast. Please wait a moment.")
ERROR_TOO_MANY_CONVERSATIONS = _("Too many new chats from your network. Please try again later.")


MESSAGE_WINDOW_SECONDS = 60


def _message_counter(visitor_id: int) -> str:
    return f"chat:messages:visitor:{visitor_id}"


def check_message_rate(*, visitor_id: int) -> None:
    """Count a visitor's message, refusing it beyond the per-minute limit (a refused one is not counted)."""
    key = _message_counter(visitor_id)
    try:
        count = cache.incr(key)
    except ValueError:
        # The first message of a window; another process may start the same window at the same moment.
        count = 1 if cache.add(key, 1, timeout=MESSAGE_WINDOW_SECONDS) else cache.incr(key)
    if count > settings.CHAT_MESSAGES_PER_VISITOR_PER_MINUTE:
        uncount_message(visitor_id=visitor_id)
        raise ValidationError(ERROR_TOO_MANY_MESSAGES, code="rate_limited")


def uncount_message(*, visitor_id: int) -> None:
    """Take back a counted message that was not stored (a resend, or one refused)."""
    with contextlib.suppress(ValueError):  # the window has ended meanwhile
        cache.decr(_message_counter(visitor_id))


def check_conversation_rate(*, ip_address: str | None, now: dt.datetime) -> None:
    """Refuse a new conversation from an IP address beyond the hourly limit."""
    if not ip_address:
        return
    recent = Conversation.objects.filter(ip_address=ip_address, started_at__gt=now - dt.timedelta(hours=1)).count()
    if recent >= settings.CHAT_CONVERSATIONS_PER_IP_PER_HOUR:
        raise ValidationError(ERROR_TOO_MANY_CONVERSATIONS, code="rate_limited")
