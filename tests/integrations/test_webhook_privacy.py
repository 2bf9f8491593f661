"""Webhook bodies hold visitors' data: sealed at rest for encrypting tenants, and blanked by an erasure."""

from __future__ import annotations

import datetime as dt
import importlib
import json

import pytest
from django.apps import apps
from django.db import connection

from conversations import protection, rekeying, retention, rights
from conversations.outcomes import close_with_outcome
from integrations import services
from integrations.models import EventType, WebhookDelivery
from tests.integrations.conftest import LEAD
from tests.privacy.conftest import new_key

Status = WebhookDelivery.Status
HER_DATA = ("Maija", "maija@example.fi", "Catering for 40")


@pytest.fixture
def encrypting(tenant, settings):
    """The café, encrypting its chats at rest under a configured key."""
    settings.CHATOPS_ENCRYPTION_KEYS = new_key("k1")
    tenant.encrypt_messages = tenant.stored_encrypted = True
    tenant.save(update_fields=["encrypt_messages", "stored_encrypted"])
    protection.forget_policies()
    yield tenant
    protection.forget_policies()


def raw_bodies() -> dict[str, str]:
    """Return each delivery's body as the column stores it, by event type."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT event_type, body FROM integrations_webhookdelivery")
        return dict(cursor.fetchall())


def set_raw_body(delivery: WebhookDelivery, body: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE integrations_webhookdelivery SET body = %s WHERE id = %s", [body, delivery.pk])


def close_as_lead(chat, agent, capture) -> WebhookDelivery:
    with capture(execute=True):
        close_with_outcome(conversation=chat, agent=agent, outcome="lead", lead=LEAD)
    return WebhookDelivery.objects.get(event_type=EventType.LEAD_CREATED)


# ---- encryption at rest --------------------------------------------------------------------------


def test_an_encrypting_tenants_delivery_is_stored_sealed_and_arrives_plain_and_verified(
    encrypting, running_chat, agent, endpoint, receiver, django_capture_on_commit_callbacks
):
    # when
    delivery = close_as_lead(running_chat, agent, django_capture_on_commit_callbacks)

    # then the column holds a token with none of her data
    stored = raw_bodies()[EventType.LEAD_CREATED]
    assert stored.startswith("enc:k1:")
    assert [words for words in HER_DATA if words in stored] == []
    # and the receiver got the plain body, signed over exactly those bytes
    delivery.refresh_from_db()
    assert delivery.status == Status.DELIVERED
    [lead] = [r.event for r in receiver.accepted() if r.event["type"] == EventType.LEAD_CREATED]
    assert lead["data"]["lead"]["email"] == "maija@example.fi"
    assert json.loads(delivery.body) == lead


def test_a_plain_tenants_delivery_stays_plain(
    running_chat, agent, endpoint, receiver, django_capture_on_commit_callbacks
):
    close_as_lead(running_chat, agent, django_capture_on_commit_callbacks)

    assert "maija@example.fi" in raw_bodies()[EventType.LEAD_CREATED]


def test_a_body_stored_plain_before_encryption_still_sends_and_is_sealed_by_the_migration_step(
    encrypting, tenant, endpoint, receiver
):
    # given a delivery stored plain (as before this change) for the now encrypting tenant
    [delivery] = services.record_event(
        tenant_id=tenant.pk, event_type=EventType.RATING_GIVEN, data=lambda: {"comment": "Nopeaa, Maija"}
    )
    plain = services.event_body(
        event_id=delivery.event_id,
        event_type=EventType.RATING_GIVEN,
        tenant_slug=tenant.slug,
        data={"comment": "Nopeaa, Maija"},
        now=delivery.created_at,
    )
    set_raw_body(delivery, plain)

    # when the migration's conversion runs
    migration = importlib.import_module("integrations.migrations.0003_webhook_privacy")
    migration.seal_bodies_of_encrypting_tenants(apps, None)

    # then the column is sealed, and the delivery reads and sends the same body as before
    assert raw_bodies()[EventType.RATING_GIVEN].startswith("enc:")
    services.deliver(delivery.pk)
    [request] = receiver.accepted()
    assert request.body.decode() == plain


def test_a_plain_body_reads_as_it_is_and_turning_encryption_on_seals_it_and_off_opens_it(
    tenant, endpoint, receiver, settings
):
    # given a plain tenant's delivery
    settings.CHATOPS_ENCRYPTION_KEYS = new_key("k1")
    [delivery] = services.record_event(
        tenant_id=tenant.pk, event_type=EventType.RATING_GIVEN, data=lambda: {"comment": "Nopeaa, Maija"}
    )
    body = raw_bodies()[EventType.RATING_GIVEN]
    assert "Maija" in body

    # when the tenant turns encryption on and its stored text is converted
    tenant.encrypt_messages = True
    tenant.save(update_fields=["encrypt_messages"])
    rekeying.convert_tenant(tenant=tenant)

    # then its delivery body is sealed, and still reads the same
    assert raw_bodies()[EventType.RATING_GIVEN].startswith("enc:k1:")
    delivery.refresh_from_db()
    assert delivery.body == body

    # and turning it off opens it again
    tenant.encrypt_messages = False
    tenant.save(update_fields=["encrypt_messages"])
    rekeying.convert_tenant(tenant=tenant)
    assert raw_bodies()[EventType.RATING_GIVEN] == body


# ---- erasure -------------------------------------------------------------------------------------


def test_an_erasure_blanks_the_visitor_in_past_and_pending_deliveries_and_the_pending_one_goes_redacted(
    encrypting, running_chat, agent, tenant, endpoint, receiver, django_capture_on_commit_callbacks
):
    # given her lead went out, and her rating's delivery waits for a retry (the receiver answered 500)
    close_as_lead(running_chat, agent, django_capture_on_commit_callbacks)
    receiver.answers = [500]
    with django_capture_on_commit_callbacks(execute=True):
        [pending] = services.record_event(
            tenant_id=tenant.pk,
            event_type=EventType.RATING_GIVEN,
            data=lambda: {"conversation_id": running_chat.pk, "rating": 5, "comment": "Kiitos, Maija täällä"},
            conversation_id=running_chat.pk,
        )
    pending.refresh_from_db()
    assert pending.status == Status.QUEUED
    # and another visitor's delivery
    [someone_else] = services.record_event(
        tenant_id=tenant.pk, event_type=EventType.OFFLINE_MESSAGE_LEFT, data=lambda: {"name": "Pekka"}
    )

    # when she is erased
    rights.erase_visitors(visitors=[running_chat.visitor])

    # then no stored delivery of hers holds her name, address or words (opened, and in the column)
    for delivery in WebhookDelivery.objects.filter(conversation=running_chat):
        opened = delivery.body
        assert [words for words in (*HER_DATA, "Kiitos") if words in opened] == [], delivery.event_type
        assert json.loads(opened)["data"]["erased"] is True
    assert raw_bodies()[EventType.LEAD_CREATED].startswith("enc:"), "still sealed"
    lead = json.loads(WebhookDelivery.objects.get(event_type=EventType.LEAD_CREATED).body)
    assert lead["data"]["lead"]["email"] == "" and lead["data"]["conversation_id"] == running_chat.pk
    # and the one waiting is sent redacted, with its event id, when it is due
    services.deliver(pending.pk, now=WebhookDelivery.objects.get(pk=pending.pk).next_attempt_at)
    [sent] = [r.event for r in receiver.accepted() if r.event["type"] == EventType.RATING_GIVEN]
    assert sent["id"] == str(pending.event_id)
    assert (sent["data"]["rating"], sent["data"]["comment"], sent["data"]["erased"]) == (5, "", True)
    # and the other visitor's delivery is untouched
    someone_else.refresh_from_db()
    assert json.loads(someone_else.body)["data"] == {"name": "Pekka"}


def test_a_delivery_stored_before_the_link_is_linked_by_the_migration_step_and_erased_too(
    running_chat, tenant, endpoint
):
    # given deliveries stored before deliveries named their chat: one about her chat, one about another
    [hers] = services.record_event(
        tenant_id=tenant.pk,
        event_type=EventType.CONVERSATION_CLOSED,
        data=lambda: {"conversation": {"id": running_chat.pk, "summary": "Maija tilaa cateringin"}},
    )
    [gone] = services.record_event(
        tenant_id=tenant.pk, event_type=EventType.RATING_GIVEN, data=lambda: {"conversation_id": 999_999_999}
    )
    assert hers.conversation_id is None

    # when the migration's step links them, and she is erased
    migration = importlib.import_module("integrations.migrations.0003_webhook_privacy")
    migration.link_conversations(apps, None)
    rights.erase_visitors(visitors=[running_chat.visitor])

    # then her delivery was found by its body's chat, and blanked
    hers.refresh_from_db()
    assert hers.conversation_id == running_chat.pk
    assert json.loads(hers.body)["data"]["conversation"] == {"id": running_chat.pk, "summary": ""}
    gone.refresh_from_db()
    assert gone.conversation_id is None


def test_an_encrypting_tenants_test_ping_is_stored_sealed_too(encrypting, endpoint, receiver):
    # when
    delivery = services.send_test_ping(endpoint=endpoint)
    services.deliver(delivery.pk)

    # then
    assert raw_bodies()["ping"].startswith("enc:k1:")
    [ping] = receiver.accepted()
    assert ping.event["data"] == {"endpoint": "CRM"}


# ---- retention -----------------------------------------------------------------------------------

PURGED_AT = dt.datetime(2027, 6, 1, 3, 0, tzinfo=dt.UTC)


@pytest.mark.frozen_time(PURGED_AT - dt.timedelta(days=400))
def test_a_purged_conversations_deliveries_go_with_it_and_another_chats_stay(
    running_chat, agent, tenant, endpoint, receiver, time_machine, django_capture_on_commit_callbacks
):
    # given her chat's lead went out, and a chat of today with a delivery of its own
    delivery = close_as_lead(running_chat, agent, django_capture_on_commit_callbacks)
    time_machine.move_to(PURGED_AT)
    recent = running_chat.__class__.objects.create(tenant=tenant, visitor=running_chat.visitor)
    [kept] = services.record_event(
        tenant_id=tenant.pk, event_type=EventType.OFFLINE_MESSAGE_LEFT, data=lambda: {"name": "Maija"},
        conversation_id=recent.pk,
    )  # fmt: skip

    # when retention purges her old chat
    result = retention.purge_expired(now=PURGED_AT, tenants=[tenant])

    # then the delivery about it, which holds her name and wishes, went with it; the recent one stays
    assert result.tenants[0].conversations == 1
    assert not WebhookDelivery.objects.filter(pk=delivery.pk).exists()
    assert WebhookDelivery.objects.filter(pk=kept.pk).exists()
    connection.check_constraints()
