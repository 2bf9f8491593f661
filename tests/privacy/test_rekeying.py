"""Rotation to a new key and turning encryption on or off rewrite stored text in batches while chats go on."""

from __future__ import annotations

import datetime as dt
import io
import threading

import pytest
from django.core.management import call_command
from django.db import connection, connections

from accounts.models import AuditEntry
from conversations import rekeying, services
from conversations.models import Message, Visitor
from tenants.models import Tenant
from tenants.services import save_tenant
from tests.conversations.sockets import ready_agent
from tests.privacy.conftest import new_key

HELSINKI = dt.timezone(dt.timedelta(hours=2))
NOW = dt.datetime(2026, 12, 15, 10, 0, tzinfo=HELSINKI)
pytestmark = pytest.mark.frozen_time(NOW)


def raw_bodies() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT body FROM conversations_message ORDER BY conversation_id, seq")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db(transaction=True)
def test_rotation_while_a_chat_goes_on_loses_nothing(vault, keys, settings):
    # given a chat of an encrypting tenant with messages under k2
    settings.CHAT_MESSAGES_PER_VISITOR_PER_MINUTE = 10_000
    ready_agent(vault)
    chat = services.start_conversation(tenant=vault, visitor=Visitor.objects.create(tenant=vault))
    for number in range(40):
        services.post_visitor_message(conversation=chat, body=f"before {number}", client_msg_id=f"b{number}")
    # and a new key k3 deployed in front of the others
    settings.CHATOPS_ENCRYPTION_KEYS = ",".join([new_key("k3"), keys["k2"], keys["k1"]])
    written: list[int] = []
    rotated = threading.Event()

    def visitor_keeps_writing() -> None:
        try:
            number = 0
            while not rotated.is_set() or number < 10:
                services.post_visitor_message(conversation=chat, body=f"during {number}", client_msg_id=f"d{number}")
                written.append(number)
                number += 1
        finally:
            connections.close_all()

    # when the rotation runs in small batches while the visitor keeps writing
    writer = threading.Thread(target=visitor_keeps_writing)
    writer.start()
    out = io.StringIO()
    call_command("rotate_encryption", "--batch-size", "7", stdout=out)
    rotated.set()
    writer.join(timeout=60)

    # then every message is there, in order, readable with the new key alone
    settings.CHATOPS_ENCRYPTION_KEYS = settings.CHATOPS_ENCRYPTION_KEYS.split(",")[0]
    bodies = list(Message.objects.filter(conversation=chat).order_by("seq").values_list("body", flat=True))
    assert bodies == [f"before {n}" for n in range(40)] + [f"during {n}" for n in written]
    assert all(value.startswith("enc:k3:") for value in raw_bodies())
    assert "Re-encrypted" in out.getvalue()
    # and the rotation is in the audit log
    entry = AuditEntry.objects.get(action=AuditEntry.Action.ROTATED_KEYS)
    assert (entry.actor, entry.object_id) == ("manage.py rotate_encryption", "k3")


@pytest.mark.django_db
def test_a_value_changed_after_it_was_read_is_not_overwritten_by_the_batch(vault, keys, settings):
    # given a message read by a rotation batch
    chat = services.start_conversation(tenant=vault, visitor=Visitor.objects.create(tenant=vault), now=NOW)
    services.post_visitor_message(conversation=chat, body="first", now=NOW)
    settings.CHATOPS_ENCRYPTION_KEYS = ",".join([new_key("k3"), keys["k2"]])
    rows = rekeying._raw_rows(Message.objects.all(), ("body",), after=0, size=10)

    # when the row changes before the batch writes
    from conversations.sealing import Sealed

    Message.objects.filter(pk=rows[0][0]).update(body=Sealed("changed meanwhile"))
    rewritten = rekeying._rewrite_batch(Message.objects.all(), ("body",), rows, rekeying.to_newest_key)

    # then the batch leaves it alone
    assert rewritten == 0
    assert Message.objects.get().body == "changed meanwhile"


@pytest.mark.django_db
def test_turning_encryption_on_and_off_converts_the_stored_chats_after_writers_caught_up(tenant, keys):
    # given a tenant's plain messages
    chat = services.start_conversation(tenant=tenant, visitor=Visitor.objects.create(tenant=tenant), now=NOW)
    services.post_visitor_message(conversation=chat, body="plain words", now=NOW)
    assert raw_bodies() == ["plain words"]

    # when the flag is turned on, nothing is converted until the writers' remembered policies have expired
    tenant.encrypt_messages = True
    save_tenant(tenant=tenant, now=NOW)
    assert rekeying.convert_changed_tenants(now=NOW + dt.timedelta(seconds=1)) == 0
    assert rekeying.convert_changed_tenants(now=NOW + dt.timedelta(minutes=1)) == 1

    # then the stored text is sealed and reads as before
    assert raw_bodies()[0].startswith("enc:k2:")
    assert Message.objects.get().body == "plain words"
    assert Tenant.objects.get(pk=tenant.pk).stored_encrypted is True
    assert rekeying.convert_changed_tenants(now=NOW + dt.timedelta(minutes=2)) == 0

    # when it is turned off again, it is opened
    tenant.encrypt_messages = False
    save_tenant(tenant=tenant, now=NOW + dt.timedelta(minutes=3))
    rekeying.convert_changed_tenants(now=NOW + dt.timedelta(minutes=4))
    assert raw_bodies() == ["plain words"]
    assert Tenant.objects.get(pk=tenant.pk).stored_encrypted is False
