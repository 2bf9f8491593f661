"""Webhooks: a tenant's endpoints and one delivery row per endpoint and event."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from conversations.fields import SealableTextField
from conversations.models import Conversation
from integrations.addresses import RefusedAddress, check_url
from tenants.scoping import TenantOwnedModel

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix that marks a secret, not one)


def new_secret() -> str:
    """Return a fresh signing secret (256 random bits)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


class EventType(models.TextChoices):
    LEAD_CREATED = "lead.created", _("Lead created")
    HANDOFF_CREATED = "handoff.created", _("Handoff report created")
    CONVERSATION_CLOSED = "conversation.closed", _("Conversation closed (with its outcome)")
    RATING_GIVEN = "rating.given", _("Rating given")
    OFFLINE_MESSAGE_LEFT = "offline_message.left", _("Offline message left")
    REPORT_READY = "report.ready", _("Weekly or monthly report ready")


PING = "ping"


class WebhookEndpoint(TenantOwnedModel):
    """An address of the client's system that wants some of the tenant's events, signed with its secret.

    During a rotation the previous secret signs too, until ``previous_secret_until``: the client
    changes its receiver in that time without refusing a single delivery.
    """

    name = models.CharField(_("name"), max_length=80)
    url = models.URLField(_("address"), max_length=500)
    events = models.JSONField(_("events"), default=list, help_text=_("The events sent to this address."))
    active = models.BooleanField(_("active"), default=True)
    secret = models.CharField(_("signing secret"), max_length=100, default=new_secret, editable=False)
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    previous_secret_until = models.DateTimeField(
        _("previous secret valid until"), null=True, blank=True, editable=False
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["tenant__name", "name"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return f"{self.name} ({self.url})"

    def clean(self) -> None:
        """Refuse an address chatops must not send to (integrations.addresses: public http(s) only)."""
        if not self.url:
            return
        try:
            check_url(self.url)
        except RefusedAddress as refused:
            raise ValidationError({"url": str(refused)}) from None

    def signing_secrets(self, *, now: dt.datetime) -> list[str]:
        """Return the secrets that sign a delivery now: the current one, and the previous one while it is valid."""
        valid_previous = self.previous_secret and self.previous_secret_until and now < self.previous_secret_until
        return [self.secret, self.previous_secret] if valid_previous else [self.secret]

    def wants(self, event_type: str) -> bool:
        """Say whether this endpoint takes the event (a test ping goes to any endpoint)."""
        return event_type == PING or event_type in self.events


class WebhookDelivery(TenantOwnedModel):
    """One event for one endpoint: its body as first composed, and how sending it went.

    Written in the business transaction that made the event. Sending is leased like the e-mail
    outbox's: an attempt marks the row SENDING until ``leased_until`` and only the holder of the
    lease records the outcome; a row whose lease ran out (its worker died) is taken again. Failures
    are retried with exponential back-off until ``give_up_at``, then the row is FAILED.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("endpoint")
    )
    event_id = models.UUIDField(_("event id"), default=uuid.uuid4)
    event_type = models.CharField(_("event"), max_length=40)
    # Sealed (conversations.sealing) when the tenant encrypts its chats at rest; plain rows read as they are.
    body = SealableTextField(_("body"))
    # The chat the event is about, if any: an erasure of its visitor blanks the body (services.forget_conversations).
    conversation = models.ForeignKey(
        Conversation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("conversation"),
    )
    status = models.CharField(_("status"), max_length=9, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    give_up_at = models.DateTimeField(_("give up at"))
    lease_token = models.CharField(max_length=32, blank=True, editable=False)
    leased_until = models.DateTimeField(_("leased until"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    response_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sent on purpose by"),
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [models.UniqueConstraint(fields=["endpoint", "event_id"], name="webhook_once_per_endpoint")]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_due"),
            models.Index(fields=["status", "leased_until"], name="webhook_leased"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


API_TOKEN_PREFIX = "chatops_"  # noqa: S105 (marks a token in logs and secret scanners; not a token)


class Scope(models.TextChoices):
    """What a token may do: read everything of its tenant, or also write one kind of row."""

    READ = "read", _("Read leads, conversations, handoff reports, ratings and figures")
    LEADS_WRITE = "leads:write", _("Mark leads handled")
    KNOWLEDGE_WRITE = "knowledge:write", _("Add knowledge-base articles")


def default_scopes() -> list[str]:
    """Return the scopes of a token made without a choice (and of tokens made before scopes): read only."""
    return [Scope.READ.value]


def validate_scopes(value: object) -> None:
    if not isinstance(value, list) or any(scope not in Scope.values for scope in value):
        raise ValidationError(_("Choose scopes from: %(scopes)s."), params={"scopes": ", ".join(Scope.values)})


class ApiToken(TenantOwnedModel):
    """A named key to the REST API, good for its tenant's data only; only its SHA-256 is stored.

    The token has 256 random bits, so a fast hash is enough: nobody guesses it from the digest.
    """

    name = models.CharField(_("name"), max_length=80)
    key_digest = models.CharField(max_length=64, unique=True, editable=False)
    key_start = models.CharField(_("starts with"), max_length=16, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)
    scopes = models.JSONField(
        _("scopes"), default=default_scopes, validators=[validate_scopes], help_text=_("What the token may do.")
    )

    class Meta:
        ordering = ["tenant__name", "name"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.key_start}…)"

    def allows(self, scope: str) -> bool:
        """Say whether the token's scopes cover ``scope``."""
        return scope in self.scopes
