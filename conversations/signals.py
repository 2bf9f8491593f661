"""Business events of conversations, for apps above this one (integrations) to learn of them.

Each is sent by the service that made the change, inside its transaction: a receiver that writes
rows writes them in the same transaction (a rollback takes them away too), and a receiver must
never talk to the outside world before commit. The argument named is the stored row.
"""

from __future__ import annotations

from django.dispatch import Signal

# lead=Lead
lead_created = Signal()
# handoff=Handoff
handoff_created = Signal()
# conversation=Conversation, closed with its outcome
conversation_closed = Signal()
# conversation=Conversation, its rating and comment just recorded (first given or changed)
rating_given = Signal()
# message=Message, the first message of a conversation left outside service hours (or a resend's first store)
offline_message_left = Signal()
# visitor_ids=list[int], conversation_ids=list[int]: the visitors' data just erased (rights.erase_visitors)
visitors_erased = Signal()
# conversation_ids=list[int]: retention is about to delete these conversations (rows pointing at them must go first)
conversations_purged = Signal()
