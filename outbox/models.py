"""One row per outgoing e-mail: the message as it was composed, and how its sending went."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutgoingEmail(models.Model):
    """An e-mail composed in a business transaction and sent after it, by whoever holds its lease.

    The message is stored whole (``message``: the MIME bytes with CRLF line ends, its Message-ID
    among the headers), so every attempt sends exactly what was composed. Sending is leased: a
    sender marks the row SENDING until ``leased_until`` and only the lease holder may record the
    outcome; a row whose lease ran out (its worker died) is taken again.

    ``handed_over_at`` is written, under the lease, just before the last byte of the message (the
    end of DATA) goes to the mail server, and ``sent_at`` right after the server's 250. A worker that
    dies between the two leaves the row in the one window where the message may have arrived
    without being recorded: the next sender counts that in ``crashes_after_handover`` and sends it
    again with the same Message-ID (so the copy is recognisable), but after a second such death it
    stops at UNKNOWN rather than risk a third copy.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        UNKNOWN = "unknown", _("May have been sent")

    kind = models.CharField(_("kind"), max_length=40)
    reference = models.CharField(
        _("about"), max_length=100, blank=True, db_index=True, help_text=_("What the e-mail is about, e.g. a chat.")
    )
    message_id = models.CharField(_("Message-ID"), max_length=255, unique=True)
    from_email = models.TextField(_("from"))
    recipients = models.TextField(_("recipients"), help_text=_("One address per line."))
    subject = models.TextField(_("subject"))
    message = models.BinaryField(_("message"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    max_attempts = models.PositiveSmallIntegerField(_("most attempts"), default=8)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    lease_token = models.CharField(max_length=32, blank=True, editable=False)
    leased_until = models.DateTimeField(_("leased until"), null=True, blank=True)
    attempt_started_at = models.DateTimeField(_("last attempt started"), null=True, blank=True)
    handed_over_at = models.DateTimeField(_("handed to the mail server"), null=True, blank=True)
    crashes_after_handover = models.PositiveSmallIntegerField(default=0, editable=False)
    crashed_after_handover_at = models.DateTimeField(_("worker died after handing it over"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    refused_recipients = models.TextField(_("refused by the mail server"), blank=True)
    text_hidden = models.BooleanField(
        _("text hidden"),
        default=False,
        help_text=_("The admin does not show the text: it holds a personal sign-in link."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
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
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="outbox_due"),
            models.Index(fields=["status", "leased_until"], name="outbox_leased"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.subject}"

    def recipient_list(self) -> list[str]:
        """Return the addresses the message goes to."""
        return [line for line in self.recipients.splitlines() if line]


def outgoing_email_link() -> models.ForeignKey:
    """Return the foreign key a record keeps to its latest e-mail in the outbox (emptied if the e-mail goes)."""
    return models.ForeignKey(
        OutgoingEmail,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("outgoing e-mail"),
    )
