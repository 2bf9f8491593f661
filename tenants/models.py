"""Client companies (tenants) and everything the team needs to answer for them."""

from __future__ import annotations

import calendar
import datetime as dt
import secrets
import zoneinfo
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tenants.scoping import TenantOwnedModel, TenantQuerySet

WIDGET_KEY_PREFIX = "wk_"


def new_widget_key() -> str:
    """Return a fresh random widget key."""
    return WIDGET_KEY_PREFIX + secrets.token_urlsafe(18)


def add_months(day: dt.date, months: int) -> dt.date:
    """Return the same day ``months`` later, clamped to the end of a shorter month."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("“%(value)s” is not a known time zone, e.g. Europe/Helsinki."), params={"value": value})


def normalize_origin(value: str) -> str:
    """Return an origin as browsers send it (scheme://host[:port]); raise ValidationError if it is not one."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise ValidationError(
            _("“%(value)s” is not a web origin; write it like https://www.example.com"),
            params={"value": value.strip()},
        )
    if parts.query or parts.fragment or parts.username:
        raise ValidationError(_("“%(value)s” must not contain a path, query or login."), params={"value": value})
    default_port = {"http": 80, "https": 443}[parts.scheme]
    port = f":{parts.port}" if parts.port and parts.port != default_port else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"


def parse_origins(text: str) -> list[str]:
    """Split the allowed-origins text (one per line or comma separated) into normalized origins."""
    raw = [chunk for line in text.splitlines() for chunk in line.split(",")]
    return [normalize_origin(chunk) for chunk in raw if chunk.strip()]


def validate_origins(text: str) -> None:
    parse_origins(text)


def validate_goals(value: object) -> None:
    if not isinstance(value, list) or not set(value) <= set(Tenant.Goal.values):
        raise ValidationError(_("Choose goals from the list."))


