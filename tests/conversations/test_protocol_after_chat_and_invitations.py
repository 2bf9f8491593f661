"""The visitor's frames for invitations, rating and the transcript: defaults, exact text, a code for every refusal."""

from __future__ import annotations

import json

import pytest

from conversations.protocol import ProtocolError, parse_visitor_frame


def frame(**fields) -> str:
    return json.dumps(fields)


def test_invitation_frames_name_their_rule():
    for kind in ("invite_check", "invite_accept"):
        parsed = parse_visitor_frame(frame(type=kind, rule=3))

        assert (parsed.type, parsed.data) == (kind, {"rule": 3})


def test_a_rating_without_a_conversation_or_comment_gets_defaults_and_keeps_its_comment_exactly():
    # a star clicked alone carries no comment: None, so that a comment given before is kept
    assert parse_visitor_frame(frame(type="rate", rating=5)).data == {"conversation": 0, "rating": 5, "comment": None}
    assert parse_visitor_frame(frame(type="rate", rating=5, comment="")).data["comment"] == ""
    assert parse_visitor_frame(frame(type="rate", conversation=7, rating=1, comment="<i>Hidas</i> ł")).data == {
        "conversation": 7,
        "rating": 1,
        "comment": "<i>Hidas</i> ł",
    }


def test_a_transcript_request_keeps_its_address_for_the_service_to_check():
    parsed = parse_visitor_frame(frame(type="transcript", email=" maija@example.fi "))

    assert parsed.data == {"conversation": 0, "email": " maija@example.fi "}


@pytest.mark.parametrize(
    "text",
    [
        frame(type="invite_check"),
        frame(type="invite_check", rule=0),
        frame(type="invite_accept", rule="3"),
        frame(type="rate"),
        frame(type="rate", rating="5"),
        frame(type="rate", rating=True),
        frame(type="rate", rating=4, comment=5),
        frame(type="rate", rating=4, conversation=-1),
        frame(type="transcript"),
        frame(type="transcript", email=["a@b.fi"]),
    ],
)
def test_malformed_frames_after_a_chat_and_for_invitations_are_refused_with_a_code(text):
    with pytest.raises(ProtocolError) as refusal:
        parse_visitor_frame(text)

    assert refusal.value.code == "bad_field"
