"""Reads about tenants: for the operations admin (checklist, snippet, content) and the console (the tenant's
brief, a notice as shown, canned responses); who has read a notice is the workforce's (workforce.selectors)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Prefetch, QuerySet

from tenants import onboarding, scoping
from tenants.models import (
    CannedResponse,
    ChangeNotice,
    ClientUser,
    KnowledgeArticle,
    OnboardingItem,
    Tenant,
)


def tenant_by_id(tenant_id: int) -> Tenant | None:
    """Return the tenant of that id, or None if there is none (any more)."""
    return Tenant.objects.filter(pk=tenant_id).first()


def tenants_by_name() -> QuerySet[Tenant]:
    """Return every tenant, by name (to choose one from a list)."""
    return Tenant.objects.order_by("name")


def tenants_by_slug(slugs: list[str]) -> tuple[list[Tenant], list[str]]:
    """Return the tenants with these short names (every tenant if none is given), in the order they were
    made, and the names no tenant has."""
    tenants = Tenant.objects.order_by("pk")
    if not slugs:
        return list(tenants), []
    found = list(tenants.filter(slug__in=slugs))
    return found, sorted(set(slugs) - {tenant.slug for tenant in found})


def with_checklist(tenants: QuerySet[Tenant]) -> QuerySet[Tenant]:
    """Return the tenants with their onboarding steps fetched in one more query, not one per tenant."""
    return tenants.prefetch_related(
        Prefetch("onboardingitem_set", queryset=OnboardingItem.objects.order_by("position"))
    )


def checklist_progress(*, tenant: Tenant, now: dt.datetime | None = None) -> onboarding.Progress:
    """Return how many steps are done and overdue; uses the steps fetched by with_checklist if there."""
    return onboarding.progress_of(tenant.onboardingitem_set.all(), onboarding.tenant_today(tenant, now))


def widget_embed_snippet(*, tenant: Tenant) -> str:
    """Return the HTML line the client pastes into their pages to load the chat widget."""
    return f'<script async src="{settings.SITE_URL}/widget.js" data-key="{tenant.widget_key}"></script>'


@dataclass(frozen=True)
class TenantContent:
    articles: int
    canned_responses: int
    change_notices: int
    client_users: int
    trained_agents: int


def tenant_content(*, tenant: Tenant) -> TenantContent:
    """Count what the team has ready for the tenant: knowledge, answers, notices, logins, trained agents."""
    return TenantContent(
        articles=KnowledgeArticle.objects.for_tenant(tenant).count(),
        canned_responses=CannedResponse.objects.for_tenant(tenant).count(),
        change_notices=ChangeNotice.objects.for_tenant(tenant).count(),
        client_users=ClientUser.objects.for_tenant(tenant).count(),
        trained_agents=scoping.trained_agent_count(tenant),
    )


# --- What an agent sees of a tenant beside a chat ------------------------------------------------

CANNED_RESPONSES_SHOWN = 8


def notice_payload(notice: ChangeNotice, acknowledged_at: dt.datetime | None) -> dict[str, Any]:
    """Return a change notice as the console shows it."""
    return {
        "id": notice.pk,
        "tenant": notice.tenant_id,
        "tenant_name": notice.tenant.name,
        "title": notice.title,
        "body": notice.body,
        "created_at": notice.created_at.isoformat(),
        "acknowledged": acknowledged_at is not None,
        "acknowledged_at": acknowledged_at.isoformat() if acknowledged_at else None,
    }


def tenant_brief(*, tenant: Tenant) -> dict[str, Any]:
    """Return what an agent keeps in mind answering for the tenant: tone, style, goals, rules.

    The console's context card adds the agent's notices to it (``workforce.selectors.context_card``).
    """
    goals = dict(Tenant.Goal.choices)
    return {
        "id": tenant.pk,
        "name": tenant.name,
        "language": tenant.language,
        "time_zone": tenant.time_zone,
        "tone": tenant.tone,
        "tone_label": str(tenant.get_tone_display()),
        "style_notes": tenant.style_notes,
        "goals": [{"value": goal, "label": str(goals.get(goal, goal))} for goal in tenant.goals],
        "escalation_rules": tenant.escalation_rules,
    }


def canned_responses(*, tenant: Tenant, prefix: str = "", limit: int = CANNED_RESPONSES_SHOWN) -> list[dict[str, str]]:
    """Return the tenant's canned responses whose shortcut starts with the prefix (case-insensitive)."""
    responses = CannedResponse.objects.for_tenant(tenant).order_by("shortcut")
    prefix = prefix.strip().lstrip("/")
    if prefix:
        responses = responses.filter(shortcut__istartswith=prefix)
    return [{"shortcut": response.shortcut, "text": response.text} for response in responses[:limit]]
