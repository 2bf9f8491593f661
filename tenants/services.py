"""Writes about tenants: registering, going live, the widget key, the widget being seen."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tenants import onboarding
from tenants.models import ClientUser, Tenant, new_widget_key


class GoLiveRefused(ValidationError):
    """The tenant cannot go live while required onboarding steps are open."""


def save_tenant(*, tenant: Tenant) -> Tenant:
    """Save a tenant and, after commit, (re)build its onboarding checklist from the contract date."""
    from tenants.tasks import build_onboarding_checklist

    tenant.full_clean()
    tenant.save()
    transaction.on_commit(lambda: build_onboarding_checklist.delay(tenant.pk))
    return tenant


def create_tenant(**fields) -> Tenant:
    """Create a tenant; its checklist is built by a task after commit."""
    return save_tenant(tenant=Tenant(**fields))


def rotate_widget_key(*, tenant: Tenant) -> str:
    """Give the tenant a new widget key; pages embedding the old key stop working."""
    tenant.widget_key = new_widget_key()
    tenant.save(update_fields=["widget_key"])
    return tenant.widget_key


@transaction.atomic
def mark_tenant_live(*, tenant: Tenant, by: AbstractBaseUser, now: dt.datetime | None = None) -> Tenant:
    """Put the tenant live, or raise GoLiveRefused naming the required steps still open."""
    tenant = Tenant.objects.select_for_update().get(pk=tenant.pk)
    onboarding.refresh_checklist(tenant, now)
    still_open = onboarding.open_required_steps(tenant)
    if still_open:
        raise GoLiveRefused(
            _("%(tenant)s cannot go live yet; open steps: %(steps)s.")
            % {"tenant": tenant.name, "steps": ", ".join(str(item.label) for item in still_open)}
        )
    tenant.status = Tenant.Status.LIVE
    tenant.went_live_at = tenant.went_live_at or now or timezone.now()
    tenant.save(update_fields=["status", "went_live_at"])
    onboarding.refresh_checklist(tenant, now)
    return tenant


def record_widget_seen(*, tenant: Tenant, origin: str, now: dt.datetime | None = None) -> bool:
    """Note the first page view from an allowed origin; return whether the origin is allowed."""
    if not tenant.accepts_origin(origin):
        return False
    if tenant.widget_first_seen_at is None:
        seen_at = now or timezone.now()
        updated = Tenant.objects.filter(pk=tenant.pk, widget_first_seen_at__isnull=True).update(
            widget_first_seen_at=seen_at
        )
        if updated:
            tenant.widget_first_seen_at = seen_at
            onboarding.refresh_checklist(tenant, now)
    return True


@transaction.atomic
def invite_client_user(*, tenant: Tenant, email: str, full_name: str) -> ClientUser:
    """Create a client login that sees only this tenant; the person is e-mailed a password link in its language."""
    from chatops import roles
    from chatops.services import create_invited_user

    user = create_invited_user(email=email, full_name=full_name, role=roles.CLIENT_USER, language=tenant.language)
    return ClientUser.objects.create(tenant=tenant, user=user)
