"""One of two daphne processes is killed (SIGKILL) mid-traffic: its clients come back on the other, nothing is lost.

Visitors and agents are spread over both processes; Redis carries what one process's sockets say to the
other's. The killed process says goodbye to no one: its widgets and consoles notice their sockets died,
reconnect to the survivor with hello (the widget with its token and number, the console then with open for
each chat) and fetch from the database what was published while they were away. An agent whose console
was on the dead process and never comes back is set offline by the clock, and their chats go to the others.
"""

from __future__ import annotations

import threading

import pytest

from tests.faults.stage import agent_presence, chats_of
from workforce.models import Agent

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_killing_one_of_two_daphne_processes_mid_traffic_loses_nothing_and_leaves_no_ghost_agent(
    stage, start_daphnes, start_worker
):
    # given two daphne processes on one Redis, and the clock
    start_worker()
    doomed, survivor = start_daphnes(2)
    stage.servers += [doomed, survivor]
    # and agents on both, one of whom (Cara) will not come back when her process dies
    for name, server in (("Anna", doomed), ("Ben", doomed), ("Cem", survivor), ("Dana", survivor)):
        stage.console(stage.agent_on_shift(name, max_chats=4), servers=stage.pinned(server))
    cara = stage.agent_on_shift("Cara", max_chats=4)
    stage.console(cara, servers=stage.pinned(doomed, only=True))
    # and ten visitors in chats, half of them on each process
    widgets = [stage.widget(f"v{n}", servers=stage.pinned((doomed, survivor)[n % 2])) for n in range(10)]
    for widget in widgets:
        stage.write(widget, "hello")
    stage.assert_all_delivered(within=30)
    assert chats_of(cara), "Cara got no chat to lose"

    # when one process is killed while both sides write
    killer = threading.Timer(4, doomed.kill)
    killer.start()
    written = stage.traffic(seconds=10, every=0.5).result(timeout=60)
    killer.join()

    # then every stored message shows on both sides, once, without gaps: the dead process's clients came back
    # on the survivor, and Cara's chats went to agents with a console
    stage.assert_all_delivered(within=40)
    assert written >= 80
    assert doomed.process.returncode == -9 and survivor.process.poll() is None
    assert stage.loop.call(lambda: {w.server for w in widgets}) == {survivor.ws_url}
    # and Cara, whose console died with the process, is offline with no chats; nobody is online without a console
    assert agent_presence(cara) == Agent.Presence.OFFLINE
    assert chats_of(cara) == []
    assert stage.agents_online_without_a_console() == []
