"""A flood past saturation: the server answers "overloaded", the clients send again, nothing is lost.

Sixty visitors write ten lines each at once, which the widget sends as fast as it may (the next message as
soon as the last one is acknowledged), and six consoles answer each line, against one daphne process whose
saturation point is lowered (CHAT_OVERLOAD_WAIT_MS 50 instead of 100) so that this load crosses it on any
machine. A saturated process refuses a message with "overloaded" and a retry_after and stores nothing; the
client keeps it and sends it again. The consoles' pings count when they arrive, not when the frames ahead
of them are handled: a saturated process neither closes a console as silent nor lets the clock release its
agent (it did both while this test was marked xfail, issue 10). At load 12 on 2 cores it also failed: the process
answered "overloaded" for over a minute (some call always waited), and later a ping lane too slow for the
pings held up the consoles' replies; a message is now refused once per socket, and the pings' checks wait
behind the messages for about a second at most (conversations/threads.py).
"""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
# Lines each visitor writes at once. A burst of a fixed size, not a rate for some seconds: what a rate
# offers grows with the machine's speed and what it stores shrinks with its load, and the two met only
# sometimes within the test's wait (a loaded 2-core machine took over 90 s for 7,000 lines and their answers).
LINES = 10


def _flood(widgets, *, lines: int) -> int:
    """Have every widget write `lines` lines at once (they wait in its outbox); return how many were written."""
    for n in range(lines):
        for widget in widgets:
            widget.write(f"flood {n} from {widget.name}")
    return lines * len(widgets)


def test_a_flood_past_saturation_is_answered_overloaded_and_nothing_is_lost(stage, start_daphne, start_worker):
    # given one daphne process that counts itself saturated once a database call waits 50 ms for a thread
    start_worker()
    stage.servers.append(start_daphne(CHAT_OVERLOAD_WAIT_MS="50", CHAT_OVERLOAD_RETRY_AFTER="1"))
    stage.ping_every = 3.0
    # and six agents online, and sixty visitors in chats with them
    for n in range(6):
        stage.console(stage.agent_on_shift(f"Agent {n}", max_chats=10))
    for n in range(60):
        stage.widget(f"v{n}")
    stage.traffic(seconds=1, every=0.5).result(timeout=60)
    stage.assert_all_delivered(within=60)

    # when every visitor writes ten lines at once, and the consoles answer each
    written = stage.loop.call(lambda: _flood(stage.widgets, lines=LINES))

    # then the server said it was overloaded, the clients sent again, and every stored message shows on
    # both sides, once, without gaps; nothing a visitor wrote is missing
    stage.assert_all_delivered(within=90)
    assert written >= 600
    assert stage.counted("overloaded") > 0
    assert stage.agents_online_without_a_console() == []
