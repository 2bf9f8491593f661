"""A frozen console (its socket open, its page running no script: no pings, no answers) with the real clocks.

The protocol's promise (conversations/protocol.py, "Presence"): the server closes a console silent for
30 s, the agent gets no new chat from then on, and 60 s after the last ping the clock sets the agent
offline and offers their chats to others. Run with the production defaults, nothing shortened.
"""

from __future__ import annotations

import time

import pytest

from conversations.models import Conversation
from tests.faults.stage import NO_VISITOR_LIMITS, agent_presence, chats_of, eventually
from workforce.models import Agent

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
CLOSE_AFTER, WATCH_EVERY, GRACE, CLOCK_EVERY = 30, 2, 60, 5
SLACK = 4  # a busy machine's delay on top of each promise


def test_a_frozen_console_is_closed_at_30_s_and_its_agent_released_at_60_s_with_the_real_clocks(
    stage, daphne_factory, celery_worker_factory, redis_server
):
    # given one daphne process and the clock, both with their default clocks
    celery_worker_factory(REDIS_URL=redis_server.url)
    stage.servers.append(daphne_factory(REDIS_URL=redis_server.url, **NO_VISITOR_LIMITS))
    stage.ping_every = 10.0  # as the console's script does
    # and Fia online with two chats, then Lea online
    fia = stage.agent_on_shift("Fia", max_chats=3)
    frozen = stage.console(fia)
    first = [stage.widget(f"v{n}") for n in range(2)]
    for widget in first:
        stage.write(widget, "hello")
    stage.assert_all_delivered(within=30)
    assert len(chats_of(fia)) == 2
    lea = stage.agent_on_shift("Lea", max_chats=3)
    stage.console(lea)

    # when Fia's page freezes: the socket stays open, no script runs
    stage.loop.call(lambda: setattr(frozen, "frozen", True))
    last_ping = stage.loop.call(lambda: frozen.pinged_at or time.monotonic())
    for widget in first:  # her visitors write on, to nobody for now
        stage.write(widget, "anyone there?")

    # then the server closes her console within 30 s of its last ping
    eventually(lambda: not stage.loop.call(lambda: frozen.connected), within=45, what="frozen console closed")
    closed_after = stage.loop.call(lambda: frozen.closed_at) - last_ping
    assert closed_after <= CLOSE_AFTER + WATCH_EVERY + SLACK, f"closed {closed_after:.1f} s after the last ping"
    # and a chat that starts from then on goes to Lea, never to Fia
    newcomer = stage.widget("v2")
    stage.write(newcomer, "hello, new here")
    eventually(lambda: Conversation.objects.filter(agent__isnull=False).count() == 3, within=15, what="routed")
    assert len(chats_of(fia)) == 2
    # and the clock sets Fia offline within 60 s of her last ping (plus one tick), her chats offered to Lea
    eventually(lambda: agent_presence(fia) == Agent.Presence.OFFLINE, within=GRACE + 15, what="Fia released")
    released_after = time.monotonic() - last_ping
    assert released_after <= GRACE + CLOCK_EVERY + SLACK, f"released {released_after:.1f} s after the last ping"
    assert chats_of(fia) == []
    # and every stored message shows on both sides (Lea's console, the widgets), once, without gaps
    stage.assert_all_delivered(within=20)
    assert sorted(chats_of(lea)) == sorted(Conversation.objects.values_list("pk", flat=True))
    assert stage.agents_online_without_a_console() == []
