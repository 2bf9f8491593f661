"""Widgets that lose their connection again and again while both sides write: they resume, nothing is lost.

A widget that comes back says hello with the number up to which it has every message (not the highest it
has seen), so whatever was published while it was away, or between its hello's read and its joining the
chat's group, reaches it from the database.
"""

from __future__ import annotations

import asyncio
import random
import time

import pytest

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


async def _drop_now_and_then(widgets, *, seconds: float, every: float) -> int:
    """Cut a random widget's connection every `every` seconds; return how many were cut."""
    drops, loop = 0, asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        await asyncio.sleep(every)
        widget = random.choice(widgets)
        if widget.connected:
            await widget.drop()
            drops += 1
    return drops


def test_widgets_reconnecting_under_traffic_resume_without_losing_a_message(stage, start_daphne, start_worker):
    # given one daphne process and the clock, two agents online and eight visitors in chats with them
    start_worker()
    stage.servers.append(start_daphne())
    for name in ("Anna", "Ben"):
        stage.console(stage.agent_on_shift(name, max_chats=5))
    widgets = [stage.widget(f"v{n}") for n in range(8)]
    for widget in widgets:
        stage.write(widget, "hello")
    stage.assert_all_delivered(within=20)

    # when both sides write (each console answers every visitor line) while widgets keep losing their sockets
    traffic = stage.traffic(seconds=8, every=0.4)
    drops = asyncio.run_coroutine_threadsafe(
        _drop_now_and_then(widgets, seconds=8, every=0.25), stage.loop.loop
    ).result(timeout=30)
    written = traffic.result(timeout=30)

    # then every stored message shows on both sides, once, without gaps
    stage.assert_all_delivered(within=20)
    assert written >= 60 and drops >= 15
    # and every widget cut came back (the last cut may still be reconnecting when the messages are all in)
    assert _connects_reach(stage, widgets, len(widgets) + drops, within=20) >= len(widgets) + drops
    # and no agent is online without a console
    assert stage.agents_online_without_a_console() == []


def _connects_reach(stage, widgets, wanted: int, *, within: float) -> int:
    """Return the widgets' connections so far, waiting up to ``within`` seconds for them to reach ``wanted``."""
    deadline = time.monotonic() + within
    while True:
        connects = stage.loop.call(lambda: sum(w.connects for w in widgets))
        if connects >= wanted or time.monotonic() >= deadline:
            return connects
        time.sleep(0.2)
