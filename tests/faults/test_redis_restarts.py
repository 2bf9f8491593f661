"""Redis restarts mid-traffic: every message still reaches both sides, and no socket dies of it.

While Redis is away, a message is stored (the database has it, the sender its ack) but its publish fails;
the clients' pongs show the lost tails and they fetch them. What a socket publishes itself (the visitor
typing, the "delivered" receipt of an ack) has nowhere to go while Redis is away: it must fail quietly,
not end the socket (which would take the visitor's conversation and the agent's presence down with it).
"""

from __future__ import annotations

import time

import pytest

from tests.faults.stage import eventually

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
AWAY_SECONDS = 3


def test_a_redis_restart_mid_traffic_loses_nothing_and_drops_no_socket(
    stage, start_daphnes, start_worker, redis_server
):
    # given two daphne processes on the test's own Redis, and the clock
    start_worker()
    first, second = start_daphnes(2)
    stage.servers += [first, second]
    # and two agents and eight visitors spread over both
    for name, server in (("Anna", first), ("Ben", second)):
        stage.console(stage.agent_on_shift(name, max_chats=5), servers=stage.pinned(server))
    widgets = [stage.widget(f"v{n}", servers=stage.pinned((first, second)[n % 2])) for n in range(8)]
    for widget in widgets:
        stage.write(widget, "hello")
    stage.assert_all_delivered(within=30)
    connects = stage.counted("connects")

    # when Redis goes away for a few seconds while both sides write (and type, and acknowledge)
    traffic = stage.traffic(seconds=10, every=0.5)
    time.sleep(3)
    redis_server.stop()
    time.sleep(AWAY_SECONDS)
    redis_server.start()
    written = traffic.result(timeout=60)

    # then every stored message shows on both sides, once, without gaps
    stage.assert_all_delivered(within=40)
    assert written >= 80
    # and no socket was closed by the server over it: the clients never had to reconnect
    reconnects = {c.name: c.connects for c in stage.all_clients()}
    assert stage.counted("connects") == connects, f"{reconnects}\n{first.output()[-4000:]}\n{second.output()[-4000:]}"
    # and nobody is online without a console
    eventually(lambda: stage.agents_online_without_a_console() == [], within=5, what="no agent without a console")
    assert first.process.poll() is None and second.process.poll() is None
