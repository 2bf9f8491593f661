"""WebSocket frames: JSON objects with a ``type``, parsed and validated here and nowhere else.

Visitor → server: hello {token?, last_seq?, url?, title?} · message {body, client_msg_id} ·
typing {active} · ack {seq} · invite_check {rule} · invite_accept {rule} ·
rate {conversation?, rating, comment?} · transcript {conversation?, email}
(rate and transcript without a conversation: the visitor's latest one)
Agent → server: hello {} · presence {presence} · open {conversation, last_seq?} ·
message {conversation, body, client_msg_id} · typing {conversation, active} ·
close {conversation, outcome, summary?, lead?, handoff?} · take {conversation} · colleagues {conversation} ·
transfer {conversation, to_agent, note?}
Server → client: welcome · message · ack · typing · queue · assigned · closed ·
error {code, message, fields?, ref?}
Server → visitor: welcome {…, invite: {rule, seconds, message} | null} · invite {rule, message} (or nothing) ·
conversation {conversation} · rated {conversation, rating, comment} · transcript_requested {conversation, email}

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
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ProtocolError("bad_field", f"'{name}' must be a whole number of at least {minimum}.")
    return value


def _text(value: Any, name: str, *, default: str | None = None, max_length: int = 4000) -> str:
    if value is None and default is not None:
        return default
    if not isinstance(value, str):
        raise ProtocolError("bad_field", f"'{name}' must be text.")
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
    if kind in ("invite_check", "invite_accept"):
        return {"rule": _int(raw.get("rule"), "rule", minimum=1)}
    # The rating's range and the address are checked by conversations.aftercare, in the visitor's language.
    if kind == "rate":
        return {
            "conversation": _int(raw.get("conversation"), "conversation", default=0),
            "rating": _int(raw.get("rating"), "rating"),
            "comment": _text(raw.get("comment"), "comment", default=""),
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
    if len(text.encode()) > MAX_FRAME_BYTES:
        raise ProtocolError("frame_too_large", f"A frame can be at most {MAX_FRAME_BYTES} bytes.")
    try:
        raw = json.loads(text)
    except ValueError:
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


def error_frame(code: str, message: str, fields: dict[str, str] | None = None) -> dict[str, Any]:
    """Return an error frame; ``fields`` maps each refused field to its message, for forms."""
    frame = {"type": "error", "code": code, "message": str(message)}
    if fields:
        frame["fields"] = {key: str(text) for key, text in fields.items()}
    return frame
