"""Visitors, their page views, conversations and messages."""

from __future__ import annotations

import uuid

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from conversations.fields import SealableCharField, SealableEmailField, SealableTextField
from moments.formatting import show_moment
from outbox.models import outgoing_email_link
from tenants.scoping import TenantOwnedModel, TenantQuerySet


class Visitor(TenantOwnedModel):
    """A browser on a client's site, known by the signed token the widget keeps."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    first_seen_at = models.DateTimeField(_("first seen"), default=timezone.now)
    last_seen_at = models.DateTimeField(_("last seen"), default=timezone.now)
    name = SealableCharField(_("name"), max_length=120, blank=True)
    email = SealableEmailField(_("e-mail"), blank=True)
    phone = SealableCharField(_("phone"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("visitor")
        verbose_name_plural = _("visitors")
        indexes = [models.Index(fields=["tenant", "first_seen_at"])]

    def __str__(self) -> str:
        return self.name or str(self.public_id)[:8]


class PageView(TenantOwnedModel):
    """A page of the client's site opened with the widget on it."""

    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="page_views", verbose_name=_("visitor"))
    url = models.URLField(_("address"), max_length=2000)
    title = models.CharField(_("title"), max_length=300, blank=True)
    viewed_at = models.DateTimeField(_("viewed"), default=timezone.now)
    returning = models.BooleanField(_("returning visitor"), default=False)

    class Meta:
        verbose_name = _("page view")
        verbose_name_plural = _("page views")
        indexes = [
            models.Index(fields=["tenant", "viewed_at"]),
            # The visitor KPIs count distinct visitors of a period from the index alone (an index-only scan).
            models.Index(fields=["tenant", "viewed_at", "visitor", "returning"]),
        ]

    def __str__(self) -> str:
        return self.url


class VisitorSpan(models.TextChoices):
    """The calendar periods whose distinct visitors are tallied as page views arrive."""

    DAY = "day", _("day")
    WEEK = "week", _("week")
    MONTH = "month", _("month")


class VisitorTally(TenantOwnedModel):
    """The distinct visitors of one local day, week or month of a tenant: a rollup of its page views.

    ``conversations.visitor_tallies`` keeps it as page views are recorded and rebuilds it from them;
    the KPI module reads it instead of counting page views when the tenant's tally covers the period.
    """

    zone = models.CharField(_("time zone"), max_length=64)
    span = models.CharField(_("span"), max_length=5, choices=VisitorSpan.choices)
    first_day = models.DateField(_("first day"))
    visitors = models.PositiveIntegerField(_("visitors"), default=0)
    returning_visitors = models.PositiveIntegerField(_("returning visitors"), default=0)

    class Meta:
        verbose_name = _("visitor tally")
        verbose_name_plural = _("visitor tallies")
        constraints = [
            models.UniqueConstraint(fields=["tenant", "zone", "span", "first_day"], name="visitor_tally_once"),
        ]

    def __str__(self) -> str:
        return f"{self.span} {self.first_day:%Y-%m-%d} ({self.zone}): {self.visitors}"


class VisitorMark(TenantOwnedModel):
    """A visitor already counted in one local day, week or month (and whether as returning).

    The unique constraint is what makes every visitor count once even when two of their page views
    arrive at the same moment. Marks of periods that are over are no longer needed and are pruned.
    """

    zone = models.CharField(_("time zone"), max_length=64)
    span = models.CharField(_("span"), max_length=5, choices=VisitorSpan.choices)
    first_day = models.DateField(_("first day"))
    returning = models.BooleanField(_("returning visitor"))
    # Not indexed on its own: marks are few (current periods only) and a visitor is rarely deleted.
    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, db_index=False, verbose_name=_("visitor"))

    class Meta:
        verbose_name = _("visitor mark")
        verbose_name_plural = _("visitor marks")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "zone", "span", "first_day", "returning", "visitor"], name="visitor_mark_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.visitor_id} {self.span} {self.first_day:%Y-%m-%d}"


class ConversationQuerySet(TenantQuerySet):
    """Conversations, with the rules about which of them are still open written once."""

    @staticmethod
    def open_condition() -> Q:
        """Return the condition an open conversation meets (waiting or active), to combine with others."""
        return ~Q(status=Conversation.Status.CLOSED)

    def open(self) -> ConversationQuerySet:
        """Return the conversations that have not been closed (waiting or active)."""
        return self.filter(self.open_condition())

    def open_of(self, visitor: Visitor | OuterRef) -> ConversationQuerySet:
        """Return the visitor's open conversation first (a visitor has at most one; the latest counts).

        ``visitor`` may be an expression such as ``OuterRef("pk")`` for a subquery.
        """
        return self.filter(visitor=visitor).open().order_by("-started_at")


