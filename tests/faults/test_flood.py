"""A flood past saturation: the server answers "overloaded", the clients send again, nothing is lost.

Sixty visitors write as fast as the widget lets them (the next message as soon as the last one is
acknowledged) and six consoles answer each line, against one daphne process whose saturation point is
lowered (CHAT_OVERLOAD_WAIT_MS 50 instead of 100) so that this load crosses it on any machine. A saturated
process refuses a message with "overloaded" and a retry_after and stores nothing; the client keeps it and
sends it again.
"""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.mark.xfail(
    reason="open finding (issue 10): under this flood some consoles are closed by their own 5 s watchdog while "
    "their frames wait behind slow database calls, and some stay without a stored message for over 60 s; "
    "not yet diagnosed (client or server)",
    strict=False,
)
def test_a_flood_past_saturation_is_answered_overloaded_and_nothing_is_lost(stage, start_daphne, start_worker):
    # given one daphne process that counts itself saturated once a database call waits 50 ms for a thread
    stage.servers.append(start_daphne(CHAT_OVERLOAD_WAIT_MS="50", CHAT_OVERLOAD_RETRY_AFTER="1"))
    stage.ping_every = 3.0
    start_worker()
    # and six agents online, and sixty visitors in chats with them
    for n in range(6):
        stage.console(stage.agent_on_shift(f"Agent {n}", max_chats=10))
    for n in range(60):
        stage.widget(f"v{n}")
    stage.traffic(seconds=1, every=0.5).result(timeout=60)
    stage.assert_all_delivered(within=60)

    # when every visitor writes many lines at once, and the consoles answer each
    written = stage.traffic(seconds=6, every=0.05).result(timeout=120)

    # then the server said it was overloaded, the clients sent again, and every stored message shows on
    # both sides, once, without gaps; nothing a visitor wrote is missing
    stage.assert_all_delivered(within=90)
    assert written >= 1000
    assert stage.counted("overloaded") > 0
    assert stage.agents_online_without_a_console() == []
