"""The workforce's one hook upward: a change that may let an agent take waiting chats.

The workforce sits below ``conversations`` and must not import it, yet a shift planned for now,
training completed or a higher limit of chats at once should route waiting chats to the agent at
once. The services send ``agent_may_take_chats`` after commit (keyword ``agent``); the conversations
app connects its routing to it when it loads (``conversations/apps.py``). Without a receiver
(the workforce alone) nothing happens and the live-chat clock routes within seconds instead.
"""

from django.dispatch import Signal

agent_may_take_chats = Signal()
