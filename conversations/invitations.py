"""Proactive chat at run time: which invitation a page shows a visitor, and starting the chat when accepted.

The widget is told the candidate rule when it says hello, waits the rule's seconds on the page and
then asks to show it. The server decides twice (at hello and when asked) with everything as it is at
that moment, and the second time also checks that the page view it recorded is old enough, so an
invitation never shows outside service hours or with nobody free, whatever the widget says. The rules
and their address patterns are the tenant's (``tenants/proactive.py``).
"""

from __future__ import annotations

import datetime as dt
import functools

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from conversations import routing, selectors, services
from conversations.models import Conversation, Message, PageView, Visitor
from tenants.hours import is_open
from tenants.models import ProactiveRule, Tenant
from tenants.proactive import url_matches

# The client message id of an invitation's line: one per conversation, shown to the visitor as the
# team's first line (the widget knows the prefix).
INVITATION_ID_PREFIX = "invite:"

ERROR_NO_INVITATION = _("This invitation is no longer open.")


class _Moment:
    """The facts about now that several rules may ask for, each looked up at most once."""

    def __init__(self, tenant: Tenant, now: dt.datetime):
        self.tenant, self.now = tenant, now

    @functools.cached_property
    def in_service_hours(self) -> bool:
        return is_open(self.tenant, self.now)

    @functools.cached_property
    def agent_free(self) -> bool:
        return routing.eligible_agents(tenant=self.tenant, now=self.now).exists()

    def allows(self, rule: ProactiveRule, page_view: PageView) -> bool:
        """Say whether the rule applies to the page view now (its seconds on the page aside)."""
        if rule.returning_only and not page_view.returning:
            return False
        if not url_matches(rule.url_pattern, page_view.url):
            return False
        if rule.only_in_service_hours and not self.in_service_hours:
            return False
        return not (rule.only_when_agent_free and not self.agent_free)


def current_page_view(*, visitor: Visitor, page_view_id: int | None = None) -> PageView | None:
    """Return the visitor's page view of that id, or (without an id) their latest one."""
    views = PageView.objects.for_tenant(visitor.tenant).filter(visitor=visitor)
    if page_view_id:
        return views.filter(pk=page_view_id).first()
    return views.order_by("-viewed_at", "-pk").first()


def rule_for_page(
    *, tenant: Tenant, visitor: Visitor, page_view: PageView | None, now: dt.datetime | None = None
) -> ProactiveRule | None:
    """Return the invitation rule that applies to the visitor's page now, lowest position first; None if none does.

    Nobody is invited while they have an open conversation.
    """
    now = now or timezone.now()
    if page_view is None or selectors.open_conversation_of(visitor=visitor) is not None:
        return None
    moment = _Moment(tenant, now)
    rules = ProactiveRule.objects.for_tenant(tenant).active().order_by("position", "pk")
    return next((rule for rule in rules if moment.allows(rule, page_view)), None)


def invitation_due(
    *, tenant: Tenant, visitor: Visitor, rule_id: int, page_view: PageView | None, now: dt.datetime | None = None
) -> ProactiveRule | None:
    """Return the rule if its invitation may be shown now: it applies, and the visitor has been on the page
    for at least its seconds (counted from the page view the server recorded, not from the widget's clock).
    """
    now = now or timezone.now()
    rule = ProactiveRule.objects.for_tenant(tenant).active().filter(pk=rule_id).first()
    if rule is None or page_view is None:
        return None
    if now - page_view.viewed_at < dt.timedelta(seconds=rule.seconds_on_page):
        return None
    if selectors.open_conversation_of(visitor=visitor) is not None:
        return None
    return rule if _Moment(tenant, now).allows(rule, page_view) else None


def is_invitation_line(message: Message, conversation: Conversation) -> bool:
    """Say whether a message is the invitation a proactive conversation opened with (shown as the team's)."""
    if message.sender != Message.Sender.SYSTEM:
        return False
    if message.client_msg_id.startswith(INVITATION_ID_PREFIX):
        return True
    # Conversations imported or seeded without the id: a proactive chat's first system line.
    return conversation.origin == Conversation.Origin.PROACTIVE and message.seq == 1


@transaction.atomic
def accept_invitation(
    *,
    tenant: Tenant,
    visitor: Visitor,
    rule_id: int,
    page_view: PageView | None,
    shown: bool = False,
    ip_address: str | None = None,
    now: dt.datetime | None = None,
    route: bool = True,
) -> tuple[Conversation, Message | None]:
    """Start the proactive conversation of an accepted invitation, with its text as the first line.

    The invitation must have been shown on the visitor's connection (``shown``: accepted whatever
    changed since), or be due now (the widget may still show it after a reconnect); otherwise
    ValidationError "no_invitation". The conversation is routed like any other (an agent now, or the
    queue). A visitor who already has an open conversation gets it back unchanged and no line (a
    double click, a second tab). The line is published to the conversation after commit; the caller
    hands it to the visitor too, whose socket joins the conversation only afterwards. ``route=False``
    leaves it for the caller to assign, as when writing history (see ``services.start_conversation``).
    """
    now = now or timezone.now()
    if shown:
        rule = ProactiveRule.objects.for_tenant(tenant).filter(pk=rule_id).first()
    else:
        rule = invitation_due(tenant=tenant, visitor=visitor, rule_id=rule_id, page_view=page_view, now=now)
    if rule is None:
        raise ValidationError(ERROR_NO_INVITATION, code="no_invitation")
    # The same lock start_conversation takes: two accepts at once start one conversation.
    Visitor.objects.for_tenant(visitor.tenant_id).select_for_update().get(pk=visitor.pk)
    existing = selectors.open_conversation_of(visitor=visitor)
    if existing is not None:
        return existing, None
    conversation = services.start_conversation(
        tenant=tenant,
        visitor=visitor,
        origin=Conversation.Origin.PROACTIVE,
        ip_address=ip_address,
        now=now,
        route=route,
    )
    conversation.proactive_rule = rule
    conversation.save(update_fields=["proactive_rule"])
    line, _created = services.post_system_message(
        conversation=conversation, body=rule.message, client_msg_id=f"{INVITATION_ID_PREFIX}{rule.pk}", now=now
    )
    conversation.refresh_from_db()
    return conversation, line
