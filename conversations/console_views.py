"""The agent console: one page for every chat an agent handles; the live part runs over /ws/console/."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from chatops.models import Agent
from conversations import selectors
from conversations.models import Conversation

CONSOLE_SOCKET_PATH = "/ws/console/"
# The outcomes offered when closing a chat here; the full list (lead, booking, escalation…) comes later.
CLOSE_OUTCOMES = (Conversation.Outcome.RESOLVED, Conversation.Outcome.SPAM)


def console_strings() -> dict[str, str]:
    """Return the words the console script shows, in the active language."""
    return {
        "title_counter": _("(%(count)s) %(title)s"),
        "take": _("Take"),
        "no_messages": _("No messages yet."),
        "no_preview": _("Waiting for the first message"),
        "visitor": _("Visitor"),
        "status_waiting": _("Waiting in the queue since %(time)s"),
        "status_mine": _("Your chat · started %(time)s"),
        "status_closed": _("Closed · started %(time)s"),
        "status_other": _("Started %(time)s"),
        "offline_action": _("Not connected. Try again when the connection is back."),
        "visitor_typing": _("Visitor is typing…"),
        "typing_short": _("typing…"),
        "sending": _("Sending…"),
        "queued_offline": _("Will send when the connection is back"),
        "not_sent": _("Not sent: %(reason)s"),
        "retry": _("Retry"),
        "discard": _("Discard"),
        "delivered": _("Delivered"),
        "unread": _("%(count)s unread"),
        "frt_label": _("First reply"),
        "frt_none": _("no message yet"),
        "frt_due": _("due in %(time)s"),
        "frt_late": _("%(time)s over target"),
        "frt_done": _("answered · target %(time)s"),
        "frt_target": _("target %(time)s"),
        "new_chat": _("New chat — %(tenant)s"),
        "new_message": _("New message — %(tenant)s"),
        "connecting": _("Connecting…"),
        "connected": _("Connected"),
        "reconnecting": _("Connection lost. Reconnecting…"),
        "reconnecting_in": _("Connection lost. Reconnecting in %(seconds)s s…"),
        "session_ended": _("Your session has ended. Sign in again to continue."),
        "closed_notice": _("This chat has ended."),
        "gone_notice": _("This chat is no longer in your queue: another agent may have taken it."),
        "closed_toast": _("Chat closed."),
        "withdrawn_toast": _("A chat went back to the queue because it was not answered in time."),
        "taken_toast": _("The chat is yours."),
        "notifications_enable": _("Enable desktop alerts"),
        "notifications_on": _("Desktop alerts on"),
        "notifications_blocked": _("Desktop alerts are blocked in this browser"),
        "sound_on": _("Sound on"),
        "sound_off": _("Sound off"),
        "error_not_available": _(
            "You cannot take this chat: someone else took it, you are at your chat limit, "
            "or you are not online and on shift."
        ),
        "error_not_found": _("This chat is not available to you."),
        "error_closed": _("This chat has ended."),
        "error_not_yours": _("This chat is assigned to another agent."),
        "error_default": _("Something went wrong: %(message)s"),
    }


@never_cache
@login_required
def console(request: HttpRequest) -> HttpResponse:
    """Show the console with the agent's queue and chats as they are now; anyone but an agent gets a 403 page."""
    agent: Agent | None = getattr(request.user, "agent", None)
    if agent is None:
        return render(request, "conversations/console_forbidden.html", status=403)
    return render(
        request,
        "conversations/console.html",
        {
            "agent": agent,
            "console_state": selectors.console_state(agent=agent),
            "console_strings": console_strings(),
            "console_config": {"socket_path": CONSOLE_SOCKET_PATH, "agent_id": agent.pk},
            "presence_choices": Agent.Presence.choices,
            "close_outcomes": [(outcome.value, outcome.label) for outcome in CLOSE_OUTCOMES],
        },
    )
