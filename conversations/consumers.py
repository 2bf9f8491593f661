"""WebSocket consumers: authenticate, parse a frame, call a service, send the answer. Nothing more.

The frames, and what a client does when it misses one, are in conversations/protocol.py.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import time
from typing import Any

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from accounts import revocation
from conversations import access, aftercare, events, invitations, outcomes, protocol, routing, selectors, services
from conversations.inbox import OneQueueConsumer
from conversations.memo import ProcessMemo
from conversations.models import Message, PageView
from conversations.protocol import ProtocolError
from conversations.threads import background_sync_to_async, database_sync_to_async, refuse_when_overloaded
from tenants.hours import is_open
from tenants.models import Tenant
from workforce import services as agent_services

logger = logging.getLogger(__name__)

CLOSE_FORBIDDEN = 4403
# The console stopped answering (frozen page, lost network): the server closes its socket.
CLOSE_SILENT = 4408

# A console that has not pinged for settings.CHAT_CONSOLE_PROBE_AFTER seconds is asked to ping now (a
# background tab's timers may be slowed to one a minute, but an arriving frame still runs its handler); one
# that has not pinged for CHAT_CONSOLE_CLOSE_AFTER seconds is closed, whatever else it sends: its agent's
# presence rests on its pings. A ping records the console as alive at most every CHAT_CONSOLE_TOUCH_EVERY.
# Leaving groups when a connection ends must not hang on a Redis that is gone.
LEAVE_TIMEOUT = 2.0

ERROR_OVERLOADED = _("The chat is very busy right now; your message will be sent again in a moment.")

# A reconnecting crowd asks for the same tenants and service hours at once: each process keeps them
# a little while (a change to a tenant reaches new widget connections within this time).
WIDGET_TENANTS: ProcessMemo[Tenant] = ProcessMemo(seconds=30)
SERVICE_OPEN: ProcessMemo[bool] = ProcessMemo(seconds=60)


def _header(scope: dict, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return ""


def _client_ip(scope: dict) -> str | None:
    client = scope.get("client")
    return client[0] if client else None


def _message_frames(messages) -> list[dict[str, Any]]:
    return [events.message_payload(message) for message in messages]


class _JsonConsumer(OneQueueConsumer):
    """Shared plumbing: JSON frames out, typed errors out, group bookkeeping, and an end that always runs."""

    parse = staticmethod(protocol.parse_visitor_frame)
    # The groups joined and the tasks started: none until the first (an idle widget has no tasks and
    # thousands of them wait at once), so no empty set of each per connection.
    joined: frozenset[str] = frozenset()
    tasks: set[asyncio.Task] | frozenset[asyncio.Task] = frozenset()
    # The messages this socket was told "overloaded" about (threads.refuse_when_overloaded).
    refused: frozenset[str] = frozenset()

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # However the run ends (the socket closed, the channel layer failed, daphne cancelled a
            # connection that was slow to close), nothing this connection started may outlive it.
            await self.end()

    async def dispatch(self, message: dict) -> None:
        # Channels closes old database connections on its one shared thread before every frame and
        # event: a hop through a single thread per message, for connections that thread never opened.
        # Ours are recycled where they are used (database_sync_to_async above).
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def websocket_disconnect(self, message: dict) -> None:
        # As Channels' own, without its closing of old connections on that one shared thread: for every
        # tab that closes, a wait behind every other such hop (``end`` leaves the groups).
        await self.disconnect(message["code"])
        raise StopConsumer

    def start_task(self, coroutine) -> asyncio.Task:
        """Run a coroutine beside the connection; it is cancelled when the connection ends."""
        task = asyncio.ensure_future(coroutine)
        if not self.tasks:
            self.tasks = set()
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def end(self) -> None:
        """Undo what this connection set up: cancel its tasks, leave its groups, then ``on_end``."""
        for task in list(self.tasks):
            task.cancel()
        for group in list(self.joined):
            await self.leave(group)
        try:
            await self.on_end()
        except Exception:
            logger.exception("Could not finish ending a %s", type(self).__name__)

    async def on_end(self) -> None:
        """Release what the subclass holds for its connection (presence, for instance)."""

    async def shut(self) -> None:
        """Leave every group, then close with 4403: access was taken away, nothing more may reach the socket."""
        for group in list(self.joined):
            await self.leave(group)
        await self.close(code=CLOSE_FORBIDDEN)

    async def send_frame(self, frame: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(frame, ensure_ascii=False))

    async def send_error(
        self,
        code: str,
        message: str,
        frame: protocol.Frame | None = None,
        fields: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        error = protocol.error_frame(code, message, fields) | extra
        if frame is not None:
            # Say which frame failed, so a client with several messages in flight knows which one.
            error["ref"] = frame.type
            if frame.data.get("client_msg_id"):
                error["client_msg_id"] = frame.data["client_msg_id"]
        await self.send_frame(error)

    def language(self) -> str | None:
        """Return the language errors are written in; None for the server's own."""
        return None

    async def join(self, group: str) -> None:
        if group not in self.joined:
            await self.channel_layer.group_add(group, self.channel_name)
            self.joined |= {group}

    async def leave(self, group: str) -> None:
        self.joined -= {group}
        try:
            await asyncio.wait_for(self.channel_layer.group_discard(group, self.channel_name), LEAVE_TIMEOUT)
        except Exception:
            # The layer's own connection is gone: its subscriptions went with it.
            logger.warning("Could not leave group %s", group, exc_info=True)

    def ready(self) -> bool:
        raise NotImplementedError

    def check(self, frame: protocol.Frame) -> None:
        """Refuse a well-formed frame that is out of turn."""

    def overloaded(self, frame: protocol.Frame) -> bool:
        """Say whether to answer a message frame with ``overloaded`` instead of storing it now."""
        if frame.type != "message":
            return False
        refuse, self.refused = refuse_when_overloaded(frame.data.get("client_msg_id") or "", self.refused)
        return refuse

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not self.ready():
            return
        frame = None
        with translation.override(self.language()):
            try:
                frame = self.parse(text_data)
                self.check(frame)
                if self.overloaded(frame):
                    await self.send_error(
                        "overloaded", ERROR_OVERLOADED, frame, retry_after=settings.CHAT_OVERLOAD_RETRY_AFTER
                    )
                    return
                handler = getattr(self, f"on_{frame.type}")
                await handler(**frame.data)
            except ProtocolError as error:
                await self.send_error(error.code, error.message, frame)
            except access.AccessDenied as denied:
                await self.send_error(denied.code, denied.message, frame)
            except ValidationError as invalid:
                await self.send_invalid(invalid, frame)

    async def send_invalid(self, invalid: ValidationError, frame: protocol.Frame | None) -> None:
        """Send a refusal as an error frame; one keyed by field also says each field's first message."""
        code = getattr(invalid, "code", None) or "invalid"
        if not hasattr(invalid, "error_dict"):
            await self.send_error(code, invalid.messages[0], frame)
            return
        fields = {key: messages[0] for key, messages in invalid.message_dict.items() if messages}
        await self.send_error(code, invalid.messages[0], frame, fields)

    async def publish_quietly(self, group: str, event: dict) -> None:
        """Send what this socket says in passing (typing, a read receipt) to a group; lose it quietly if Redis is away.

        Nothing is stored behind such an event and the next one replaces it; failing it must not end the socket.
        """
        try:
            await self.channel_layer.group_send(group, event)
        except Exception:
            logger.warning("Could not publish %s to %s", event.get("type"), group, exc_info=True)

    def from_here(self, event: dict) -> bool:
        """Say whether this socket caused the event (it has its answer already and is not told again)."""
        return event.get("sender_channel") == self.channel_name

    # Events from the channel layer, relayed as frames.
    async def chat_message(self, event: dict) -> None:
        if not self.from_here(event):
            await self.send_frame({"type": "message", **event["payload"]})

    async def chat_assigned(self, event: dict) -> None:
        await self.send_frame({"type": "assigned", **event["payload"]})

    async def chat_closed(self, event: dict) -> None:
        await self.send_frame({"type": "closed", **event["payload"]})

    async def chat_requeued(self, event: dict) -> None:
        await self.send_frame({"type": "requeued", **event["payload"]})

    async def chat_typing(self, event: dict) -> None:
        if not self.from_here(event):
            await self.send_frame({"type": "typing", **event["payload"]})

    async def chat_delivered(self, event: dict) -> None:
        if not self.from_here(event):
            await self.send_frame({"type": "delivered", **event["payload"]})

    async def chat_visitor(self, event: dict) -> None:
        """Widgets do not need to hear of their own visitor's comings and goings."""


