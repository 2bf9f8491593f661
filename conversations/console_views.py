"""The agent console: one page for every chat an agent handles; the live part runs over /ws/console/.

Beside the chat, the page asks the JSON endpoints under /console/api/ for the tenant's context card, the
visitor, knowledge-base hits, canned responses, private notes and tags. Every chat is reached through
access.access_conversation_for_agent, so an agent never sees a chat or tenant they are not trained for.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from conversations import access, outcomes, selectors, workspace
from conversations.models import Conversation
from tenants import search
from tenants import selectors as tenant_selectors
from workforce import selectors as workforce_selectors
from workforce import services as workforce_services
from workforce.models import Agent

CONSOLE_SOCKET_PATH = "/ws/console/"
# Every outcome an agent may give is offered when closing; none is chosen in advance, so the agent has to pick one.
CLOSE_OUTCOMES = tuple(Conversation.Outcome(value) for value in outcomes.AGENT_OUTCOMES)
SEARCH_RESULTS = 5
MAX_SEARCH_LENGTH = 300

ERROR_LOGIN_REQUIRED = gettext_lazy("Your session has ended. Sign in again to continue.")
ERROR_NOT_AN_AGENT = gettext_lazy("The console is for chat agents; this account has no agent profile.")
ERROR_METHOD = gettext_lazy("This address does not accept that method.")
ERROR_CSRF = gettext_lazy("The page is out of date or the request did not come from it. Reload the page.")
ERROR_BAD_JSON = gettext_lazy("Send the data as a JSON object.")
ERROR_TOO_LARGE = gettext_lazy("The request is too large.")
ERROR_INVALID = gettext_lazy("Please check what you entered.")
ERROR_NO_SUCH_ADDRESS = gettext_lazy("There is no such address in the console.")


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
        "frt_left_message": _("left outside service hours: no live target"),
        "left_message_tag": _("message"),
        "new_chat": _("New chat — %(tenant)s"),
        "new_message": _("New message — %(tenant)s"),
        "connecting": _("Connecting…"),
        "connected": _("Connected"),
        "reconnecting": _("Connection lost. Reconnecting…"),
        "reconnecting_in": _("Connection lost. Reconnecting in %(seconds)s s…"),
        "session_ended": _("Your session has ended. Sign in again to continue."),
        "closed_notice": _("This chat has ended."),
        "closed_visitor_left": _("This chat has ended: the visitor left and did not come back."),
        "visitor_left": _("The visitor has left: no page of theirs has the chat open."),
        "visitor_left_tag": _("left"),
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
        **workspace_strings(),
    }


def workspace_strings() -> dict[str, str]:
    """Return the words of the panel beside the chat and of the close dialog, in the active language."""
    return {
        "panel_loading": _("Loading…"),
        "panel_failed": _("Could not load this. %(message)s"),
        "panel_retry": _("Try again"),
        "tone_casual": _("Casual tone"),
        "tone_formal": _("Formal tone"),
        "card_style": _("Style"),
        "card_goals": _("Goals of the chat"),
        "card_escalation": _("Escalation rules"),
        "card_notices": _("Change notices"),
        "no_style_notes": _("No style notes."),
        "no_goals": _("No goals set."),
        "no_escalation_rules": _("No escalation rules written yet. Ask your operations manager."),
        "notice_acknowledge": _("I have read this"),
        "notice_acknowledged": _("Read %(time)s"),
        "notice_new": _("New"),
        "notices_none": _("No change notices."),
        "notices_banner": _("Change notices to read (%(count)s): %(titles)s"),
        "notices_open": _("Read now"),
        "notices_dialog_empty": _("All change notices read. Thank you!"),
        "notice_ack_failed": _("Could not save that you read the notice: %(message)s"),
        "search_placeholder": _("Search the knowledge base…"),
        "search_none": _("No article matches “%(query)s”."),
        "search_searching": _("Searching…"),
        "search_count": _("Articles found: %(count)s"),
        "search_insert": _("Insert"),
        "search_insert_label": _("Insert “%(title)s” into the reply"),
        "search_insert_unavailable": _("Take the chat to reply; then you can insert an article."),
        "search_inserted": _("Article inserted into your reply. Edit it before sending."),
        "search_show_all": _("Show the whole article"),
        "search_failed": _("The search failed: %(message)s"),
        "canned_label": _("Canned responses"),
        "canned_none": _("No canned response starts with /%(prefix)s"),
        "canned_hint": _("↑ ↓ to choose · Enter or Tab to insert · Esc to close"),
        "visitor_new": _("New visitor"),
        "visitor_returning": _("Returning visitor"),
        "visitor_current_page": _("Now on"),
        "visitor_no_page": _("No page seen yet."),
        "visitor_pages": _("Pages this visit"),
        "visitor_first_seen": _("First seen %(time)s"),
        "visitor_name": _("Name"),
        "visitor_email": _("E-mail"),
        "visitor_phone": _("Phone"),
        "visitor_earlier": _("Earlier chats"),
        "visitor_no_earlier": _("No earlier chats."),
        "visitor_more_earlier": _("Older chats not shown: %(count)s"),
        "visitor_open_chat": _("not closed"),
        "notes_none": _("No notes yet. Notes are for the team only; the visitor never sees them."),
        "note_saved": _("Note saved."),
        "note_failed": _("The note was not saved: %(message)s"),
        "tags_none": _("No tags."),
        "tag_remove": _("Remove tag %(tag)s"),
        "tags_failed": _("Tags were not saved: %(message)s"),
        "close_choose_outcome": _("Choose an outcome."),
        "close_required": _("Fill this in."),
        "close_contact_required": _("Give an e-mail address or a phone number."),
        "close_email_invalid": _("Enter a valid e-mail address."),
        "close_date_required": _("Give the date by which it was promised."),
        "close_summary_label": _("Summary (optional)"),
        "close_summary_escalated": _("Summary for the client"),
        "close_pending": _("Closing…"),
        "close_zone": _("In the client's time (%(zone)s)."),
        "close_confirm": _("Close chat"),
        "close_failed": _("The chat was not closed. Check the fields marked below."),
        "close_connection_lost": _(
            "The connection dropped before the server answered. If the chat is still in your list, try again."
        ),
    }


def workspace_config(*, agent: Agent) -> dict:
    """Return what the console's panel script needs: its addresses and the notices the agent has not read."""
    chat_url = reverse("console_api_chat_context", args=[0]).removesuffix("0/context/")
    return {
        "notices_url": reverse("console_api_notices"),
        "chat_url": chat_url,
        "open_notices": [
            tenant_selectors.notice_payload(notice, None)
            for notice in workforce_selectors.unacknowledged_notices(agent=agent)
        ],
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
            "workspace_config": workspace_config(agent=agent),
            "presence_choices": Agent.Presence.choices,
            "close_outcomes": [(outcome.value, outcome.label) for outcome in CLOSE_OUTCOMES],
        },
    )


