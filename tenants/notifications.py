"""E-mail to operations managers about onboarding."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.roles import operations_manager_emails
from outbox import services as outbox
from tenants import onboarding
from tenants.models import OnboardingItem, Tenant

EMAIL_KIND = gettext_noop("overdue onboarding steps")


def _unreported_overdue(now: dt.datetime) -> list[tuple[Tenant, list[OnboardingItem]]]:
    found = []
    for tenant in Tenant.objects.filter(status=Tenant.Status.ONBOARDING):
        onboarding.refresh_checklist(tenant, now)
        today = onboarding.tenant_today(tenant, now)
        steps = [item for item in onboarding.overdue_steps(tenant, now) if item.overdue_notified_on != today]
        if steps:
            found.append((tenant, steps))
    return found


def send_overdue_digest(now: dt.datetime | None = None) -> int:
    """Queue one e-mail listing every overdue step not yet reported today; return the number of steps.

    The e-mail is written to the outbox (which sends it after commit) in the same transaction that
    marks each step as reported for the day, so a retried or repeated run on the same day queues
    nothing more.
    """
    now = now or timezone.now()
    recipients = operations_manager_emails()
    if not recipients:
        return 0
    with transaction.atomic():
        overdue = _unreported_overdue(now)
        if not overdue:
            return 0
        count = sum(len(steps) for _tenant, steps in overdue)
        context = {
            "overdue": [
                {
                    "tenant": tenant,
                    "steps": steps,
                    "url": settings.SITE_URL + reverse("admin:tenants_tenant_change", args=[tenant.pk]),
                }
                for tenant, steps in overdue
            ],
            "count": count,
        }
        email = EmailMessage(
            subject=_("Onboarding: %(count)d overdue steps") % {"count": count},
            body=render_to_string("tenants/email/overdue_steps.txt", context),
            to=recipients,
        )
        outbox.queue_email(message=email, kind=EMAIL_KIND, reference=f"onboarding:{now:%Y-%m-%d}", now=now)
        for tenant, steps in overdue:
            today = onboarding.tenant_today(tenant, now)
            steps_of_tenant = OnboardingItem.objects.for_tenant(tenant).filter(pk__in=[item.pk for item in steps])
            steps_of_tenant.update(overdue_notified_on=today)
    return count
