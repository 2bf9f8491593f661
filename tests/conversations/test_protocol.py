"""The WebSocket frames: parsed and validated in one place, every refusal with a code."""

from __future__ import annotations

import json

import pytest

from conversations.protocol import (
    MAX_FRAME_BYTES,
    ProtocolError,
    error_frame,
    parse_agent_frame,
    parse_visitor_frame,
)


def frame(**fields) -> str:
    return json.dumps(fields)


def test_a_visitor_hello_gets_defaults_for_what_it_leaves_out():
    parsed = parse_visitor_frame(frame(type="hello"))

    assert (parsed.type, parsed.data) == ("hello", {"token": "", "last_seq": 0, "url": "", "title": ""})


def test_a_visitor_message_keeps_its_text_exactly_and_its_client_id():
    parsed = parse_visitor_frame(frame(type="message", body="<b>Hei</b> & ł", client_msg_id="c-1"))

    assert parsed.data == {"body": "<b>Hei</b> & ł", "client_msg_id": "c-1"}


def test_long_page_addresses_and_titles_are_cut_but_message_text_is_not():
    parsed = parse_visitor_frame(frame(type="hello", url="https://x.example/" + "a" * 5000, title="t" * 5000))

    assert len(parsed.data["url"]) == 4000 and len(parsed.data["title"]) == 4000
    assert len(parse_visitor_frame(frame(type="message", body="b" * 5000)).data["body"]) == 5000


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (None, "bad_frame"),
        ("not json", "bad_frame"),
        ("[1, 2]", "bad_frame"),
        (frame(body="no type"), "bad_frame"),
        (frame(type=7), "bad_frame"),
        (frame(type="dance"), "unknown_type"),
        (frame(type="message"), "bad_field"),
        (frame(type="message", body=12), "bad_field"),
        (frame(type="ack", seq=-1), "bad_field"),
        (frame(type="ack", seq=True), "bad_field"),
        (frame(type="hello", last_seq="3"), "bad_field"),
        (frame(type="typing", active="yes"), "bad_field"),
        (frame(type="message", body="x" * MAX_FRAME_BYTES), "frame_too_large"),
    ],
)
def test_malformed_visitor_frames_are_refused_with_a_code(text, code):
    with pytest.raises(ProtocolError) as refusal:
        parse_visitor_frame(text)

    assert refusal.value.code == code


def test_visitors_cannot_send_agent_frames():
    for kind in ("open", "take", "close", "transfer", "presence"):
        with pytest.raises(ProtocolError) as refusal:
            parse_visitor_frame(frame(type=kind, conversation=1))
        assert refusal.value.code == "unknown_type"


def test_agent_frames_name_a_conversation_by_a_positive_number():
    assert parse_agent_frame(frame(type="open", conversation=5)).data == {"conversation": 5, "last_seq": 0}
    assert parse_agent_frame(frame(type="transfer", conversation=5, to_agent=9, note="VIP")).data == {
        "conversation": 5,
        "to_agent": 9,
        "note": "VIP",
    }
    for bad in (0, -1, "5", None, 1.5):
        with pytest.raises(ProtocolError) as refusal:
            parse_agent_frame(frame(type="take", conversation=bad))
        assert refusal.value.code == "bad_field"


def test_a_close_frame_without_an_outcome_parses_so_the_service_can_refuse_it_after_the_access_check():
    # when
    parsed = parse_agent_frame(frame(type="close", conversation=5))

    # then
    assert parsed.data == {"conversation": 5, "outcome": "", "summary": "", "lead": None, "handoff": None}


def test_a_close_frame_carries_its_lead_and_handoff_text_with_missing_fields_empty_and_unknown_ones_dropped():
    # when
    parsed = parse_agent_frame(
        frame(
            type="close",
            conversation=5,
            outcome="escalated",
            summary="Refund",
            lead={"email": "m@example.fi", "wants": "Catering", "colour": "red"},
            handoff={"summary": "Refund <b>now</b>", "promise": "A call", "promised_by": "2026-12-18"},
        )
    )

    # then
    assert parsed.data["outcome"] == "escalated"
    assert parsed.data["lead"] == {"name": "", "email": "m@example.fi", "phone": "", "wants": "Catering"}
    assert parsed.data["handoff"] == {
        "summary": "Refund <b>now</b>",
        "visitor_name": "",
        "visitor_email": "",
        "visitor_phone": "",
        "promise": "A call",
        "promised_by": "2026-12-18",
    }


@pytest.mark.parametrize(
    "fields",
    [
        {"outcome": 3},
        {"summary": ["a"]},
        {"lead": "maija@example.fi"},
        {"lead": {"email": 12}},
        {"handoff": [1]},
        {"handoff": {"promised_by": 20261218}},
    ],
)
def test_a_close_frame_with_fields_of_the_wrong_kind_is_refused_with_a_code(fields):
    with pytest.raises(ProtocolError) as refusal:
        parse_agent_frame(frame(type="close", conversation=5, **fields))

    assert refusal.value.code == "bad_field"


def test_an_error_frame_names_the_refused_fields_only_when_there_are_some():
    assert error_frame("closed", "This conversation has ended.") == {
        "type": "error",
        "code": "closed",
        "message": "This conversation has ended.",
    }
    assert error_frame("invalid_close", "Bad e-mail", {"lead.email": "Bad e-mail"})["fields"] == {
        "lead.email": "Bad e-mail"
    }
