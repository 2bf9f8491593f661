"""Stored chat text converted in batches: re-encrypted under the newest key, or sealed and opened as a
tenant turns encryption at rest on or off. The chat keeps running meanwhile.

Each row is rewritten with a compare-and-swap on its raw column (``UPDATE … WHERE id = … AND column =
<what was read>``), one batch per transaction, so a row written or changed meanwhile is never
overwritten with an older value, and an interrupted run is simply run again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db import models, transaction
from django.db.models.functions import Cast
from django.utils import timezone

from conversations import protection, sealing
from conversations.models import Conversation, Handoff, Lead, Message, Note, TranscriptRequest, Transfer, Visitor
from tenants.models import Tenant

# Every column that may hold a sealed token, by model.
SEALABLE_COLUMNS: tuple[tuple[type[models.Model], tuple[str, ...]], ...] = (
    (Message, ("body",)),
    (Note, ("body",)),
    (Transfer, ("note",)),
    (Conversation, ("summary", "rating_comment")),
    (Lead, ("name", "email", "phone", "wants")),
    (Handoff, ("summary", "visitor_name", "visitor_email", "visitor_phone", "promise")),
    (Visitor, ("name", "email", "phone")),
    (TranscriptRequest, ("email",)),
)

# Columns of apps above this one, added by them when they start (``register_sealable``).
_registered: list[tuple[type[models.Model], tuple[str, ...]]] = []

Rewrite = Callable[[str], str]


def register_sealable(model: type[models.Model], columns: tuple[str, ...]) -> None:
    """Add a tenant-owned model's sealable columns to every rotation and conversion (once per model)."""
    if all(known is not model for known, _columns in _registered):
        _registered.append((model, columns))


def sealable_columns() -> list[tuple[type[models.Model], tuple[str, ...]]]:
    """Return every column that may hold a sealed token, by model: this app's and those registered."""
    return [*SEALABLE_COLUMNS, *_registered]


@dataclass
class RekeyResult:
    """How many values a run rewrote, by model name."""

    rewritten: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.rewritten.values())

    def add(self, model: type[models.Model], count: int) -> None:
        name = model._meta.model_name
        self.rewritten[name] = self.rewritten.get(name, 0) + count


def to_newest_key(raw: str) -> str:
    """Re-seal a token under the newest key; plain text stays plain."""
    return sealing.reseal(raw) if sealing.is_token(raw) else raw


def to_sealed(raw: str) -> str:
    """Seal plain text under the newest key; a token stays as it is."""
    return raw if not raw or sealing.is_token(raw) else sealing.seal(raw)


def to_plain(raw: str) -> str:
    """Open a token; plain text stays plain."""
    return sealing.unseal(raw) if sealing.is_token(raw) else raw


def _raw_rows(queryset: models.QuerySet, columns: tuple[str, ...], after: int, size: int) -> list[tuple]:
    """Return up to ``size`` rows after the id ``after``: the id and each column as stored (a token stays one)."""
    raw = {f"raw_{column}": Cast(column, models.TextField()) for column in columns}
    return list(queryset.filter(pk__gt=after).order_by("pk").annotate(**raw).values_list("pk", *raw.keys())[:size])


def _rewrite_batch(model, columns: tuple[str, ...], rows: list[tuple], rewrite: Rewrite) -> int:
    changed = 0
    with transaction.atomic():
        for pk, *values in rows:
            for column, stored in zip(columns, values, strict=True):
                if stored is None:
                    continue
                new = rewrite(stored)
                if new != stored:
                    # Compared with what was read: a value changed meanwhile is left for the next run.
                    changed += model.objects.filter(pk=pk, **{column: stored}).update(**{column: new})
    return changed


def _batches(queryset: models.QuerySet, columns: tuple[str, ...], size: int) -> Iterator[list[tuple]]:
    after = 0
    while rows := _raw_rows(queryset, columns, after, size):
        yield rows
        after = rows[-1][0]


def rewrite_all(
    *, rewrite: Rewrite, tenant: Tenant | None = None, batch: int | None = None, report=None
) -> RekeyResult:
    """Rewrite every sealable value (of one tenant, or all) with ``rewrite``, one batch per transaction."""
    size = batch or settings.CHATOPS_ENCRYPTION_BATCH
    result = RekeyResult()
    for model, columns in sealable_columns():
        queryset = model.objects.all() if tenant is None else model.objects.for_tenant(tenant)
        for rows in _batches(queryset, columns, size):
            count = _rewrite_batch(model, columns, rows, rewrite)
            result.add(model, count)
            if report is not None:
                report(model, len(rows), count)
    return result


def rotate_to_newest_key(*, batch: int | None = None, report=None) -> RekeyResult:
    """Re-encrypt every token under a key other than the newest one with the newest key."""
    return rewrite_all(rewrite=to_newest_key, batch=batch, report=report)


def tenants_to_convert(*, now: dt.datetime, settle: dt.timedelta) -> models.QuerySet[Tenant]:
    """Return tenants whose stored text is not yet in the state of their flag, changed at least ``settle`` ago."""
    return Tenant.objects.exclude(encrypt_messages=models.F("stored_encrypted")).filter(
        models.Q(encryption_changed_at__isnull=True) | models.Q(encryption_changed_at__lte=now - settle)
    )


def convert_tenant(*, tenant: Tenant, batch: int | None = None) -> RekeyResult:
    """Seal or open a tenant's stored text to match its "encrypt messages" flag, then record it done.

    Done is recorded only if the flag is still what the conversion converted to; if it was turned
    back meanwhile, the next run converts the other way.
    """
    target = Tenant.objects.filter(pk=tenant.pk).values_list("encrypt_messages", flat=True).get()
    result = rewrite_all(rewrite=to_sealed if target else to_plain, tenant=tenant, batch=batch)
    Tenant.objects.filter(pk=tenant.pk, encrypt_messages=target).update(stored_encrypted=target)
    return result


def convert_changed_tenants(*, now: dt.datetime | None = None) -> int:
    """Convert every tenant whose flag changed (after writers' remembered policies have expired)."""
    now = now or timezone.now()
    settle = dt.timedelta(seconds=protection.POLICY_SECONDS * 2)
    converted = 0
    for tenant in tenants_to_convert(now=now, settle=settle):
        convert_tenant(tenant=tenant)
        converted += 1
    return converted
