"""Report deliveries: one record per tenant, kind of report and period, so each is sent once."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from outbox.models import outgoing_email_link
from tenants.scoping import TenantOwnedModel


class ReportDelivery(TenantOwnedModel):
    """The weekly or monthly report of one tenant for one period, and the e-mail it went out in.

    The row is unique per tenant, kind and period, and is created when the report falls due (or an
    operations manager sends one): the schedule composes the report once, into the outbox, in the
    same transaction that links ``outgoing`` to it, so a schedule that runs twice queues nothing
    more. The report's state is its e-mail's; every e-mail about it (a resend on purpose too) is
    filed in the outbox under ``email_reference``. ``last_error`` says why the report could not be
    composed (the schedule tries again on its next run).
    """

    class Kind(models.TextChoices):
        WEEKLY = "weekly", _("Weekly report")
        MONTHLY = "monthly", _("Monthly report")

    kind = models.CharField(_("report"), max_length=8, choices=Kind.choices)
    first_day = models.DateField(_("first day"), help_text=_("In the tenant's time zone."))
    last_day = models.DateField(_("last day"), help_text=_("In the tenant's time zone."))
    outgoing = outgoing_email_link()
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-first_day", "tenant", "kind"]
        verbose_name = _("report delivery")
        verbose_name_plural = _("report deliveries")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "kind", "first_day"], name="one_report_per_tenant_kind_period"),
            models.CheckConstraint(condition=Q(last_day__gte=F("first_day")), name="report_period_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.tenant} · {self.get_kind_display()} {self.first_day:%Y-%m-%d}–{self.last_day:%Y-%m-%d}"

    @property
    def email_reference(self) -> str:
        """Return what the outbox files this report's e-mails under."""
        return f"report:{self.pk}"
