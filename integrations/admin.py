"""Webhooks in the operations admin: a tenant's endpoints, and the log of every delivery."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.admin_site import OpsModelAdmin
from integrations import api_tokens, services
from integrations.models import ApiToken, EventType, Scope, WebhookDelivery, WebhookEndpoint, default_scopes
from outbox.admin import ReadOnlyRows
from outbox.selectors import when_text

STATUS_COLOURS = {
    WebhookDelivery.Status.QUEUED: "#92400e",
    WebhookDelivery.Status.SENDING: "#92400e",
    WebhookDelivery.Status.DELIVERED: "#166534",
    WebhookDelivery.Status.FAILED: "#b91c1c",
}


def _when(moment: dt.datetime | None) -> str:
    return when_text(moment) if moment else "–"


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("address"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("events"), choices=EventType.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("tenant", "name", "url", "events", "active")


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(OpsModelAdmin):
    """A tenant's webhook endpoints: where its events go, signed with a secret of their own."""

    form = WebhookEndpointForm
    list_display = ("name", "tenant", "url", "event_list", "active")
    list_filter = ("active", "tenant")
    search_fields = ("name", "url", "tenant__name")
    readonly_fields = ("signing_secrets", "created_at")
    actions = ("send_test_ping", "rotate_secret")

    @admin.display(description=_("events"))
    def event_list(self, endpoint: WebhookEndpoint) -> str:
        labels = dict(EventType.choices)
        return ", ".join(str(labels.get(event, event)) for event in endpoint.events)

    @admin.display(description=_("signing secret"))
    def signing_secrets(self, endpoint: WebhookEndpoint) -> str:
        if endpoint.pk is None:
            return gettext("Made when the endpoint is saved.")
        now = timezone.now()
        secrets = endpoint.signing_secrets(now=now)
        if len(secrets) == 1:
            return format_html("<code>{}</code>", endpoint.secret)
        return format_html(
            "<code>{}</code><br>{} <code>{}</code>",
            endpoint.secret,
            gettext("The previous secret also signs until %(moment)s:")
            % {"moment": when_text(endpoint.previous_secret_until)},
            endpoint.previous_secret,
        )

    @admin.action(description=_("Send a test ping"))
    def send_test_ping(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        endpoints = list(queryset.select_related("tenant"))
        for endpoint in endpoints:
            services.send_test_ping(endpoint=endpoint, by=request.user)
        self.message_user(
            request,
            ngettext(
                "A test ping is on its way to %(count)d endpoint; see the delivery log for the answer.",
                "A test ping is on its way to %(count)d endpoints; see the delivery log for the answers.",
                len(endpoints),
            )
            % {"count": len(endpoints)},
            messages.SUCCESS,
        )

    @admin.action(description=_("Rotate the signing secret (the old one signs too for a day)"))
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        endpoints = list(queryset)
        for endpoint in endpoints:
            services.rotate_secret(endpoint=endpoint)
        self.message_user(
            request,
            ngettext(
                "%(count)d endpoint has a new secret; give it to the client.",
                "%(count)d endpoints have a new secret; give it to the client.",
                len(endpoints),
            )
            % {"count": len(endpoints)},
            messages.SUCCESS,
        )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyRows, OpsModelAdmin):
    """The delivery log: each event sent to each endpoint, how it went; sent again on purpose."""

    list_display = (
        "created",
        "endpoint",
        "event_type",
        "state",
        "response_code",
        "attempts",
        "last_attempt",
        "delivered",
    )
    list_display_links = ("created",)
    list_filter = ("status", "event_type", "endpoint__tenant")
    search_fields = ("=event_id", "endpoint__name", "endpoint__url")
    list_select_related = ("endpoint",)
    actions = ("send_again",)
    fields = (
        "endpoint",
        "event_type",
        "event_id",
        "state",
        "response_code",
        "attempts",
        "created",
        "last_attempt",
        "next_attempt",
        "give_up",
        "delivered",
        "last_error",
        "requested_by",
        "body",
    )
    readonly_fields = fields

    @admin.display(description=_("created"), ordering="created_at")
    def created(self, delivery: WebhookDelivery) -> str:
        return _when(delivery.created_at)

    @admin.display(description=_("last attempt"), ordering="last_attempt_at")
    def last_attempt(self, delivery: WebhookDelivery) -> str:
        return _when(delivery.last_attempt_at)

    @admin.display(description=_("next attempt"))
    def next_attempt(self, delivery: WebhookDelivery) -> str:
        waiting = delivery.status == WebhookDelivery.Status.QUEUED
        return _when(delivery.next_attempt_at if waiting else None)

    @admin.display(description=_("give up at"))
    def give_up(self, delivery: WebhookDelivery) -> str:
        return _when(delivery.give_up_at)

    @admin.display(description=_("delivered"), ordering="delivered_at")
    def delivered(self, delivery: WebhookDelivery) -> str:
        return _when(delivery.delivered_at)

    @admin.display(description=_("status"), ordering="status")
    def state(self, delivery: WebhookDelivery) -> str:
        return format_html(
            '<strong style="color: {}">{}</strong>', STATUS_COLOURS[delivery.status], delivery.get_status_display()
        )

    @admin.action(description=_("Send again (same event id)"))
    def send_again(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        count = services.send_again(deliveries=queryset, by=request.user)
        self.message_user(
            request,
            ngettext(
                "%(count)d delivery is being sent again; its status shows how it went.",
                "%(count)d deliveries are being sent again; their status shows how they went.",
                count,
            )
            % {"count": count},
            messages.SUCCESS if count else messages.WARNING,
        )


class ApiTokenForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("scopes"),
        choices=Scope.choices,
        initial=default_scopes,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("What the token may do; to change them later, make a new token and revoke this one."),
    )

    class Meta:
        model = ApiToken
        fields = ("tenant", "name", "scopes")