class VisitorConsumer(_JsonConsumer):
    """The widget's connection: one visitor, their own conversation only."""

    # What a connection holds, kept on the class until it is set (an idle widget sets few of them).
    tenant: Tenant | None = None
    visitor = None
    conversation = None
    # The conversation whose visitor presence this socket counts in (see services.visitor_arrived).
    present_in: int | None = None
    # When this socket last recorded the visitor as still there (time.monotonic()).
    touched_at = 0.0
    # The page view this connection's hello recorded (invitations are timed from it) and the
    # invitations shown on it (which the visitor may then accept whatever has changed since).
    page_view_id: int | None = None
    invited: frozenset[int] = frozenset()

    async def connect(self) -> None:
        await self.accept()
        self.key = self.scope["url_route"]["kwargs"].get("key", "")
        if await self.admitted(WIDGET_TENANTS.get(self.key)):
            await self.join(revocation.widget_sockets_group(self.tenant.pk))

    async def admitted(self, tenant: Tenant | None) -> bool:
        """Check the key (read again unless given), the tenant's status and the origin; else refuse and close."""
        try:
            tenant = tenant or WIDGET_TENANTS.put(
                self.key, await database_sync_to_async(access.tenant_of_widget_key)(widget_key=self.key)
            )
            self.tenant = access.check_widget_origin(tenant=tenant, origin=_header(self.scope, b"origin"))
        except access.AccessDenied as denied:
            self.tenant = None  # no frame is read from here on
            await self.send_error(denied.code, denied.message)
            await self.shut()
            return False
        return True

    async def access_changed(self, event: dict) -> None:
        """The tenant's key, status or sites changed: check this socket again, from the database."""
        WIDGET_TENANTS.forget(self.key)
        await self.admitted(None)

    def ready(self) -> bool:
        return self.tenant is not None

    def language(self) -> str | None:
        return self.tenant.language

    def check(self, frame: protocol.Frame) -> None:
        if self.visitor is None and frame.type != "hello":
            raise ProtocolError("hello_first", "Send a hello frame first.")

    async def on_end(self) -> None:
        if self.present_in is not None:
            conversation_id, self.present_in = self.present_in, None
            await database_sync_to_async(services.visitor_departed)(conversation_id=conversation_id)

    async def follow(self) -> None:
        """Join the group of the visitor's conversation: from now on its events reach this socket."""
        await self.join(events.conversation_group(self.conversation.pk))

    async def on_hello(self, *, token: str, last_seq: int, url: str, title: str) -> None:
        welcome, open_id = await database_sync_to_async(self._hello)(token, url, title)
        if open_id is not None:
            # Join first, then read what was missed: a message stored in between then arrives twice
            # (the widget keeps one per sequence number) rather than not at all.
            await self.join(events.conversation_group(open_id))
            welcome |= await database_sync_to_async(self._catch_up)(open_id, last_seq)
            if self.conversation is None:  # it closed in between
                await self.leave(events.conversation_group(open_id))
        await self.send_frame(welcome)

    def _hello(self, token: str, url: str, title: str) -> tuple[dict[str, Any], int | None]:
        now = timezone.now()
        if self.visitor is not None:  # one visitor per socket: a hello again keeps it and is no new page view
            token, url, title = self.token, "", ""
        self.visitor, self.token = services.open_widget_session(
            tenant=self.tenant, token=token, url=url, title=title, origin=_header(self.scope, b"origin"), now=now
        )
        token = self.token
        self.conversation = None
        service_open = SERVICE_OPEN.get_or_read(
            (self.tenant.pk, now.replace(second=0, microsecond=0)), lambda: is_open(self.tenant, now)
        )
        open_id = self.visitor.open_conversation_id
        welcome = {
            "type": "welcome",
            "token": token,
            "service_open": service_open,
            "conversation": None,
            "messages": [],
            # A reconnect on the same page (no url) keeps what the first hello decided about invitations.
            "invite": self._candidate_invitation(now=now) if url and open_id is None else None,
        }
        return welcome, open_id

    def _catch_up(self, conversation_id: int, last_seq: int) -> dict[str, Any]:
        self.conversation = selectors.open_conversation_by_id(visitor=self.visitor, conversation_id=conversation_id)
        if self.conversation is None:
            return {}
        self._be_present()
        missed = services.messages_after(conversation=self.conversation, seq=last_seq)
        state = selectors.visitor_conversation_state(conversation=self.conversation)
        return {"conversation": state, "messages": _message_frames(missed)}

    def _be_present(self) -> None:
        """Count this socket among those following the conversation (a visitor with none has left)."""
        if self.present_in != self.conversation.pk:
            self.present_in = self.conversation.pk
            self.touched_at = time.monotonic()
            services.visitor_arrived(conversation=self.conversation)

    def _touch_due(self, conversation) -> bool:
        """Say whether a ping now records the visitor as still there (and note that it does): at most every
        CHAT_VISITOR_TOUCH_EVERY, and at once when the clock has counted this socket gone."""
        counted_gone = conversation.visitor_left_at is not None or conversation.visitor_sockets < 1
        if counted_gone or time.monotonic() - self.touched_at >= settings.CHAT_VISITOR_TOUCH_EVERY:
            self.touched_at = time.monotonic()
            return True
        return False

    def _page_view(self) -> PageView | None:
        return invitations.current_page_view(visitor=self.visitor, page_view_id=self.page_view_id)

    def _candidate_invitation(self, *, now: dt.datetime) -> dict[str, Any] | None:
        """Return the invitation rule that may apply to the page this hello recorded, with its seconds."""
        page_view = invitations.current_page_view(visitor=self.visitor)
        if page_view is not None:
            self.page_view_id = page_view.pk
        rule = invitations.rule_for_page(tenant=self.tenant, visitor=self.visitor, page_view=page_view, now=now)
        if rule is None:
            return None
        return {"rule": rule.pk, "seconds": rule.seconds_on_page, "message": rule.message}

    async def on_invite_check(self, *, rule: int) -> None:
        invitation = await database_sync_to_async(self._invite_check)(rule)
        if invitation is not None:
            await self.send_frame(invitation)

    def _invite_check(self, rule_id: int) -> dict[str, Any] | None:
        rule = invitations.invitation_due(
            tenant=self.tenant, visitor=self.visitor, rule_id=rule_id, page_view=self._page_view()
        )
        if rule is None:
            return None
        self.invited |= {rule.pk}
        return {"type": "invite", "rule": rule.pk, "message": rule.message}

    async def on_invite_accept(self, *, rule: int) -> None:
        state, line = await database_sync_to_async(self._invite_accept)(rule)
        await self.follow()
        await self.send_frame({"type": "conversation", "conversation": state})
        if line is not None:
            await self.send_frame({"type": "message", **events.message_payload(line)})

    def _invite_accept(self, rule_id: int) -> tuple[dict | None, Message | None]:
        self.conversation, line = invitations.accept_invitation(
            tenant=self.tenant,
            visitor=self.visitor,
            rule_id=rule_id,
            page_view=self._page_view(),
            shown=rule_id in self.invited,
            ip_address=_client_ip(self.scope),
        )
        self._be_present()
        return selectors.visitor_conversation_state(conversation=self.conversation), line

    async def on_message(self, *, body: str, client_msg_id: str) -> None:
        started = self.conversation is None
        ack, state = await database_sync_to_async(self._message)(body, client_msg_id)
        await self.follow()
        if started:
            await self.send_frame({"type": "conversation", "conversation": state})
        await self.send_frame(ack)

    def _message(self, body: str, client_msg_id: str) -> tuple[dict[str, Any], dict | None]:
        state = None
        if self.conversation is None:
            self.conversation = services.start_conversation(
                tenant=self.tenant, visitor=self.visitor, ip_address=_client_ip(self.scope)
            )
            self._be_present()
            state = selectors.visitor_conversation_state(conversation=self.conversation)
        message, _created = services.post_visitor_message(
            conversation=self.conversation, body=body, client_msg_id=client_msg_id, sender_channel=self.channel_name
        )
        return {"type": "ack", "client_msg_id": message.client_msg_id, "seq": message.seq}, state

    async def on_resume(self, *, last_seq: int) -> None:
        if self.conversation is None:
            await self.send_frame({"type": "history", "conversation": None, "messages": []})
            return
        missed = await database_sync_to_async(services.messages_after)(conversation=self.conversation, seq=last_seq)
        await self.send_frame(
            {"type": "history", "conversation": self.conversation.pk, "messages": _message_frames(missed)}
        )

    async def on_ping(self) -> None:
        if self.conversation is None:
            # Nothing to follow, so nothing to check: answered without the database.
            await self.send_frame({"type": "pong", "conversation": None})
            return
        following = self.conversation
        # A ping's check can wait a moment: it runs beside the messages, not ahead of them (threads.py).
        ended, state = await background_sync_to_async(self._catch_up_on_ping)()
        if ended is not None:
            # The conversation's "closed" event never came: say it now.
            await self.chat_closed({"payload": ended})
        if self.conversation is not None and self.conversation.pk != following.pk:
            await self.follow()
        await self.send_frame({"type": "pong", "conversation": state})

    def _catch_up_on_ping(self) -> tuple[dict | None, dict | None]:
        """Return the conversation's end if it ended unseen, and the state of the one followed now."""
        current = selectors.open_conversation_of(visitor=self.visitor)
        ended = None
        if current is None or current.pk != self.conversation.pk:
            ended = events.conversation_payload(selectors.reloaded(self.conversation))
        self.conversation = current
        if current is None:
            return ended, None
        if self.present_in != current.pk:
            self._be_present()
        elif self._touch_due(current):
            services.visitor_still_here(conversation=current)
        return ended, selectors.visitor_conversation_state(conversation=current)

    async def on_rate(self, *, conversation: int, rating: int, comment: str | None) -> None:
        await self.send_frame(await database_sync_to_async(self._rate)(conversation, rating, comment))

    def _rate(self, conversation_id: int, rating: int, comment: str | None) -> dict[str, Any]:
        conversation = aftercare.conversation_of_visitor(visitor=self.visitor, conversation_id=conversation_id)
        rated = aftercare.rate_conversation(conversation=conversation, rating=rating, comment=comment)
        return {"type": "rated", "conversation": rated.pk, "rating": rated.rating, "comment": rated.rating_comment}

    async def on_transcript(self, *, conversation: int, email: str) -> None:
        await self.send_frame(await database_sync_to_async(self._transcript)(conversation, email))

    def _transcript(self, conversation_id: int, email: str) -> dict[str, Any]:
        conversation = aftercare.conversation_of_visitor(visitor=self.visitor, conversation_id=conversation_id)
        request = aftercare.request_transcript(conversation=conversation, email=email)
        return {"type": "transcript_requested", "conversation": conversation.pk, "email": request.email}

    async def on_typing(self, *, active: bool) -> None:
        if self.conversation is not None:
            await self.publish_quietly(
                events.conversation_group(self.conversation.pk),
                {
                    "type": "chat.typing",
                    "sender_channel": self.channel_name,
                    "payload": {"conversation": self.conversation.pk, "sender": "visitor", "active": active},
                },
            )

    async def on_ack(self, *, seq: int) -> None:
        if self.conversation is not None:
            await self.publish_quietly(
                events.conversation_group(self.conversation.pk),
                {
                    "type": "chat.delivered",
                    "sender_channel": self.channel_name,
                    "payload": {"conversation": self.conversation.pk, "seq": seq},
                },
            )

    async def chat_closed(self, event: dict) -> None:
        if self.conversation is not None and self.conversation.pk == event["payload"]["conversation"]:
            self.conversation = None
        await super().chat_closed(event)


