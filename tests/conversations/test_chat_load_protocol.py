"""The chat load bench speaks today's protocol (conversations/protocol.py), frame by frame.

The bench's product adapter turns the server's frames into the load client's events and answers; these
tests feed it frames as daphne sends them, without servers. The full bench runs in
test_chat_load_bench.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from conversations import redaction

BENCH = Path(__file__).resolve().parent.parent.parent / "bench"


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(BENCH))
    try:
        import chat_targets
        import load_client

        yield chat_targets, load_client
    finally:
        sys.path.remove(str(BENCH))


@pytest.fixture
def product(bench, tmp_path):
    chat_targets, _ = bench
    return chat_targets.Product(agents=2, chats_per_agent=3, database_url="", redis_url="", log_dir=tmp_path)


@pytest.fixture
def visitor(bench, product):
    _, load_client = bench
    link = load_client.VisitorLink(0, product, load_client.Ledger())
    link.token, link.conversation = "signed-token", 7
    return link


@pytest.fixture
def console(bench, product):
    _, load_client = bench
    link = load_client.ConsoleLink(0, product, load_client.Ledger())
    product.console_hello(link)
    product.console_event(link, {"type": "welcome", "agent": {"id": 3}, "chats": [], "queue": []})
    return link


def _history(conversation: int, seqs: list[int]) -> dict:
    messages = [{"seq": seq, "sender": "visitor", "body": f"m{seq}"} for seq in seqs]
    return {"type": "history", "conversation": {"conversation": conversation}, "messages": messages}


def test_an_overloaded_message_is_sent_again_after_the_time_the_server_names(product, visitor):
    # given a message the server refused for now
    frame = {"type": "error", "code": "overloaded", "ref": "message", "client_msg_id": "m-1", "retry_after": 2}

    # when the visitor reads the answer
    event = product.visitor_event(visitor, frame)

    # then it keeps the message and sends it again after 2 s, instead of giving it up
    assert (event.kind, event.cid, event.after) == ("retry", "m-1", 2.0)


def test_a_message_refused_for_good_is_not_sent_again(product, visitor):
    event = product.visitor_event(visitor, {"type": "error", "code": "too_long", "client_msg_id": "m-2"})

    assert (event.kind, event.cid, event.code) == ("refused", "m-2", "too_long")


def test_a_reconnecting_visitor_resumes_from_the_last_number_without_a_gap(product, visitor):
    # given acks for 1, 2 and 4 (3 was an agent's message that never arrived)
    for seq, cid in ((1, "a"), (2, "b"), (4, "c")):
        product.visitor_event(visitor, {"type": "ack", "client_msg_id": cid, "seq": seq})

    # when its socket opens again
    hello = product.visitor_hello(visitor)

    # then it asks for everything after 2, so 3 is fetched
    assert hello == [{"type": "hello", "token": "signed-token", "last_seq": 2}]


def test_a_visitor_pong_naming_a_higher_number_fetches_the_lost_tail_once(product, visitor):
    # given a visitor with every message through 2
    for seq, cid in ((1, "a"), (2, "b")):
        product.visitor_event(visitor, {"type": "ack", "client_msg_id": cid, "seq": seq})
    pong = {"type": "pong", "conversation": {"id": 7, "last_seq": 5, "status": "active"}}

    # when a pong says the chat is at 5, twice before the answer comes
    first, second = product.visitor_event(visitor, pong), product.visitor_event(visitor, pong)

    # then it resumes from 2, once
    assert first.replies == ({"type": "resume", "last_seq": 2},)
    assert second is None
    # and the history fills the gap, after which the same pong asks for nothing
    product.visitor_event(visitor, {"type": "history", "conversation": 7, "messages": [{"seq": n} for n in (3, 4, 5)]})
    assert product.visitor_event(visitor, pong) is None


def test_a_visitor_pong_naming_another_chat_says_hello_again(product, visitor):
    event = product.visitor_event(visitor, {"type": "pong", "conversation": {"id": 9, "last_seq": 1}})

    assert event.replies[0]["type"] == "hello"


def test_the_widget_pings_every_20_seconds_and_the_console_every_10(product, visitor, console):
    # then the clients' tick is 10 s; the console pings on each, the widget on every other
    assert product.tick_seconds == 10.0
    assert [product.visitor_tick(visitor) for _ in range(4)] == [[], [{"type": "ping"}], [], [{"type": "ping"}]]
    assert product.console_tick(console).replies == [{"type": "ping"}]


def test_a_console_answers_a_probe_with_a_ping(product, console):
    assert product.console_event(console, {"type": "probe"}).replies == [{"type": "ping"}]


def test_a_console_pong_naming_a_higher_number_opens_the_chat_from_its_gap(product, console):
    # given a console that loaded chat 5 through 3 and shows it as its own
    product.console_event(console, {"type": "assigned", "conversation": 5, "agent": 3})
    product.console_event(console, _history(5, [1, 2, 3]))

    # when a pong says chat 5 is at 4 (its last message was lost)
    reaction = product.console_event(console, {"type": "pong", "conversations": {"5": 4}, "chats": [5], "queue": []})

    # then it opens the chat again from 3, and asks for nothing else
    assert reaction.replies == [{"type": "open", "conversation": 5, "last_seq": 3}]


def test_a_console_pong_whose_lists_differ_asks_for_the_whole_state_once(product, console):
    # given a console that missed the assignment of chat 6
    pong = {"type": "pong", "conversations": {"6": 1}, "chats": [6], "queue": []}

    # when two pongs name it before the state comes
    first, second = product.console_event(console, pong), product.console_event(console, pong)

    # then it says hello again, once, and the welcome opens the chat
    assert first.replies == [{"type": "hello"}]
    assert second.replies == []
    welcome = {"type": "welcome", "agent": {"id": 3}, "chats": [{"conversation": 6}], "queue": []}
    assert product.console_event(console, welcome).replies == [{"type": "open", "conversation": 6, "last_seq": 0}]
    assert product.console_event(console, pong).replies == []


def test_a_bench_body_survives_the_card_masking_whatever_its_send_time(bench):
    # given a send time whose 13 digits pass the Luhn check, as the machine's monotonic clock reaches
    # after 17 minutes of uptime (the masking turned such a time into "•••••••••6921" and the id went undelivered)
    _, load_client = bench
    send_time = 6732104486909
    assert redaction.is_card_number(str(send_time))

    # when the product masks card numbers in the body the bench sends
    body = load_client.body_of("pf1-s1t1-10", send_time)
    masked, found = redaction.mask_card_numbers(body)

    # then nothing was masked, and the body still reads back as its id and send time
    assert (masked, found) == (body, 0)
    assert load_client.read_body(masked) == ("pf1-s1t1-10", send_time)
