"""Which rows are the demo's, how many there are, and removing them (nothing else is ever touched).

Demo tenants are recognised by their short name together with a widget key of their own
(``wk_demo_<slug>``), demo users by username together with e-mail address.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy

from chatops.demo.description import Demo
from conversations.models import (
    Conversation,
    Handoff,
    Lead,
    Message,
    Note,
    PageView,
    Tag,
    TranscriptRequest,
    Visitor,
    VisitorMark,
    VisitorTally,
    email_reference,
)
from outbox import services as outbox
from outbox.models import OutgoingEmail
from tenants.models import ChangeNotice, ProactiveRule, Tenant
from workforce.models import Agent, ChangeNoticeAcknowledgement, Shift

ERROR_TENANT_NOT_DEMO = gettext_lazy(
    "A tenant with the short name “%(slug)s” exists and is not demo data; nothing was changed. "
    "Rename it or drop the database to seed the demo."
)
ERROR_USER_NOT_DEMO = gettext_lazy(
    "A user named “%(username)s” exists and is not a demo user; nothing was changed. "
    "Rename it or drop the database to seed the demo."
)


@dataclass(frozen=True)
class DemoCounts:
    """How many rows of each kind the demo has."""

    tenants: int
    agents: int
    shifts: int
    visitors: int
    page_views: int
    conversations: int
    messages: int
    invitation_rules: int
    tags: int
    tagged_conversations: int
    notes: int
    leads: int
    handoffs: int
    transcript_requests: int
    change_notices: int
    acknowledgements: int
    emails: int


def user_emails(demo: Demo) -> dict[str, str]:
    """Return each demo login's e-mail address by username."""
    team = demo.team
    emails = {team.manager_username: team.manager_email}
    emails.update({agent.username: agent.email for agent in team.agents})
    emails.update({tenant.client_username: tenant.client_email for tenant in demo.tenants})
    return emails


def demo_tenants(demo: Demo) -> QuerySet[Tenant]:
    """Return the demo tenants: a demo short name together with its demo widget key."""
    condition = Q(pk__in=[])
    for spec in demo.tenants:
        condition |= Q(slug=spec.slug, widget_key=spec.widget_key)
    return Tenant.objects.filter(condition)


def demo_users(demo: Demo) -> QuerySet:
    """Return the demo users: a demo username together with its demo e-mail address."""
    condition = Q(pk__in=[])
    for username, email in user_emails(demo).items():
        condition |= Q(username=username, email=email)
    return get_user_model().objects.filter(condition)


def demo_agents(demo: Demo) -> QuerySet[Agent]:
    """Return the agents of the demo users."""
    return Agent.objects.filter(user__in=demo_users(demo))


def find_conflicts(demo: Demo) -> list[str]:
    """Return why the demo cannot be seeded: tenants or users that use a demo name but are not demo data."""
    problems = []
    demo_ids = set(demo_tenants(demo).values_list("pk", flat=True))
    slugs = [spec.slug for spec in demo.tenants]
    for slug in Tenant.objects.filter(slug__in=slugs).exclude(pk__in=demo_ids).values_list("slug", flat=True):
        problems.append(ERROR_TENANT_NOT_DEMO % {"slug": slug})
    demo_user_ids = set(demo_users(demo).values_list("pk", flat=True))
    others = get_user_model().objects.filter(username__in=list(user_emails(demo))).exclude(pk__in=demo_user_ids)
    for username in others.values_list("username", flat=True):
        problems.append(ERROR_USER_NOT_DEMO % {"username": username})
    return problems


def demo_is_complete(demo: Demo) -> bool:
    """Say whether every demo tenant and every demo user is there."""
    return demo_tenants(demo).count() == len(demo.tenants) and demo_users(demo).count() == len(user_emails(demo))


def demo_counts(demo: Demo) -> DemoCounts:
    """Count the rows of the demo data."""
    tenants, agents = demo_tenants(demo), demo_agents(demo)
    return DemoCounts(
        tenants=tenants.count(),
        agents=agents.count(),
        shifts=Shift.objects.filter(agent__in=agents).count(),
        visitors=Visitor.objects.filter(tenant__in=tenants).count(),
        page_views=PageView.objects.filter(tenant__in=tenants).count(),
        conversations=Conversation.objects.filter(tenant__in=tenants).count(),
        messages=Message.objects.filter(tenant__in=tenants).count(),
        invitation_rules=ProactiveRule.objects.filter(tenant__in=tenants).count(),
        tags=Tag.objects.filter(tenant__in=tenants).count(),
        tagged_conversations=Conversation.objects.filter(tenant__in=tenants, tags__isnull=False).distinct().count(),
        notes=Note.objects.filter(tenant__in=tenants).count(),
        leads=Lead.objects.filter(tenant__in=tenants).count(),
        handoffs=Handoff.objects.filter(tenant__in=tenants).count(),
        transcript_requests=TranscriptRequest.objects.filter(tenant__in=tenants).count(),
        change_notices=ChangeNotice.objects.filter(tenant__in=tenants).count(),
        acknowledgements=ChangeNoticeAcknowledgement.objects.filter(notice__tenant__in=tenants).count(),
        emails=OutgoingEmail.objects.filter(reference__in=_email_references(tenants)).count(),
    )


def _email_references(tenants: QuerySet[Tenant]) -> list[str]:
    """Return what the outbox files the e-mails about the tenants' conversations under."""
    chats = Conversation.objects.filter(tenant__in=tenants).values_list("pk", flat=True)
    return [email_reference(conversation_id) for conversation_id in chats]


@transaction.atomic
def delete_demo_data(demo: Demo) -> None:
    """Delete the demo tenants with everything they own, and the demo users with their agents."""
    tenant_ids = list(demo_tenants(demo).values_list("pk", flat=True))
    outbox.forget(references=_email_references(Tenant.objects.filter(pk__in=tenant_ids)))
    # The bulky rows go first, child before parent, so Django needs few statements for them.
    Conversation.tags.through.objects.filter(conversation__tenant_id__in=tenant_ids).delete()
    for model in (Message, Note, Lead, Handoff, TranscriptRequest, Conversation, PageView, VisitorMark, VisitorTally):
        model.objects.filter(tenant_id__in=tenant_ids).delete()
    _delete_visitors(tenant_ids)
    Tenant.objects.filter(pk__in=tenant_ids).delete()
    demo_users(demo).delete()


def _delete_visitors(tenant_ids: list[int]) -> None:
    """Delete the tenants' visitors in one statement.

    Django's delete() would fetch every visitor and delete them a hundred at a time, seconds for
    the demo's thousands. Their page views and conversations are gone already, and anything else
    pointing at them belongs to the same tenants and goes with them below, in this transaction;
    foreign keys are checked at commit.
    """
    if not tenant_ids:
        return
    table = connection.ops.quote_name(Visitor._meta.db_table)
    column = connection.ops.quote_name(Visitor._meta.get_field("tenant").column)
    placeholders = ", ".join(["%s"] * len(tenant_ids))
    with connection.cursor() as cursor:
        # Only quoted identifiers are formatted in; the ids are parameters.
        cursor.execute(f"DELETE FROM {table} WHERE {column} IN ({placeholders})", tenant_ids)  # noqa: S608
