"""Database calls of the live-chat consumers on the thread pool, and how long they wait for a thread.

The wait of the oldest call still queued is the process's overload signal (``database_wait``): past
``CHAT_OVERLOAD_WAIT_MS`` a new message is answered ``overloaded`` instead of queueing behind them.
"""

from __future__ import annotations

import itertools
import threading
import time

from asgiref.sync import sync_to_async
from django.db import close_old_connections


class _WaitingCalls:
    """The database calls of this process handed to the thread pool and not started yet, oldest first."""

    lock = threading.Lock()
    since: dict[int, float] = {}
    numbers = itertools.count()


def database_sync_to_async(func):
    """Run ORM work on the thread pool: one consumer's calls stay in order (each is awaited), while
    many consumers' calls run side by side instead of queueing on a single thread per process.

    Channels' own wrapper does not recycle connections on this path, so do it here, in the worker
    thread: connections past CONN_MAX_AGE are closed before and after each call. How long calls wait
    for a thread says whether the process is saturated (``database_wait``).
    """

    def run(number, *args, **kwargs):
        with _WaitingCalls.lock:
            _WaitingCalls.since.pop(number, None)
        close_old_connections()
        try:
            return func(*args, **kwargs)
        finally:
            close_old_connections()

    call = sync_to_async(run, thread_sensitive=False)

    async def queued(*args, **kwargs):
        number = next(_WaitingCalls.numbers)
        with _WaitingCalls.lock:
            _WaitingCalls.since[number] = time.monotonic()
        try:
            return await call(number, *args, **kwargs)
        finally:
            with _WaitingCalls.lock:  # cancelled before a thread took it
                _WaitingCalls.since.pop(number, None)

    return queued


def database_wait() -> float:
    """Return how long (seconds) the oldest database call still waiting for a thread has waited; 0 if none."""
    with _WaitingCalls.lock:
        oldest = next(iter(_WaitingCalls.since.values()), None)
    return 0.0 if oldest is None else time.monotonic() - oldest
