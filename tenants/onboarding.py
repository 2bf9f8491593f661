"""The one-month onboarding checklist: one template, due dates counted from the contract date.

Steps whose truth the system can see (articles written, agents trained, widget seen…) carry an
``is_done`` check and complete, or reopen, themselves when the checklist is refreshed; the others
are ticked by a person, who is recorded with the time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from tenants import scoping
from tenants.models import (
    CannedResponse,
    KnowledgeArticle,
    OnboardingItem,
    ReportRecipient,
    ServiceHours,
    Tenant,
)

MINIMUM_TRAINED_AGENTS = 2

ERROR_STEP_IS_AUTOMATIC = _("This step completes itself when the system sees it done; it cannot be ticked by hand.")


def _has_articles(tenant: Tenant) -> bool:
    return KnowledgeArticle.objects.for_tenant(tenant).filter(is_published=True).exists()


def _has_canned_responses(tenant: Tenant) -> bool:
    return CannedResponse.objects.for_tenant(tenant).exists()


def _has_service_hours(tenant: Tenant) -> bool:
    return ServiceHours.objects.for_tenant(tenant).exists()


def _has_trained_agents(tenant: Tenant) -> bool:
    return scoping.trained_agent_count(tenant) >= MINIMUM_TRAINED_AGENTS


def _widget_seen(tenant: Tenant) -> bool:
    return tenant.widget_first_seen_at is not None


def _has_report_recipients(tenant: Tenant) -> bool:
    return ReportRecipient.objects.for_tenant(tenant).filter(Q(weekly=True) | Q(monthly=True)).exists()


def _is_live(tenant: Tenant) -> bool:
    return tenant.went_live_at is not None


@dataclass(frozen=True)
class Step:
    key: str
    label: Promise
    due_after_days: int | None  # None: due on the tenant's go-live target
    required_for_go_live: bool = True
    is_done: Callable[[Tenant], bool] | None = None

    def due_on(self, tenant: Tenant) -> dt.date:
        if self.due_after_days is None:
            return tenant.go_live_target
        return tenant.contract_signed_on + dt.timedelta(days=self.due_after_days)


STEPS: tuple[Step, ...] = (
    Step("kickoff", _("Kickoff meeting held"), 3, required_for_go_live=False),
    Step("tone_goals", _("Tone and goals agreed"), 7),
    Step("knowledge_base", _("Materials received and knowledge base filled"), 10, is_done=_has_articles),
    Step("canned_responses", _("Canned responses written"), 14, is_done=_has_canned_responses),
    Step("service_hours", _("Service hours set"), 14, is_done=_has_service_hours),
    Step("agents_trained", _("At least two agents trained"), 21, is_done=_has_trained_agents),
    Step("report_recipients", _("Report recipients set"), 21, is_done=_has_report_recipients),
    Step("widget_installed", _("Widget installed on the client's site"), 24, is_done=_widget_seen),
    Step("test_chat", _("Test chat done"), 27),
    Step("go_live", _("Go-live"), None, required_for_go_live=False, is_done=_is_live),
)
STEPS_BY_KEY = {step.key: step for step in STEPS}


@dataclass(frozen=True)
class Progress:
    done: int
    total: int
    overdue: int

    def __str__(self) -> str:
        text = f"{self.done}/{self.total}"
        if self.overdue:
            text += ", " + str(_("%(count)d overdue") % {"count": self.overdue})
        return text


def tenant_today(tenant: Tenant, now: dt.datetime | None = None) -> dt.date:
    """Return today's date where the tenant is."""
    return (now or timezone.now()).astimezone(tenant.zone).date()


@transaction.atomic
def schedule_checklist(tenant: Tenant) -> list[OnboardingItem]:
    """Create the tenant's missing steps and set every open step's due date from the contract date.

    Safe to run any number of times.
    """
    existing = {item.key: item for item in OnboardingItem.objects.for_tenant(tenant)}
    for position, step in enumerate(STEPS):
        item = existing.get(step.key)
        if item is None:
            existing[step.key] = OnboardingItem.objects.create(
                tenant=tenant, key=step.key, position=position, due_on=step.due_on(tenant)
            )
        elif not item.is_done and item.due_on != step.due_on(tenant):
            item.due_on = step.due_on(tenant)
            item.save(update_fields=["due_on"])
    return sorted(existing.values(), key=lambda item: item.position)


@transaction.atomic
def refresh_checklist(tenant: Tenant, now: dt.datetime | None = None) -> list[OnboardingItem]:
    """Complete the automatic steps whose truth holds and reopen those whose truth no longer does."""
    now = now or timezone.now()
    items = list(OnboardingItem.objects.for_tenant(tenant).select_for_update())
    for item in items:
        check = STEPS_BY_KEY[item.key].is_done if item.key in STEPS_BY_KEY else None
        if check is None:
            continue
        holds = check(tenant)
        if holds and not item.is_done:
            item.done_at, item.done_by, item.done_automatically = now, None, True
            item.save(update_fields=["done_at", "done_by", "done_automatically"])
        elif not holds and item.is_done and item.done_automatically:
            item.done_at, item.done_automatically = None, False
            item.save(update_fields=["done_at", "done_automatically"])
    return items


def tick_step(*, item: OnboardingItem, by: AbstractBaseUser, now: dt.datetime | None = None) -> OnboardingItem:
    """Record that a person has done a manual step."""
    if item.automatic:
        raise ValidationError(ERROR_STEP_IS_AUTOMATIC)
    if not item.is_done:
        item.done_at, item.done_by, item.done_automatically = now or timezone.now(), by, False
        item.save(update_fields=["done_at", "done_by", "done_automatically"])
    return item


def untick_step(*, item: OnboardingItem) -> OnboardingItem:
    """Reopen a manual step ticked by mistake."""
    if item.automatic:
        raise ValidationError(ERROR_STEP_IS_AUTOMATIC)
    item.done_at, item.done_by = None, None
    item.save(update_fields=["done_at", "done_by"])
    return item


def open_required_steps(tenant: Tenant) -> list[OnboardingItem]:
    """Return the steps that must be done before the tenant can go live."""
    return [
        item
        for item in OnboardingItem.objects.for_tenant(tenant).filter(done_at__isnull=True)
        if item.key in STEPS_BY_KEY and item.required
    ]


def progress_of(items: Iterable[OnboardingItem], today: dt.date) -> Progress:
    """Count done and overdue steps."""
    items = list(items)
    return Progress(
        done=sum(item.is_done for item in items),
        total=len(items),
        overdue=sum(not item.is_done and item.due_on < today for item in items),
    )


def overdue_steps(tenant: Tenant, now: dt.datetime | None = None) -> list[OnboardingItem]:
    """Return the open steps whose due date has passed in the tenant's time zone."""
    today = tenant_today(tenant, now)
    return list(
        OnboardingItem.objects.for_tenant(tenant).filter(done_at__isnull=True, due_on__lt=today).order_by("position")
    )
