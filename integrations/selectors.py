"""Reads for the clients' systems: the rows of one tenant that the REST API serves."""

from __future__ import annotations

from django.db.models import QuerySet

from conversations.models import Conversation, Message
from tenants.models import Tenant
from tenants.scoping import TenantOwnedModel


def tenant_rows(*, model: type[TenantOwnedModel], tenant: Tenant) -> QuerySet:
    """Return the model's rows of this tenant only (the API's every queryset starts here)."""
    return model.objects.for_tenant(tenant)


def conversation_messages(*, conversation: Conversation) -> QuerySet[Message]:
    """Return a conversation's messages in the order they were written."""
    return Message.objects.for_tenant(conversation.tenant_id).filter(conversation=conversation).order_by("seq")
