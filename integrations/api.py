"""The REST API: a tenant's leads, conversations, handoff reports, ratings and KPI figures, and the writes a
CRM needs (a lead marked handled, a knowledge-base article added), for the token's tenant only.

The tenant comes from the token, never from a parameter: every queryset here starts from
``request.auth.tenant`` (``TenantScopedView``), so another tenant's id answers 404 like a missing one.
What a token may do is its scopes (``write_scopes`` per method; reading needs ``read``).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as ModelValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, pagination, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from conversations import outcomes
from conversations.models import Conversation, Handoff, Lead, Message
from integrations import api_schema, selectors
from integrations.api_auth import HasTenantToken, TokenAuthentication
from integrations.api_filters import TimeWindow
from integrations.api_periods import period_from_query
from integrations.models import Scope
from reporting import kpis
from tenants import services as tenant_services
from tenants.models import KnowledgeArticle


class NewestFirst(pagination.CursorPagination):
    """Pages by time, newest first; a cursor stays valid while rows are added (no skipped or repeated rows)."""

    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"


class LeadsByTime(NewestFirst):
    ordering = ("-created_at", "-pk")


class ConversationsByTime(NewestFirst):
    ordering = ("-started_at", "-pk")


class HandoffsByTime(NewestFirst):
    ordering = ("-created_at", "-pk")


class RatingsByTime(NewestFirst):
    ordering = ("-rated_at", "-pk")


class LeadSerializer(serializers.ModelSerializer):
    class Meta:
        model = Lead
        fields = ("id", "conversation_id", "name", "email", "phone", "wants", "created_at", "handled_at")


class LeadHandledSerializer(serializers.Serializer):
    handled = serializers.BooleanField(help_text="true: the client has followed the lead up; false: not yet.")


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

    @extend_schema(responses=MessageSerializer(many=True))
    def get_messages(self, conversation: Conversation) -> list[dict]:
        messages = selectors.conversation_messages(conversation=conversation)
        return MessageSerializer(messages, many=True).data


class HandoffSerializer(serializers.ModelSerializer):
    class Meta:
        model = Handoff
        fields = (
            "id",
            "conversation_id",
            "summary",
            "visitor_name",
            "visitor_email",
            "visitor_phone",
            "promise",
            "promised_by",
            "created_at",
        )


class RatingSerializer(serializers.ModelSerializer):
    conversation_id = serializers.IntegerField(source="pk", read_only=True)
    comment = serializers.CharField(source="rating_comment", read_only=True)

    class Meta:
        model = Conversation
        fields = ("conversation_id", "rating", "comment", "rated_at")


class ArticleSerializer(serializers.ModelSerializer):
    class Meta:
        model = KnowledgeArticle
        fields = ("id", "title", "body", "keywords", "is_published", "created_at")
        read_only_fields = ("id", "created_at")


class TenantScopedView(generics.GenericAPIView):
    """A view over one model of the token's tenant; subclasses name the model, never filter by tenant."""

    authentication_classes = (TokenAuthentication,)
    permission_classes = (HasTenantToken,)
    model: type = None

    def get_queryset(self) -> QuerySet:
        return selectors.tenant_rows(model=self.model, tenant=self.request.auth.tenant)


class TimeListView(TenantScopedView, generics.ListAPIView):
    """A list of the tenant's rows, newest first by time, narrowed by ``since`` and ``until``."""

    filter_backends = (TimeWindow,)


class LeadList(TimeListView):
    model = Lead
    serializer_class = LeadSerializer
    pagination_class = LeadsByTime


class LeadDetail(TenantScopedView, generics.RetrieveAPIView):
    """A lead; ``PATCH {"handled": true}`` (scope ``leads:write``) marks it followed up."""

    model = Lead
    serializer_class = LeadSerializer
    write_scopes = {"PATCH": Scope.LEADS_WRITE.value}

    @extend_schema(request=LeadHandledSerializer, responses=LeadSerializer)
    def patch(self, request: Request, pk: int) -> Response:
        lead = self.get_object()
        asked = LeadHandledSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        lead = outcomes.mark_lead_handled(lead=lead, handled=asked.validated_data["handled"])
        return Response(LeadSerializer(lead).data)


class ConversationList(TimeListView):
    model = Conversation
    serializer_class = ConversationSerializer
    pagination_class = ConversationsByTime


class ConversationDetail(TenantScopedView, generics.RetrieveAPIView):
    model = Conversation
    serializer_class = ConversationWithMessagesSerializer


class HandoffList(TimeListView):
    model = Handoff
    serializer_class = HandoffSerializer
    pagination_class = HandoffsByTime


class HandoffDetail(TenantScopedView, generics.RetrieveAPIView):
    model = Handoff
    serializer_class = HandoffSerializer


class RatingList(TimeListView):
    """Rated conversations, latest rating first."""

    model = Conversation
    serializer_class = RatingSerializer
    pagination_class = RatingsByTime

    def get_queryset(self) -> QuerySet:
        return super().get_queryset().filter(rating__isnull=False, rated_at__isnull=False)


class ArticleCreate(TenantScopedView, generics.CreateAPIView):
    """Add an article to the tenant's knowledge base (scope ``knowledge:write``)."""

    model = KnowledgeArticle
    serializer_class = ArticleSerializer
    write_scopes = {"POST": Scope.KNOWLEDGE_WRITE.value}

    def perform_create(self, serializer: ArticleSerializer) -> None:
        try:
            serializer.instance = tenant_services.add_knowledge_article(
                tenant=self.request.auth.tenant, **serializer.validated_data
            )
        except ModelValidationError as refusal:
            raise serializers.ValidationError(refusal.message_dict) from None


class KpiFigures(TenantScopedView):
    """The tenant's KPI figures for a period of its local days (reporting/kpis.py defines each)."""

    @extend_schema(parameters=api_schema.PERIOD_PARAMETERS, responses=api_schema.KPI_RESPONSE)
    def get(self, request: Request) -> Response:
        tenant = request.auth.tenant
        period = period_from_query(request.query_params, zone=tenant.zone)
        return Response(kpis.kpis_for_tenant(tenant, period).as_dict(), status=status.HTTP_200_OK)
