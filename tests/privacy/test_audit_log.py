"""Who read or changed which tenant data in the admin is logged, and the log itself cannot be changed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import AuditEntry
from conversations.models import Conversation, Lead, Message, Visitor

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(client, ops_manager):
    client.force_login(ops_manager)
    return client


@pytest.fixture
def chat(tenant):
    visitor = Visitor.objects.create(tenant=tenant, name="Ville")
    conversation = Conversation.objects.create(tenant=tenant, visitor=visitor)
    Message.objects.create(tenant=tenant, conversation=conversation, seq=1, sender="visitor", body="Hei")
    return conversation


def test_opening_a_conversation_is_logged_with_who_and_which(manager_client, ops_manager, chat, tenant):
    # when a manager opens a transcript
    response = manager_client.get(reverse("admin:conversations_conversation_change", args=[chat.pk]))

    # then the log says who opened which conversation of which tenant
    assert response.status_code == 200
    entry = AuditEntry.objects.get(action=AuditEntry.Action.VIEWED, object_id=str(chat.pk))
    assert (entry.user, entry.actor, entry.tenant_id, entry.tenant_name, entry.object_type) == (
        ops_manager,
        ops_manager.username,
        tenant.pk,
        tenant.name,
        "conversations.conversation",
    )


def test_listing_leads_is_logged_with_what_was_searched(manager_client, tenant):
    manager_client.get(reverse("admin:conversations_lead_changelist"), {"q": "maija"})

    listed = AuditEntry.objects.get(object_type="conversations.lead")
    assert (listed.action, listed.details) == ("viewed", "q=maija")


def test_rows_of_no_tenant_are_not_logged(manager_client, agent):
    manager_client.get(reverse("admin:auth_group_changelist"))

    assert not AuditEntry.objects.exists()


def test_the_log_is_read_only_and_reading_it_is_not_logged(manager_client, chat):
    manager_client.get(reverse("admin:conversations_conversation_change", args=[chat.pk]))
    entry = AuditEntry.objects.get()

    assert manager_client.get(reverse("admin:accounts_auditentry_changelist")).status_code == 200
    assert manager_client.get(reverse("admin:accounts_auditentry_change", args=[entry.pk])).status_code == 200
    assert manager_client.get(reverse("admin:accounts_auditentry_add")).status_code == 403
    assert (
        manager_client.post(reverse("admin:accounts_auditentry_delete", args=[entry.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert list(AuditEntry.objects.values_list("pk", flat=True)) == [entry.pk]


def test_an_agent_cannot_read_the_log(client, agent):
    client.force_login(agent.user)

    assert client.get(reverse("admin:accounts_auditentry_changelist")).status_code == 302


def test_a_lead_deleted_in_the_admin_is_logged(manager_client, chat, tenant):
    lead = Lead.objects.create(tenant=tenant, conversation=chat, email="v@example.fi", wants="x")

    manager_client.post(reverse("admin:conversations_lead_delete", args=[lead.pk]), {"post": "yes"})

    assert not Lead.objects.filter(pk=lead.pk).exists()
    assert AuditEntry.objects.filter(action="deleted", object_id=str(lead.pk), tenant_id=tenant.pk).exists()


def test_downloading_leads_as_csv_is_logged(manager_client, chat, tenant):
    lead = Lead.objects.create(tenant=tenant, conversation=chat, email="v@example.fi", wants="x")

    download = manager_client.post(
        reverse("admin:conversations_lead_changelist"), {"action": "download_csv", "_selected_action": [lead.pk]}
    )

    assert download["Content-Type"].startswith("text/csv")
    entry = AuditEntry.objects.get(action=AuditEntry.Action.DOWNLOADED)
    assert (entry.object_type, entry.details) == ("conversations.lead", "1 leads as CSV")
