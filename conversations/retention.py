"""Retention: each tenant's old conversations, page views and visitors are deleted after its retention period.

What goes
    For a tenant with ``retention_days`` N, the *cutoff* is the moment N days before the run. Then go
    - every *closed* conversation that *started* before the cutoff, with everything that belongs to
      it: messages, private notes, transfers, tag links, lead, handoff report, transcript request,
      and the outbox's e-mails about it (the handoff report, the transcript, the forwarded question);
    - every page view from before the cutoff;
    - every visitor last seen before the cutoff who has no conversation and no page view left
      (their visitor marks go with them).
    A conversation that started exactly at the cutoff is exactly N days old, not older: it stays.
    A conversation still waiting or active is never deleted, however old: it is someone's live chat
    (or a stuck one the team must see); it goes at the first run after it is closed.

What stays
    The visitor tallies (``conversations.visitor_tallies``): counts per tenant and local day, week
    and month without personal data, so the visitor figures of purged periods still read right. The
    report delivery records (``reporting.models.ReportDelivery``), which name no conversation. The
    conversation figures of a purged period simply become zero.
    A rebuild of the visitor tallies recounts from the page views that are left, so after one the
    periods before the cutoff show no visitors either.

How
    One tenant after another, in batches of ``batch_size`` rows per transaction, so a first run on a
    big tenant neither holds locks for long nor loads many rows: a batch fetches only ids (locking
    those rows on PostgreSQL, skipping any that live traffic holds: they go on the next run), then
    deletes child tables before their parent with one statement each. The number of statements
    grows with the batches, never with the conversations in a batch. Batches continue after the
    last id of the previous one, so each pass reads on from where the last stopped. On SQLite a
    batch is at most as many rows as it binds parameters in one statement (``sql.batch_size_for``).
    Safe to run at any time and twice: a second run finds nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.utils import timezone

from conversations import signals, sql
from conversations.models import (
    Conversation,
    ConversationQuerySet,
    Handoff,
    Lead,
    Message,
    Note,
    PageView,
    TranscriptRequest,
    Transfer,
    Visitor,
    VisitorMark,
    email_reference,
)
from outbox import services as outbox
from tenants.models import Tenant
from tenants.retention import cutoff_for

DEFAULT_BATCH_SIZE = 2000

# Every table of this app with a foreign key to a conversation, deleted before it (tests check none is
# missing); the apps above delete theirs on ``signals.conversations_purged`` (the webhook log).
CONVERSATION_PARTS: tuple[type[Model], ...] = (
    Message,
    Note,
    Transfer,
    Lead,
    Handoff,
    TranscriptRequest,
    Conversation.tags.through,
)


@dataclass
class TenantPurge:
    """What one tenant's purge deleted, or would delete in a dry run."""

    tenant_id: int
    slug: str
    cutoff: dt.datetime
    conversations: int = 0
    messages: int = 0
    page_views: int = 0
    visitors: int = 0

    @property
    def anything(self) -> bool:
        return bool(self.conversations or self.page_views or self.visitors)


@dataclass
class PurgeResult:
    """What a purge deleted per tenant (in the order purged), or would delete in a dry run."""

    now: dt.datetime
    dry_run: bool
    tenants: list[TenantPurge] = field(default_factory=list)

    def total(self, name: str) -> int:
        """Return the sum of one count (``"conversations"``, ``"messages"``, ...) over the tenants."""
        return sum(getattr(one, name) for one in self.tenants)


def purge_expired(
    *,
    now: dt.datetime | None = None,
    tenants: Iterable[Tenant] | None = None,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: Callable[[TenantPurge], None] | None = None,
) -> PurgeResult:
    """Delete what each tenant (all by default) keeps no longer; with ``dry_run``, only count it.

    Never deletes a conversation still waiting or active. Commits batch by batch (see the module's
    docstring), so call it outside a transaction; ``progress`` hears of each tenant when it is done.
    """
    now = now or timezone.now()
    if batch_size < 1:
        raise ValueError("The batch size must be at least 1.")
    batch_size = sql.batch_size_for(values_per_row=1, wanted=batch_size)
    chosen = Tenant.objects.order_by("pk") if tenants is None else sorted(tenants, key=lambda one: one.pk)
    result = PurgeResult(now=now, dry_run=dry_run)
    for tenant in chosen:
        purge = TenantPurge(tenant_id=tenant.pk, slug=tenant.slug, cutoff=cutoff_for(tenant, now=now))
        if dry_run:
            _count(purge)
        else:
            _purge(purge, batch_size=batch_size)
        result.tenants.append(purge)
        if progress is not None:
            progress(purge)
    return result


# --- What has expired ------------------------------------------------------------------------------


def expired_conversations(tenant_id: int, cutoff: dt.datetime) -> QuerySet[Conversation]:
    """Return the tenant's closed conversations that started before the cutoff."""
    return Conversation.objects.filter(
        tenant_id=tenant_id, status=Conversation.Status.CLOSED, started_at__lt=cutoff
    ).order_by()


