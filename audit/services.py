"""Writes of the audit log."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models
from django.utils import timezone

from audit.models import AuditEntry


def record(
    *,
    user: AbstractBaseUser | AnonymousUser | None,
    action: str,
    tenant_id: int | None = None,
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
    return AuditEntry.objects.create(
        at=now or timezone.now(),
        user=known,
        actor=(known.get_username() if known is not None else actor)[:150],
        action=action,
        tenant_id=tenant_id,
        object_type=object_type[:100],
        object_id=str(object_id)[:64],
        details=details,
    )


def tenant_id_of(row: models.Model) -> int | None:
    """Return the tenant a row belongs to (the row itself for a tenant), or None for data of no tenant."""
    if row._meta.label_lower == "tenants.tenant":
        return row.pk
    return getattr(row, "tenant_id", None)
