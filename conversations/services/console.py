"""The agent's console: what its socket asks for (connecting, presence, a transfer)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from conversations import access, routing
from workforce import services as agent_services
from workforce.models import Agent


def connect_console(*, user: AbstractBaseUser | AnonymousUser | None) -> Agent | None:
    """Return the user's agent profile, counted alive at once (a console that connects answers); else None."""
    agent = access.agent_of_user(user)
    if agent is not None:
        agent_services.touch_agent(agent=agent)
    return agent


def set_console_presence(*, agent: Agent, presence: str) -> Agent:
    """Set the agent's presence from their console; going online gives them waiting chats at once."""
    agent_services.set_presence(agent=agent, presence=presence)
    if presence == Agent.Presence.ONLINE:
        agent_services.touch_agent(agent=agent)
        routing.drain_queue_for(agent=agent)
    return agent


def transfer_chat(*, agent: Agent, conversation_id: object, to_agent_id: object, note: str) -> None:
    """Hand a chat of the agent's (by id) to a colleague (by id) with a note; see ``routing.transfer``."""
    conversation = access.access_conversation_for_agent(agent=agent, conversation_id=conversation_id)
    colleague = access.access_agent(agent_id=to_agent_id)
    routing.transfer(conversation=conversation, from_agent=agent, to_agent=colleague, note=note)