def expired_page_views(tenant_id: int, cutoff: dt.datetime) -> QuerySet[PageView]:
    """Return the tenant's page views from before the cutoff."""
    return PageView.objects.filter(tenant_id=tenant_id, viewed_at__lt=cutoff).order_by()


def _forgotten_visitors(tenant_id: int, cutoff: dt.datetime) -> QuerySet[Visitor]:
    """Return the tenant's visitors last seen before the cutoff with no conversation and no page view left."""
    return Visitor.objects.filter(
        ~Exists(Conversation.objects.filter(visitor=OuterRef("pk"))),
        ~Exists(PageView.objects.filter(visitor=OuterRef("pk"))),
        tenant_id=tenant_id,
        last_seen_at__lt=cutoff,
    ).order_by()


def _visitors_to_be_forgotten(tenant_id: int, cutoff: dt.datetime) -> QuerySet[Visitor]:
    """Return the visitors ``_forgotten_visitors`` will find once the expired rows are gone (for a dry run)."""
    kept_conversations = ConversationQuerySet.open_condition() | Q(started_at__gte=cutoff)
    return Visitor.objects.filter(
        ~Exists(Conversation.objects.filter(kept_conversations, visitor=OuterRef("pk"))),
        ~Exists(PageView.objects.filter(visitor=OuterRef("pk"), viewed_at__gte=cutoff)),
        tenant_id=tenant_id,
        last_seen_at__lt=cutoff,
    ).order_by()


def _count(purge: TenantPurge) -> None:
    """Fill in what a purge of the tenant would delete now, deleting nothing."""
    conversations = expired_conversations(purge.tenant_id, purge.cutoff)
    purge.conversations = conversations.count()
    purge.messages = Message.objects.filter(conversation__in=conversations.values("pk")).count()
    purge.page_views = expired_page_views(purge.tenant_id, purge.cutoff).count()
    purge.visitors = _visitors_to_be_forgotten(purge.tenant_id, purge.cutoff).count()


# --- Deleting --------------------------------------------------------------------------------------


def _purge(purge: TenantPurge, *, batch_size: int) -> None:
    """Delete the tenant's expired conversations, then its old page views, then the visitors left with nothing."""
    tenant_id, cutoff = purge.tenant_id, purge.cutoff

    def delete_conversations(ids: list[int]) -> None:
        purge.messages += _delete_conversations(ids)
        purge.conversations += len(ids)

    def delete_page_views(ids: list[int]) -> None:
        purge.page_views += _delete_rows(PageView, ids)

    def delete_visitors(ids: list[int]) -> None:
        VisitorMark.objects.filter(tenant_id=tenant_id, visitor_id__in=ids).delete()
        purge.visitors += _delete_rows(Visitor, ids)

    _in_batches(expired_conversations(tenant_id, cutoff), batch_size, delete_conversations)
    _in_batches(expired_page_views(tenant_id, cutoff), batch_size, delete_page_views)
    _in_batches(_forgotten_visitors(tenant_id, cutoff), batch_size, delete_visitors)


def _in_batches(rows: QuerySet, batch_size: int, delete: Callable[[list[int]], None]) -> None:
    """Hand the ids of the rows to ``delete`` a batch at a time, each batch one transaction with its rows locked.

    Rows that live traffic holds locked are skipped (PostgreSQL); the next run gets them.
    """
    after = 0
    while True:
        with transaction.atomic():
            batch = rows.filter(pk__gt=after).order_by("pk").select_for_update(skip_locked=True)
            ids = list(batch.values_list("pk", flat=True)[:batch_size])
            if ids:
                delete(ids)
        if len(ids) < batch_size:
            return
        after = ids[-1]


def _delete_conversations(ids: list[int]) -> int:
    """Delete the conversations and everything that belongs to them; return how many messages went."""
    messages = 0
    signals.conversations_purged.send(sender=Conversation, conversation_ids=ids)
    for part in CONVERSATION_PARTS:
        # None of these has rows of its own pointing at it, so each is one DELETE statement.
        deleted, _ = part.objects.filter(conversation_id__in=ids).delete()
        if part is Message:
            messages = deleted
    # The e-mails hold the same personal data (the transcript, the visitor's contact): they go too.
    outbox.forget(references=[email_reference(conversation_id) for conversation_id in ids])
    _delete_rows(Conversation, ids)
    return messages


def _delete_rows(model: type[Model], ids: list[int]) -> int:
    """Delete rows by primary key in one statement, without Django fetching them first; return how many.

    Only for rows nothing points at any more (their children deleted above in this transaction):
    Django would otherwise load every row to look for children of its own.
    """
    table = connection.ops.quote_name(model._meta.db_table)
    column = connection.ops.quote_name(model._meta.pk.column)
    placeholders = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        # Only quoted identifiers are formatted in; the ids are parameters.
        cursor.execute(f"DELETE FROM {table} WHERE {column} IN ({placeholders})", ids)  # noqa: S608
        return cursor.rowcount
