"""NUL bytes are refused with a clear error before the database; bidirectional controls never reach a reader."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.core.exceptions import ValidationError

from conversations import aftercare, offline, services, workspace
from conversations.models import Conversation, Message, Note, PageView, Visitor
from conversations.visits import record_page_view
from tests.conversations.sockets import (
    close_consumer_thread_connections,  # noqa: F401 (an autouse fixture)
    hello,
    visitor_socket,
)
from tests.conversations.test_workspace_api import agent_client, chat_of, chat_url  # noqa: F401 (a fixture)

# "evil.exe" shown as "exe.live" would be the trick; a name written right to left hides what it says.
RLO, LRI, PDI = "\u202e", "\u2066", "\u2069"
BIDI = "".join(chr(code) for code in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)])


def chat(tenant) -> Conversation:
    return services.start_conversation(tenant=tenant, visitor=Visitor.objects.create(tenant=tenant), route=False)


@pytest.mark.django_db
def test_a_message_with_a_nul_is_refused_with_a_clear_error_and_nothing_is_stored(tenant):
    conversation = chat(tenant)

    with pytest.raises(ValidationError) as refused:
        services.post_visitor_message(conversation=conversation, body="hello\x00there", client_msg_id="c1")

    assert refused.value.code == "nul" and "NUL" in refused.value.messages[0]
    assert not Message.objects.filter(conversation=conversation).exists()


@pytest.mark.django_db
def test_a_message_id_with_a_nul_is_refused_before_the_database(tenant):
    with pytest.raises(ValidationError) as refused:
        services.post_visitor_message(conversation=chat(tenant), body="hello", client_msg_id="c\x001")

    assert refused.value.code == "nul"


@pytest.mark.django_db(transaction=True)
async def test_a_nul_in_any_frame_is_a_coded_error_and_the_socket_stays_open(shop):
    widget = await visitor_socket(shop)
    await hello(widget)

    await widget.send_json_to({"type": "message", "body": "hi\x00", "client_msg_id": "c1"})
    refusal = await widget.receive_json_from()
    await widget.send_json_to({"type": "hello", "token": "t\x00"})
    second = await widget.receive_json_from()

    assert (refusal["code"], second["code"]) == ("bad_field", "bad_field")
    assert not await database_sync_to_async(Message.objects.unscoped().exists)()
    await widget.send_json_to({"type": "ping"})
    assert (await widget.receive_json_from())["type"] == "pong"
    await widget.disconnect()


@pytest.mark.django_db
def test_a_note_with_a_nul_is_a_400_with_the_reason_not_a_500(agent_client, tenant):  # noqa: F811
    response = agent_client.post(
        chat_url(chat_of(tenant), "notes"), {"body": "call back\x00"}, content_type="application/json"
    )

    assert response.status_code == 400
    assert "NUL" in str(response.json())
    assert not Note.objects.exists()


@pytest.mark.django_db
def test_a_tag_with_a_nul_is_a_400_with_the_reason_not_a_500(agent_client, tenant):  # noqa: F811
    response = agent_client.post(
        chat_url(chat_of(tenant), "tags"), {"tags": ["vip\x00"]}, content_type="application/json"
    )

    assert response.status_code == 400
    assert "NUL" in str(response.json())


@pytest.mark.django_db
def test_a_nul_in_the_message_form_is_refused_per_field(tenant):
    with pytest.raises(ValidationError) as refused:
        offline.clean_offline_message(name="Mai\x00ja", email="maija@example.fi", question="Open\x00?")

    assert set(refused.value.message_dict) == {"name", "question"}


@pytest.mark.django_db
def test_bidirectional_controls_are_taken_out_of_what_visitors_write(tenant, agent):
    # given
    conversation = chat(tenant)

    # when a visitor writes with overrides and isolates, and leaves them in a note, a tag, a comment, a page
    message, _ = services.post_visitor_message(conversation=conversation, body=f"{RLO}exe.live{BIDI} ok")
    note = workspace.add_note(conversation=conversation, agent=agent, body=f"{LRI}note{PDI}")
    tags = workspace.set_tags(conversation=conversation, names=[f"{RLO}vip"])
    view = record_page_view(tenant=tenant, visitor=conversation.visitor, url=f"https://x.example/{RLO}", title="A\x00B")
    name, _email, question = offline.clean_offline_message(
        name=f"{RLO}Maija", email="maija@example.fi", question=f"Open{BIDI}?"
    )

    # then what is stored (and so shown in the console, the widget, the admin and e-mails) has none of them
    assert message.body == "exe.live ok"
    assert Message.objects.get(pk=message.pk).body == "exe.live ok"
    assert (Note.objects.get(pk=note.pk).body, [tag.name for tag in tags]) == ("note", ["vip"])
    assert PageView.objects.filter(pk=view.pk).values_list("url", "title").get() == ("https://x.example/", "AB")
    assert (name, question) == ("Maija", "Open?")


@pytest.mark.django_db
def test_bidirectional_controls_are_taken_out_of_a_rating_comment(tenant):
    conversation = chat(tenant)
    services.close_conversation(conversation=conversation, outcome=Conversation.Outcome.RESOLVED)

    rated = aftercare.rate_conversation(conversation=conversation, rating=5, comment=f"{RLO}great")

    assert rated.rating_comment == "great"
