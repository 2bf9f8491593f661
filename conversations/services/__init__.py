"""Writes of the live chat, grouped by what they do; callers use ``from conversations import services``.

- ``messages``: the visitor's, the agent's and the system's messages (persist, then publish), and the
  messages after a sequence number for a resuming client.
- ``steady_state``: a message of a running chat numbered and stored in one statement.
- ``lifecycle``: a visitor's conversation started (and routed), a chat closed.
- ``visitors``: the widget's session, and the widget sockets that follow a chat.
- ``console``: what an agent's console socket asks for.
- ``clock``: the live chat's clock and the record of each clock's run.

Closing with an outcome, aftercare, offline messages and routing have their own modules beside this
package (``conversations.outcomes``, ``aftercare``, ``offline``, ``routing``).
"""

from __future__ import annotations

from conversations.services.clock import record_clock_run, run_live_chat_clock
from conversations.services.console import connect_console, set_console_presence, transfer_chat
from conversations.services.lifecycle import close_abandoned_chat, close_conversation, start_conversation
from conversations.services.messages import (
    CARD_NOTICE,
    CARD_NOTICE_ID,
    ERROR_CONVERSATION_CLOSED,
    ERROR_EMPTY_MESSAGE,
    ERROR_MESSAGE_TOO_LONG,
    ERROR_NOT_AVAILABLE,
    ERROR_NOT_YOUR_CHAT,
    MAX_CLIENT_MSG_ID_LENGTH,
    MAX_MESSAGE_LENGTH,
    messages_after,
    post_agent_message,
    post_agent_reply,
    post_system_message,
    post_visitor_message,
    tell_visitor_cards_are_not_accepted,
)
from conversations.services.visitors import (
    open_widget_session,
    visitor_arrived,
    visitor_departed,
    visitor_still_here,
    visitor_vanished,
)

__all__ = [
    "CARD_NOTICE",
    "CARD_NOTICE_ID",
    "ERROR_CONVERSATION_CLOSED",
    "ERROR_EMPTY_MESSAGE",
    "ERROR_MESSAGE_TOO_LONG",
    "ERROR_NOT_AVAILABLE",
    "ERROR_NOT_YOUR_CHAT",
    "MAX_CLIENT_MSG_ID_LENGTH",
    "MAX_MESSAGE_LENGTH",
    "close_abandoned_chat",
    "close_conversation",
    "connect_console",
    "messages_after",
    "open_widget_session",
    "post_agent_message",
    "post_agent_reply",
    "post_system_message",
    "post_visitor_message",
    "record_clock_run",
    "run_live_chat_clock",
    "set_console_presence",
    "start_conversation",
    "tell_visitor_cards_are_not_accepted",
    "transfer_chat",
    "visitor_arrived",
    "visitor_departed",
    "visitor_still_here",
    "visitor_vanished",
]
