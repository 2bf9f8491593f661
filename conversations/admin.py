"""Operations admin for conversations: read-only, for looking a chat up, never for writing one.

Handoff reports and leads are read here too; the one thing a manager does is send a report again.
"""

from __future__ import annotations

import csv
import datetime as dt

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.admin_site import OpsModelAdmin, OpsStackedInline, OpsTabularInline
from conversations import aftercare
from conversations import handoff as handoff_reports
from conversations.models import Conversation, Handoff, Lead, Message, Note, TranscriptRequest, email_reference
from conversations.offline import escalation_contacts
from conversations.rights import spreadsheet_safe
from moments.formatting import show_moment
from outbox import selectors as outbox_selectors
from outbox.admin import EmailStatusFilter, ReadOnlyRows, state_html

# Spreadsheet programs run a cell that starts with one of these as a formula.


def _in_tenant_zone(moment: dt.datetime | None, tenant) -> str:
    return show_moment(moment, tenant.zone, style="weekday", empty="–")


def _conversation_link(conversation: Conversation) -> str:
    url = reverse("admin:conversations_conversation_change", args=[conversation.pk])
    return format_html('<a href="{}">#{}</a>', url, conversation.pk)


class _ReadOnlyInline(ReadOnlyRows):
    """An inline that only shows what the chat recorded."""

    extra = 0
    can_delete = False


class MessageInline(_ReadOnlyInline, OpsTabularInline):
    """The transcript: messages are written by the chat itself; it is evidence and stays as it was."""

    model = Message
    fields = ("seq", "sender", "agent", "body", "created_at")
    readonly_fields = fields
    verbose_name_plural = _("transcript")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Message]:
        return super().get_queryset(request).select_related("agent")


class LeadInline(_ReadOnlyInline, OpsStackedInline):
    model = Lead
    fields = ("name", "email", "phone", "wants", "created_at")
    readonly_fields = fields


class HandoffInline(_ReadOnlyInline, OpsStackedInline):
    model = Handoff
    fields = ("report", "status_line", "agent", "summary", "visitor_contact", "promise", "promised", "recipients")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Handoff]:
        return super().get_queryset(request).select_related("tenant", "outgoing")

    @admin.display(description=_("handoff report"))
    def report(self, handoff: Handoff) -> str:
        url = reverse("admin:conversations_handoff_change", args=[handoff.pk])
        return format_html('<a href="{}">{}</a>', url, gettext("Open the report (send it again there)"))

    @admin.display(description=_("status"))
    def status_line(self, handoff: Handoff) -> str:
        return HandoffAdmin.status_line(handoff)

    @admin.display(description=_("visitor's contact"))
    def visitor_contact(self, handoff: Handoff) -> str:
        return HandoffAdmin.visitor_contact(handoff)

    @admin.display(description=_("sent to"))
    def recipients(self, handoff: Handoff) -> str:
        return _recipients(handoff)

    @admin.display(description=_("promised by"))
    def promised(self, handoff: Handoff) -> str:
        return _in_tenant_zone(handoff.promised_by, handoff.tenant)


class NoteInline(_ReadOnlyInline, OpsTabularInline):
    model = Note
    fields = ("created_at", "agent", "body")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Note]:
        return super().get_queryset(request).select_related("agent")


@admin.register(Conversation)
class ConversationAdmin(OpsModelAdmin):
    list_display = ("__str__", "tenant", "visitor", "agent", "status", "outcome", "origin", "started_at", "rating")
    list_filter = ("tenant", "status", "outcome", "origin")
    list_select_related = ("tenant", "visitor", "agent")
    search_fields = ("visitor__name", "visitor__email", "visitor__phone", "summary", "agent__display_name")
    date_hierarchy = "started_at"
    inlines = [LeadInline, HandoffInline, NoteInline, MessageInline]

    # Conversations start in the widget and change in the console; here they are only read
    # (and deleted, for example on a visitor's request to be forgotten).
    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


def _recipients(record: Handoff | TranscriptRequest) -> str:
    return ", ".join(record.outgoing.recipient_list()) if record.outgoing else "–"