# --- JSON endpoints beside the chat ---------------------------------------------------------------


def _json_error(code: str, message: object, status: int, **extra: object) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": str(message), **extra}}, status=status)


def _csrf_rejected(request: HttpRequest) -> bool:
    """Say whether Django's CSRF check refuses this request (the view is exempt so the refusal can be JSON)."""
    return CsrfViewMiddleware(lambda _request: HttpResponse()).process_view(request, None, (), {}) is not None


def _invalid(invalid: ValidationError) -> JsonResponse:
    if hasattr(invalid, "error_dict"):
        fields = {field: [str(message) for message in messages] for field, messages in invalid.message_dict.items()}
        first = next(iter(invalid.error_dict.values()))[0]
        return _json_error(first.code or "invalid", next(iter(fields.values()))[0] or ERROR_INVALID, 400, fields=fields)
    return _json_error(invalid.code or "invalid", invalid.messages[0], 400)


def agent_api(*methods: str) -> Callable:
    """Make a console JSON endpoint: for signed-in agents, these methods only, CSRF-checked writes, JSON errors.

    The view is called as view(request, agent, **kwargs); access.AccessDenied becomes a 404 and a
    ValidationError a 400 with the message per field.
    """

    def decorate(view: Callable[..., JsonResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @never_cache
        @wraps(view)
        def wrapper(request: HttpRequest, **kwargs) -> HttpResponse:
            if request.method not in methods:
                response = _json_error("method_not_allowed", ERROR_METHOD, 405)
                response["Allow"] = ", ".join(methods)
                return response
            if not request.user.is_authenticated:
                return _json_error("login_required", ERROR_LOGIN_REQUIRED, 401)
            agent: Agent | None = getattr(request.user, "agent", None)
            if agent is None:
                return _json_error("not_agent", ERROR_NOT_AN_AGENT, 403)
            if request.method not in ("GET", "HEAD") and _csrf_rejected(request):
                return _json_error("csrf_failed", ERROR_CSRF, 403)
            try:
                return view(request, agent, **kwargs)
            except access.AccessDenied as denied:
                return _json_error(denied.code, denied.message, 404)
            except ValidationError as invalid:
                return _invalid(invalid)
            except RequestDataTooBig:
                return _json_error("too_large", ERROR_TOO_LARGE, 413)

        return wrapper

    return decorate


def _json_body(request: HttpRequest) -> dict:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        raise ValidationError(ERROR_BAD_JSON, code="bad_json")
    return data


def _conversation(agent: Agent, conversation_id: object) -> Conversation:
    return access.access_conversation_for_agent(agent=agent, conversation_id=conversation_id)


@agent_api("GET")
def open_notices(request: HttpRequest, agent: Agent) -> JsonResponse:
    """List the change notices of the agent's tenants that the agent has not acknowledged yet."""
    notices = workforce_selectors.unacknowledged_notices(agent=agent)
    return JsonResponse({"notices": [tenant_selectors.notice_payload(notice, None) for notice in notices]})


@agent_api("POST")
def acknowledge_notice(request: HttpRequest, agent: Agent, notice_id: int) -> JsonResponse:
    """Record that the agent has read a change notice."""
    notice = access.access_notice_for_agent(agent=agent, notice_id=notice_id)
    acknowledgement = workforce_services.acknowledge_notice(notice=notice, agent=agent)
    return JsonResponse(
        {
            "notice": tenant_selectors.notice_payload(notice, acknowledgement.acknowledged_at),
            "open_count": workforce_selectors.unacknowledged_notices(agent=agent).count(),
        }
    )


@agent_api("GET")
def chat_context(request: HttpRequest, agent: Agent, conversation_id: int) -> JsonResponse:
    """Show the context card of a chat's tenant: tone, style notes, goals, escalation rules, notices."""
    conversation = _conversation(agent, conversation_id)
    card = workforce_selectors.context_card(tenant=conversation.tenant, agent=agent)
    return JsonResponse({"conversation": conversation.pk, **card})


@agent_api("GET")
def chat_visitor(request: HttpRequest, agent: Agent, conversation_id: int) -> JsonResponse:
    """Show who the visitor of a chat is and what they did before."""
    conversation = _conversation(agent, conversation_id)
    return JsonResponse(selectors.visitor_panel(conversation=conversation))


@agent_api("GET")
def chat_search(request: HttpRequest, agent: Agent, conversation_id: int) -> JsonResponse:
    """Search the knowledge base of the chat's tenant (query in ?q=)."""
    conversation = _conversation(agent, conversation_id)
    query = request.GET.get("q", "")[:MAX_SEARCH_LENGTH]
    hits = search.search_articles(tenant=conversation.tenant, query=query, limit=SEARCH_RESULTS)
    return JsonResponse({"conversation": conversation.pk, "query": query, "results": [hit.as_json() for hit in hits]})


@agent_api("GET")
def chat_canned(request: HttpRequest, agent: Agent, conversation_id: int) -> JsonResponse:
    """List the canned responses of the chat's tenant whose shortcut starts with ?prefix=."""
    conversation = _conversation(agent, conversation_id)
    prefix = request.GET.get("prefix", "")[:MAX_SEARCH_LENGTH]
    responses = tenant_selectors.canned_responses(tenant=conversation.tenant, prefix=prefix)
    return JsonResponse({"conversation": conversation.pk, "prefix": prefix, "results": responses})


@agent_api("GET", "POST")
def chat_notes(request: HttpRequest, agent: Agent, conversation_id: int) -> JsonResponse:
    """List a chat's private notes, or add one ({"body": "…"}); the visitor never sees them."""
    conversation = _conversation(agent, conversation_id)
    if request.method == "POST":
        note = workspace.add_note(conversation=conversation, agent=agent, body=_json_body(request).get("body"))
        return JsonResponse({"note": selectors.note_payload(note, viewer=agent)}, status=201)
    notes = selectors.conversation_notes(conversation=conversation, viewer=agent)
    return JsonResponse({"conversation": conversation.pk, "notes": notes})


@agent_api("GET", "POST")
def chat_tags(request: HttpRequest, agent: Agent, conversation_id: int) -> JsonResponse:
    """List a chat's tags with the tenant's others as suggestions, or set them ({"tags": ["…"]})."""
    conversation = _conversation(agent, conversation_id)
    if request.method == "POST":
        workspace.set_tags(conversation=conversation, names=_json_body(request).get("tags"))
    return JsonResponse({"conversation": conversation.pk, **selectors.conversation_tags(conversation=conversation)})


@agent_api("GET", "POST", "PUT", "PATCH", "DELETE")
def api_not_found(request: HttpRequest, agent: Agent, **_kwargs) -> JsonResponse:
    """Answer an unknown console API address in JSON, like every other console API error."""
    return _json_error("not_found", ERROR_NO_SUCH_ADDRESS, 404)
