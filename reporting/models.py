"""Report deliveries: one record per tenant, kind of report and period, so each is sent once."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants.scoping import TenantOwnedModel


class ReportDelivery(TenantOwnedModel):
    """The weekly or monthly report of one tenant for one period, and how its sending went.

    The row is created before anything is sent and is unique per tenant, kind and period: a
    task that runs twice finds it and sends nothing more. ``SENDING`` is written (and committed)
    before the mail server is contacted, so a worker that dies mid-send leaves the row there
    instead of sending it again; an operations manager sees it in the admin and resends on purpose.
    """

    class Kind(models.TextChoices):
        WEEKLY = "weekly", _("Weekly report")
        MONTHLY = "monthly", _("Monthly report")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("report"), max_length=8, choices=Kind.choices)
    first_day = models.DateField(_("first day"), help_text=_("In the tenant's time zone."))
    last_day = models.DateField(_("last day"), help_text=_("In the tenant's time zone."))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    recipients = models.TextField(_("sent to"), blank=True)
    times_sent = models.PositiveSmallIntegerField(_("times sent"), default=0)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sent by"),
        help_text=_("Empty when the schedule sent it."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-first_day", "tenant", "kind"]
        verbose_name = _("report delivery")
        verbose_name_plural = _("report deliveries")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "kind", "first_day"], name="one_report_per_tenant_kind_period"),
            models.CheckConstraint(condition=Q(last_day__gte=F("first_day")), name="report_period_not_empty"),
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.tenant} · {self.get_kind_display()} {self.first_day:%Y-%m-%d}–{self.last_day:%Y-%m-%d}"

    def recipient_list(self) -> list[str]:
        """Return the addresses it was last sent to."""
        return [line for line in self.recipients.splitlines() if line]
