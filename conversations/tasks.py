"""Background work of the live chat; thin: load by id, call the domain code. Safe to run twice."""

from __future__ import annotations

from celery import shared_task

from conversations import rekeying, retention, visitor_tallies
from tenants.selectors import tenant_by_id


@shared_task
def rebuild_visitor_tallies(tenant_id: int) -> int:
    """Recount one tenant's visitor tallies from its page views (after its time zone changed); return the tallies."""
    tenant = tenant_by_id(tenant_id)
    return visitor_tallies.rebuild([tenant]).tallies if tenant is not None else 0


@shared_task
def convert_encryption() -> int:
    """Seal or open the stored text of tenants whose "encrypt messages" flag changed; return how many tenants."""
    return rekeying.convert_changed_tenants()


@shared_task
def prune_visitor_marks() -> int:
    """Delete the visitor marks of periods that are over; return how many."""
    return visitor_tallies.prune_marks()


@shared_task
def purge_expired_conversations() -> int:
    """Delete each tenant's conversations, page views and visitors older than its retention; return the chats."""
    return retention.purge_expired().total("conversations")