class Conversation(TenantOwnedModel):
    """One chat between a visitor and the team, with the moments the KPIs are measured from."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        ACTIVE = "active", _("Active")
        CLOSED = "closed", _("Closed")

    class Origin(models.TextChoices):
        REACTIVE = "reactive", _("Visitor started")
        PROACTIVE = "proactive", _("Invitation accepted")
        OFFLINE_MESSAGE = "offline", _("Message outside service hours")

    class Outcome(models.TextChoices):
        RESOLVED = "resolved", _("Resolved")
        LEAD = "lead", _("Lead")
        BOOKING = "booking", _("Booking")
        SALE = "sale", _("Sale")
        ESCALATED = "escalated", _("Escalated to the client")
        SPAM = "spam", _("Spam or no message")
        # Set by the live-chat clock, never by an agent: the visitor had no page with the chat open for the
        # tenant's set time (conversations.timers.close_abandoned_chats).
        VISITOR_LEFT = "visitor_left", _("Visitor left")

    RESOLVED_OUTCOMES = (Outcome.RESOLVED, Outcome.LEAD, Outcome.BOOKING, Outcome.SALE)

    visitor = models.ForeignKey(
        Visitor, on_delete=models.CASCADE, related_name="conversations", verbose_name=_("visitor")
    )
    agent = models.ForeignKey(
        "workforce.Agent",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
        verbose_name=_("agent"),
    )
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.WAITING)
    origin = models.CharField(_("origin"), max_length=10, choices=Origin.choices, default=Origin.REACTIVE)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    first_visitor_message_at = models.DateTimeField(_("first visitor message"), null=True, blank=True)
    assigned_at = models.DateTimeField(_("assigned"), null=True, blank=True)
    first_agent_reply_at = models.DateTimeField(_("first agent reply"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, blank=True)
    summary = SealableTextField(_("agent's summary"), blank=True)
    rating = models.PositiveSmallIntegerField(
        _("rating"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    rating_comment = SealableTextField(_("rating comment"), blank=True)
    last_seq = models.PositiveIntegerField(_("last sequence number"), default=0, editable=False)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True, editable=False)
    requeued_at = models.DateTimeField(_("offered to others"), null=True, blank=True, editable=False)
    supervisor_alerted_at = models.DateTimeField(_("supervisor alerted"), null=True, blank=True, editable=False)
    proactive_rule = models.ForeignKey(
        "tenants.ProactiveRule",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
        verbose_name=_("invitation rule"),
    )
    tags = models.ManyToManyField("conversations.Tag", blank=True, related_name="conversations", verbose_name=_("tags"))
    rated_at = models.DateTimeField(_("rated"), null=True, blank=True)
    # The visitor's widget sockets that follow the chat now, their last sign of life, and since when none
    # has followed it (empty while one does): conversations.services.visitor_arrived and friends. A chat
    # starts without one; a socket of a process that died stops counting once its pings stop.
    visitor_sockets = models.PositiveSmallIntegerField(
        _("visitor's widgets open"), default=0, db_default=0, editable=False
    )
    visitor_seen_at = models.DateTimeField(_("visitor last seen"), null=True, blank=True, editable=False)
    visitor_left_at = models.DateTimeField(
        _("visitor left"), null=True, blank=True, default=timezone.now, editable=False
    )

    objects = ConversationQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        indexes = [
            models.Index(fields=["tenant", "started_at"]),
            models.Index(fields=["tenant", "status"]),
            models.Index(fields=["ip_address", "started_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5), name="rating_from_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        # On the current clock (the server's in the admin), labelled: never an unlabelled UTC time.
        return f"#{self.pk} {show_moment(self.started_at)}"


def email_reference(conversation_id: int) -> str:
    """Return what the outbox's e-mails about a conversation are filed under (they go when it is purged)."""
    return f"conversation:{conversation_id}"


class Message(TenantOwnedModel):
    """One line of a conversation, numbered within it; stored before anyone is told of it."""

    class Sender(models.TextChoices):
        VISITOR = "visitor", _("Visitor")
        AGENT = "agent", _("Agent")
        SYSTEM = "system", _("System")

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages", verbose_name=_("conversation")
    )
    seq = models.PositiveIntegerField(_("sequence number"))
    sender = models.CharField(_("sender"), max_length=8, choices=Sender.choices)
    agent = models.ForeignKey(
        "workforce.Agent", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("agent")
    )
    body = SealableTextField(_("text"))
    client_msg_id = models.CharField(_("client message id"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("sent"), default=timezone.now)

    class Meta:
        ordering = ["conversation", "seq"]
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        constraints = [
            models.UniqueConstraint(fields=["conversation", "seq"], name="one_message_per_seq"),
            models.UniqueConstraint(
                fields=["conversation", "client_msg_id"],
                condition=~Q(client_msg_id=""),
                name="client_message_stored_once",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "created_at"])]

    def __str__(self) -> str:
        return f"{self.conversation_id}#{self.seq}"


