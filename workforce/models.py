"""The people who answer: agents, their training per tenant (qualifications), their shifts, and their
acknowledgements of the tenants' change notices."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from moments.formatting import show_moment
from tenants.models import ChangeNotice
from tenants.scoping import TenantOwnedModel, TenantQuerySet

MAX_SHIFT_HOURS = 16

ERROR_SHIFT_OVERLAPS = _("%(agent)s already has a shift %(start)s–%(end)s that overlaps this one.")
ERROR_SHIFT_TOO_LONG = _("A shift can last at most %(hours)d hours.")
ERROR_SHIFT_ENDS_BEFORE_START = _("A shift must end after it starts.")


def validate_languages(value: object) -> None:
    codes = {code for code, _name in settings.LANGUAGES}
    if not isinstance(value, list) or not set(value) <= codes:
        raise ValidationError(_("Choose languages from the list."))


class AgentQuerySet(models.QuerySet):
    def reachable(self, now: dt.datetime) -> AgentQuerySet:
        """Return the agents who are online with a live console: one that has pinged within the window.

        The window is settings.CHAT_CONSOLE_ALIVE_SECONDS (30 s): a console pings every 10 s, and the
        server closes one that has not pinged for 30 s (conversations.consumers).
        """
        window = dt.timedelta(seconds=settings.CHAT_CONSOLE_ALIVE_SECONDS)
        return self.filter(presence=Agent.Presence.ONLINE, last_seen_at__gte=now - window)


class Agent(models.Model):
    """A trained chat agent: one per user account."""

    class Presence(models.TextChoices):
        ONLINE = "online", _("Online")
        AWAY = "away", _("Away")
        OFFLINE = "offline", _("Offline")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agent", verbose_name=_("user")
    )
    display_name = models.CharField(
        _("display name"), max_length=60, help_text=_("The name visitors see, e.g. “Anna”.")
    )
    languages = models.JSONField(_("languages"), default=list, blank=True, validators=[validate_languages])
    max_concurrent_chats = models.PositiveSmallIntegerField(
        _("maximum concurrent chats"), default=3, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )
    presence = models.CharField(_("presence"), max_length=8, choices=Presence.choices, default=Presence.OFFLINE)
    presence_changed_at = models.DateTimeField(_("presence changed"), default=timezone.now, editable=False)
    # Refreshed by the console's pings (at most every few seconds); an online agent silent past the grace
    # period is set offline and their chats go back to the queue (conversations.timers).
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True, editable=False)

    objects = AgentQuerySet.as_manager()

    class Meta:
        ordering = ["display_name"]
        verbose_name = _("agent")
        verbose_name_plural = _("agents")

    def __str__(self) -> str:
        return self.display_name


class QualificationQuerySet(TenantQuerySet):
    def completed(self) -> QualificationQuerySet:
        """Return the qualifications whose training is complete: only these make an agent eligible."""
        return self.filter(training_completed_on__isnull=False)


class Qualification(TenantOwnedModel):
    """An agent's training for one tenant; only a completed one makes the agent eligible."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="qualifications", verbose_name=_("agent"))
    training_started_on = models.DateField(_("training started"), default=dt.date.today)
    training_completed_on = models.DateField(_("training completed"), null=True, blank=True)

    objects = QualificationQuerySet.as_manager()

    class Meta:
        ordering = ["agent", "tenant"]
        verbose_name = _("qualification")
        verbose_name_plural = _("qualifications")
        constraints = [
            models.UniqueConstraint(fields=["agent", "tenant"], name="one_qualification_per_agent_tenant"),
            models.CheckConstraint(
                condition=Q(training_completed_on__isnull=True)
                | Q(training_completed_on__gte=F("training_started_on")),
                name="training_completes_after_it_starts",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agent} · {self.tenant}"

    @property
    def is_completed(self) -> bool:
        return self.training_completed_on is not None

    def clean(self) -> None:
        if (
            self.training_completed_on
            and self.training_started_on
            and (self.training_completed_on < self.training_started_on)
        ):
            raise ValidationError({"training_completed_on": _("Training cannot be completed before it started.")})


class ShiftQuerySet(models.QuerySet):
    def overlapping(self, starts_at: dt.datetime, ends_at: dt.datetime) -> ShiftQuerySet:
        """Return the shifts that share any moment with [starts_at, ends_at)."""
        return self.filter(starts_at__lt=ends_at, ends_at__gt=starts_at)

    def on_at(self, moment: dt.datetime) -> ShiftQuerySet:
        """Return the shifts running at the moment."""
        return self.filter(starts_at__lte=moment, ends_at__gt=moment)


class Shift(models.Model):
    """A planned stretch of work; one agent's shifts never overlap."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="shifts", verbose_name=_("agent"))
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = ShiftQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "agent"]
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="shift_ends_after_start"),
        ]
        indexes = [models.Index(fields=["agent", "starts_at"]), models.Index(fields=["starts_at", "ends_at"])]

    def __str__(self) -> str:
        # On the current clock (the server's in the admin), labelled.
        return f"{self.agent} {show_moment(self.starts_at, style='weekday')}–{show_moment(self.ends_at, style='time')}"

    def clean(self) -> None:
        if self.starts_at is None or self.ends_at is None:
            return
        if self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": ERROR_SHIFT_ENDS_BEFORE_START})
        if self.ends_at - self.starts_at > dt.timedelta(hours=MAX_SHIFT_HOURS):
            raise ValidationError({"ends_at": ERROR_SHIFT_TOO_LONG % {"hours": MAX_SHIFT_HOURS}})
        if self.agent_id is None:
            return
        clash = (
            Shift.objects.filter(agent_id=self.agent_id)
            .overlapping(self.starts_at, self.ends_at)
            .exclude(pk=self.pk)
            .first()
        )
        if clash is not None:
            raise ValidationError(
                ERROR_SHIFT_OVERLAPS
                % {
                    "agent": self.agent,
                    "start": show_moment(clash.starts_at, style="weekday"),
                    "end": show_moment(clash.ends_at, style="time"),
                }
            )


class ChangeNoticeAcknowledgement(models.Model):
    """An agent's confirmation that they have read a change notice (the notice is the tenant's, the act the agent's)."""

    notice = models.ForeignKey(
        ChangeNotice, on_delete=models.CASCADE, related_name="acknowledgements", verbose_name=_("notice")
    )
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, verbose_name=_("agent"))
    acknowledged_at = models.DateTimeField(_("acknowledged"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("acknowledgement")
        verbose_name_plural = _("acknowledgements")
        constraints = [models.UniqueConstraint(fields=["notice", "agent"], name="acknowledge_once")]

    def __str__(self) -> str:
        return f"{self.agent} · {self.notice}"
