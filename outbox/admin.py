"""The outbox in the admin: pieces the apps' pages share, and the page of every e-mail.

``OpsOutgoingEmailAdmin`` is the registered page: ``OutgoingEmailAdmin`` with the role check of the
operations admin (``accounts``, the one layer below the outbox) and ``ReadOnlyRows``.
"""

from __future__ import annotations

import zoneinfo
from email import message_from_bytes, policy

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.admin_site import OpsPermissionsMixin
from outbox import selectors, services
from outbox.models import OutgoingEmail

TONE_COLOURS = {selectors.GOOD: "#166534", selectors.WAITING: "#92400e", selectors.BAD: "#b91c1c"}


def state_html(email: OutgoingEmail | None, *, missing: str, zone: zoneinfo.ZoneInfo | None = None) -> str:
    """Return an e-mail's state as the admin shows it, coloured; ``missing`` when there is no e-mail."""
    if email is None:
        return format_html('<strong style="color: {}">{}</strong>', TONE_COLOURS[selectors.BAD], missing)
    state = selectors.describe(email, zone=zone)
    return format_html('<strong style="color: {}">{}</strong>', TONE_COLOURS[state.tone], state.text)


class EmailStatusFilter(admin.SimpleListFilter):
    """Filter records by the state of their e-mail (the foreign key ``outgoing``), or those without one."""

    title = _("e-mail")
    parameter_name = "email_status"
    none_label = _("No e-mail")
    field = "outgoing"

    def lookups(self, request: HttpRequest, model_admin) -> list[tuple[str, str]]:
        return [*OutgoingEmail.Status.choices, ("none", self.none_label)]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value is None:
            return queryset
        if value == "none":
            return queryset.filter(**{f"{self.field}__isnull": True})
        return queryset.filter(**{f"{self.field}__status": value})


class ReadOnlyRows:
    """An admin page that never adds, changes or deletes rows: they are the proof of what went out.

    Put it first among the bases, before a class that grants permissions by role.
    """

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class OutgoingEmailAdmin(admin.ModelAdmin):
    """Every e-mail: what it is about, to whom, where it is; failed or uncertain ones tried again on purpose."""

    list_display = ("created_at", "kind_label", "subject", "recipient_line", "state", "attempts")
    list_display_links = ("created_at",)
    list_filter = ("status", "kind")
    search_fields = ("subject", "recipients", "=message_id", "=reference")
    date_hierarchy = "created_at"
    actions = ("try_again_now",)
    fields = (
        "kind_label",
        "reference",
        "subject",
        "from_email",
        "recipients",
        "state",
        "attempts",
        "max_attempts",
        "last_error",
        "message_id",
        "created_at",
        "sent_at",
        "requested_by",
        "text",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[OutgoingEmail]:
        queryset = super().get_queryset(request)
        # The list never shows the stored messages, which can be large (reports with charts).
        return queryset if request.resolver_match.url_name.endswith("_change") else queryset.defer("message")

    @admin.display(description=_("kind"), ordering="kind")
    def kind_label(self, email: OutgoingEmail) -> str:
        # The apps name their kinds with English source texts marked for translation.
        return gettext(email.kind)

    @admin.display(description=_("recipients"))
    def recipient_line(self, email: OutgoingEmail) -> str:
        return ", ".join(email.recipient_list())

    @admin.display(description=_("status"), ordering="status")
    def state(self, email: OutgoingEmail) -> str:
        return state_html(email, missing="")

    @admin.display(description=_("text"))
    def text(self, email: OutgoingEmail) -> str:
        if email.text_hidden:
            return gettext("Not shown: it holds a personal sign-in link.")
        parsed = message_from_bytes(bytes(email.message), policy=policy.default)
        body = parsed.get_body(preferencelist=("plain",))
        return format_html('<div style="white-space: pre-wrap">{}</div>', body.get_content() if body else "")

    @admin.action(description=_("Try again now (same Message-ID)"))
    def try_again_now(self, request: HttpRequest, queryset: QuerySet[OutgoingEmail]) -> None:
        count = services.retry_now(queryset)
        self.message_user(
            request,
            ngettext(
                "%(count)d e-mail is being sent again; its status shows when it has gone out.",
                "%(count)d e-mails are being sent again; their status shows when they have gone out.",
                count,
            )
            % {"count": count},
            messages.SUCCESS if count else messages.WARNING,
        )
        skipped = queryset.count() - count
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d e-mail already sent or being sent was left as it is.",
                    "%(count)d e-mails already sent or being sent were left as they are.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )


@admin.register(OutgoingEmail)
class OpsOutgoingEmailAdmin(ReadOnlyRows, OpsPermissionsMixin, OutgoingEmailAdmin):
    """Every e-mail chatops sends, for operations managers only; never added, changed or deleted by hand."""
