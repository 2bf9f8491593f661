"""WebSocket frames: JSON objects with a ``type``, parsed and validated here and nowhere else.

This docstring is the protocol: every frame both ways, and what a client does so that it misses
nothing. Load clients and fault tests are built from it.

Connections
    /ws/widget/<widget key>/  the widget. The page's Origin must be one of the tenant's sites (or one of
        chatops' own, OWN_ORIGINS exactly); otherwise one error (unknown_key, origin_not_allowed,
        not_serving), then close code 4403. The same error and close when the key is rotated, the tenant
        ended or the site removed while the socket is open. One visitor per socket: a second hello keeps it.
    /ws/console/  the agent console: the session cookie of a logged-in agent, Origin one of
        ALLOWED_HOSTS; anyone else is closed with 4403 before accept. 4408: the server closed a
        console that went silent (below, Presence).
    /ws/operations/  operations managers in the admin: listen only, wait_alert frames.

Sequence numbers
    Every message of a conversation is numbered 1, 2, 3 … without gaps and stored before anyone is
    told of it; the conversation's ``last_seq`` is its highest number. A client keeps the number up
    to which it has *every* message (not the highest it has seen) and resumes from it.

Visitor → server (the first frame must be hello; anything else gets error "hello_first")
    hello {token?, last_seq?, url?, title?}  token: the one the last welcome gave (a new visitor
        without). url and title only on a page's first hello: it records a page view and weighs
        invitations; a reconnect on the same page sends neither.
    message {body, client_msg_id}  starts a conversation if there is none. The same client_msg_id
        again is stored once and acknowledged with the stored number.
    resume {last_seq}  → history: the messages after last_seq.
    ping {}  every 20 s → pong.
    typing {active} · ack {seq} (the visitor has seen up to seq; the consoles get "delivered") ·
    invite_check {rule} · invite_accept {rule} · rate {conversation?, rating, comment?} ·
    transcript {conversation?, email}  (rate and transcript without a conversation: the visitor's latest;
    rate without a comment, as a star click sends it, keeps the comment stored before)
Server → visitor
    welcome {token, service_open, conversation: state | null, messages: [message…],
        invite: {rule, seconds, message} | null}  messages: those after hello's last_seq. The socket
        follows the conversation before they are read, so one stored in between comes twice (keep
        one per number), never not at all.
        state = {id, status, agent_name, last_seq, queue_position, expected_wait_seconds}
        (queue_position 0 unless waiting; expected_wait_seconds null when nobody is on duty)
    conversation {conversation: state}  a message or an accepted invitation started one.
    ack {client_msg_id, seq}  stored. The socket's own message is never sent back to it.
    message {conversation, seq, sender, agent_name, body, client_msg_id, created_at}
    history {conversation, messages}  the answer to resume.
    pong {conversation: state | null}  state as above: its last_seq shows a lost tail, and while
        waiting its queue_position and expected wait are fresh (the widget polls nothing else).
    assigned {conversation, agent_name, status, …} · requeued {…} · closed {conversation, status,
    outcome, …} · typing {conversation, sender, active, agent_name?} · invite {rule, message} ·
    rated {conversation, rating, comment} · transcript_requested {conversation, email}

Agent → server
    hello {}  → welcome.
    ping {mark?}  every 10 s, and at once on a probe → pong. mark: the last mark (of a pong or probe)
        the console has read on this connection, 0 before the first (below, Presence).
    presence {presence: online | away | offline} → state.
    open {conversation, last_seq?}  follow a chat: → history with the messages after last_seq. It
        joins the chat's group before reading, as the widget's hello does.
    message {conversation, body, client_msg_id}  → ack {conversation, client_msg_id, seq}. In a waiting
        chat it takes the chat first, with take's checks (refused: error not_available, nothing stored).
    typing {conversation, active} · take {conversation} → state (error not_available first if
    refused) · colleagues {conversation} → colleagues {conversation, agents: [{id, name, load}]} ·
    transfer {conversation, to_agent, note?} → state · close {conversation, outcome, summary?,
    lead?, handoff?} → state
Server → agent
    welcome, state {agent: {id, name, presence}, queue: [chat…], chats: [chat…]}  chat = {conversation,
        tenant, tenant_name, tenant_language, status, agent, agent_name, started_at,
        first_visitor_message_at, first_agent_reply_at, first_response_target_seconds, outcome,
        visitor, visitor_present, last_seq, last_message: message | null}
    history {conversation: chat, messages: [message…]}
    pong {conversations: {"<id>": last_seq}, chats: [id…], queue: [id…], mark}  conversations: every chat
        the console follows, every chat of the agent's and every waiting chat of their tenants;
        chats and queue: what the next state frame would list.
    probe {mark}  the server has had no ping (or none naming a recent mark) for 20 s: send one now
        (below, Presence). mark: a number, one higher with each pong and probe of the connection.
    message {…as above}  in every chat the console follows: its agent's chats (followed without
        asking) and those it opened. Not the console's own messages (its ack stands for them).
    activity {…message}  a message in a waiting chat of the agent's tenants the console does not follow.
    visitor {conversation, visitor_present}  the visitor's last widget of the chat closed (false), or
        one came back (true).
    assigned {chat, transfer_note?, transferred_by?} · withdrawn {chat} (no longer this agent's) ·
    requeued {chat} · queue {chat} (the queue changed) · closed {chat} · typing {…} ·
    delivered {conversation, seq}
Both
    error {code, message, fields?, ref?, client_msg_id?, retry_after?}  ref: the type of the frame it
        answers; client_msg_id: the message it refuses. Codes: bad_frame, frame_too_large,
        unknown_type, bad_field, hello_first, not_found, empty, too_long, bad_id, closed, not_yours,
        rate_limited, overloaded, outcome_required, invalid_close, transfer_refused, …

Missing nothing
    The channel layer (Redis pub/sub) keeps nothing for a process that is not listening: an event
    published while Redis restarts, or while a process resubscribes, is gone. Clients notice within
    seconds and fetch from the database, which has everything:
    - a message whose number is more than one above the number they have everything up to: fetch
      from that number (widget: resume; console: open with last_seq);
    - a pong naming a higher last_seq than that number: the same (a lost tail);
    - widget: a pong naming another conversation: hello again. A conversation that closed while its
      "closed" event was lost is announced on the next ping: closed {…}, then pong {conversation: null};
    - console: a pong whose chats or queue differ from what it shows: hello again (lost assignments,
      transfers, closes); the server follows each chat the pong lists as the agent's.

Presence
    Console: routable only while one of its agent's consoles has pinged within 30 s (each ping
    records it, at most every 5 s per socket). A console that has not pinged for 20 s gets a probe;
    one that has not pinged for 30 s is closed with 4408, whatever else it sends (a background tab's
    timers may run once a minute, but an arriving frame still runs at once, so a live tab answers).
    A console that pings but does not read (its socket's receive window full, what the server sends
    backing up unseen) is the same: a ping names the last mark read, a mark unread for 20 s is
    probed, for 30 s closed with 4408 (a close it cannot read: daphne drops the socket 1 s later),
    and pings stop recording it alive once a mark has waited unread for 20 s. A ping without a mark
    (an older client) is not checked for reading.
    60 s after the last ping of any of their consoles, the clock sets the agent offline and returns
    their chats to the queue. Nothing a connection starts outlives it: however its run ends, its tasks
    are cancelled and its groups left.
    Widget: each widget socket that follows a conversation counts; when the last one closes the
    consoles get visitor {visitor_present: false} and the conversation's visitor_left_at is set. A
    widget on a process that died stops counting 150 s after its last ping. A chat whose visitor has
    been away for the tenant's abandoned_after_minutes (default 10) is closed with outcome
    "visitor_left" (never an agent's choice; messages left outside service hours excepted), and its
    agent gets the next waiting chat.

Overload
    A daphne process in which a database call has waited CHAT_OVERLOAD_WAIT_MS (100 ms) for a thread
    is saturated: it answers a message frame with error {code: "overloaded", retry_after:
    CHAT_OVERLOAD_RETRY_AFTER seconds, ref: "message", client_msg_id} and stores nothing. The client
    keeps the message in its outbox and sends it again after retry_after (the console spreads it by up
    to half as much again). A message is refused once per socket: sent again on the same socket it is
    taken however busy the process is, so overload delays a message by one retry, never for ever.
    Pings, and the checks they set off, never count as waiting calls and are never refused: their checks
    wait until no message's call does, or about a second at most (CHAT_DATABASE_THREADS,
    conversations/threads.py). A console's pong may therefore come late; its next frames do not wait
    for it.

Attacking it (fault tests)
    Shorten the clocks through the settings (environment variables of the processes a test starts):
    CHAT_CONSOLE_PROBE_AFTER, CHAT_CONSOLE_CLOSE_AFTER, CHAT_CONSOLE_WATCH_EVERY, CHAT_CONSOLE_TOUCH_EVERY,
    CHAT_CONSOLE_ALIVE_SECONDS, CHAT_AGENT_GRACE_SECONDS, CHAT_CLOCK_EVERY,
    CHAT_VISITOR_SOCKET_SILENCE_SECONDS, and the overload ones above (tests/faults/ does). A killed
    daphne process: its widgets and
    consoles reconnect with hello (widget: its token and last_seq; console: then open for each chat
    with its last_seq). A Redis restart: publishes fail and are logged (the data is committed and the
    sender has its ack), each process's pub/sub connection reconnects and subscribes again, and the
    next pong shows every lost tail. A load client's consoles must ping every 10 s (or answer each
    probe), or they are closed after 30 s and their agents get no chats.

close: outcome is one of resolved, lead, booking, sale, escalated, spam (required: without it the
answer is an error "outcome_required"). lead {name, email, phone, wants} is read for the lead
outcome only, handoff {summary, visitor_name, visitor_email, visitor_phone, promise, promised_by}
for escalated only; promised_by is "YYYY-MM-DD" (the end of that day) or "YYYY-MM-DDTHH:MM", in the
tenant's time zone. Invalid details get an error "invalid_close" whose fields map keys such as
"lead.email" or "handoff.promised_by" to the message to show beside that field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

MAX_FRAME_BYTES = 16_384
# Every number a frame carries names a row or a sequence number: it must fit PostgreSQL's bigint.
MAX_NUMBER = 2**63 - 1


class ProtocolError(Exception):
    """A frame the server cannot accept; sent back as an error frame with the code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