class _SendingRecordAdmin(OpsModelAdmin):
    """A record of an e-mail sent for a chat: read here, never written; its chat linked, its e-mail's state shown."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description=_("conversation"), ordering="conversation")
    def chat(self, record: Handoff | TranscriptRequest) -> str:
        return _conversation_link(record.conversation)

    @admin.display(description=_("attempts"))
    def attempts(self, record: Handoff | TranscriptRequest) -> int:
        return record.outgoing.attempts if record.outgoing else 0

    @admin.display(description=_("last error"))
    def short_error(self, record: Handoff | TranscriptRequest) -> str:
        error = record.outgoing.last_error if record.outgoing else ""
        return Truncator(error).chars(80) if error else "–"

    @admin.display(description=_("last error"))
    def last_error(self, record: Handoff | TranscriptRequest) -> str:
        return record.outgoing.last_error if record.outgoing else ""

    @admin.display(description=_("e-mails sent"))
    def history(self, record: Handoff | TranscriptRequest) -> str:
        """List every e-mail of this kind about the chat, the newest first, with its state."""
        emails = outbox_selectors.emails_about(email_reference(record.conversation_id), kind=self.email_kind)
        return (
            format_html_join(
                "",
                "<p>{} · {}<br><small>{}</small></p>",
                (
                    (
                        _in_tenant_zone(email.created_at, record.tenant),
                        state_html(email, missing="", zone=record.tenant.zone),
                        email.message_id,
                    )
                    for email in emails
                ),
            )
            or "–"
        )


class HandoffEmailFilter(EmailStatusFilter):
    none_label = _("No escalation contact")


@admin.register(Handoff)
class HandoffAdmin(_SendingRecordAdmin):
    """Escalation reports: whether each reached the client, and sending one again when it did not."""

    list_display = (
        "created_at",
        "tenant",
        "chat",
        "agent",
        "status_line",
        "recipients",
        "attempts",
        "short_error",
        "promised",
    )
    list_display_links = ("created_at",)
    list_filter = (HandoffEmailFilter, "tenant")
    list_select_related = ("tenant", "agent", "conversation", "outgoing")
    search_fields = (
        "=conversation__id",
        "visitor_name",
        "visitor_email",
        "visitor_phone",
        "summary",
        "promise",
        "outgoing__recipients",
        "agent__display_name",
    )
    date_hierarchy = "created_at"
    actions = ("send_again",)
    fieldsets = (
        (None, {"fields": ("tenant", "chat", "agent", "created_at")}),
        (_("Sending"), {"fields": ("status_line", "recipients", "attempts", "last_error", "history")}),
        (_("Report"), {"fields": ("summary", "visitor_contact", "promise", "promised")}),
    )
    readonly_fields = (
        "tenant",
        "chat",
        "agent",
        "created_at",
        "status_line",
        "recipients",
        "attempts",
        "last_error",
        "history",
        "summary",
        "visitor_contact",
        "promise",
        "promised",
    )
    email_kind = handoff_reports.EMAIL_KIND

    # Reports are written by closing a chat; here they are read, and sent again on purpose.

    @staticmethod
    @admin.display(description=_("status"), ordering="outgoing__status")
    def status_line(handoff: Handoff) -> str:
        missing = gettext("Not sent: the tenant has no escalation contact")
        return state_html(handoff.outgoing, missing=missing, zone=handoff.tenant.zone)

    @admin.display(description=_("sent to"))
    def recipients(self, handoff: Handoff) -> str:
        return _recipients(handoff)

    @admin.display(description=_("promised by"), ordering="promised_by")
    def promised(self, handoff: Handoff) -> str:
        return _in_tenant_zone(handoff.promised_by, handoff.tenant)

    @staticmethod
    @admin.display(description=_("visitor's contact"))
    def visitor_contact(handoff: Handoff) -> str:
        parts = [handoff.visitor_name, handoff.visitor_email, handoff.visitor_phone]
        return " · ".join(part for part in parts if part) or "–"

    @admin.action(description=_("Send again to the escalation contacts"))
    def send_again(self, request: HttpRequest, queryset: QuerySet[Handoff]) -> None:
        queued = 0
        for handoff in queryset.select_related("tenant"):
            if not handoff_reports.send_again(handoff=handoff):
                self.message_user(
                    request,
                    gettext(
                        "%(tenant)s has no escalation contact, so report #%(number)s was not sent. Add one "
                        "under the tenant's report recipients (tick “escalation contact”), then send it again."
                    )
                    % {"tenant": handoff.tenant.name, "number": handoff.conversation_id},
                    messages.WARNING,
                )
                continue
            queued += 1
            self.log_change(
                request,
                handoff,
                gettext("Sent again to %(recipients)s")
                % {"recipients": ", ".join(escalation_contacts(tenant=handoff.tenant))},
            )
        if queued:
            self.message_user(
                request,
                ngettext(
                    "%(count)d report is being sent again; its status shows when it has gone out.",
                    "%(count)d reports are being sent again; their status shows when they have gone out.",
                    queued,
                )
                % {"count": queued},
                messages.SUCCESS,
            )


@admin.register(Lead)
class LeadAdmin(OpsModelAdmin):
    """Visitors who want something a client sells, one row each, ready to export for the client."""

    list_display = ("created_at", "tenant", "name", "email", "phone", "short_wants", "chat", "agent")
    list_display_links = ("created_at",)
    # Handled: the client's system said so through the API (integrations/api.py); empty until it does.
    list_filter = ("tenant", ("created_at", admin.DateFieldListFilter), ("handled_at", admin.EmptyFieldListFilter))
    list_select_related = ("tenant", "conversation__agent")
    search_fields = ("name", "email", "phone", "wants", "=conversation__id")
    date_hierarchy = "created_at"
    actions = ("download_csv",)
    fields = ("tenant", "chat", "agent", "created_at", "handled_at", "name", "email", "phone", "wants")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description=_("what they want"))
    def short_wants(self, lead: Lead) -> str:
        return Truncator(lead.wants).chars(80)

    @admin.display(description=_("conversation"), ordering="conversation")
    def chat(self, lead: Lead) -> str:
        return _conversation_link(lead.conversation)

    @admin.display(description=_("agent"))
    def agent(self, lead: Lead) -> str:
        agent = lead.conversation.agent
        return agent.display_name if agent else "–"

    @admin.action(description=_("Download as CSV (for a spreadsheet)"))
    def download_csv(self, request: HttpRequest, queryset: QuerySet[Lead]) -> HttpResponse:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="leads.csv"'
        self._audit(request, "downloaded", details=f"{queryset.count()} leads as CSV")
        response.write("\ufeff")  # so spreadsheet programs read the file as UTF-8
        writer = csv.writer(response)
        writer.writerow(
            [
                gettext("recorded"),
                gettext("tenant"),
                gettext("name"),
                gettext("e-mail"),
                gettext("phone"),
                gettext("what they want"),
                gettext("conversation"),
                gettext("agent"),
            ]
        )
        for lead in queryset.select_related("tenant", "conversation__agent").order_by("created_at"):
            local = timezone.localtime(lead.created_at, lead.tenant.zone)
            row = [
                local.strftime("%Y-%m-%d %H:%M"),
                lead.tenant.name,
                lead.name,
                lead.email,
                lead.phone,
                lead.wants,
                lead.conversation_id,
                self.agent(lead),
            ]
            writer.writerow([spreadsheet_safe(value) for value in row])
        return response


@admin.register(TranscriptRequest)
class TranscriptRequestAdmin(_SendingRecordAdmin):
    """Transcripts visitors asked for: whether each went out, and sending one again when it did not."""

    list_display = ("requested_at", "tenant", "chat", "email", "status_line", "attempts", "short_error")
    list_display_links = ("requested_at",)
    list_filter = (EmailStatusFilter, "tenant")
    list_select_related = ("tenant", "conversation", "outgoing")
    search_fields = ("=conversation__id", "email")
    date_hierarchy = "requested_at"
    actions = ("send_again",)
    fields = ("tenant", "chat", "email", "status_line", "attempts", "last_error", "requested_at", "history")
    readonly_fields = fields
    email_kind = aftercare.EMAIL_KIND

    # Requests come from the widget; here they are read, and sent again on purpose.

    @staticmethod
    @admin.display(description=_("status"), ordering="outgoing__status")
    def status_line(transcript: TranscriptRequest) -> str:
        return state_html(transcript.outgoing, missing=gettext("Not queued"), zone=transcript.tenant.zone)

    @admin.action(description=_("Send the transcript again"))
    def send_again(self, request: HttpRequest, queryset: QuerySet[TranscriptRequest]) -> None:
        count = 0
        for transcript in queryset:
            aftercare.send_transcript_again(request=transcript)
            self.log_change(request, transcript, gettext("Sent again to %(email)s") % {"email": transcript.email})
            count += 1
        self.message_user(
            request,
            ngettext(
                "%(count)d transcript is being sent again; its status shows when it has gone out.",
                "%(count)d transcripts are being sent again; their status shows when they have gone out.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )
