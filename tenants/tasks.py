"""Background work about tenants; thin: load by id, call the domain code. Safe to run twice."""

from __future__ import annotations

from celery import shared_task

from tenants import notifications, onboarding, selectors


@shared_task
def build_onboarding_checklist(tenant_id: int) -> int:
    """Create or reschedule the tenant's checklist and complete what the system can see."""
    tenant = selectors.tenant_by_id(tenant_id)
    if tenant is None:
        return 0
    onboarding.schedule_checklist(tenant)
    return len(onboarding.refresh_checklist(tenant))


@shared_task
def email_overdue_onboarding_steps() -> int:
    """Queue the e-mail to operations managers of today's overdue onboarding steps; return how many were reported."""
    return notifications.send_overdue_digest()