class Transfer(TenantOwnedModel):
    """A chat handed from one agent to another, with the note that went with it."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="transfers", verbose_name=_("conversation")
    )
    from_agent = models.ForeignKey(
        "workforce.Agent", on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("from")
    )
    to_agent = models.ForeignKey(
        "workforce.Agent", on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("to")
    )
    note = SealableTextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("transferred"), default=timezone.now)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")

    def __str__(self) -> str:
        return f"{self.conversation_id}: {self.from_agent} → {self.to_agent}"


class Tag(TenantOwnedModel):
    """A label agents put on a tenant's conversations (e.g. "pricing", "complaint")."""

    name = models.CharField(_("name"), max_length=40)

    class Meta:
        ordering = ["tenant", "name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="unique_tag_per_tenant")]

    def __str__(self) -> str:
        return self.name


class Note(TenantOwnedModel):
    """An agent's private note on a conversation: for the team, never shown to the visitor."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="notes", verbose_name=_("conversation")
    )
    agent = models.ForeignKey(
        "workforce.Agent", on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("agent")
    )
    body = SealableTextField(_("text"))
    created_at = models.DateTimeField(_("written"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("private note")
        verbose_name_plural = _("private notes")

    def __str__(self) -> str:
        return f"{self.conversation_id}: {self.body[:40]}"


class Lead(TenantOwnedModel):
    """A visitor who wants something the client sells: the contact the client follows up."""

    conversation = models.OneToOneField(
        Conversation, on_delete=models.CASCADE, related_name="lead", verbose_name=_("conversation")
    )
    name = SealableCharField(_("name"), max_length=120, blank=True)
    email = SealableEmailField(_("e-mail"), blank=True)
    phone = SealableCharField(_("phone"), max_length=40, blank=True)
    wants = SealableTextField(_("what they want"))
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)
    # Set when the client's system (its CRM, through the API) says someone has followed the lead up.
    handled_at = models.DateTimeField(_("handled"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        constraints = [
            models.CheckConstraint(condition=~Q(email="") | ~Q(phone=""), name="lead_has_email_or_phone"),
        ]

    def __str__(self) -> str:
        return self.name or self.email or self.phone


class Handoff(TenantOwnedModel):
    """An escalation report: what the client must take over, e-mailed to its escalation contacts.

    ``outgoing`` is the report's latest e-mail in the outbox, whose status is the report's; none means
    the tenant had no escalation contact when it was to be sent.
    """

    conversation = models.OneToOneField(
        Conversation, on_delete=models.CASCADE, related_name="handoff", verbose_name=_("conversation")
    )
    agent = models.ForeignKey(
        "workforce.Agent", on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("agent")
    )
    summary = SealableTextField(_("agent's summary"))
    visitor_name = SealableCharField(_("visitor's name"), max_length=120, blank=True)
    visitor_email = SealableEmailField(_("visitor's e-mail"), blank=True)
    visitor_phone = SealableCharField(_("visitor's phone"), max_length=40, blank=True)
    promise = SealableTextField(_("promised to the visitor"))
    promised_by = models.DateTimeField(_("promised by"))
    outgoing = outgoing_email_link()
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("handoff report")
        verbose_name_plural = _("handoff reports")
        indexes = [models.Index(fields=["created_at"], name="conversatio_handoff_created")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(visitor_email="") | ~Q(visitor_phone=""), name="handoff_has_visitor_contact"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} #{self.conversation_id}"


class TranscriptRequest(TenantOwnedModel):
    """A visitor's request to have the conversation's transcript e-mailed to them; sent once.

    ``outgoing`` is the transcript's latest e-mail in the outbox, whose status is the request's.
    """

    conversation = models.OneToOneField(
        Conversation, on_delete=models.CASCADE, related_name="transcript_request", verbose_name=_("conversation")
    )
    email = SealableEmailField(_("e-mail"))
    outgoing = outgoing_email_link()
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("transcript request")
        verbose_name_plural = _("transcript requests")

    def __str__(self) -> str:
        return f"{self.conversation_id} → {self.email}"


LIVE_CHAT_CLOCK = "live-chat"


class ClockRun(models.Model):
    """When a clock of the live chat last finished a run: one row per clock, for the operations board."""

    name = models.CharField(_("clock"), max_length=40, unique=True)
    last_ran_at = models.DateTimeField(_("last ran"))

    class Meta:
        verbose_name = _("clock run")
        verbose_name_plural = _("clock runs")

    def __str__(self) -> str:
        return f"{self.name} {self.last_ran_at:%Y-%m-%d %H:%M:%S}"
