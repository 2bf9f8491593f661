"""Writes of the audit log (``accounts.models.AuditEntry``)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models
from django.utils import timezone

from accounts.models import AuditEntry


def tenant_of(row: models.Model) -> models.Model | None:
    """Return the tenant a row belongs to (the row itself for a tenant), or None for data of no tenant."""
    if row._meta.label_lower == "tenants.tenant":
        return row
    return getattr(row, "tenant", None) if getattr(row, "tenant_id", None) is not None else None


def record(
    *,
    user: AbstractBaseUser | AnonymousUser | None,
    action: str,
    tenant: models.Model | None = None,
    target: models.Model | None = None,
    object_type: str = "",
    object_id: object = "",
    details: str = "",
    actor: str = "",
    now: dt.datetime | None = None,
) -> AuditEntry:
    """Log that ``user`` (or ``actor``, e.g. a command) did ``action`` on a row (``target``) or a kind of data."""
    known = user if user is not None and user.is_authenticated else None
    if target is not None:
        object_type, object_id = target._meta.label_lower, target.pk
        tenant = tenant or tenant_of(target)
    return AuditEntry.objects.create(
        at=now or timezone.now(),
        user=known,
        actor=(known.get_username() if known is not None else actor)[:150],
        action=action,
        tenant_id=tenant.pk if tenant is not None else None,
        tenant_name=str(tenant)[:200] if tenant is not None else "",
        object_type=object_type[:100],
        object_id=str(object_id)[:64],
        details=details,
    )