@dataclass(frozen=True)
class Frame:
    type: str
    data: dict[str, Any] = field(default_factory=dict)


def _int(value: Any, name: str, *, default: int | None = None, minimum: int = 0) -> int:
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= MAX_NUMBER:
        raise ProtocolError("bad_field", f"'{name}' must be a whole number of at least {minimum}.")
    return value


def _text(value: Any, name: str, *, default: str | None = None, max_length: int = 4000) -> str:
    if value is None and default is not None:
        return default
    if not isinstance(value, str):
        raise ProtocolError("bad_field", f"'{name}' must be text.")
    if "\x00" in value:  # PostgreSQL stores no NUL: refused here, for every text a frame carries
        raise ProtocolError("bad_field", f"'{name}' must not contain a NUL character.")
    return value[:max_length] if name in ("url", "title") else value


def _bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ProtocolError("bad_field", f"'{name}' must be true or false.")
    return value


LEAD_FIELDS = ("name", "email", "phone", "wants")
HANDOFF_FIELDS = ("summary", "visitor_name", "visitor_email", "visitor_phone", "promise", "promised_by")


def _object(value: Any, name: str, fields: tuple[str, ...]) -> dict[str, str] | None:
    """Return a nested object's text fields (missing ones empty, unknown ones dropped); None when absent."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ProtocolError("bad_field", f"'{name}' must be an object.")
    return {key: _text(value.get(key), f"{name}.{key}", default="") for key in fields}


def _visitor_fields(kind: str, raw: dict[str, Any]) -> dict[str, Any]:
    if kind == "hello":
        return {
            "token": _text(raw.get("token"), "token", default=""),
            "last_seq": _int(raw.get("last_seq"), "last_seq", default=0),
            "url": _text(raw.get("url"), "url", default=""),
            "title": _text(raw.get("title"), "title", default=""),
        }
    if kind == "message":
        return {
            "body": _text(raw.get("body"), "body"),
            "client_msg_id": _text(raw.get("client_msg_id"), "client_msg_id", default=""),
        }
    if kind == "typing":
        return {"active": _bool(raw.get("active", True), "active")}
    if kind == "ack":
        return {"seq": _int(raw.get("seq"), "seq")}
    if kind == "ping":
        return {}
    if kind == "resume":
        return {"last_seq": _int(raw.get("last_seq"), "last_seq", default=0)}
    if kind in ("invite_check", "invite_accept"):
        return {"rule": _int(raw.get("rule"), "rule", minimum=1)}
    # The rating's range and the address are checked by conversations.aftercare, in the visitor's language.
    if kind == "rate":
        return {
            "conversation": _int(raw.get("conversation"), "conversation", default=0),
            "rating": _int(raw.get("rating"), "rating"),
            # absent (a star clicked alone): the comment stored before is kept
            "comment": None if raw.get("comment") is None else _text(raw.get("comment"), "comment"),
        }
    if kind == "transcript":
        return {
            "conversation": _int(raw.get("conversation"), "conversation", default=0),
            "email": _text(raw.get("email"), "email"),
        }
    raise ProtocolError("unknown_type", f"Unknown frame type '{kind}'.")


def _agent_fields(kind: str, raw: dict[str, Any]) -> dict[str, Any]:
    if kind == "hello":
        return {}
    if kind == "ping":
        return {"mark": None if raw.get("mark") is None else _int(raw.get("mark"), "mark")}
    if kind == "presence":
        return {"presence": _text(raw.get("presence"), "presence")}
    conversation = {"conversation": _int(raw.get("conversation"), "conversation", minimum=1)}
    if kind == "open":
        return conversation | {"last_seq": _int(raw.get("last_seq"), "last_seq", default=0)}
    if kind == "message":
        return conversation | {
            "body": _text(raw.get("body"), "body"),
            "client_msg_id": _text(raw.get("client_msg_id"), "client_msg_id", default=""),
        }
    if kind == "typing":
        return conversation | {"active": _bool(raw.get("active", True), "active")}
    if kind in ("take", "colleagues"):
        return conversation
    if kind == "transfer":
        return conversation | {
            "to_agent": _int(raw.get("to_agent"), "to_agent", minimum=1),
            "note": _text(raw.get("note"), "note", default=""),
        }
    if kind == "close":
        # A missing outcome is refused by the service, after the access check, with its own code.
        return conversation | {
            "outcome": _text(raw.get("outcome"), "outcome", default=""),
            "summary": _text(raw.get("summary"), "summary", default=""),
            "lead": _object(raw.get("lead"), "lead", LEAD_FIELDS),
            "handoff": _object(raw.get("handoff"), "handoff", HANDOFF_FIELDS),
        }
    raise ProtocolError("unknown_type", f"Unknown frame type '{kind}'.")


def _decode(text: str | None) -> tuple[str, dict[str, Any]]:
    if text is None:
        raise ProtocolError("bad_frame", "Frames must be JSON text.")
    try:
        size = len(text.encode())
    except UnicodeEncodeError:  # a lone surrogate: no UTF-8 text carries one
        raise ProtocolError("bad_frame", "Frames must be UTF-8 JSON text.") from None
    if size > MAX_FRAME_BYTES:
        raise ProtocolError("frame_too_large", f"A frame can be at most {MAX_FRAME_BYTES} bytes.")
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError):
        # RecursionError: nesting deeper than the parser goes (a few KB of "[") is malformed, not a crash.
        raise ProtocolError("bad_frame", "Frames must be JSON objects.") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        raise ProtocolError("bad_frame", "A frame is a JSON object with a 'type'.")
    return raw["type"], raw


def parse_visitor_frame(text: str | None) -> Frame:
    """Parse a frame from the widget, or raise ProtocolError."""
    kind, raw = _decode(text)
    return Frame(kind, _visitor_fields(kind, raw))


def parse_agent_frame(text: str | None) -> Frame:
    """Parse a frame from the agent console, or raise ProtocolError."""
    kind, raw = _decode(text)
    return Frame(kind, _agent_fields(kind, raw))


NOT_A_PING = object()
_PING_SIZE = 200  # bytes: a console's ping is far shorter


def ping_mark(text: str | None) -> int | object | None:
    """Return the mark a console's ping names (None: it names none), or NOT_A_PING for any other frame.

    Cheap for other frames: only a short text that mentions a ping is parsed.
    """
    if not text or len(text) > _PING_SIZE or "ping" not in text:
        return NOT_A_PING
    try:
        frame = parse_agent_frame(text)
    except ProtocolError:
        return NOT_A_PING
    return frame.data["mark"] if frame.type == "ping" else NOT_A_PING


def error_frame(code: str, message: str, fields: dict[str, str] | None = None) -> dict[str, Any]:
    """Return an error frame; ``fields`` maps each refused field to its message, for forms."""
    frame = {"type": "error", "code": code, "message": str(message)}
    if fields:
        frame["fields"] = {key: str(text) for key, text in fields.items()}
    return frame
