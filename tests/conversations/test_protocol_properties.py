"""The frame parser under anything a socket can carry: a frame or a ProtocolError with a code, never a crash."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.protocol import MAX_FRAME_BYTES, ProtocolError, parse_agent_frame, parse_visitor_frame

PARSERS = (parse_visitor_frame, parse_agent_frame)
ERROR_CODES = {"bad_frame", "frame_too_large", "unknown_type", "bad_field"}
FRAME_TYPES = [
    "hello",
    "message",
    "resume",
    "ping",
    "typing",
    "ack",
    "invite_check",
    "invite_accept",
    "rate",
    "transcript",
    "presence",
    "open",
    "take",
    "colleagues",
    "transfer",
    "close",
    "nonsense",
]
# PostgreSQL's bigint: a number above it in a frame must not reach a query.
LARGEST_ID = 2**63 - 1

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
field_names = st.sampled_from(
    [
        "token",
        "last_seq",
        "url",
        "title",
        "body",
        "client_msg_id",
        "active",
        "seq",
        "rule",
        "conversation",
        "rating",
        "comment",
        "email",
        "presence",
        "to_agent",
        "note",
        "outcome",
        "summary",
        "lead",
        "handoff",
    ]
)
frames = st.builds(
    lambda kind, fields: json.dumps({"type": kind, **fields}),
    st.sampled_from(FRAME_TYPES),
    st.dictionaries(field_names, json_values, max_size=6),
)


def parse_or_refuse(parser, text):
    """Return the parsed frame, or the refusal's code; anything else raised fails the test."""
    try:
        return parser(text)
    except ProtocolError as refusal:
        assert refusal.code in ERROR_CODES and refusal.message
        return refusal.code


def assert_frame_or_refusal(result) -> None:
    """A parse gives a frame (not None) or the code of a refusal the protocol knows."""
    assert result in ERROR_CODES if isinstance(result, str) else result is not None


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_deeply_nested_json_is_a_bad_frame_not_a_crash(parser, opening):
    text = opening * 2000 + "]" * 2000

    assert parse_or_refuse(parser, text) == "bad_frame"


@pytest.mark.parametrize("parser", PARSERS)
def test_a_frame_nested_deep_but_within_the_size_limit_is_refused_with_bad_frame(parser):
    depth = MAX_FRAME_BYTES // 2 - 20
    text = '{"type": "hello", "token": ' + "[" * depth + "]" * depth + "}"

    assert parse_or_refuse(parser, text) == "bad_frame"


@pytest.mark.parametrize("parser", PARSERS)
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.binary(max_size=300))
def test_any_bytes_decoded_as_text_give_a_frame_or_a_coded_refusal(parser, raw):
    assert_frame_or_refusal(parse_or_refuse(parser, raw.decode("utf-8", errors="replace")))


@pytest.mark.parametrize("parser", PARSERS)
@settings(max_examples=300)
@given(text=st.text(max_size=300))
def test_any_text_gives_a_frame_or_a_coded_refusal(parser, text):
    assert_frame_or_refusal(parse_or_refuse(parser, text))


@pytest.mark.parametrize("parser", PARSERS)
@settings(max_examples=500)
@given(text=frames)
def test_any_json_frame_gives_a_frame_or_a_coded_refusal(parser, text):
    assert_frame_or_refusal(parse_or_refuse(parser, text))


@pytest.mark.parametrize("parser", PARSERS)
@settings(max_examples=300)
@given(text=frames)
def test_every_number_a_parsed_frame_carries_fits_a_database_id(parser, text):
    parsed = parse_or_refuse(parser, text)

    if not isinstance(parsed, str):
        numbers = [value for value in parsed.data.values() if isinstance(value, int) and not isinstance(value, bool)]
        assert all(0 <= number <= LARGEST_ID for number in numbers)


@pytest.mark.parametrize("parser", PARSERS)
def test_a_number_too_large_for_the_database_is_a_bad_field(parser):
    text = json.dumps({"type": "take" if parser is parse_agent_frame else "ack", "conversation": 2**64, "seq": 2**64})

    assert parse_or_refuse(parser, text) == "bad_field"


@pytest.mark.parametrize("parser", PARSERS)
def test_a_lone_surrogate_is_a_bad_frame_not_a_crash(parser):
    assert parse_or_refuse(parser, '{"type": "ping", "x": "\ud800"}') == "bad_frame"