@admin.register(ApiToken)
class ApiTokenAdmin(OpsModelAdmin):
    """A tenant's keys to the REST API: made here with their scopes (the key is shown once), revoked here."""

    form = ApiTokenForm
    list_display = ("name", "tenant", "key_start", "scope_list", "created", "last_used", "revoked")
    list_filter = ("tenant", ("revoked_at", admin.EmptyFieldListFilter))
    actions = ("revoke",)

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("tenant", "name", "scopes")
        return ("tenant", "name", "key_start", "scope_list", "created", "last_used", "revoked")

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> tuple[str, ...]:
        if obj is None:
            return ()
        return ("tenant", "key_start", "scope_list", "created", "last_used", "revoked")

    @admin.display(description=_("scopes"))
    def scope_list(self, token: ApiToken) -> str:
        return ", ".join(token.scopes)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # revoked, never deleted: the list keeps who had access

    def save_model(self, request: HttpRequest, obj: ApiToken, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        key = api_tokens.save_new_token(obj)
        self.message_user(
            request,
            format_html(
                "{} <code>{}</code>",
                gettext("The token's key, shown this once (only its digest is stored); give it to the client:"),
                key,
            ),
            messages.WARNING,
        )

    @admin.display(description=_("created"), ordering="created_at")
    def created(self, token: ApiToken) -> str:
        return _when(token.created_at)

    @admin.display(description=_("last used"), ordering="last_used_at")
    def last_used(self, token: ApiToken) -> str:
        return _when(token.last_used_at)

    @admin.display(description=_("revoked"), ordering="revoked_at")
    def revoked(self, token: ApiToken) -> str:
        return _when(token.revoked_at)

    @admin.action(description=_("Revoke (the token stops working at once)"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = api_tokens.revoke(tokens=queryset)
        self.message_user(
            request,
            ngettext("%(count)d token revoked.", "%(count)d tokens revoked.", count) % {"count": count},
            messages.SUCCESS,
        )