class AgentConsumer(_JsonConsumer):
    """The console's connection: one agent, the tenants they are trained for."""

    parse = staticmethod(protocol.parse_agent_frame)
    # A ping counts when it arrives, not when the frames ahead of it have been handled: a process slowed by
    # a flood must not take the consoles whose frames wait in line for silent ones and close them.
    sees_arrivals = True
    answering_ping = False

    def arrived(self, message: dict) -> None:
        if message.get("type") != "websocket.receive" or not hasattr(self, "marks"):
            return
        mark = protocol.ping_mark(message.get("text"))
        if mark is not protocol.NOT_A_PING:
            self.pinged_at = time.monotonic()
            self.read_up_to(mark)
            if self.touch_due():
                # Beside the line too: the agent stays alive while the frames ahead of this ping wait.
                self.start_task(database_sync_to_async(agent_services.touch_agent)(agent=self.agent))

    def touch_due(self) -> bool:
        """Say whether a ping now records the console alive (and note that it does): at most every TOUCH_EVERY,
        and not while a mark has waited unread for PROBE_AFTER (a console that reads nothing is nobody's)."""
        reading = self.unread_for() < settings.CHAT_CONSOLE_PROBE_AFTER
        if reading and time.monotonic() - self.touched_at >= settings.CHAT_CONSOLE_TOUCH_EVERY:
            self.touched_at = time.monotonic()
            return True
        return False

    async def connect(self) -> None:
        self.agent = await database_sync_to_async(services.connect_console)(user=self.scope.get("user"))
        if self.agent is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.pinged_at = self.touched_at = time.monotonic()
        # Marks this socket sent (each pong and probe carries the next number) and not yet read: number ->
        # when it went out. A console's ping names the last mark it read (protocol.py, "Presence").
        self.marks: dict[int, float] = {}
        self.last_mark = 0
        await self.accept()
        self.start_task(self._watch())
        await self.join(events.agent_group(self.agent.pk))
        await self.join(revocation.user_sockets_group(self.agent.user_id))
        await self.follow_queues()

    async def follow_queues(self) -> None:
        """Listen to the queues of the tenants the agent is trained for now, and to no others."""
        tenant_ids = await database_sync_to_async(access.trained_tenant_id_list)(agent=self.agent)
        wanted = {events.tenant_queue_group(tenant_id) for tenant_id in tenant_ids}
        for group in {group for group in self.joined - wanted if events.is_tenant_queue_group(group)}:
            await self.leave(group)
        for group in wanted:
            await self.join(group)

    async def access_changed(self, event: dict) -> None:
        """The agent's login or training changed: close a console no longer allowed, else narrow what it hears."""
        self.agent = await database_sync_to_async(access.agent_still_allowed)(agent_id=self.agent.pk)
        if self.agent is None:  # no frame is read from here on
            return await self.shut()
        await self.follow_queues()
        followed = self.conversations_followed()
        visible = await database_sync_to_async(access.visible_conversation_ids)(agent=self.agent, ids=followed)
        for conversation_id in followed - visible:
            await self.leave(events.conversation_group(conversation_id))
        await self.send_frame({"type": "state", **await self._state()})

    def ready(self) -> bool:
        return getattr(self, "agent", None) is not None

    async def _watch(self) -> None:
        """Probe a console that has stopped pinging; close one that does not answer (it is frozen or gone)."""
        probed = False
        while True:
            await asyncio.sleep(settings.CHAT_CONSOLE_WATCH_EVERY)
            # Silent: no ping. Deaf: pings, but what the server sends is not read (it backs up unseen).
            silent = max(time.monotonic() - self.pinged_at, self.unread_for())
            if silent >= settings.CHAT_CONSOLE_CLOSE_AFTER:
                await self.close(code=CLOSE_SILENT)
                return
            probe = silent >= settings.CHAT_CONSOLE_PROBE_AFTER
            if probe and not probed:
                await self.send_frame({"type": "probe", "mark": self.next_mark()})
            probed = probe

    def next_mark(self) -> int:
        """Number a frame that asks the console to say it read it (in its next ping)."""
        self.last_mark += 1
        self.marks[self.last_mark] = time.monotonic()
        return self.last_mark

    def unread_for(self) -> float:
        """Return the seconds since the oldest mark the console has not read went out (0: it reads)."""
        return time.monotonic() - min(self.marks.values()) if self.marks else 0.0

    def read_up_to(self, mark: int | None) -> None:
        """The console has read every frame up to this mark (None: a client that names none, not checked)."""
        if mark is None:
            self.marks.clear()
            return
        self.marks = {number: sent for number, sent in self.marks.items() if number > mark}

    def conversations_followed(self) -> set[int]:
        prefix = events.conversation_group(0)[:-1]
        return {int(group[len(prefix) :]) for group in self.joined if group.startswith(prefix)}

    async def follow(self, conversation_ids) -> None:
        for conversation_id in conversation_ids:
            await self.join(events.conversation_group(conversation_id))

    async def _state(self) -> dict[str, Any]:
        state = await database_sync_to_async(selectors.console_state)(agent=self.agent)
        # Follow every chat of the agent's: a visitor's message is then one send to its conversation.
        await self.follow(chat["conversation"] for chat in state["chats"])
        return state

    async def on_hello(self) -> None:
        await self.send_frame({"type": "welcome", **await self._state()})

    async def on_ping(self, *, mark: int | None) -> None:
        self.pinged_at = time.monotonic()
        self.read_up_to(mark)
        # The answer's check waits its turn behind the messages (threads.py), beside this console's line,
        # not in it: a reply typed after a ping is not held up by it. One answer at a time; a ping that
        # comes meanwhile is answered by it.
        if not self.answering_ping:
            self.answering_ping = True
            self.start_task(self._answer_ping())

    async def _answer_ping(self) -> None:
        try:
            pong = await background_sync_to_async(self._pong)(self.conversations_followed())
            await self.follow(pong["chats"])
            await self.send_frame(pong | {"mark": self.next_mark()})
        finally:
            self.answering_ping = False

    def _pong(self, followed: set[int]) -> dict[str, Any]:
        if self.touch_due():
            agent_services.touch_agent(agent=self.agent)
        return {"type": "pong", **selectors.console_sync(agent=self.agent, followed=followed)}

    async def on_presence(self, *, presence: str) -> None:
        await database_sync_to_async(services.set_console_presence)(agent=self.agent, presence=presence)
        await self.send_frame({"type": "state", **await self._state()})

    async def on_open(self, *, conversation: int, last_seq: int) -> None:
        # Check access, join the chat's group, and only then read the history: a message stored in
        # between then arrives twice (the client drops the copy by seq) rather than not at all.
        await database_sync_to_async(access.access_conversation_for_agent)(
            agent=self.agent, conversation_id=conversation
        )
        await self.join(events.conversation_group(conversation))
        history = await database_sync_to_async(self._history)(conversation, last_seq)
        await self.send_frame({"type": "history", **history})

    def _history(self, conversation_id: int, last_seq: int) -> dict[str, Any]:
        conversation = selectors.conversation_for_console(agent=self.agent, conversation_id=conversation_id)
        messages = services.messages_after(conversation=conversation, seq=last_seq)
        last = messages[-1] if messages else None
        return {"conversation": selectors.console_chat(conversation, last), "messages": _message_frames(messages)}

    async def on_take(self, *, conversation: int) -> None:
        taken = await database_sync_to_async(self._take)(conversation)
        if not taken:
            await self.send_error("not_available", "This chat was taken by someone else or you are at your limit.")
        await self.send_frame({"type": "state", **await self._state()})

    def _take(self, conversation_id: int) -> bool:
        conversation = access.access_conversation_for_agent(agent=self.agent, conversation_id=conversation_id)
        return routing.take_waiting(conversation=conversation, agent=self.agent)

    async def on_colleagues(self, *, conversation: int) -> None:
        agents = await database_sync_to_async(selectors.transfer_colleagues)(
            agent=self.agent, conversation_id=conversation
        )
        await self.send_frame({"type": "colleagues", "conversation": conversation, "agents": agents})

    async def on_transfer(self, *, conversation: int, to_agent: int, note: str) -> None:
        await database_sync_to_async(services.transfer_chat)(
            agent=self.agent, conversation_id=conversation, to_agent_id=to_agent, note=note
        )
        await self.send_frame({"type": "state", **await self._state()})

    async def on_message(self, *, conversation: int, body: str, client_msg_id: str) -> None:
        ack = await database_sync_to_async(self._message)(conversation, body, client_msg_id)
        await self.join(events.conversation_group(conversation))
        await self.send_frame(ack)

    def _message(self, conversation_id: int, body: str, client_msg_id: str) -> dict[str, Any]:
        message, _created = services.post_agent_reply(
            agent=self.agent,
            conversation_id=conversation_id,
            body=body,
            client_msg_id=client_msg_id,
            sender_channel=self.channel_name,
        )
        return {
            "type": "ack",
            "conversation": message.conversation_id,
            "client_msg_id": message.client_msg_id,
            "seq": message.seq,
        }

    async def on_typing(self, *, conversation: int, active: bool) -> None:
        if events.conversation_group(conversation) in self.joined:
            await self.publish_quietly(
                events.conversation_group(conversation),
                {
                    "type": "chat.typing",
                    "sender_channel": self.channel_name,
                    "payload": {
                        "conversation": conversation,
                        "sender": "agent",
                        "active": active,
                        "agent_name": self.agent.display_name,
                    },
                },
            )

    async def on_close(
        self, *, conversation: int, outcome: str, summary: str, lead: dict | None, handoff: dict | None
    ) -> None:
        await database_sync_to_async(outcomes.close_by_agent)(
            agent=self.agent, conversation_id=conversation, outcome=outcome, summary=summary, lead=lead, handoff=handoff
        )
        await self.send_frame({"type": "state", **await self._state()})

    # Events only consoles receive.
    async def chat_assigned(self, event: dict) -> None:
        payload = event["payload"]
        group = events.conversation_group(payload["conversation"])
        if payload.get("agent") == self.agent.pk:
            await self.join(group)
        elif group in self.joined:
            # A colleague has the chat now (this console was previewing it in the queue): stop relaying it.
            await self.leave(group)
        await super().chat_assigned(event)

    async def chat_withdrawn(self, event: dict) -> None:
        # The chat is someone else's now (transferred or back in the queue): stop relaying its messages here.
        group = events.conversation_group(event["payload"]["conversation"])
        if group in self.joined:
            await self.leave(group)
        await self.send_frame({"type": "withdrawn", **event["payload"]})

    async def chat_activity(self, event: dict) -> None:
        # A console following the chat has the message from its group already.
        if events.conversation_group(event["payload"]["conversation"]) not in self.joined:
            await self.send_frame({"type": "activity", **event["payload"]})

    async def chat_visitor(self, event: dict) -> None:
        await self.send_frame({"type": "visitor", **event["payload"]})

    async def queue_changed(self, event: dict) -> None:
        await self.send_frame({"type": "queue", **event["payload"]})
