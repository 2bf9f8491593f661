"""Writes about tenants: registering, going live, the widget key, the widget being seen."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import revocation, roles
from accounts.services import create_login
from outbox import services as outbox
from tenants import onboarding
from tenants.models import (
    CannedResponse,
    ChangeNotice,
    ClientUser,
    KnowledgeArticle,
    ReportRecipient,
    ServiceException,
    ServiceHours,
    Tenant,
    new_widget_key,
)
from tenants.scoping import TenantOwnedModel


class GoLiveRefused(ValidationError):
    """The tenant cannot go live while required onboarding steps are open."""


def save_tenant(*, tenant: Tenant, now: dt.datetime | None = None) -> Tenant:
    """Save a tenant and, after commit, (re)build its onboarding checklist from the contract date.

    A change of "encrypt messages" is timed: the stored conversations are converted in the background
    (``conversations.tasks.convert_encryption``) once the writers have seen it.
    """
    from tenants.tasks import build_onboarding_checklist

    tenant.full_clean()
    with transaction.atomic():
        before = Tenant.objects.filter(pk=tenant.pk).values("status", "allowed_origins").first()
        _keep_encryption_state(tenant, now=now or timezone.now())
        tenant.save()
    if before is not None and (before["status"], before["allowed_origins"]) != (tenant.status, tenant.allowed_origins):
        # Ended, or a site taken off the list: open widgets check again and those no longer allowed close.
        revocation.widgets_changed_on_commit(tenant_id=tenant.pk)
    transaction.on_commit(lambda: build_onboarding_checklist.delay(tenant.pk))
    return tenant


def _keep_encryption_state(tenant: Tenant, *, now: dt.datetime) -> None:
    """Carry over what the stored chats are in (the form's copy may be stale) and time a change of the flag."""
    if tenant.pk is None:
        return
    stored = (
        Tenant.objects.select_for_update()
        .filter(pk=tenant.pk)
        .values("encrypt_messages", "stored_encrypted", "encryption_changed_at")
        .first()
    )
    if stored is None:
        return
    tenant.stored_encrypted, tenant.encryption_changed_at = stored["stored_encrypted"], stored["encryption_changed_at"]
    if stored["encrypt_messages"] != tenant.encrypt_messages:
        tenant.encryption_changed_at = now


@transaction.atomic
def create_tenant(*, now: dt.datetime | None = None, **fields: Any) -> Tenant:
    """Create a tenant as of ``now`` (its creation moment; default the clock) with its onboarding checklist.

    The checklist is built in the same transaction, its automatic steps checked at ``now``; the
    tally of the tenant's visitors starts at its creation.
    """
    now = now or timezone.now()
    tenant = Tenant(**fields)
    tenant.created_at = now
    tenant.visitors_tallied_since, tenant.visitors_tallied_in = now, tenant.time_zone
    tenant.full_clean()
    tenant.save()
    onboarding.schedule_checklist(tenant)
    onboarding.refresh_checklist(tenant, now)
    return tenant


def rotate_widget_key(*, tenant: Tenant) -> str:
    """Give the tenant a new widget key; pages embedding the old key stop working, open widgets too."""
    tenant.widget_key = new_widget_key()
    tenant.save(update_fields=["widget_key"])
    revocation.widgets_changed_on_commit(tenant_id=tenant.pk)
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
def remove_client_users(*, client_users: Iterable[ClientUser]) -> None:
    """Take the logins' access to their tenant away; their open dashboards close after commit."""
    client_users = list(client_users)
    # The logins in hand, whichever tenants they are of (the admin removes several at once).
    ClientUser.objects.unscoped().filter(pk__in=[client_user.pk for client_user in client_users]).delete()
    revocation.logins_changed_on_commit(user_ids=[client_user.user_id for client_user in client_users])


def invite_client_user(*, tenant: Tenant, email: str, full_name: str) -> ClientUser:
    """Create a client login that sees only this tenant; the person is e-mailed a password link in its language."""
    return add_client_user(tenant=tenant, email=email, full_name=full_name)


@transaction.atomic
def add_client_user(
    *, tenant: Tenant, email: str, full_name: str, username: str = "", password_hash: str = ""
) -> ClientUser:
    """Create a client login that sees only this tenant.

    Without ``password_hash`` the person is e-mailed a link to choose a password, in the tenant's
    language; with one (already hashed, e.g. a published demo login) nothing is sent.
    """
    user = create_login(
        email=email, full_name=full_name, role=roles.CLIENT_USER, username=username, password_hash=password_hash
    )
    if not password_hash:
        outbox.queue_invitation(user=user, language=tenant.language)
    return ClientUser.objects.create(tenant=tenant, user=user)


# --- What the team answers from: each write checks the onboarding steps it may complete ------------------


def _saved(row):
    row.full_clean()
    row.save()
    return row


@transaction.atomic
def save_tenant_content(
    *,
    saved: Iterable[TenantOwnedModel] = (),
    deleted: Iterable[TenantOwnedModel] = (),
    now: dt.datetime | None = None,
) -> None:
    """Save and delete rows that belong to tenants (articles, canned responses, hours, recipients, notices…)
    as edited in the admin, then bring each tenant's onboarding checklist up to date as of ``now``."""
    tenants: dict[int, Tenant] = {}
    for row in deleted:
        tenants[row.tenant_id] = row.tenant
        row.delete()
    for row in saved:
        _saved(row)
        tenants[row.tenant_id] = row.tenant
    for tenant in tenants.values():
        onboarding.refresh_checklist(tenant, now)


@transaction.atomic
def set_service_hours(
    *, tenant: Tenant, weekly: Iterable[tuple[int, dt.time, dt.time]], now: dt.datetime | None = None
) -> list[ServiceHours]:
    """Replace the tenant's weekly service hours with (weekday, opens, closes) ranges in its time zone.

    A range that closes at or before its opening runs into the next day.
    """
    ServiceHours.objects.for_tenant(tenant).delete()
    rows = [
        _saved(ServiceHours(tenant=tenant, weekday=weekday, opens=opens, closes=closes))
        for weekday, opens, closes in weekly
    ]
    onboarding.refresh_checklist(tenant, now)
    return rows


def add_service_exception(
    *,
    tenant: Tenant,
    date: dt.date,
    closed: bool = True,
    opens: dt.time | None = None,
    closes: dt.time | None = None,
    note: str = "",
) -> ServiceException:
    """Add a dated change to the weekly hours, such as a holiday (closed all day, or other hours)."""
    return _saved(ServiceException(tenant=tenant, date=date, closed=closed, opens=opens, closes=closes, note=note))


@transaction.atomic
def add_knowledge_article(
    *,
    tenant: Tenant,
    title: str,
    body: str,
    keywords: str = "",
    is_published: bool = True,
    now: dt.datetime | None = None,
) -> KnowledgeArticle:
    """Add an article to the tenant's knowledge base."""
    article = _saved(
        KnowledgeArticle(tenant=tenant, title=title, body=body, keywords=keywords, is_published=is_published)
    )
    onboarding.refresh_checklist(tenant, now)
    return article


@transaction.atomic
def add_canned_response(*, tenant: Tenant, shortcut: str, text: str, now: dt.datetime | None = None) -> CannedResponse:
    """Add a ready answer the agents insert by typing /shortcut."""
    response = _saved(CannedResponse(tenant=tenant, shortcut=shortcut, text=text))
    onboarding.refresh_checklist(tenant, now)
    return response


@transaction.atomic
def add_report_recipient(
    *,
    tenant: Tenant,
    email: str,
    name: str = "",
    weekly: bool = True,
    monthly: bool = True,
    escalations: bool = False,
    now: dt.datetime | None = None,
) -> ReportRecipient:
    """Add a contact at the client for the weekly or monthly reports and/or the escalations."""
    recipient = _saved(
        ReportRecipient(tenant=tenant, email=email, name=name, weekly=weekly, monthly=monthly, escalations=escalations)
    )
    onboarding.refresh_checklist(tenant, now)
    return recipient


def post_change_notice(
    *, tenant: Tenant, title: str, body: str, by: AbstractBaseUser | None, now: dt.datetime | None = None
) -> ChangeNotice:
    """Post a change at the client that every agent trained for it must read and acknowledge."""
    return _saved(ChangeNotice(tenant=tenant, title=title, body=body, created_by=by, created_at=now or timezone.now()))
