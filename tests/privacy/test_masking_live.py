"""A visitor's card number, sent through the widget's socket, never reaches the database; they are told once."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from conversations.models import Message
from conversations.services import CARD_NOTICE_ID
from tests import factories
from tests.conversations.sockets import (
    ORIGIN,
    close_consumer_thread_connections,  # noqa: F401 (an autouse fixture)
    hello,
    ready_agent,
    receive_until,
    visitor_socket,
)
from tests.privacy.test_masking_flow import CARD, DIGITS, rows_holding


@pytest.fixture
def shop(db):
    return factories.make_tenant(name="Shop", slug="shop", allowed_origins=ORIGIN)


@pytest.mark.django_db(transaction=True)
async def test_a_visitors_card_number_never_reaches_the_database_and_they_are_told_once(shop):
    # given a visitor chatting with an agent on duty
    await database_sync_to_async(ready_agent)(shop)
    widget = await visitor_socket(shop)
    await hello(widget)
    await widget.send_json_to({"type": "message", "body": "Hello, I want to pay", "client_msg_id": "m0"})
    await receive_until(widget, "ack")

    # when they write their card number, twice
    await widget.send_json_to({"type": "message", "body": f"My card is {CARD}, 12/29", "client_msg_id": "m1"})
    await receive_until(widget, "ack")
    notice = await receive_until(widget, "message")
    while notice.get("client_msg_id") != CARD_NOTICE_ID:
        notice = await receive_until(widget, "message")
    await widget.send_json_to({"type": "message", "body": f"again: {DIGITS}", "client_msg_id": "m2"})
    await receive_until(widget, "ack")
    await widget.disconnect()

    # then no row holds the number, the stored text keeps its last four digits
    assert await database_sync_to_async(rows_holding)(DIGITS) == []
    bodies = await database_sync_to_async(
        lambda: list(Message.objects.order_by("seq").values_list("sender", "client_msg_id", "body"))
    )()
    assert bodies[1] == ("visitor", "m1", "My card is •••• •••• •••• 4242, 12/29")
    assert bodies[-1] == ("visitor", "m2", "again: ••••••••••••4242")
    # and the visitor was told once that card numbers are not taken in chat
    notices = [body for _sender, msg_id, body in bodies if msg_id == CARD_NOTICE_ID]
    assert len(notices) == 1 and "card" in notices[0].lower()
    assert notice["body"] == notices[0]
