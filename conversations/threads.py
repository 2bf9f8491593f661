"""Database calls of the live-chat consumers on threads, and how long they wait for one.

Two lanes. What a socket asks for now (a message, a hello, an open chat) runs on the loop's thread pool;
the wait of the oldest of those calls still queued is the process's overload signal (``database_wait``):
past ``CHAT_OVERLOAD_WAIT_MS`` a new message is answered ``overloaded`` instead of queueing behind them.
Checks that can wait a moment (a widget's ping) run on a small pool of their own
(``background_sync_to_async``, ``CHAT_BACKGROUND_THREADS``), so that a thousand widgets pinging in the
same second neither hold up the messages nor make the process look overloaded.

Events the work publishes are handed back and sent from the event loop once the call returns
(``events.handed_to_caller``): a thread does not wait on the loop for each of them.
"""

from __future__ import annotations

import itertools
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

from conversations import events


class _WaitingCalls:
    """The database calls of this process handed to the thread pool and not started yet, oldest first."""

    lock = threading.Lock()
    since: dict[int, float] = {}
    numbers = itertools.count()


def _on_a_thread(func):
    """Return ``func`` wrapped for a worker thread: connections past CONN_MAX_AGE closed before and after
    (Channels' own wrapper does not recycle them on this path), and the events it commits collected."""

    def run(*args, **kwargs):
        close_old_connections()
        with events.handed_to_caller() as committed:
            try:
                return func(*args, **kwargs), committed, None
            except Exception as error:  # sent on the loop first: what was committed before it is told
                return None, committed, error
            finally:
                close_old_connections()

    return run


async def _finish(outcome):
    result, committed, error = outcome
    await events.send_handed_over(committed)
    if error is not None:
        raise error
    return result


def database_sync_to_async(func):
    """Run ORM work on the thread pool: one consumer's calls stay in order (each is awaited), while
    many consumers' calls run side by side instead of queueing on a single thread per process.

    How long calls wait for a thread says whether the process is saturated (``database_wait``).
    """
    work = _on_a_thread(func)

    def started(number, *args, **kwargs):
        with _WaitingCalls.lock:
            _WaitingCalls.since.pop(number, None)
        return work(*args, **kwargs)

    call = sync_to_async(started, thread_sensitive=False)

    async def queued(*args, **kwargs):
        number = next(_WaitingCalls.numbers)
        with _WaitingCalls.lock:
            _WaitingCalls.since[number] = time.monotonic()
        try:
            outcome = await call(number, *args, **kwargs)
        finally:
            with _WaitingCalls.lock:  # cancelled before a thread took it
                _WaitingCalls.since.pop(number, None)
        return await _finish(outcome)

    return queued


class _BackgroundPool:
    """The process's small pool for checks that can wait, made when first used."""

    lock = threading.Lock()
    executor: ThreadPoolExecutor | None = None

    @classmethod
    def get(cls) -> ThreadPoolExecutor:
        with cls.lock:
            if cls.executor is None:
                cls.executor = ThreadPoolExecutor(
                    max_workers=settings.CHAT_BACKGROUND_THREADS, thread_name_prefix="chat-background"
                )
            return cls.executor


def background_sync_to_async(func):
    """Run ORM work that can wait a moment on the background lane: not counted by ``database_wait``, and
    never ahead of the messages on the main pool however many such calls are queued."""
    work = _on_a_thread(func)

    async def queued(*args, **kwargs):
        call = sync_to_async(work, thread_sensitive=False, executor=_BackgroundPool.get())
        return await _finish(await call(*args, **kwargs))

    return queued


# The ids a socket was told "overloaded" about that it keeps: enough for a widget's or console's outbox.
REFUSED_IDS_KEPT = 50


def refuse_when_overloaded(client_msg_id: str, refused: frozenset[str]) -> tuple[bool, frozenset[str]]:
    """Say whether to answer a message ``overloaded`` now; return it with the ids its socket was refused.

    A message is refused while a database call has waited CHAT_OVERLOAD_WAIT_MS for a thread, but only
    once: when it comes again on the same socket it is taken, however long the wait. Overload then delays
    a message by one retry at most and spreads a burst over time; it cannot refuse a chat for ever on a
    machine so short of CPU that some call is always waiting (a message without an id is refused each time).
    """
    if database_wait() * 1000 < settings.CHAT_OVERLOAD_WAIT_MS:
        return False, refused
    if client_msg_id and client_msg_id in refused:
        return False, refused - {client_msg_id}
    if client_msg_id and len(refused) < REFUSED_IDS_KEPT:
        refused |= {client_msg_id}
    return True, refused


def database_wait() -> float:
    """Return how long (seconds) the oldest database call still waiting for a thread has waited; 0 if none."""
    with _WaitingCalls.lock:
        oldest = next(iter(_WaitingCalls.since.values()), None)
    return 0.0 if oldest is None else time.monotonic() - oldest