class Tenant(models.Model):
    """A client company whose website chat the team staffs."""

    class Status(models.TextChoices):
        ONBOARDING = "onboarding", _("Onboarding")
        LIVE = "live", _("Live")
        PAUSED = "paused", _("Paused")
        ENDED = "ended", _("Ended")

    class Tone(models.TextChoices):
        CASUAL = "casual", _("Casual")
        FORMAL = "formal", _("Formal")

    class Goal(models.TextChoices):
        LEADS = "leads", _("Sales leads")
        BOOKINGS = "bookings", _("Bookings")
        SUPPORT = "support", _("Customer support")
        CAMPAIGNS = "campaigns", _("Campaigns")

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.ONBOARDING)
    contract_signed_on = models.DateField(_("contract signed"), default=dt.date.today)
    go_live_target = models.DateField(
        _("go-live target"), blank=True, help_text=_("Leave empty for one month after the contract date.")
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Helsinki", validators=[validate_time_zone]
    )
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="en")
    tone = models.CharField(_("tone"), max_length=8, choices=Tone.choices, default=Tone.FORMAL)
    style_notes = models.TextField(
        _("style notes"), blank=True, help_text=_("How the client wants to sound: greetings, words to use and avoid.")
    )
    goals = models.JSONField(_("goals of the chat"), default=list, blank=True, validators=[validate_goals])
    escalation_rules = models.TextField(
        _("escalation rules"),
        blank=True,
        help_text=_(
            "What the agents hand over to the client, and what they may promise the visitor "
            "(e.g. a reply within one working day)."
        ),
    )
    first_response_target_seconds = models.PositiveSmallIntegerField(
        _("first response target (seconds)"), default=10, validators=[MinValueValidator(1), MaxValueValidator(600)]
    )
    first_response_goal_percent = models.PositiveSmallIntegerField(
        _("first response goal (per cent of chats within the target)"),
        default=90,
        # Staffing plans for this share; 100 % within a time cannot be planned for (Erlang C never reaches it).
        validators=[MinValueValidator(1), MaxValueValidator(99)],
        help_text=_(
            "The first response target counts as met when at least this share of live chats is answered "
            "within the target time."
        ),
    )
    resolution_target_percent = models.PositiveSmallIntegerField(
        _("resolution target (%)"), default=90, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    abandoned_after_minutes = models.PositiveSmallIntegerField(
        _("close chats the visitor left after (minutes)"),
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(240)],
        help_text=_(
            "A chat whose visitor has had no page with the chat open for this long ends as “visitor left” "
            "and frees its agent."
        ),
    )
    widget_key = models.CharField(_("widget key"), max_length=40, unique=True, default=new_widget_key, editable=False)
    allowed_origins = models.TextField(
        _("allowed origins"),
        blank=True,
        validators=[validate_origins],
        help_text=_("The client's sites, one per line, e.g. https://www.example.com"),
    )
    widget_colour = models.CharField(
        _("widget colour"),
        max_length=7,
        default="#2563eb",
        validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", _("Write the colour as #RRGGBB, e.g. #2563eb."))],
    )
    greeting = models.CharField(
        _("greeting"), max_length=200, blank=True, help_text=_("The widget's first line; empty for the default.")
    )
    retention_days = models.PositiveIntegerField(
        _("retention (days)"),
        default=365,
        validators=[MinValueValidator(30), MaxValueValidator(3650)],
        help_text=_("Conversations older than this are deleted."),
    )
    encrypt_messages = models.BooleanField(
        _("encrypt messages at rest"),
        default=False,
        help_text=_(
            "Messages, notes, ratings' comments and visitors' contact details are stored encrypted. "
            "Changing this converts the stored conversations in the background."
        ),
    )
    # What the stored conversations are in (conversations.rekeying converts them after the flag changes,
    # once writers' remembered policies have expired), and when the flag last changed.
    stored_encrypted = models.BooleanField(_("stored encrypted"), default=False, editable=False)
    encryption_changed_at = models.DateTimeField(_("encryption changed"), null=True, blank=True, editable=False)
    # Card numbers are masked for every tenant; these two are a tenant's choice (conversations.redaction).
    mask_ibans = models.BooleanField(
        _("mask bank account numbers (IBAN)"),
        default=False,
        help_text=_("IBANs with a valid checksum are masked in chat texts before they are stored."),
    )
    mask_personal_ids = models.BooleanField(
        _("mask personal identity codes"),
        default=False,
        help_text=_("Finnish henkilötunnus and Polish PESEL codes are masked in chat texts before they are stored."),
    )
    widget_first_seen_at = models.DateTimeField(_("widget first seen"), null=True, blank=True, editable=False)
    went_live_at = models.DateTimeField(_("went live"), null=True, blank=True, editable=False)
    # Settable (not auto_now_add) so a service can record a past moment, e.g. a replayed history.
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    # Since when every page view has been tallied per local day, week and month, and in which zone
    # (conversations.visitor_tallies); empty until the first page view or a rebuild.
    visitors_tallied_since = models.DateTimeField(_("visitors tallied since"), null=True, blank=True, editable=False)
    visitors_tallied_in = models.CharField(_("visitors tallied in"), max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if not self.go_live_target and self.contract_signed_on:
            self.go_live_target = add_months(self.contract_signed_on, 1)
        if self._state.adding and self.visitors_tallied_since is None:
            # A new tenant has no page views yet: its visitor tally is complete from this moment on.
            self.visitors_tallied_since, self.visitors_tallied_in = timezone.now(), self.time_zone
        super().save(*args, **kwargs)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def origin_list(self) -> list[str]:
        """Return the allowed origins, normalized."""
        return parse_origins(self.allowed_origins)

    def accepts_origin(self, origin: str) -> bool:
        """Say whether the widget may run on a page of this origin."""
        try:
            return normalize_origin(origin) in self.origin_list()
        except ValidationError:
            return False


class ServiceHours(TenantOwnedModel):
    """One weekly opening range, in the tenant's time zone.

    A range whose closing time is at or before its opening time runs past midnight into the
    next day; 00:00–00:00 is the whole day.
    """

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("Monday")
        TUESDAY = 1, _("Tuesday")
        WEDNESDAY = 2, _("Wednesday")
        THURSDAY = 3, _("Thursday")
        FRIDAY = 4, _("Friday")
        SATURDAY = 5, _("Saturday")
        SUNDAY = 6, _("Sunday")

    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"), help_text=_("At or before the opening time: closes the next day."))

    class Meta:
        ordering = ["tenant", "weekday", "opens"]
        verbose_name = _("service hours")
        verbose_name_plural = _("service hours")

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"


class ServiceException(TenantOwnedModel):
    """A dated change to the weekly hours, such as a holiday; it replaces that day's ranges."""

    date = models.DateField(_("date"))
    closed = models.BooleanField(_("closed all day"), default=True)
    opens = models.TimeField(_("opens"), null=True, blank=True)
    closes = models.TimeField(_("closes"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=120, blank=True)

    class Meta:
        ordering = ["tenant", "date"]
        verbose_name = _("holiday or exception")
        verbose_name_plural = _("holidays and exceptions")
        constraints = [models.UniqueConstraint(fields=["tenant", "date"], name="one_exception_per_tenant_day")]

    def __str__(self) -> str:
        if self.closed:
            return f"{self.date:%Y-%m-%d} {_('closed')}"
        return f"{self.date:%Y-%m-%d} {self.opens:%H:%M}–{self.closes:%H:%M}"

    def clean(self) -> None:
        if not self.closed and (self.opens is None or self.closes is None):
            raise ValidationError(_("Give the opening and closing times, or tick “closed all day”."))


class KnowledgeArticle(TenantOwnedModel):
    """A fact sheet the agents answer from."""

    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    keywords = models.CharField(_("keywords"), max_length=300, blank=True)
    is_published = models.BooleanField(_("published"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # The words of title, keywords and text for PostgreSQL's full-text search (tenants/search.py), in the
    # tenant language's configuration. Kept by database triggers (migration 0003_b_knowledge_search), so every
    # way of writing an article, bulk or not, and a change of the tenant's language keep it right; empty on SQLite.
    search_document = SearchVectorField(null=True, editable=False)

    class Meta:
        ordering = ["tenant", "title"]
        verbose_name = _("knowledge-base article")
        verbose_name_plural = _("knowledge-base articles")

    def __str__(self) -> str:
        return self.title


class CannedResponse(TenantOwnedModel):
    """A ready answer an agent inserts by typing /shortcut."""

    shortcut = models.SlugField(_("shortcut"), max_length=40, help_text=_("Typed as /shortcut in the console."))
    text = models.TextField(_("text"))

    class Meta:
        ordering = ["tenant", "shortcut"]
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")
        constraints = [models.UniqueConstraint(fields=["tenant", "shortcut"], name="unique_shortcut_per_tenant")]

    def __str__(self) -> str:
        return f"/{self.shortcut}"


class ChangeNotice(TenantOwnedModel):
    """A change at the client every agent of the tenant must read and acknowledge."""

    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("change notice")
        verbose_name_plural = _("change notices")

    def __str__(self) -> str:
        return self.title


class ReportRecipient(TenantOwnedModel):
    """A contact at the client who receives reports and/or escalations."""

    name = models.CharField(_("name"), max_length=120, blank=True)
    email = models.EmailField(_("e-mail"))
    weekly = models.BooleanField(_("weekly report"), default=True)
    monthly = models.BooleanField(_("monthly report"), default=True)
    escalations = models.BooleanField(_("escalation contact"), default=False)

    class Meta:
        ordering = ["tenant", "email"]
        verbose_name = _("report recipient")
        verbose_name_plural = _("report recipients")
        constraints = [models.UniqueConstraint(fields=["tenant", "email"], name="unique_recipient_per_tenant")]

    def __str__(self) -> str:
        return self.name or self.email

    def clean(self) -> None:
        if not (self.weekly or self.monthly or self.escalations):
            raise ValidationError(_("Tick at least one of weekly report, monthly report or escalation contact."))


class ClientUser(TenantOwnedModel):
    """A login at the client company that sees only its own tenant's dashboard."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="client_profile", verbose_name=_("user")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("client user")
        verbose_name_plural = _("client users")

    def __str__(self) -> str:
        return self.user.get_full_name() or self.user.get_username()


class OnboardingItem(TenantOwnedModel):
    """One step of a tenant's onboarding checklist (the steps are in tenants/onboarding.py)."""

    key = models.CharField(_("step"), max_length=40)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    due_on = models.DateField(_("due"))
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, verbose_name=_("done by")
    )
    done_automatically = models.BooleanField(_("completed by the system"), default=False)
    overdue_notified_on = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["tenant", "position"]
        verbose_name = _("onboarding step")
        verbose_name_plural = _("onboarding checklist")
        constraints = [models.UniqueConstraint(fields=["tenant", "key"], name="one_step_per_tenant")]

    def __str__(self) -> str:
        return str(self.label)

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    @property
    def step(self):
        from tenants.onboarding import STEPS_BY_KEY

        return STEPS_BY_KEY[self.key]

    @property
    def label(self) -> str:
        return self.step.label

    @property
    def required(self) -> bool:
        return self.step.required_for_go_live

    @property
    def automatic(self) -> bool:
        return self.step.is_done is not None


class ProactiveRuleQuerySet(TenantQuerySet):
    def active(self) -> ProactiveRuleQuerySet:
        return self.filter(is_active=True)


class ProactiveRule(TenantOwnedModel):
    """An invitation the widget shows by itself: on matching pages, after some time, to chosen visitors."""

    name = models.CharField(_("name"), max_length=120, help_text=_("For the team, e.g. “Pricing page, 30 s”."))
    url_pattern = models.CharField(
        _("page address pattern"),
        max_length=500,
        default="*",
        help_text=_(
            "The address of the page; * stands for any text, e.g. https://www.example.com/pricing* or */checkout/*."
        ),
    )
    seconds_on_page = models.PositiveIntegerField(
        _("seconds on the page"), default=30, validators=[MaxValueValidator(3600)]
    )
    returning_only = models.BooleanField(_("returning visitors only"), default=False)
    only_in_service_hours = models.BooleanField(_("only during service hours"), default=True)
    only_when_agent_free = models.BooleanField(_("only when an agent is free"), default=True)
    message = models.CharField(_("invitation text"), max_length=300)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(
        _("order"), default=0, help_text=_("When several rules match a page, the lowest number is shown.")
    )

    objects = ProactiveRuleQuerySet.as_manager()

    class Meta:
        ordering = ["tenant", "position", "pk"]
        verbose_name = _("invitation rule")
        verbose_name_plural = _("invitation rules")

    def __str__(self) -> str:
        return self.name
