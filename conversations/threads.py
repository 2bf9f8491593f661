"""Database calls of the live-chat consumers on threads, and how long they wait for one.

One pool of threads per process (``CHAT_DATABASE_THREADS``), two lanes into it. What a socket asks for
now (a message, a hello, an open chat, a console's presence) goes first; checks that can wait a moment
(the pings') are taken when no such call waits, or once they have waited ``LATER_PATIENCE``, so a
thousand widgets pinging in the same second do not hold up the messages, and a flood of messages
delays a ping's answer by about a second, never for good. The wait of the oldest first-lane call still
queued is the process's overload signal (``database_wait``): past ``CHAT_OVERLOAD_WAIT_MS`` a new
message is answered ``overloaded`` (once: ``refuse_when_overloaded``) instead of queueing behind them.
Pings never count.

Events the work publishes are handed back and sent from the event loop once the call returns
(``events.handed_to_caller``): a thread does not wait on the loop for each of them.
"""

from __future__ import annotations

import collections
import itertools
import threading
import time
from concurrent.futures import Executor, Future

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
    """Run ORM work on the first lane: one consumer's calls stay in order (each is awaited), while
    many consumers' calls run side by side instead of queueing on a single thread per process.

    How long calls wait for a thread says whether the process is saturated (``database_wait``).
    """
    work = _on_a_thread(func)

    def started(number, *args, **kwargs):
        with _WaitingCalls.lock:
            _WaitingCalls.since.pop(number, None)
        return work(*args, **kwargs)

    call = sync_to_async(started, thread_sensitive=False, executor=_NOW)

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


NOW, LATER = 0, 1  # the lanes: what a socket waits for, and the checks that can wait
# A second-lane call waits at most about this long (seconds) behind the first lane's: a flood of messages
# must not starve the pings' checks for good (a widget's presence and a lost tail rest on them).
LATER_PATIENCE = 1.0


class _Pool:
    """The process's database threads, made when first used. They take the first lane's calls first,
    and a second-lane call first once it has waited LATER_PATIENCE."""

    ready = threading.Condition()
    lanes: tuple[collections.deque, collections.deque] = (collections.deque(), collections.deque())
    started = False

    @classmethod
    def submit(cls, lane: int, fn, args, kwargs) -> Future:
        future: Future = Future()
        with cls.ready:
            if not cls.started:
                cls.started = True
                for n in range(settings.CHAT_DATABASE_THREADS):
                    threading.Thread(target=cls._work, name=f"chat-db-{n}", daemon=True).start()
            cls.lanes[lane].append((time.monotonic(), future, fn, args, kwargs))
            cls.ready.notify()
        return future

    @classmethod
    def _next(cls) -> tuple:
        with cls.ready:
            now, later = cls.lanes
            while not now and not later:
                cls.ready.wait()
            if later and (not now or time.monotonic() - later[0][0] >= LATER_PATIENCE):
                return later.popleft()
            return now.popleft()

    @classmethod
    def _work(cls) -> None:
        while True:
            _queued_at, future, fn, args, kwargs = cls._next()
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as error:  # handed to the caller, whatever it is
                future.set_exception(error)


class _Lane(Executor):
    """One lane into the pool, as the executor asgiref hands the work to."""

    def __init__(self, lane: int) -> None:
        self.lane = lane

    def submit(self, fn, /, *args, **kwargs) -> Future:
        return _Pool.submit(self.lane, fn, args, kwargs)


_NOW, _LATER = _Lane(NOW), _Lane(LATER)


def background_sync_to_async(func):
    """Run ORM work that can wait a moment on the second lane: taken only when no first-lane call waits,
    and not counted by ``database_wait``."""
    call = sync_to_async(_on_a_thread(func), thread_sensitive=False, executor=_LATER)

    async def queued(*args, **kwargs):
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
