"""Operations admin for conversations: read-only, for looking a chat up, never for writing one."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from chatops.admin_site import OpsModelAdmin, OpsTabularInline
from conversations.models import Conversation, Message


class MessageInline(OpsTabularInline):
    model = Message
    fields = ("seq", "sender", "agent", "body", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("transcript")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        return super().get_queryset(request).select_related("agent")

    # Messages are written by the chat itself; a transcript is evidence and stays as it was.
    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(OpsModelAdmin):
    list_display = ("__str__", "tenant", "visitor", "agent", "status", "outcome", "origin", "started_at", "rating")
    list_filter = ("tenant", "status", "outcome", "origin")
    list_select_related = ("tenant", "visitor", "agent")
    search_fields = ("visitor__name", "visitor__email", "visitor__phone", "summary", "agent__display_name")
    date_hierarchy = "started_at"
    inlines = [MessageInline]

    # Conversations start in the widget and change in the console; here they are only read
    # (and deleted, for example on a visitor's request to be forgotten).
    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
