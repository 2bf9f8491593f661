"""A console that stops reading: its socket stays open, it still pings, but it reads nothing the server sends.

Its TCP receive window fills (a few KiB here) and what the server writes to it backs up in the server. The
protocol's promise (conversations/protocol.py, "Presence"): a console that has not read the server's
marks (each pong and probe carries one; each ping says the last it read) for CHAT_CONSOLE_CLOSE_AFTER is
closed like a silent one, and its agent is no longer recorded alive from the moment it falls behind.
Meanwhile the other consoles and widgets of the process are served as usual, and the stuck console, once
it is back, shows every message of its chats once, without a gap.
"""

from __future__ import annotations

import time

import pytest
from django.utils import timezone

from tests.faults.stage import QUICK_CLOCKS, agent_presence, chats_of, eventually
from workforce.models import Agent

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
CLOSE_AFTER = float(QUICK_CLOCKS["CHAT_CONSOLE_CLOSE_AFTER"])
PROBE_AFTER = float(QUICK_CLOCKS["CHAT_CONSOLE_PROBE_AFTER"])
WATCH_EVERY = float(QUICK_CLOCKS["CHAT_CONSOLE_WATCH_EVERY"])
SLACK = 4  # a busy machine's delay on top of each promise (and daphne's 1 s for a close handshake)
PROMPT = 5  # seconds: a healthy console shows a visitor's line within this, whatever another console does


def test_a_console_that_stops_reading_is_dropped_in_time_and_stalls_no_one(stage, start_daphne, start_worker):
    # given one daphne process and the clock
    start_worker()
    stage.servers.append(start_daphne())
    # and Stu online with three chats, his console's receive buffer a few KiB
    stu = stage.agent_on_shift("Stu", max_chats=3)
    stuck = stage.console(stu, receive_buffer=4096)
    for widget in [stage.widget(f"s{n}") for n in range(3)]:
        stage.write(widget, "hello")
    stage.assert_all_delivered(within=20)
    assert len(chats_of(stu)) == 3
    # and Hana online with three chats of her own
    hana = stage.agent_on_shift("Hana", max_chats=4)
    stage.console(hana)
    for widget in [stage.widget(f"h{n}") for n in range(3)]:
        stage.write(widget, "hello")
    stage.assert_all_delivered(within=20)
    hers = chats_of(hana)
    assert len(hers) == 3

    # when Stu's console stops reading (it still pings every second) while every visitor writes on
    stage.loop.call(lambda: setattr(stuck, "deaf", True))
    deaf_since, deaf_at = time.monotonic(), timezone.now()
    traffic = stage.traffic(seconds=CLOSE_AFTER + 2 * SLACK, every=0.3)

    # then the server drops Stu's console within its promise (he comes back at once, as the console does)
    seen_while_deaf: list = []

    def dropped() -> bool:
        seen = Agent.objects.filter(pk=stu.pk).values_list("last_seen_at", flat=True).get()
        connects, open_now = stage.loop.call(lambda: (stuck.connects, stuck.socket is not None))
        if connects == 1 and open_now:
            seen_while_deaf.append(seen)  # read while the stuck socket was open: no reconnect had touched it
        return connects >= 2

    eventually(dropped, within=CLOSE_AFTER + 30, what="deaf console dropped")
    dropped_after = stage.loop.call(lambda: stuck.closed_at) - deaf_since
    assert dropped_after <= CLOSE_AFTER + WATCH_EVERY + SLACK, f"dropped {dropped_after:.1f} s after it stopped reading"
    # and his pings stopped recording him alive once he fell behind: he was routable no longer than a frozen one
    alive_until = max(seen_while_deaf) - deaf_at
    assert alive_until.total_seconds() <= PROBE_AFTER + SLACK, f"recorded alive {alive_until} after he stopped reading"
    written = traffic.result(timeout=60)
    # and all the while Hana's console showed each of her visitors' lines within seconds
    stage.assert_all_delivered(within=PROMPT, conversations=hers)
    delays = stage.loop.call(lambda: _delays(stage, hers, since=deaf_since))
    assert len(delays) >= written // 3, f"{len(delays)} lines shown to Hana of {written} written in all"
    assert max(delays) < PROMPT, f"Hana's slowest lines took {sorted(delays)[-5:]} s"
    # and Stu's console, back, shows every message of his chats once, without gaps: it resynced
    stage.assert_all_delivered(within=20)
    assert sorted(chats_of(stu)) == sorted(stage.loop.call(lambda: stuck.mine))
    assert stage.agents_online_without_a_console() == []
    assert agent_presence(stu) == Agent.Presence.ONLINE


def _delays(stage, conversations: list[int], *, since: float) -> list[float]:
    """Return, for each visitor line in these chats written since then, the seconds from Enter to the console."""
    written_at = {cid: at for widget in stage.widgets for cid, at in widget.written_at.items() if at >= since}
    delays = []
    for console in stage.consoles.values():
        for conversation in conversations:
            chat = console.chats.get(conversation)
            for message in chat.shown.messages.values() if chat else ():
                if message["sender"] == "visitor" and message["client_msg_id"] in written_at:
                    delays.append(message["at"] - written_at[message["client_msg_id"]])
    return delays
