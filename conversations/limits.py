"""Abuse limits for the public widget, counted where every daphne process sees the same count.

Messages are counted in Django's cache (Redis when REDIS_URL is set, so every process agrees; the
process's memory on the embedded default): a counter per visitor that starts with their first message
and expires a minute later, so a message costs no query. New conversations, far rarer, are counted in
the database.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging

import redis
from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from redis.exceptions import RedisError

from conversations.models import Conversation

logger = logging.getLogger(__name__)

ERROR_TOO_MANY_MESSAGES = _("You are sending messages too fast. Please wait a moment.")
ERROR_TOO_MANY_CONVERSATIONS = _("Too many new chats from your network. Please try again later.")


MESSAGE_WINDOW_SECONDS = 60


def _message_counter(visitor_id: int) -> str:
    return f"chat:messages:visitor:{visitor_id}"


def check_message_rate(*, visitor_id: int) -> None:
    """Count a visitor's message, refusing it beyond the per-minute limit (a refused one is not counted).

    While the cache (Redis) is away nothing is counted and nothing refused: the limit guards against abuse
    for a minute at a time, and a chat must not stop because its counter cannot be reached.
    """
    key = _message_counter(visitor_id)
    try:
        count = _count(key)
    except RedisError:
        logger.warning("Message rate not counted: the cache is unreachable", exc_info=True)
        return
    if count > settings.CHAT_MESSAGES_PER_VISITOR_PER_MINUTE:
        uncount_message(visitor_id=visitor_id)
        raise ValidationError(ERROR_TOO_MANY_MESSAGES, code="rate_limited")


def _count(key: str) -> int:
    backend = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(backend, RedisCache):
        # Django's cache writes to the first of its servers.
        return _count_in_redis(backend.make_and_validate_key(key), location=backend._servers[0])
    try:
        return cache.incr(key)
    except ValueError:
        # The first message of a window; another process may start the same window at the same moment.
        return 1 if cache.add(key, 1, timeout=MESSAGE_WINDOW_SECONDS) else cache.incr(key)


@functools.cache
def _redis(location: str) -> redis.Redis:
    """Return the process's client of the cache's Redis: one connection pool, shared by the threads.
    (Django's cache builds a client for every call, which costs more than the round trip.)"""
    return redis.Redis.from_url(location)


def _count_in_redis(full_key: str, *, location: str) -> int:
    """Count in one round trip: INCR, and EXPIRE NX so that the first message of a window starts its minute.
    (Django's ``incr`` asks EXISTS first, and ``add`` is another trip for the first.) The key and the plain
    integer value are the ones Django's own cache methods read, so ``uncount_message`` can use them."""
    with _redis(location).pipeline(transaction=False) as both:
        both.incr(full_key)
        both.expire(full_key, MESSAGE_WINDOW_SECONDS, nx=True)
        count, _started = both.execute()
    return count


def uncount_message(*, visitor_id: int) -> None:
    """Take back a counted message that was not stored (a resend, or one refused)."""
    # ValueError: the window has ended meanwhile; RedisError: the cache is away, and counted nothing.
    with contextlib.suppress(ValueError, RedisError):
        cache.decr(_message_counter(visitor_id))


def check_conversation_rate(*, ip_address: str | None, now: dt.datetime) -> None:
    """Refuse a new conversation from an IP address beyond the hourly limit."""
    if not ip_address:
        return
    # One address has one budget, whichever tenants' widgets it opens chats on.
    recent = Conversation.objects.unscoped().filter(ip_address=ip_address, started_at__gt=now - dt.timedelta(hours=1))
    recent = recent.count()
    if recent >= settings.CHAT_CONVERSATIONS_PER_IP_PER_HOUR:
        raise ValidationError(ERROR_TOO_MANY_CONVERSATIONS, code="rate_limited")
