"""Encryption at rest: a tenant with the flag has its chat text stored as tokens, and every reader still
reads plain text; a missing key is named, never read as garbage."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.urls import reverse

from conversations import aftercare, sealing, services, workspace
from conversations.models import Conversation, Message, Note, Visitor
from conversations.outcomes import close_with_outcome
from conversations.sealing import MissingEncryptionKey
from outbox.models import OutgoingEmail
from tenants.models import KnowledgeArticle
from tests.conversations.sockets import (
    agent_socket,
    close_consumer_thread_connections,  # noqa: F401 (an autouse fixture)
    hello,
    ready_agent,
    receive_until,
    visitor_socket,
)

SECRET_WORDS = "Kotiosoitteeni on Salaisuudenkatu 7"


def raw_values(table: str, column: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} ORDER BY id")  # noqa: S608
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db(transaction=True)
async def test_an_encrypting_tenants_chat_works_and_its_rows_hold_no_plain_text(vault):
    # given an agent on duty and a visitor of a tenant that encrypts
    agent = await database_sync_to_async(ready_agent)(vault)
    console = await agent_socket(agent)
    widget = await visitor_socket(vault)
    token = (await hello(widget))["token"]

    # when they talk
    await widget.send_json_to({"type": "message", "body": SECRET_WORDS, "client_msg_id": "v1"})
    await receive_until(widget, "ack")
    chat = (await receive_until(console, "assigned"))["conversation"]
    await console.send_json_to({"type": "open", "conversation": chat, "last_seq": 0})
    history = await receive_until(console, "history")
    await console.send_json_to(
        {"type": "message", "conversation": chat, "body": "Kiitos, kirjattu.", "client_msg_id": "a1"}
    )
    reply = await receive_until(widget, "message")
    while reply["sender"] != "agent":
        reply = await receive_until(widget, "message")
    await widget.disconnect()

    # then both sides read plain text, live and from history
    assert [m["body"] for m in history["messages"]] == [SECRET_WORDS]
    assert reply["body"] == "Kiitos, kirjattu."
    # and a returning visitor gets the history in plain text
    again = await visitor_socket(vault)
    await hello(again, token=token)
    await again.send_json_to({"type": "resume", "last_seq": 0})
    resumed = await receive_until(again, "history")
    assert [m["body"] for m in resumed["messages"]][:2] == [SECRET_WORDS, "Kiitos, kirjattu."]
    await again.disconnect()
    await console.disconnect()
    # and the database holds only tokens of the newest key
    stored = await database_sync_to_async(raw_values)("conversations_message", "body")
    assert len(stored) >= 2
    assert all(value.startswith("enc:k2:") for value in stored)
    assert not any("Salaisuudenkatu" in value or "kirjattu" in value for value in stored)


@pytest.mark.django_db
def test_notes_lead_contacts_comments_and_transcripts_of_an_encrypting_tenant(vault, settings):
    # given a chat of an encrypting tenant, with a note, closed as a lead, rated and a transcript asked
    agent = ready_agent(vault)
    chat = services.start_conversation(tenant=vault, visitor=Visitor.objects.create(tenant=vault))
    services.post_visitor_message(conversation=chat, body=SECRET_WORDS)
    services.post_agent_message(conversation=chat, agent=agent, body="Selvä.")
    workspace.add_note(conversation=chat, agent=agent, body="Asiakas muuttaa pian")
    chat.refresh_from_db()
    lead = {
        "name": "Maija Meikäläinen",
        "email": "maija@example.fi",
        "phone": "+358 40 765 4321",
        "wants": "Kassakaappi",
    }
    close_with_outcome(conversation=chat, agent=agent, outcome="lead", summary="Myyty", lead=lead)
    aftercare.rate_conversation(conversation=chat, rating=5, comment="Hyvää palvelua")
    aftercare.request_transcript(conversation=chat, email="maija@example.fi")

    # then no column holds the plain text
    for table, column in [
        ("conversations_message", "body"),
        ("conversations_note", "body"),
        ("conversations_lead", "email"),
        ("conversations_lead", "phone"),
        ("conversations_lead", "wants"),
        ("conversations_conversation", "rating_comment"),
        ("conversations_conversation", "summary"),
        ("conversations_visitor", "email"),
        ("conversations_transcriptrequest", "email"),
    ]:
        assert all(value.startswith("enc:k2:") for value in raw_values(table, column) if value), (table, column)
    # and everything reads back as written
    chat = Conversation.objects.get(pk=chat.pk)
    assert (chat.summary, chat.rating_comment, chat.lead.email, chat.lead.wants) == (
        "Myyty",
        "Hyvää palvelua",
        "maija@example.fi",
        "Kassakaappi",
    )
    assert Note.objects.get().body == "Asiakas muuttaa pian"
    # and the transcript e-mail carries the conversation in plain text
    texts = [
        message_from_bytes(bytes(email.message), policy=policy.default).get_body(("plain",)).get_content()
        for email in OutgoingEmail.objects.filter(reference=f"conversation:{chat.pk}")
    ]
    assert any(SECRET_WORDS in text and "Selvä." in text for text in texts)


@pytest.mark.django_db
def test_a_tenant_without_the_flag_stores_plain_text(tenant, keys):
    chat = services.start_conversation(tenant=tenant, visitor=Visitor.objects.create(tenant=tenant))

    services.post_visitor_message(conversation=chat, body=SECRET_WORDS)

    assert raw_values("conversations_message", "body") == [SECRET_WORDS]


@pytest.mark.django_db
def test_a_row_under_a_key_no_longer_listed_fails_naming_the_key(vault, keys, settings):
    # given a message sealed under k2
    chat = services.start_conversation(tenant=vault, visitor=Visitor.objects.create(tenant=vault))
    services.post_visitor_message(conversation=chat, body=SECRET_WORDS)

    # when k2 is taken out of the list
    settings.CHATOPS_ENCRYPTION_KEYS = keys["k1"]

    # then reading it says which key is missing instead of returning the token or garbage
    with pytest.raises(MissingEncryptionKey) as missing:
        Message.objects.get(conversation=chat)
    assert missing.value.key_id == "k2"
    assert "'k2'" in str(missing.value)


def test_a_token_names_its_key_and_opens_with_the_listed_keys(keys, settings):
    token = sealing.seal("hei")

    assert token.startswith("enc:k2:")
    settings.CHATOPS_ENCRYPTION_KEYS = ",".join([keys["k1"], keys["k2"]])  # k1 newest now, k2 still listed
    assert sealing.unseal(token) == "hei"
    assert sealing.reseal(token).startswith("enc:k1:")
    assert sealing.unseal(sealing.reseal(token)) == "hei"


def test_a_token_altered_in_the_database_is_refused_not_shown(keys):
    token = sealing.seal("hei")
    altered = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]

    with pytest.raises(sealing.DamagedToken):
        sealing.unseal(altered)


@pytest.mark.django_db
def test_the_console_reads_an_encrypting_tenants_chat_notes_visitor_and_searches_its_knowledge(vault, client):
    # given an agent's chat of an encrypting tenant, with a note, a known visitor and an article
    agent = ready_agent(vault)
    chat = services.start_conversation(tenant=vault, visitor=Visitor.objects.create(tenant=vault))
    services.post_visitor_message(conversation=chat, body=SECRET_WORDS)
    services.post_agent_message(conversation=chat, agent=agent, body="Hei!")
    workspace.add_note(conversation=chat, agent=agent, body="Asiakas muuttaa pian")
    Visitor.objects.filter(pk=chat.visitor_id).update(email=sealing.Sealed("maija@example.fi"))
    KnowledgeArticle.objects.create(tenant=vault, title="Toimitus", keywords="toimitus", body="Toimitus 2–3 päivää.")
    client.force_login(agent.user)

    # when the console asks for them
    notes = client.get(reverse("console_api_chat_notes", args=[chat.pk])).json()
    visitor = client.get(reverse("console_api_chat_visitor", args=[chat.pk])).json()
    found = client.get(reverse("console_api_chat_search", args=[chat.pk]), {"q": "Milloin toimitus tulee?"}).json()

    # then it reads plain text
    assert [note["body"] for note in notes["notes"]] == ["Asiakas muuttaa pian"]
    assert "maija@example.fi" in str(visitor)
    assert [hit["text"] for hit in found["results"]] == ["Toimitus 2–3 päivää."]
    assert raw_values("conversations_visitor", "email")[0].startswith("enc:")
