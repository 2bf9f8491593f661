"""The read-only REST API: a tenant's leads and conversations, for the token's tenant only.

The tenant comes from the token, never from a parameter: every queryset here starts from
``request.auth.tenant`` (``TenantScopedView``), so another tenant's id answers 404 like a missing one.
"""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import generics, pagination, serializers

from conversations.models import Conversation, Lead, Message
from integrations import selectors
from integrations.api_auth import HasTenantToken, TokenAuthentication


class NewestFirst(pagination.CursorPagination):
    """Pages by time, newest first; a cursor stays valid while rows are added (no skipped or repeated rows)."""

    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"


class LeadsByTime(NewestFirst):
    ordering = ("-created_at", "-pk")


class ConversationsByTime(NewestFirst):
    ordering = ("-started_at", "-pk")


class LeadSerializer(serializers.ModelSerializer):
    class Meta:
        model = Lead
        fields = ("id", "conversation_id", "name", "email", "phone", "wants", "created_at")


class MessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = ("seq", "sender", "body", "created_at")


class ConversationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Conversation
        fields = (
            "id",
            "origin",
            "status",
            "outcome",
            "summary",
            "started_at",
            "closed_at",
            "rating",
            "rating_comment",
        )


class ConversationWithMessagesSerializer(ConversationSerializer):
    messages = serializers.SerializerMethodField()

    class Meta(ConversationSerializer.Meta):
        fields = (*ConversationSerializer.Meta.fields, "messages")

    def get_messages(self, conversation: Conversation) -> list[dict]:
        messages = selectors.conversation_messages(conversation=conversation)
        return MessageSerializer(messages, many=True).data


class TenantScopedView(generics.GenericAPIView):
    """A view over one model of the token's tenant; subclasses name the model, never filter by tenant."""

    authentication_classes = (TokenAuthentication,)
    permission_classes = (HasTenantToken,)
    model: type = None

    def get_queryset(self) -> QuerySet:
        return selectors.tenant_rows(model=self.model, tenant=self.request.auth.tenant)


class LeadList(TenantScopedView, generics.ListAPIView):
    model = Lead
    serializer_class = LeadSerializer
    pagination_class = LeadsByTime


class LeadDetail(TenantScopedView, generics.RetrieveAPIView):
    model = Lead
    serializer_class = LeadSerializer


class ConversationList(TenantScopedView, generics.ListAPIView):
    model = Conversation
    serializer_class = ConversationSerializer
    pagination_class = ConversationsByTime


class ConversationDetail(TenantScopedView, generics.RetrieveAPIView):
    model = Conversation
    serializer_class = ConversationWithMessagesSerializer
